"""The received sound as the server's listeners want it: int16 mono at a chosen rate. The
evidence clips keep it at 16 kHz, voice activity reads it at the stream's own rate; both run
for every 20 ms frame of every stream (50 a second), on the event loop."""

from __future__ import annotations

import numpy as np
from av import AudioFrame


def mono_int16(frame: AudioFrame, rate: int) -> np.ndarray:
    """A decoded audio frame as int16 mono at `rate` (a box filter when it divides the
    frame's rate, which Opus's 48 kHz does for 16 kHz and for itself; else linear
    interpolation)."""
    channels = frame.layout.nb_channels
    source = frame.sample_rate
    if frame.format.name == "s16" and source % rate == 0:
        # aiortc's Opus (48 kHz s16, packed): read in place, summed in integers, a few times
        # faster than the general case below (50 frames a second of every stream)
        width = channels * (source // rate)
        usable = frame.samples * channels
        usable -= usable % width
        plane = memoryview(frame.planes[0])
        raw = np.frombuffer(plane, dtype=np.int16, count=usable).reshape(-1, width)
        total = raw.sum(axis=1, dtype=np.int32)
        boxed: np.ndarray = ((total + width // 2) // width).astype(np.int16)  # rounded
        return boxed
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
