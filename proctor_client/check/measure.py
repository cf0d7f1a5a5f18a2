"""Pure measurements over camera frames and microphone samples (numpy in, numbers out)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from proctor_client.check.evaluate import CameraFigures, dbfs

WINDOW_S = 0.1  # the microphone level is the loudest window of this length


def grey(frame: np.ndarray) -> np.ndarray:
    if frame.ndim == 2:
        return frame
    return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)


def brightness(frame: np.ndarray) -> float:
    """Mean grey level, 0..255."""
    return float(grey(frame).mean())


def change(previous: np.ndarray, current: np.ndarray) -> float:
    """Mean absolute grey difference between two frames of the same size, 0..255."""
    a, b = grey(previous), grey(current)
    if a.shape != b.shape:
        return 255.0  # the picture's size changed: certainly not frozen
    return float(cv2.absdiff(a, b).mean())


@dataclass(slots=True)
class FrameTally:
    """Accumulates what the camera check needs, one frame at a time (keeps only the last)."""

    frames: int = 0
    width: int = 0
    height: int = 0
    brightest: float = 0.0
    most_change: float = 0.0
    first_at: float | None = None
    last_at: float | None = None
    _previous: np.ndarray | None = field(default=None, repr=False)

    def add(self, frame: np.ndarray, at: float) -> None:
        """Count ``frame``, which arrived at monotonic time ``at``."""
        g = grey(frame)
        self.frames += 1
        self.height, self.width = frame.shape[:2]
        self.brightest = max(self.brightest, float(g.mean()))
        if self._previous is not None:
            self.most_change = max(self.most_change, change(self._previous, g))
        self._previous = g
        if self.first_at is None:
            self.first_at = at
        self.last_at = at

    @property
    def fps(self) -> float:
        if self.frames < 2 or self.first_at is None or self.last_at is None:
            return 0.0
        span = self.last_at - self.first_at
        return (self.frames - 1) / span if span > 0 else math.inf

    def figures(self, error: str | None = None) -> CameraFigures:
        fps = self.fps
        return CameraFigures(
            frames=self.frames,
            fps=fps if math.isfinite(fps) else 999.0,
            width=self.width,
            height=self.height,
            brightness=self.brightest,
            change=self.most_change,
            error=error,
        )


def rms(samples: np.ndarray) -> float:
    if samples.size == 0:
        return 0.0
    values = samples.astype(np.float64)
    return float(np.sqrt(np.mean(values * values)))


def loudest_window_dbfs(samples: np.ndarray, sample_rate: int, window_s: float = WINDOW_S) -> float:
    """The level of the loudest ``window_s`` stretch of int16 audio, in dBFS."""
    size = max(1, int(sample_rate * window_s))
    if samples.size == 0:
        return dbfs(0.0)
    usable = samples.size - samples.size % size if samples.size >= size else samples.size
    if usable < size:
        return dbfs(rms(samples))
    blocks = samples[:usable].astype(np.float64).reshape(-1, size)
    levels = np.sqrt(np.mean(blocks * blocks, axis=1))
    return dbfs(float(levels.max()))
