"""`sending.send_text` on real `websockets` connections over loopback, on both event loops the
server runs on: frames arrive whole and in order whichever way they went out, a peer that stops
reading makes the sender wait instead of piling frames up, and a closed or broken connection
raises ConnectionClosed as `ws.send` does."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import pytest
import uvloop
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from proctor_server.sending import send_text

Handler = Callable[[ServerConnection], Coroutine[Any, Any, None]]


@pytest.fixture(params=["asyncio", "uvloop"])
def run(request: pytest.FixtureRequest) -> Callable[[Coroutine[Any, Any, None]], None]:
    """Run a test's body on the named event loop."""

    def runner(body: Coroutine[Any, Any, None]) -> None:
        async def bounded() -> None:
            async with asyncio.timeout(30):  # a test that hangs fails instead
                await body

        if request.param == "uvloop":
            uvloop.run(bounded())
        else:
            asyncio.run(bounded())

    return runner


@asynccontextmanager
async def server(handler: Handler) -> AsyncIterator[str]:
    async with serve(handler, "127.0.0.1", 0, compression=None) as srv:
        port = srv.sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}"


def test_frames_arrive_whole_and_in_order_without_the_send_context(run: Any) -> None:
    """Sent at once while the connection is open and the peer reads: the library's `send` is
    not called, and the frames interleave in order with those it sends."""

    async def body() -> None:
        library_sends = 0

        async def handler(ws: ServerConnection) -> None:
            nonlocal library_sends
            send = ws.send

            async def counted(*args: Any, **kwargs: Any) -> None:
                nonlocal library_sends
                library_sends += 1
                await send(*args, **kwargs)

            ws.send = counted  # type: ignore[method-assign]
            for k in range(300):
                frame = json.dumps({"n": k, "pad": "é" * (k % 7)}).encode()
                if k % 3 == 0:
                    await ws.send(frame, text=True)
                else:
                    await send_text(ws, frame)
            await ws.wait_closed()

        async with server(handler) as url, connect(url, compression=None) as client:
            got = [json.loads(await client.recv()) for _ in range(300)]
            assert [m["n"] for m in got] == list(range(300))
            assert all(m["pad"] == "é" * (m["n"] % 7) for m in got)
        assert library_sends == 100  # only the frames sent through `ws.send` itself

    run(body())


def test_a_peer_that_stops_reading_makes_the_sender_wait(run: Any) -> None:
    """Once the transport asks the sender to stop (the peer's buffers and ours are full), the
    next frame waits for the peer to read rather than growing our buffer; all arrive."""
    frame = json.dumps({"pad": "x" * 60_000}).encode()

    async def body() -> None:
        state: dict[str, Any] = {}
        stopped = asyncio.Event()
        waited = asyncio.Event()

        async def handler(ws: ServerConnection) -> None:
            sent = 0
            while not ws.paused:  # at once each, until the transport is full
                await send_text(ws, frame)
                sent += 1
            state["buffered"] = ws.transport.get_write_buffer_size()
            stopped.set()
            pending = asyncio.ensure_future(send_text(ws, frame))
            for _ in range(50):  # the loop turns; the frame must still be waiting
                await asyncio.sleep(0)
            state["waiting"] = not pending.done()
            state["buffered_after"] = ws.transport.get_write_buffer_size()
            waited.set()
            await pending
            state["sent"] = sent + 1
            await ws.wait_closed()

        async with server(handler) as url:
            client: ClientConnection = await connect(url, compression=None, max_queue=1)
            await stopped.wait()
            await waited.wait()
            count = 0
            while "sent" not in state or count < state["sent"]:
                assert await client.recv(decode=False) == frame
                count += 1
            await client.close()
        assert state["waiting"]
        assert state["buffered_after"] <= state["buffered"] + len(frame) + 16
        assert count == state["sent"] > 1

    run(body())


def test_a_closed_connection_raises_connection_closed(run: Any) -> None:
    async def body() -> None:
        outcome: dict[str, BaseException | None] = {}
        closed = asyncio.Event()

        async def handler(ws: ServerConnection) -> None:
            await ws.wait_closed()
            try:
                await send_text(ws, b'{"type": "ack", "id": "late"}')
                outcome["error"] = None
            except ConnectionClosed as exc:
                outcome["error"] = exc
            closed.set()

        async with server(handler) as url:
            async with connect(url, compression=None):
                pass
            await closed.wait()
        assert isinstance(outcome["error"], ConnectionClosed)

    run(body())


class BrokenWrites:
    """A real transport whose writes fail (a socket error the loop did not catch)."""

    def __init__(self, transport: Any):
        self._transport = transport

    def write(self, data: bytes) -> None:
        raise OSError("the socket broke")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def test_a_transport_that_fails_under_the_write_ends_the_connection(run: Any) -> None:
    """The sender gets ConnectionClosed, the connection is closed, and the peer sees it end."""

    async def body() -> None:
        outcome: dict[str, Any] = {}
        done = asyncio.Event()

        async def handler(ws: ServerConnection) -> None:
            ws.transport = BrokenWrites(ws.transport)  # type: ignore[assignment]
            try:
                await send_text(ws, b'{"type": "ack", "id": "x"}')
                outcome["error"] = None
            except Exception as exc:
                outcome["error"] = exc
            finally:
                outcome["state_after"] = ws.state.name
                done.set()

        async with server(handler) as url:
            client = await connect(url, compression=None)
            await done.wait()
            with pytest.raises(ConnectionClosed):
                async with asyncio.timeout(10):  # not forever, should the connection stay
                    await client.recv()
        assert isinstance(outcome["error"], ConnectionClosed)
        assert outcome["state_after"] == "CLOSED"

    run(body())
