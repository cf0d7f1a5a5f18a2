"""Real cameras through OpenCV, a looped video file, and ``open_camera`` which turns the
``--camera DEVICE|synthetic|FILE`` option into a camera."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from proctor_client.devices.base import Camera, DeviceError, Frame
from proctor_client.devices.camera_names import list_camera_names, v4l_name
from proctor_client.devices.fake_cameras import (
    BlackCamera,
    FrozenCamera,
    Pacer,
    SyntheticCamera,
)
from shared.errors import ConfigError

REQUESTED_SIZE = (640, 480)
VIDEO_SUFFIXES = {".avi", ".mp4", ".mkv", ".mov", ".webm", ".m4v", ".mjpeg", ".mjpg"}
FAKE_CAMERAS = ("synthetic", "frozen", "black")


def _quiet_opencv() -> None:
    """OpenCV prints warnings for every device it fails to open; our errors say it better."""
    try:
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    except AttributeError:  # pragma: no cover - very old OpenCV
        pass


class OpenCVCamera:
    """A camera the operating system knows, opened by index (0, 1, ...) or device path."""

    def __init__(self, device: int | str, *, name: str | None = None) -> None:
        _quiet_opencv()
        self._device = device
        self._lock = threading.Lock()
        self._capture: Any = cv2.VideoCapture(device)
        if not self._capture.isOpened():
            self._capture.release()
            raise ConfigError(f"camera {device!r} cannot be opened (is it connected and free?)")
        self._capture.set(cv2.CAP_PROP_FRAME_WIDTH, REQUESTED_SIZE[0])
        self._capture.set(cv2.CAP_PROP_FRAME_HEIGHT, REQUESTED_SIZE[1])
        self._name = name or _device_name(device)
        self._closed = False

    @property
    def name(self) -> str:
        return self._name

    def read(self) -> Frame:
        with self._lock:
            if self._closed:
                raise DeviceError(f"camera {self._name!r} is closed")
            ok, frame = self._capture.read()
        if not ok or frame is None or frame.size == 0:
            raise DeviceError(f"camera {self._name!r} delivered no picture")
        return _as_bgr(frame)

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._capture.release()


class VideoFileCamera:
    """Plays a video file as a camera, from the start again when it ends, at the file's rate."""

    def __init__(self, path: Path, *, realtime: bool = True) -> None:
        _quiet_opencv()
        self.path = path
        self._lock = threading.Lock()
        self._capture: Any = cv2.VideoCapture(str(path))
        if not self._capture.isOpened():
            self._capture.release()
            raise ConfigError(f"camera file {str(path)!r} is not a video OpenCV can read")
        fps = float(self._capture.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = fps if 0.5 <= fps <= 120 else 15.0
        self._pacer = Pacer(self.fps, realtime=realtime)
        self._closed = False

    @property
    def name(self) -> str:
        return f"Video file {self.path.name}"

    def read(self) -> Frame:
        self._pacer.wait()
        with self._lock:
            if self._closed:
                raise DeviceError(f"camera file {self.path.name!r} is closed")
            ok, frame = self._capture.read()
            if not ok:
                self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)  # loop
                ok, frame = self._capture.read()
        if not ok or frame is None or frame.size == 0:
            raise DeviceError(f"camera file {self.path.name!r} has no readable frames")
        return _as_bgr(frame)

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._capture.release()


def _as_bgr(frame: np.ndarray) -> Frame:
    if frame.ndim == 2:
        frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    elif frame.shape[2] == 4:
        frame = cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    return np.ascontiguousarray(frame, dtype=np.uint8)


def _device_name(device: int | str) -> str:
    index: int | None = None
    if isinstance(device, int):
        index = device
    elif device.startswith("/dev/video") and device[len("/dev/video") :].isdigit():
        index = int(device[len("/dev/video") :])
    if index is not None and sys.platform.startswith("linux"):
        named = v4l_name(index)
        if named:
            return named
    if index is not None:
        names = list_camera_names()
        if 0 <= index < len(names):
            return names[index]  # the usual order on Windows and macOS; a best guess
        return f"Camera {index}"
    return str(device)


def check_camera_spec(spec: str) -> None:
    """Refuse a malformed ``--camera`` or a missing file at once, without opening anything."""
    text = spec.strip()
    if not text:
        raise ConfigError("--camera is empty: give a device number, 'synthetic' or a video file")
    if text.lower() in FAKE_CAMERAS or text.isdigit():
        return
    if text.startswith("/dev/"):
        if not Path(text).exists():
            raise ConfigError(f"camera device {text!r} does not exist")
        return
    path = Path(text).expanduser()
    if not path.exists():
        raise ConfigError(
            f"camera {text!r}: no such video file (use a device number, 'synthetic' or a file)"
        )
    if path.is_dir():
        raise ConfigError(f"camera {text!r} is a folder, not a video file")


def open_camera(spec: str, *, realtime: bool = True) -> Camera:
    """``--camera``: ``synthetic`` (also ``frozen``, ``black``), a device index such as ``0``,
    a device path such as ``/dev/video0``, or a video file that plays in a loop.

    Raises ConfigError with a one-line reason when the spec names nothing usable.
    """
    check_camera_spec(spec)
    text = spec.strip()
    lowered = text.lower()
    if lowered == "synthetic":
        return SyntheticCamera(realtime=realtime)
    if lowered == "frozen":
        return FrozenCamera(realtime=realtime)
    if lowered == "black":
        return BlackCamera(realtime=realtime)
    if text.isdigit():
        return OpenCVCamera(int(text))
    if text.startswith("/dev/"):
        return OpenCVCamera(text)
    return VideoFileCamera(Path(text).expanduser(), realtime=realtime)
