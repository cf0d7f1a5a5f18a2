"""Sources whose content a receiver can check after VP8 and Opus: a camera that shows one
saturated colour a second from a fixed palette, and the arithmetic to recognise them."""

from __future__ import annotations

import threading

import numpy as np
from av import AudioFrame, VideoFrame

from proctor_client.devices.fake_cameras import Pacer

PALETTE_BGR: list[tuple[int, int, int]] = [
    (40, 40, 220),  # red
    (40, 200, 40),  # green
    (220, 60, 40),  # blue
    (40, 220, 220),  # yellow
]
FRAMES_PER_COLOUR = 15


class PaletteCamera:
    """Frame n shows PALETTE_BGR[(n // FRAMES_PER_COLOUR) % 4], 640x480, 15 a second."""

    def __init__(self, *, fps: float = 15.0) -> None:
        self._pacer = Pacer(fps)
        self._lock = threading.Lock()
        self.count = 0
        self.closed = False

    @property
    def name(self) -> str:
        return "Palette test camera"

    def read(self) -> np.ndarray:
        self._pacer.wait()
        with self._lock:
            n, self.count = self.count, self.count + 1
        colour = PALETTE_BGR[(n // FRAMES_PER_COLOUR) % len(PALETTE_BGR)]
        return np.full((480, 640, 3), colour, dtype=np.uint8)

    def close(self) -> None:
        self.closed = True


def palette_index(frame: VideoFrame) -> int | None:
    """The palette colour a decoded frame shows, or None when it is none of them."""
    image = frame.to_ndarray(format="bgr24")
    mean = image.reshape(-1, 3).mean(axis=0)
    distances = [float(np.abs(mean - np.array(c)).max()) for c in PALETTE_BGR]
    best = int(np.argmin(distances))
    return best if distances[best] < 40 else None


def audio_samples(frames: list[AudioFrame]) -> tuple[np.ndarray, int]:
    """Mono float samples of decoded audio frames, and their rate."""
    chunks = []
    for frame in frames:
        data = frame.to_ndarray().astype(np.float64)
        channels = len(frame.layout.channels)
        if frame.format.is_planar:
            chunks.append(data.mean(axis=0))
        else:
            chunks.append(data.reshape(-1, channels).mean(axis=1))
    return np.concatenate(chunks), frames[0].sample_rate


def dominant_frequency(samples: np.ndarray, rate: int) -> float:
    window = samples * np.hanning(samples.size)
    spectrum = np.abs(np.fft.rfft(window))
    spectrum[0] = 0.0
    return float(np.fft.rfftfreq(samples.size, 1.0 / rate)[int(np.argmax(spectrum))])
