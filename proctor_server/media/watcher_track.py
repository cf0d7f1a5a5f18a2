"""What a watching proctor's peer connection sends: the packets the candidate's sender made,
relayed as they came (`PacketTrack`), or, where the receiver cannot be tapped (another
aiortc), the frames the gateway's consumer decoded, encoded again (`WatcherTrack`).

Packets: the gateway's tap (receiver_tap.py) hands each received VP8 frame and Opus packet to
the `PacketTrack`s of the proctors watching that stream, if any. A track yields them as
`av.Packet`s (pts the RTP timestamp, time base 1/90000 for video, 1/48000 for sound), which
aiortc's `RTCRtpSender` packs into RTP as they are, without encoding
(`RTCRtpSender._next_encoded_frame`, `encoder.pack`). Nothing is decoded or encoded for a
watcher. Video is kept in order from a keyframe (a delta frame skipped breaks the picture
until the next keyframe): a new watcher's queue waits for one, asked of the candidate at once;
a watcher who falls `VIDEO_QUEUE` frames behind drops what it holds and waits for the next
keyframe (asked for too), so nothing grows. Sound: each Opus packet stands alone; the oldest go
when a watcher is `AUDIO_QUEUE` packets behind.

A watcher's browser asks for a keyframe (RTCP PLI or FIR) when it lost a picture. aiortc's
sender turns that into `_send_keyframe`, which only an encoder of its own would hear: the
packet path ignores it. `forward_keyframe_asks` overrides that method on the watcher's sender
instance (a private part of the pinned aiortc, 1.16) so the ask goes on to the candidate's
sender through the tap; tests/media/test_receiver_tap.py fails when aiortc stops offering it.

Decoded frames (the fallback): unbuffered, the latest frame only; a watcher's encoder that
falls behind skips the frames before it. Either way, this costs nothing while nobody watches.
"""

from __future__ import annotations

import asyncio
import fractions
from collections import deque
from collections.abc import Callable
from typing import Any

import av
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame, VideoFrame

from proctor_server.media.receiver_tap import (
    OPUS_CLOCK,
    VP8_CLOCK,
    EncodedFrame,
    OpusFrame,
    Vp8Frame,
)

Frame = AudioFrame | VideoFrame
VIDEO_QUEUE = 30  # VP8 frames a watcher may fall behind (2 s at 15 fps) before it skips
AUDIO_QUEUE = 50  # Opus packets (1 s of 20 ms packets)
VIDEO_TIME_BASE = fractions.Fraction(1, VP8_CLOCK)
AUDIO_TIME_BASE = fractions.Fraction(1, OPUS_CLOCK)


class VideoQueue:
    """One watcher's VP8 frames, in order from a keyframe, at most `limit` of them."""

    def __init__(self, limit: int = VIDEO_QUEUE) -> None:
        if limit < 1:
            raise ValueError("a watcher's queue holds at least one frame")
        self.limit = limit
        self.frames: deque[Vp8Frame] = deque()
        self.waiting = True  # for a keyframe: nothing before one can be decoded
        self.dropped = 0  # frames skipped (before a keyframe, or overflowed)

    def put(self, frame: Vp8Frame) -> bool:
        """Keep `frame` if it can be shown; True when the watcher waits for a keyframe (ask
        the candidate for one)."""
        if len(self.frames) >= self.limit:  # fallen behind: start again at a keyframe
            self.dropped += len(self.frames)
            self.frames.clear()
            self.waiting = True
        if self.waiting and not frame.keyframe:
            self.dropped += 1
            return True
        self.waiting = False
        self.frames.append(frame)
        return False

    def get(self) -> Vp8Frame | None:
        return self.frames.popleft() if self.frames else None


class PacketTrack(MediaStreamTrack):
    """One watcher's copy of one received track, as packets. `put` each encoded frame; `end`
    when the source ends; `stop` (the watcher leaves) takes it out of `readers`.
    `ask_keyframe` asks the candidate's sender for a keyframe (rate-limited by the tap)."""

    def __init__(
        self,
        kind: str,
        readers: set[PacketTrack],
        ask_keyframe: Callable[[], object],
        *,
        limit: int | None = None,
    ) -> None:
        super().__init__()
        self.kind = kind
        self._readers = readers
        self.ask_keyframe = ask_keyframe
        self.video = VideoQueue(limit or VIDEO_QUEUE) if kind == "video" else None
        self._sound: deque[OpusFrame] = deque(maxlen=limit or AUDIO_QUEUE)
        self._ended = False
        self._new = asyncio.Event()
        readers.add(self)
        if self.video is not None:
            ask_keyframe()

    def put(self, frame: EncodedFrame) -> None:
        if isinstance(frame, Vp8Frame):
            if self.video is not None and self.video.put(frame):
                self.ask_keyframe()
        elif self.video is None:
            self._sound.append(frame)
        self._new.set()

    def end(self) -> None:
        self._ended = True
        self._new.set()

    def _next(self) -> EncodedFrame | None:
        if self.video is not None:
            return self.video.get()
        return self._sound.popleft() if self._sound else None

    async def recv(self) -> av.Packet[Any]:
        while True:
            if self.readyState != "live":
                raise MediaStreamError
            if self._ended:
                self.stop()
                raise MediaStreamError
            frame = self._next()
            if frame is not None:
                return _packet(frame)
            self._new.clear()
            await self._new.wait()

    def stop(self) -> None:
        self._readers.discard(self)
        super().stop()


def _packet(frame: EncodedFrame) -> av.Packet[Any]:
    packet = av.Packet(frame.data)
    packet.pts = frame.rtp
    packet.time_base = VIDEO_TIME_BASE if isinstance(frame, Vp8Frame) else AUDIO_TIME_BASE
    return packet


def forward_keyframe_asks(sender: Any, ask: Callable[[], object]) -> bool:
    """Make the keyframe asks (PLI, FIR) that reach the watcher's `sender` go to `ask`
    instead of an encoder it does not use; False when this aiortc's sender has no
    `_send_keyframe` to override."""
    if not callable(getattr(sender, "_send_keyframe", None)):
        return False
    sender._send_keyframe = ask  # called without arguments, its result unused
    return True


class WatcherTrack(MediaStreamTrack):
    """One watcher's copy of one received track, decoded (the fallback). `put` each frame;
    `end` when the source ends; `stop` (the watcher leaves) takes it out of `readers`."""

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
