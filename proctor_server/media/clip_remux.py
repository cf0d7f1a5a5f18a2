"""A clip's file from the VP8 frames as received: remuxed into WebM with PyAV, no video
decoded or encoded (a 20 s clip takes a few milliseconds), the sound copied from the Opus
packets as received or, where the stream gave none, encoded as Opus (clip_file.py). The
frames start on a keyframe; their times come from their RTP timestamps (the sender's clock),
placed at the arrival of the first.

`SessionFile` records a whole stream as it goes, into a file (full-session recording): the
received frames remuxed, or, where the stream had no encoded frames, its JPEG pictures encoded."""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import av

from proctor_server.media.clip_file import (
    VIDEO_TIME_BASE,
    Picture,
    SoundItem,
    SoundKind,
    _Encoder,
    picture_size,
    sound_kind,
)
from proctor_server.media.receiver_tap import vp8_keyframe_size
from proctor_server.store.private_files import private_folder

RTP_PER_MS = 90  # video RTP clock: 90 kHz


@dataclass(frozen=True, slots=True)
class VideoPacket:
    at: float  # when it arrived (server time, POSIX)
    rtp: int  # its RTP timestamp (90 kHz)
    data: bytes  # one whole VP8 frame
    keyframe: bool


@dataclass(eq=False)
class Gop:
    """VP8 frames from a keyframe up to the next (a ring's unit: it drops whole ones)."""

    packets: list[VideoPacket] = field(default_factory=list)
    size: int = 0  # bytes


def span_packets(gops: Iterable[Gop], start: float, end: float) -> list[VideoPacket]:
    """The frames of a clip from `start` to `end`, from the latest keyframe at or before
    `start` (the first one there is when none is that old)."""
    kept = list(gops)
    first = 0
    for index, gop in enumerate(kept):
        if gop.packets[0].at > start:
            break
        first = index
    return [p for gop in itertools.islice(kept, first, None) for p in gop.packets if p.at <= end]


class _Remuxer:
    """A WebM container from `start`: the VP8 packets as they are, the sound as `sound`
    says (clip_file.py)."""

    def __init__(
        self,
        target: IO[bytes] | str,
        first: VideoPacket,
        start: float,
        *,
        sound: SoundKind | None,
        rate: int,
    ) -> None:
        size = vp8_keyframe_size(first.data)
        if size is None:
            raise ValueError("a remuxed clip must start on a keyframe")
        # the sound's encoder opens the container; the video stream joins it before any packet
        self._sound = _Encoder(target, start, size=None, sound=sound, fps=1, rate=rate)
        self.out: Any = self._sound.out
        self.video: Any = self.out.add_stream("vp8")
        self.video.width, self.video.height = size
        self.video.time_base = VIDEO_TIME_BASE
        self.origin = round((first.at - start) * 1000) - first.rtp // RTP_PER_MS
        self.last_pts = -1
        self.pictures = 0

    def packet(self, item: VideoPacket) -> None:
        pts = max(self.last_pts + 1, self.origin + item.rtp // RTP_PER_MS)
        packet = av.Packet(item.data)
        packet.stream = self.video
        packet.pts = packet.dts = pts
        packet.time_base = VIDEO_TIME_BASE
        packet.is_keyframe = item.keyframe
        self.out.mux(packet)
        self.last_pts = pts
        self.pictures += 1

    def sound(self, item: SoundItem) -> None:
        self._sound.sound(item)

    @property
    def sound_s(self) -> float:
        return self._sound.sound_s

    def close(self) -> None:
        self._sound.close()


def remux_clip(
    packets: Sequence[VideoPacket], sounds: Sequence[SoundItem], start: float, *, rate: int
) -> bytes:
    """The packets (from a keyframe) and sounds from `start` on as one WebM file's bytes."""
    if not packets:
        raise ValueError("a remuxed clip needs video")
    buffer = io.BytesIO()
    remuxer = _Remuxer(buffer, packets[0], start, sound=sound_kind(sounds), rate=rate)
    try:
        for packet in packets:
            remuxer.packet(packet)
        for sound in sounds:
            remuxer.sound(sound)
    finally:
        remuxer.close()
    return buffer.getvalue()


class SessionFile:
    """A whole stream recorded as it goes into `path`: the VP8 frames as received, remuxed
    from the first (a keyframe), or JPEG pictures encoded into a video sized by the first; the
    sound copied (Opus packets) or encoded (PCM), as `sound` says. Video or sound of the other
    kind is left out. Not thread safe: one writer thread feeds it."""

    def __init__(
        self,
        path: Path,
        first: VideoPacket | Picture,
        *,
        fps: float,
        rate: int,
        sound: SoundKind = "pcm",
    ) -> None:
        size = None if isinstance(first, VideoPacket) else picture_size(first)
        if isinstance(first, Picture) and size is None:
            raise ValueError("the first picture of a recording must decode")
        private_folder(path.parent)
        self.path = path
        self._writer: _Remuxer | _Encoder = (
            _Remuxer(str(path), first, first.at, sound=sound, rate=rate)
            if isinstance(first, VideoPacket)
            else _Encoder(str(path), first.at, size=size, sound=sound, fps=fps, rate=rate)
        )
        self.add(first)

    def add(self, item: VideoPacket | Picture | SoundItem) -> None:
        writer = self._writer
        if isinstance(item, SoundItem):
            writer.sound(item)
        elif isinstance(item, VideoPacket):
            if isinstance(writer, _Remuxer):
                writer.packet(item)
        elif isinstance(writer, _Encoder):
            writer.picture(item)

    def close(self) -> tuple[int, float]:
        """Finish the file; returns (pictures, seconds of sound)."""
        self._writer.close()
        return self._writer.pictures, self._writer.sound_s
