"""The preview and the snapshots read one camera from two threads: reads are serialised."""

from __future__ import annotations

import asyncio
import threading

import numpy as np

from proctor_client.devices.base import read_frame


class CountingCamera:
    """Records how many reads overlap; a read holds until the other reader is waiting."""

    name = "counting"

    def __init__(self) -> None:
        self.active = 0
        self.most = 0
        self.guard = threading.Lock()
        self.entered = threading.Event()

    def read(self) -> np.ndarray:
        with self.guard:
            self.active += 1
            self.most = max(self.most, self.active)
        self.entered.set()
        # give a second reader every chance to enter while this read is in progress
        for _ in range(200_000):
            pass
        with self.guard:
            self.active -= 1
        return np.zeros((4, 4, 3), np.uint8)

    def close(self) -> None:
        pass


async def test_concurrent_reads_of_one_camera_do_not_overlap() -> None:
    camera = CountingCamera()
    frames = await asyncio.gather(*(read_frame(camera) for _ in range(8)))
    assert len(frames) == 8
    assert camera.most == 1
