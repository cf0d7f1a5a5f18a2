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

    With ``realtime=False`` reads return at once (for tests that count frames, not time).
    """

    def __init__(self, rate: float, *, realtime: bool = True) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.period = 1.0 / rate
        self.realtime = realtime
        self._next: float | None = None
        self._lock = threading.Lock()

    def wait(self, periods: float = 1.0) -> None:
        if not self.realtime:
            return
        with self._lock:
            now = time.monotonic()
            if self._next is None or self._next < now - 1.0:
                self._next = now  # first read, or the reader fell far behind: restart
            due = self._next
            self._next = due + self.period * periods
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)  # imitates a device that delivers at its own pace


def draw_scene(
    index: int,
    *,
    size: tuple[int, int] = DEFAULT_SIZE,
    fps: float = DEFAULT_FPS,
    rng: np.random.Generator | None = None,
    stamp: str | None = None,
) -> Frame:
    """Frame number ``index`` of the synthetic scene (pure but for ``rng``'s noise)."""
    width, height = size
    t = index / fps
    ys = np.linspace(70, 120, height, dtype=np.float32)[:, None]
    xs = np.linspace(0, 25, width, dtype=np.float32)[None, :]
    background = (ys + xs).astype(np.uint8)
    frame = np.dstack([background + 10, background + 5, background])
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
    if rng is not None:
        noise = rng.integers(-6, 7, size=frame.shape, dtype=np.int16)
        frame = np.clip(frame.astype(np.int16) + noise, 0, 255).astype(np.uint8)
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
        self._rng = np.random.default_rng(seed)
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
            rng=self._rng,
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
        self._frame = draw_scene(0, size=size, fps=fps, rng=np.random.default_rng(1))
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
        self._shape = (size[1], size[0], 3)
        self._rng = np.random.default_rng(seed)
        self._pacer = Pacer(fps, realtime=realtime)
        self._name = name
        self.closed = False

    @property
    def name(self) -> str:
        return self._name

    def read(self) -> Frame:
        self._pacer.wait()
        return self._rng.integers(0, 4, size=self._shape, dtype=np.uint8)

    def close(self) -> None:
        self.closed = True
