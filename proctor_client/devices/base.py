"""The small interfaces the client's hardware sits behind: a camera, a microphone and the
screens. Real implementations and fakes both satisfy them; nothing here touches a device.

Frames are numpy BGR ``uint8`` arrays of shape (height, width, 3). Audio is ``int16`` mono PCM
in a 1-D numpy array at the microphone's ``sample_rate``. ``read`` blocks (a real device waits
for its next frame or buffer), so the event loop never calls it: a camera is read by its one
``CameraReader`` (``camera_reader.py``), in a worker thread; a microphone through the async
helpers below, which run it in a worker thread.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from shared.errors import ProctorError

Frame = np.ndarray  # (height, width, 3) uint8, BGR
Samples = np.ndarray  # (n,) int16, mono


class DeviceError(ProctorError):
    """A device that was open stopped delivering (unplugged, taken by another program)."""


@runtime_checkable
class Camera(Protocol):
    @property
    def name(self) -> str:
        """What the operating system calls the device (checked for virtual-camera names)."""
        ...

    def read(self) -> Frame:
        """Block until the next frame; raise DeviceError when none comes."""
        ...

    def close(self) -> None:
        """Release the device; safe to call more than once."""
        ...


@runtime_checkable
class Microphone(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def sample_rate(self) -> int: ...

    def read(self, count: int) -> Samples:
        """Block until ``count`` samples were captured; return them (int16, mono)."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class ScreenGeometry:
    x: int
    y: int
    width: int
    height: int
    name: str = ""


@runtime_checkable
class Screens(Protocol):
    def geometries(self) -> list[ScreenGeometry]:
        """Every screen attached now (the primary first)."""
        ...


async def read_samples(microphone: Microphone, seconds: float) -> Samples:
    """Read ``seconds`` of audio in a worker thread."""
    count = max(1, round(seconds * microphone.sample_rate))
    return await asyncio.to_thread(microphone.read, count)


async def close_device(device: Camera | Microphone) -> None:
    """Close a device in a worker thread (a real driver may take a moment)."""
    await asyncio.to_thread(device.close)
