"""The received sound as the server's listeners want it: int16 mono at a chosen rate. The
evidence clips keep it at 16 kHz, voice activity reads it at the stream's own rate; both run
for every 20 ms frame of every stream (50 a second), on the event loop."""

from __future__ import annotations

import numpy as np
from av import AudioFrame


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
