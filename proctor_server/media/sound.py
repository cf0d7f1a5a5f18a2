"""The received sound as the server's listeners want it: int16 mono at a chosen rate. Where
aiortc decodes the sound (no tap on its receiver: another aiortc), the evidence clips keep it
at 16 kHz and voice activity reads it at the stream's own rate, for every 20 ms frame of every
stream (50 a second), on the event loop. Where the Opus packets come as received (the tap),
voice activity decodes them itself, half a second at a time in a worker thread (`OpusSound`)."""

from __future__ import annotations

from collections.abc import Sequence

import av
import numpy as np
from av import AudioFrame

from proctor_server.media.receiver_tap import OPUS_CLOCK, OpusFrame


def packed_s16(frame: AudioFrame, rate: int) -> bool:
    """Whether `frame` is packed int16 whose rate `rate` divides (aiortc's Opus decoder gives
    48 kHz s16): the integer path, which can also take many such frames' bytes at once."""
    return frame.format.name == "s16" and frame.sample_rate % rate == 0


def s16_bytes(frame: AudioFrame) -> bytes:
    """The samples of a packed int16 frame, copied (a few microseconds): to keep now and
    reduce with `box_mono` later, many frames at once."""
    return bytes(memoryview(frame.planes[0])[: frame.samples * frame.layout.nb_channels * 2])


def box_mono(data: bytes | memoryview, channels: int, factor: int) -> np.ndarray:
    """Packed int16 samples of `channels` channels as mono, each `factor` samples averaged
    into one, rounded, in integers (what is left over is dropped)."""
    width = channels * factor
    count = len(data) // 2
    count -= count % width
    raw = np.frombuffer(data, dtype=np.int16, count=count).reshape(-1, width)
    # column by column: numpy's sum over a short last axis is several times slower
    total = raw[:, 0].astype(np.int32)
    for k in range(1, width):
        total += raw[:, k]
    total += width // 2  # rounded
    total //= width
    boxed: np.ndarray = total.astype(np.int16)
    return boxed


def mono_int16(frame: AudioFrame, rate: int) -> np.ndarray:
    """A decoded audio frame as int16 mono at `rate` (a box filter when it divides the
    frame's rate, which Opus's 48 kHz does for 16 kHz and for itself; else linear
    interpolation)."""
    channels = frame.layout.nb_channels
    source = frame.sample_rate
    if packed_s16(frame, rate):
        # aiortc's Opus (48 kHz s16, packed): read in place, summed in integers, a few times
        # faster than the general case below (50 frames a second of every stream)
        plane = memoryview(frame.planes[0])[: frame.samples * channels * 2]
        return box_mono(plane, channels, source // rate)
    data = frame.to_ndarray().astype(np.float32)
    if frame.format.is_planar:
        mono = data.mean(axis=0) if channels > 1 else data.reshape(-1)
    else:
        mono = data.reshape(-1, channels).mean(axis=1) if channels > 1 else data.reshape(-1)
    if frame.format.name.startswith(("flt", "dbl")):
        mono = mono * 32767
    if source != rate and mono.size:
        if source % rate == 0:
            factor = source // rate
            usable = mono.size - mono.size % factor
            mono = mono[:usable].reshape(-1, factor).mean(axis=1)
        else:
            count = max(1, round(mono.size * rate / source))
            mono = np.interp(np.linspace(0, mono.size - 1, count), np.arange(mono.size), mono)
    samples: np.ndarray = np.clip(np.round(mono), -32768, 32767).astype(np.int16)
    return samples


MAX_GAP_S = 60.0  # the most silence one gap in a stream's RTP time becomes


class OpusSound:
    """One stream's Opus packets, in chunks, as int16 mono at `rate` (a divisor of 48 kHz:
    16 kHz for voice activity), on the stream's RTP clock: a hole in RTP time (lost packets,
    chunks dropped under back-pressure) becomes silence of its length, so what follows stays at
    its time; a packet whose time is past (repeated, late) is skipped; one the decoder refuses
    counts as lost. The clock starts at the first packet.

    Neither of FFmpeg's Opus decoders (PyAV's "libopus" and "opus") honours a sample rate asked
    of them: both give 48 kHz whatever the context says (checked in tests/media/
    test_opus_sound.py). So the decoder is asked for mono (which both honour: no stereo to
    average), and 48 kHz goes to `rate` by a box filter over whole chunks, in integers.
    Stateful: one thread at a time (the attempt's worker)."""

    def __init__(self, rate: int = 16_000) -> None:
        if rate <= 0 or OPUS_CLOCK % rate:
            raise ValueError(f"{rate} Hz does not divide Opus's 48 kHz")
        self.rate = rate
        self._codec = av.CodecContext.create("libopus", "r")
        self._codec.layout = "mono"
        self._next: int | None = None  # the RTP tick the next packet should start at
        self.lost_ticks = 0  # RTP time filled with silence (figures, tests)
        self.skipped = 0  # packets refused or out of time (figures, tests)

    def decode(self, packets: Sequence[OpusFrame]) -> np.ndarray:
        parts: list[bytes] = []
        for packet in packets:
            if self._next is not None:
                gap = packet.rtp - self._next
                if gap < 0:
                    self.skipped += 1
                    continue
                if gap:
                    fill = min(gap, round(MAX_GAP_S * OPUS_CLOCK))
                    parts.append(bytes(2 * fill))
                    self.lost_ticks += fill
            try:
                frames = self._codec.decode(av.Packet(packet.data))
            except av.error.FFmpegError:
                self.skipped += 1
                continue
            ticks = 0
            for frame in frames:
                if frame.format.name != "s16" or frame.sample_rate != OPUS_CLOCK:
                    pcm = mono_int16(frame, OPUS_CLOCK)  # not FFmpeg's usual: made so
                    parts.append(pcm.tobytes())
                    ticks += pcm.size
                else:
                    parts.append(s16_bytes(frame))
                    ticks += frame.samples
            self._next = packet.rtp + ticks
        return box_mono(b"".join(parts), 1, OPUS_CLOCK // self.rate)
