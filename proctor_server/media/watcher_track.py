"""What a watching proctor's peer connection sends: the frames the gateway's consumer reads
from a received track, handed on as they come.

The gateway reads every received track itself, frame by frame (aiortc_gateway.py), and hands
each frame to the tracks of the proctors watching that stream, if any. Unlike a relay task
between the source and its readers, this costs nothing while nobody watches (the usual case:
each frame is one wake-up of the gateway's consumer, as in a bare receiver) and one event set
per frame per watcher while someone does. Unbuffered: a watcher's encoder that falls behind
gets the latest frame and skips the ones before, so nothing grows.
"""

from __future__ import annotations

import asyncio

from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame, VideoFrame

Frame = AudioFrame | VideoFrame


class WatcherTrack(MediaStreamTrack):
    """One watcher's copy of one received track. `put` each frame; `end` when the source
    ends; `stop` (the watcher leaves) takes it out of `readers`."""

    def __init__(self, kind: str, readers: set[WatcherTrack]) -> None:
        super().__init__()
        self.kind = kind
        self._readers = readers
        self._frame: Frame | None = None
        self._ended = False
        self._new = asyncio.Event()
        readers.add(self)

    def put(self, frame: Frame) -> None:
        self._frame = frame
        self._new.set()

    def end(self) -> None:
        self._ended = True
        self._new.set()

    async def recv(self) -> Frame:
        if self.readyState != "live":
            raise MediaStreamError
        await self._new.wait()
        self._new.clear()
        frame = self._frame
        if self._ended or frame is None:
            self.stop()
            raise MediaStreamError
        return frame

    def stop(self) -> None:
        self._readers.discard(self)
        super().stop()
