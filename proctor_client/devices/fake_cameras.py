"""Cameras that ship with the product for CI, demos and machines without a camera.

``SyntheticCamera`` draws a moving face-like scene (a skin-coloured oval with eyes and a mouth
that drifts a little), adds sensor noise and prints a timestamp, so the environment check sees
a live, non-black, changing picture and detection code finds *something*. ``FrozenCamera`` and
``BlackCamera`` imitate the two broken cameras the environment check must catch.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import cv2
import numpy as np

from proctor_client.devices.base import Frame

DEFAULT_SIZE = (640, 480)
DEFAULT_FPS = 15.0


class Pacer:
    """Spaces blocking reads ``1/rate`` seconds apart on a fixed schedule, as hardware does.

    A reader that falls more than ``max_lag`` seconds behind does not get a burst of the
    missed reads: the schedule restarts from now, as a camera drops the frames nobody took.
    (A microphone buffers: give it a longer ``max_lag``.) With ``realtime=False`` reads
    return at once (for tests that count frames, not time).
    """

    def __init__(self, rate: float, *, realtime: bool = True, max_lag: float | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.period = 1.0 / rate
        self.realtime = realtime
        self.max_lag = self.period if max_lag is None else max_lag
        self._next: float | None = None
        self._lock = threading.Lock()

    def wait(self, periods: float = 1.0) -> None:
        if not self.realtime:
            return
        with self._lock:
            now = time.monotonic()
            if self._next is None or self._next < now - self.max_lag:
                self._next = now  # first read, or the reader fell behind: restart
            due = self._next
            self._next = due + self.period * periods
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)  # imitates a device that delivers at its own pace


_BACKGROUNDS: dict[tuple[int, int], np.ndarray] = {}


def _background(size: tuple[int, int]) -> np.ndarray:
    """A soft grey-blue gradient wall, made once per size."""
    if size not in _BACKGROUNDS:
        width, height = size
        ys = np.linspace(70, 120, height, dtype=np.float32)[:, None]
        xs = np.linspace(0, 25, width, dtype=np.float32)[None, :]
        wall = (ys + xs).astype(np.uint8)
        _BACKGROUNDS[size] = np.dstack([wall + 10, wall + 5, wall])
    return _BACKGROUNDS[size]


class SensorNoise:
    """Cheap per-frame sensor noise: a few precomputed ±6 grain patterns, combined and
    shifted at random for each frame (saturating adds, no float work)."""

    BANK = 4

    def __init__(self, shape: tuple[int, ...], rng: np.random.Generator) -> None:
        self._rng = rng
        self._up = [rng.integers(0, 7, size=shape, dtype=np.uint8) for _ in range(self.BANK)]
        self._down = [rng.integers(0, 7, size=shape, dtype=np.uint8) for _ in range(self.BANK)]

    def apply(self, frame: np.ndarray) -> np.ndarray:
        i, j = (int(v) for v in self._rng.integers(0, self.BANK, size=2))
        shift = int(self._rng.integers(0, frame.shape[1]))
        up = np.roll(self._up[i], shift, axis=1)
        frame = cv2.add(frame, up)
        return cv2.subtract(frame, self._down[j])


def draw_scene(
    index: int,
    *,
    size: tuple[int, int] = DEFAULT_SIZE,
    fps: float = DEFAULT_FPS,
    noise: SensorNoise | None = None,
    stamp: str | None = None,
) -> Frame:
    """Frame number ``index`` of the synthetic scene (pure but for ``noise``)."""
    width, height = size
    t = index / fps
    frame = _background(size).copy()
    # The face drifts a few per cent of the frame and nods slowly.
    cx = int(width * (0.5 + 0.04 * math.sin(2 * math.pi * 0.25 * t)))
    cy = int(height * (0.48 + 0.03 * math.sin(2 * math.pi * 0.17 * t + 1.0)))
    fw, fh = int(width * 0.16), int(height * 0.29)
    cv2.ellipse(frame, (cx, cy + fh + fh // 2), (fw * 2, fh), 0, 180, 360, (90, 60, 50), -1)
    cv2.ellipse(frame, (cx, cy), (fw, fh), 0, 0, 360, (125, 160, 205), -1)  # skin, BGR
    cv2.ellipse(frame, (cx, cy - fh + fh // 5), (fw, fh // 3), 0, 180, 360, (40, 45, 55), -1)
    eye_y = cy - fh // 6
    blink = (index % int(fps * 4)) == 0
    for dx in (-fw // 2, fw // 2):
        cv2.ellipse(
            frame,
            (cx + dx, eye_y),
            (fw // 5, 1 if blink else fw // 9),
            0,
            0,
            360,
            (250, 250, 250),
            -1,
        )
        if not blink:
            cv2.circle(frame, (cx + dx, eye_y), fw // 12, (50, 35, 30), -1)
    cv2.line(frame, (cx, eye_y + 5), (cx - fw // 10, cy + fh // 4), (95, 125, 170), 2)
    cv2.ellipse(frame, (cx, cy + fh // 2), (fw // 3, fh // 12), 0, 0, 180, (80, 80, 160), 3)
    if noise is not None:
        frame = noise.apply(frame)
    if stamp:
        cv2.putText(
            frame,
            stamp,
            (10, height - 12),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.5,
            (255, 255, 255),
            1,
            cv2.LINE_AA,
        )
    return frame


def _wall_stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"


class SyntheticCamera:
    """A moving face-like scene with sensor noise and a timestamp, ``fps`` frames a second."""

    def __init__(
        self,
        *,
        size: tuple[int, int] = DEFAULT_SIZE,
        fps: float = DEFAULT_FPS,
        seed: int = 0,
        realtime: bool = True,
        stamp: Callable[[], str] | None = _wall_stamp,
        name: str = "Synthetic camera",
    ) -> None:
        self._size = size
        self._fps = fps
        self._noise = SensorNoise((size[1], size[0], 3), np.random.default_rng(seed))
        self._pacer = Pacer(fps, realtime=realtime)
        self._stamp = stamp
        self._index = 0
        self._name = name
        self.closed = False

    @property
    def name(self) -> str:
        return self._name

    def read(self) -> Frame:
        self._pacer.wait()
        frame = draw_scene(
            self._index,
            size=self._size,
            fps=self._fps,
            noise=self._noise,
            stamp=self._stamp() if self._stamp else None,
        )
        self._index += 1
        return frame

    def close(self) -> None:
        self.closed = True


class FrozenCamera:
    """A camera stuck on one picture: every frame is byte-identical (a hung driver)."""

    def __init__(
        self,
        *,
        size: tuple[int, int] = DEFAULT_SIZE,
        fps: float = DEFAULT_FPS,
        realtime: bool = True,
        name: str = "Frozen camera",
    ) -> None:
        noise = SensorNoise((size[1], size[0], 3), np.random.default_rng(1))
        self._frame = draw_scene(1, size=size, fps=fps, noise=noise)
        self._pacer = Pacer(fps, realtime=realtime)
        self._name = name
        self.closed = False

    @property
    def name(self) -> str:
        return self._name

    def read(self) -> Frame:
        self._pacer.wait()
        return self._frame.copy()

    def close(self) -> None:
        self.closed = True


class BlackCamera:
    """A covered lens: near-black frames with a little sensor noise (so it is not frozen)."""

    def __init__(
        self,
        *,
        size: tuple[int, int] = DEFAULT_SIZE,
        fps: float = DEFAULT_FPS,
        realtime: bool = True,
        seed: int = 0,
        name: str = "Black camera",
    ) -> None:
        rng = np.random.default_rng(seed)
        self._rng = rng
        self._bank = [
            rng.integers(0, 4, size=(size[1], size[0], 3), dtype=np.uint8) for _ in range(4)
        ]
        self._pacer = Pacer(fps, realtime=realtime)
        self._name = name
        self.closed = False

    @property
    def name(self) -> str:
        return self._name

    def read(self) -> Frame:
        self._pacer.wait()
        grain = self._bank[int(self._rng.integers(0, len(self._bank)))]
        return np.roll(grain, int(self._rng.integers(0, grain.shape[1])), axis=1)

    def close(self) -> None:
        self.closed = True
