"""The environment check's speed tests on `/ws/bandwidth` (R10): an upload (each binary message
is answered with its size once wholly received) and a download (a `download` request is answered
with that many bytes in chunks, then `download_done`). Memory stays bounded whoever calls: at
most `MAX_TESTS` sockets at once (others are closed with 1013, "try again later"), one upload
message of at most 8 MiB each, and a download streamed under the socket's write back-pressure."""

from __future__ import annotations

import os

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from proctor_server.clock import Clock
from proctor_server.heap import release_frames
from shared import protocol as p
from shared.errors import ProtocolError
from shared.timeutil import to_wire

MAX_TESTS = 8  # speed tests running at once
MAX_UPLOAD_MESSAGE = 8 * 1024 * 1024
MAX_DOWNLOAD = 20_000_000
CHUNK = 256 * 1024
_BLOCK = memoryview(os.urandom(CHUNK))  # incompressible, shared by every download
TRY_AGAIN_LATER = 1013


def filler(size: int) -> bytes:
    """`size` incompressible bytes (at most one `CHUNK`), from the block every download shares."""
    if not 0 <= size <= CHUNK:
        raise ValueError(f"filler of {size} bytes: at most {CHUNK}")
    return bytes(_BLOCK[:size])


class BandwidthTests:
    def __init__(self, clock: Clock, limit: int = MAX_TESTS):
        self.clock = clock
        self.limit = limit
        self.running = 0

    async def serve(self, ws: ServerConnection) -> None:
        if self.running >= self.limit:
            await ws.close(TRY_AGAIN_LATER, "speed tests busy; try again in a few seconds")
            return
        self.running += 1
        ws.protocol.max_message_size = MAX_UPLOAD_MESSAGE
        try:
            async for message in ws:
                if isinstance(message, bytes):
                    await ws.send(
                        f'{{"type": "bandwidth_ack", "bytes": {len(message)}, '
                        f'"server_time": "{to_wire(self.clock.now())}"}}'
                    )
                    continue
                try:
                    request = p.decode_bandwidth(message)
                except ProtocolError as exc:
                    await ws.send(p.encode(p.error(exc.code, exc.message)))
                    continue
                await self._download(ws, min(request.bytes, MAX_DOWNLOAD))
        except ConnectionClosed as closed:
            release_frames(closed)
        finally:
            self.running -= 1

    async def _download(self, ws: ServerConnection, size: int) -> None:
        left = size
        while left > 0:
            n = min(left, CHUNK)
            await ws.send(_BLOCK[:n])  # waits while the socket's buffer is full
            left -= n
        await ws.send(f'{{"type": "download_done", "bytes": {size}}}')
