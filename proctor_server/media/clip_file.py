"""A clip's file: JPEG frames and sound with their times, written as one WebM (VP8 video,
Opus audio) with PyAV, which aiortc brings. The sound is either mono PCM, encoded here, or the
Opus packets as received (`OpusPacket`, from the gateway's tap: copied into the file, nothing
encoded). Blocking and CPU-bound (about 10 ms a picture on this project's 2-core machine):
run it in a worker thread.

The same encoding done as the stream goes, into a file on disk, is full-session recording's
(`clip_remux.SessionFile`, with the remuxed frames' path)."""

from __future__ import annotations

import fractions
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any, Literal

import av
import numpy as np

from proctor_server.media.receiver_tap import OPUS_CLOCK

VIDEO_TIME_BASE = fractions.Fraction(1, 1000)  # milliseconds
OPUS_TIME_BASE = fractions.Fraction(1, OPUS_CLOCK)  # whatever the sender's input rate
OPUS_PACKET_S = 0.02  # what a received packet usually holds (the figure of seconds kept)
VIDEO_BITRATE = 250_000
AUDIO_CHUNK_S = 0.02
# libvpx's fastest settings: clips are evidence, written as the exam goes on
VP8_OPTIONS = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}


@dataclass(frozen=True, slots=True)
class Picture:
    at: float  # seconds (server time, POSIX)
    jpeg: bytes


@dataclass(frozen=True, slots=True)
class Sound:
    at: float  # when its first sample was received (server time, POSIX)
    samples: np.ndarray  # int16 mono

    @property
    def size(self) -> int:
        return int(self.samples.nbytes)


@dataclass(frozen=True, slots=True)
class OpusPacket:
    at: float  # when it arrived (server time, POSIX)
    rtp: int  # its RTP timestamp (48 kHz)
    data: bytes  # one Opus packet as the sender's encoder made it

    @property
    def size(self) -> int:
        return len(self.data)


SoundItem = Sound | OpusPacket
SoundKind = Literal["pcm", "opus"]


def sound_kind(sounds: Sequence[SoundItem]) -> SoundKind | None:
    """How a file holds these sounds: encoded from PCM, Opus copied, or no sound (None)."""
    if not sounds:
        return None
    return "opus" if isinstance(sounds[0], OpusPacket) else "pcm"


def decode_picture(jpeg: bytes) -> np.ndarray | None:
    import cv2

    image = cv2.imdecode(np.frombuffer(jpeg, dtype=np.uint8), cv2.IMREAD_COLOR)
    return image if image is not None and image.size else None


class _Encoder:
    """One WebM container being written from `start`: a VP8 stream of `size` (width,
    height; None: no video) and an Opus stream when `sound` says how it comes (PCM at `rate`
    to encode, or Opus packets to copy; a sound of the other kind is left out). Both streams
    exist before the first packet is written, as the container's header needs."""

    def __init__(
        self,
        target: IO[bytes] | str,
        start: float,
        *,
        size: tuple[int, int] | None,
        sound: SoundKind | None,
        fps: float,
        rate: int,
    ) -> None:
        self.start = start
        self.rate = rate
        self.out: Any = av.open(target, mode="w", format="webm")
        self.video: Any = None
        self.audio: Any = None
        if size is not None:
            stream = self.out.add_stream("libvpx", rate=max(1, round(fps)))
            stream.width, stream.height = size
            stream.pix_fmt = "yuv420p"
            stream.bit_rate = VIDEO_BITRATE
            stream.options = dict(VP8_OPTIONS)
            stream.codec_context.time_base = VIDEO_TIME_BASE
            self.video = stream
        self.sound_kind = sound
        if sound == "pcm":
            self.audio = self.out.add_stream("libopus", rate=rate, layout="mono")
        elif sound == "opus":  # an encoder's stream only for its header (OpusHead): never fed
            self.audio = self.out.add_stream("libopus", rate=OPUS_CLOCK, layout="stereo")
        self.last_pts = -1
        self.audio_pts: int | None = None
        self.opus_origin: int | None = None  # a packet's pts is this plus its RTP time
        self.pictures = 0
        self.sound_s = 0.0

    def picture(self, item: Picture) -> None:
        image = decode_picture(item.jpeg)
        if image is None or self.video is None:
            return
        if image.shape[:2] != (self.video.height, self.video.width):  # the sender changed size
            import cv2

            image = cv2.resize(image, (self.video.width, self.video.height))
        pts = max(self.last_pts + 1, round((item.at - self.start) * 1000))
        pixels = np.ascontiguousarray(image, dtype=np.uint8)
        frame = av.VideoFrame.from_ndarray(pixels, format="bgr24").reformat(format="yuv420p")
        frame.pts, frame.time_base = pts, VIDEO_TIME_BASE
        self.last_pts = pts
        for packet in self.video.encode(frame):
            self.out.mux(packet)
        self.pictures += 1

    def sound(self, item: SoundItem) -> None:
        if isinstance(item, OpusPacket):
            self._copy(item)
            return
        if self.sound_kind != "pcm":
            return
        start = round((item.at - self.start) * self.rate)
        if self.audio_pts is None or start > self.audio_pts + self.rate // 5:
            self.audio_pts = max(start, 0 if self.audio_pts is None else self.audio_pts)
        chunk = max(1, round(self.rate * AUDIO_CHUNK_S))
        data = np.ascontiguousarray(item.samples, dtype=np.int16)
        for k in range(0, data.size, chunk):
            part = data[k : k + chunk].reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(part, format="s16", layout="mono")
            frame.sample_rate = self.rate
            frame.pts, frame.time_base = self.audio_pts, fractions.Fraction(1, self.rate)
            self.audio_pts += part.shape[1]
            for packet in self.audio.encode(frame):
                self.out.mux(packet)
        self.sound_s += data.size / self.rate

    def _copy(self, item: OpusPacket) -> None:
        if self.sound_kind != "opus":
            return
        if self.opus_origin is None:
            self.opus_origin = round((item.at - self.start) * OPUS_CLOCK) - item.rtp
        pts = self.opus_origin + item.rtp
        if self.audio_pts is not None and pts <= self.audio_pts:
            return  # a packet out of order or repeated: the file's times only go forward
        packet = av.Packet(item.data)
        packet.stream = self.audio
        packet.pts = packet.dts = pts
        packet.time_base = OPUS_TIME_BASE
        self.out.mux(packet)
        self.audio_pts = pts
        self.sound_s += OPUS_PACKET_S

    def close(self) -> None:
        copied = self.audio if self.sound_kind == "opus" else None
        for stream in (self.video, self.audio):
            if stream is not None and stream is not copied:
                for packet in stream.encode():
                    self.out.mux(packet)
        self.out.close()


def picture_size(item: Picture) -> tuple[int, int] | None:
    image = decode_picture(item.jpeg)
    return None if image is None else (image.shape[1], image.shape[0])


def encode_clip(
    pictures: Sequence[Picture],
    sounds: Sequence[SoundItem],
    start: float,
    *,
    fps: float,
    rate: int,
) -> bytes:
    """The pictures and sounds from `start` on as one WebM file's bytes; ValueError when
    there is nothing to write."""
    size = picture_size(pictures[0]) if pictures else None
    if size is None and not sounds:
        raise ValueError("a clip needs pictures or sound")
    buffer = io.BytesIO()
    encoder = _Encoder(buffer, start, size=size, sound=sound_kind(sounds), fps=fps, rate=rate)
    try:
        for picture in pictures:
            encoder.picture(picture)
        for sound in sounds:
            encoder.sound(sound)
    finally:
        encoder.close()
    return buffer.getvalue()
