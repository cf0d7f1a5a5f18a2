"""A TCP proxy on 127.0.0.1 that a test can cut: the network between client and server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class LoopbackProxy:
    """Forwards every connection to `upstream`. `cut()` drops the live connections at once
    (no close frame: like a pulled cable); `block()` refuses new ones until `unblock()`;
    `mute_downstream()` silently drops what the server sends (acks lost on the way)."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.blocked = False
        self.muted = False
        self.accepted = 0
        self.dropped = asyncio.Event()  # set when muted bytes from the server were dropped
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)

    def block(self) -> None:
        self.blocked = True

    def unblock(self) -> None:
        self.blocked = False

    def mute_downstream(self) -> None:
        self.muted = True
        self.dropped.clear()

    def cut(self) -> None:
        for writer in list(self._links):
            writer.transport.abort()
        self._links.clear()
        self.muted = False

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        self.cut()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.blocked:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            return
        self.accepted += 1
        self._links.update((writer, up_writer))
        for src, dst, downstream in ((reader, up_writer, False), (up_reader, writer, True)):
            task = asyncio.create_task(self._pipe(src, dst, downstream))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(
        self, src: asyncio.StreamReader, dst: asyncio.StreamWriter, downstream: bool
    ) -> None:
        try:
            while data := await src.read(65536):
                if downstream and self.muted:
                    self.dropped.set()
                    continue
                dst.write(data)
                await dst.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._links.discard(dst)
            dst.transport.abort()


@contextlib.asynccontextmanager
async def loopback_proxy(host: str, port: int) -> AsyncIterator[LoopbackProxy]:
    proxy = LoopbackProxy(host, port)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.close()
