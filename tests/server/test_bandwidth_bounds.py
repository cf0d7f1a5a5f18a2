"""The speed tests cannot be turned against the server: a bounded number run at once, the rest
are told to come back; the plain download is small; every download is streamed; and a message
cut half-way, on any socket, leaves no memory behind."""

from __future__ import annotations

import asyncio
import tracemalloc
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from urllib.error import HTTPError
from urllib.request import urlopen

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from proctor_server.app import Server
from proctor_server.bandwidth import MAX_TESTS
from proctor_server.http import MAX_DOWNLOAD


async def test_only_so_many_speed_tests_run_at_once(server: Server) -> None:
    async with AsyncExitStack() as held:
        for _ in range(MAX_TESTS):
            ws = await held.enter_async_context(connect(server.ws_url + "/ws/bandwidth"))
            await ws.send(b"x")
            await ws.recv()  # acknowledged: this test is running
        async with connect(server.ws_url + "/ws/bandwidth") as extra:
            with pytest.raises(ConnectionClosed) as closed:
                await extra.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
    # once those are done, a new one runs
    async with connect(server.ws_url + "/ws/bandwidth") as ws:
        await ws.send(b"x")
        assert '"bytes": 1' in str(await ws.recv())


async def test_the_plain_download_is_small(server: Server) -> None:
    url = f"{server.url}/bandwidth?bytes={MAX_DOWNLOAD + 1}"
    with pytest.raises(HTTPError, match="400"):
        await asyncio.to_thread(urlopen, url, timeout=5)


async def test_a_malformed_download_request_is_an_error_not_a_crash(server: Server) -> None:
    async with connect(server.ws_url + "/ws/bandwidth") as ws:
        await ws.send('{"type": "download", "bytes": -5}')
        assert '"protocol_error"' in str(await ws.recv())
        await ws.send(b"still here")
        assert '"bytes": 10' in str(await ws.recv())


@pytest.mark.parametrize("path", ["/ws/bandwidth", "/ws/candidate", "/ws/proctor"])
async def test_a_message_cut_half_way_leaves_nothing_behind(server: Server, path: str) -> None:
    """The fragments of a message cut half-way are let go as soon as its connection's handler
    ends, even when the heap keeper has frozen the connection (as it does each second): else
    anyone could pile up megabytes per cut message until the next full collection, minutes
    later. No ticket or sign-in is needed to send fragments, so every socket is covered."""
    fragment = b"\x00" * (1 << 19)  # three of them stay under every socket's message limit
    sent, never = asyncio.Event(), asyncio.Event()

    async def three_fragments_then_nothing() -> AsyncIterator[bytes]:
        for _ in range(3):
            yield fragment
        sent.set()
        await never.wait()
        yield b""

    assert server._ws is not None
    handlers = server._ws.handler_tasks
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        ws = await connect(server.ws_url + path, compression=None)
        upload = asyncio.create_task(ws.send(three_fragments_then_nothing()))
        await sent.wait()
        async with asyncio.timeout(10):  # until the server has read them (nothing else says so)
            while tracemalloc.get_traced_memory()[0] - before < 2.5 * len(fragment):  # noqa: ASYNC110
                await asyncio.sleep(0.005)
        server.heap.settle()  # the keeper freezes what lives: the connection and its fragments
        ws.transport.abort()
        upload.cancel()
        await asyncio.gather(upload, return_exceptions=True)
        await asyncio.wait_for(asyncio.gather(*handlers), 10)  # every handler has ended
        del ws, upload
        left = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert left < len(fragment) // 4, f"{left / 2**20:.2f} MiB still held after the cut message"
