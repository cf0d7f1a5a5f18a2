"""Where the runtime gets its photos: a small interface, and the camera behind it."""

from __future__ import annotations

import asyncio
from typing import Protocol

from proctor_client.devices.camera_reader import CameraReader
from proctor_client.devices.jpeg import encode_jpeg


class PhotoSource(Protocol):
    async def capture(self) -> bytes:
        """One JPEG photo; raise a ProctorError (a DeviceError) when none can be taken."""
        ...


class CameraPhotos:
    """Photos from a camera: the next frame of a subscription to the camera's reader (the
    preview's camera, shared), scaled and encoded as JPEG in a worker thread. The reader
    belongs to whoever built it; the subscription lasts one photo."""

    def __init__(self, reader: CameraReader) -> None:
        self.reader = reader

    async def capture(self) -> bytes:
        with self.reader.subscribe() as frames:
            frame = await frames.recv()
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
