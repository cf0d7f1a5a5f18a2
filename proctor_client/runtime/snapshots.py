"""Where the runtime gets its photos: a small interface, and the camera behind it."""

from __future__ import annotations

import asyncio
from typing import Protocol

from proctor_client.devices.base import Camera, read_frame
from proctor_client.devices.jpeg import encode_jpeg


class PhotoSource(Protocol):
    async def capture(self) -> bytes:
        """One JPEG photo; raise a ProctorError (a DeviceError) when none can be taken."""
        ...


class CameraPhotos:
    """Photos from a camera: a frame read in a worker thread, scaled and encoded as JPEG."""

    def __init__(self, camera: Camera) -> None:
        self.camera = camera

    async def capture(self) -> bytes:
        frame = await read_frame(self.camera)
        return await asyncio.to_thread(encode_jpeg, frame)


class StaticPhotos:
    """The same JPEG every time: for load generators and tests that need no camera."""

    def __init__(self, jpeg: bytes) -> None:
        if not jpeg.startswith(b"\xff\xd8"):
            raise ValueError("StaticPhotos needs JPEG bytes")
        self.jpeg = bytes(jpeg)
        self.taken = 0

    async def capture(self) -> bytes:
        self.taken += 1
        return self.jpeg
