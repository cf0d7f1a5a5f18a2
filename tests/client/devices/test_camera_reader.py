"""One reader per camera: many subscribers, one read per frame, the latest frame for the slow,
and a close after which nothing is read."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from proctor_client.devices import (
    CameraReader,
    DeviceError,
    Frame,
    FrameSubscription,
    open_camera,
)
from proctor_client.runtime.snapshots import CameraPhotos

GATE_WAIT_S = 10.0  # a test that forgot to open the gate fails instead of hanging


class GatedCamera:
    """A camera that delivers a frame only when the test lets one through (``let(n)``), and
    counts its reads. Frame ``i`` is filled with the value ``i``."""

    name = "Gated camera"

    def __init__(self, *, fail_at: int | None = None, error: Exception | None = None) -> None:
        self._tokens = threading.Semaphore(0)
        self._open = threading.Event()
        self._guard = threading.Lock()
        self.started = 0  # reads begun
        self.reads = 0  # frames delivered
        self.concurrent = 0
        self.most_concurrent = 0
        self.reads_after_close = 0
        self.closed = False
        self.fail_at = fail_at
        self.error: Exception = error or DeviceError("the gated camera was unplugged")

    def let(self, frames: int = 1) -> None:
        self._tokens.release(frames)

    def open_gate(self) -> None:
        """Let every read through from now on."""
        self._open.set()
        self._tokens.release(1_000)

    def read(self) -> Frame:
        with self._guard:
            if self.closed:
                self.reads_after_close += 1
            self.started += 1
            self.concurrent += 1
            self.most_concurrent = max(self.most_concurrent, self.concurrent)
        try:
            if not self._open.is_set() and not self._tokens.acquire(timeout=GATE_WAIT_S):
                raise DeviceError("the test never let a frame through")
            with self._guard:
                index = self.reads
                if index == self.fail_at:
                    self.fail_at = None
                    raise self.error
                self.reads += 1
            return np.full((8, 8, 3), index, np.uint8)
        finally:
            with self._guard:
                self.concurrent -= 1

    def close(self) -> None:
        self.closed = True


async def shut(reader: CameraReader, camera: GatedCamera) -> None:
    reader.close()
    camera.open_gate()  # the read under way returns
    await reader.aclose()


def index(frame: Frame) -> int:
    return int(frame[0, 0, 0])


async def test_several_subscribers_share_one_read_per_frame() -> None:
    camera = GatedCamera()
    reader = CameraReader(camera)
    subscriptions = [reader.subscribe() for _ in range(4)]
    for i in range(5):
        camera.let(1)
        frames = await asyncio.gather(*(s.recv() for s in subscriptions))
        assert [index(f) for f in frames] == [i] * 4
        assert all(f is frames[0] for f in frames)  # one frame, handed to everyone
        assert camera.reads == i + 1  # one read per frame, not one per subscriber
    assert reader.frames_read == 5
    assert camera.most_concurrent == 1
    await shut(reader, camera)


async def test_a_slow_subscriber_gets_the_latest_frame_and_holds_nobody_up() -> None:
    camera = GatedCamera()
    reader = CameraReader(camera)
    fast, slow = reader.subscribe(), reader.subscribe()
    for i in range(6):
        camera.let(1)
        assert index(await fast.recv()) == i  # while `slow` takes nothing
    assert index(await slow.recv()) == 5  # the latest, not the first of a queue
    camera.let(1)
    assert [index(await fast.recv()), index(await slow.recv())] == [6, 6]
    assert (fast.received, slow.received) == (7, 2)
    await shut(reader, camera)


async def test_frames_are_shared_read_only() -> None:
    camera = GatedCamera()
    reader = CameraReader(camera)
    with reader.subscribe() as frames:
        camera.let(1)
        frame = await frames.recv()
    with pytest.raises(ValueError):
        frame[0, 0, 0] = 1
    await shut(reader, camera)


async def test_reading_stops_with_the_last_subscription_and_starts_again() -> None:
    camera = GatedCamera()
    reader = CameraReader(camera)
    first, second = reader.subscribe(), reader.subscribe()
    camera.let(1)
    await first.recv()
    first.close()
    assert reader.reading and reader.subscribers == 1
    second.close()
    second.close()  # idempotent
    assert reader.subscribers == 0
    camera.let(3)  # the read under way returns; no other starts
    await reader.wait_idle()
    assert not reader.reading
    assert (camera.started, camera.reads) == (2, 2)
    with reader.subscribe() as again:  # a new subscriber starts reading again
        assert index(await again.recv()) == 2
    await shut(reader, camera)


async def test_a_closed_subscription_refuses_recv_and_wakes_its_waiter() -> None:
    camera = GatedCamera()
    reader = CameraReader(camera)
    subscription = reader.subscribe()
    waiting = asyncio.create_task(subscription.recv())
    await asyncio.sleep(0)  # let the task start waiting
    subscription.close()
    with pytest.raises(DeviceError, match="subscription"):
        await waiting
    with pytest.raises(DeviceError):
        await subscription.recv()
    assert subscription.ended
    await shut(reader, camera)


async def test_close_ends_every_subscription_and_nothing_is_read_after_it() -> None:
    camera = GatedCamera()
    reader = CameraReader(camera)
    subscriptions = [reader.subscribe() for _ in range(3)]
    camera.let(1)
    await asyncio.gather(*(s.recv() for s in subscriptions))
    waiters = [asyncio.create_task(s.recv()) for s in subscriptions]
    await asyncio.sleep(0)  # let the tasks start waiting
    started = camera.started
    reader.close()
    reader.close()  # idempotent
    assert reader.closed and reader.subscribers == 0
    for waiter in waiters:
        with pytest.raises(DeviceError, match="closed"):
            await waiter
    assert all(s.ended for s in subscriptions)
    with pytest.raises(DeviceError, match="closed"):
        reader.subscribe()
    camera.open_gate()  # a read under way when the reader closed may return; none begins
    await reader.aclose()
    await reader.aclose()  # idempotent
    assert camera.closed and not reader.reading
    assert camera.started <= started + 1
    assert camera.reads_after_close == 0


async def test_a_failing_camera_ends_the_subscriptions_and_the_next_one_retries() -> None:
    camera = GatedCamera(fail_at=1)
    reader = CameraReader(camera)
    a, b = reader.subscribe(), reader.subscribe()
    camera.let(2)
    assert index(await a.recv()) == 0
    for subscription in (a, b):
        with pytest.raises(DeviceError, match="unplugged"):
            await subscription.recv()
        assert subscription.ended
    await reader.wait_idle()
    assert reader.subscribers == 0 and not reader.closed
    with reader.subscribe() as again:
        camera.let(1)
        assert index(await again.recv()) == 1
    await shut(reader, camera)


async def test_a_driver_error_reaches_subscribers_as_a_device_error() -> None:
    camera = GatedCamera(fail_at=0, error=cv2.error("driver hiccup"))
    reader = CameraReader(camera)
    with reader.subscribe() as frames:
        camera.let(1)
        with pytest.raises(DeviceError, match="driver hiccup"):
            await frames.recv()
    await shut(reader, camera)


async def test_a_snapshot_during_the_preview_shares_its_frame() -> None:
    camera = GatedCamera()
    reader = CameraReader(camera)
    with reader.subscribe() as preview:
        photo = asyncio.create_task(CameraPhotos(reader).capture())
        await asyncio.sleep(0)  # the snapshot subscribes
        assert reader.subscribers == 2
        camera.let(1)
        frame = await preview.recv()
        jpeg = await photo
    assert jpeg.startswith(b"\xff\xd8") and index(frame) == 0
    assert camera.reads == 1 and reader.subscribers == 0
    await shut(reader, camera)


def _video(path: Path) -> str:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10, (64, 48))
    for i in range(3):
        writer.write(np.full((48, 64, 3), 40 + 60 * i, np.uint8))
    writer.release()
    return str(path)


@pytest.mark.parametrize("spec", ["synthetic", "frozen", "black", "video"])
async def test_the_shipped_fakes_work_through_the_reader(spec: str, tmp_path: Path) -> None:
    source = _video(tmp_path / "clip.avi") if spec == "video" else spec
    camera = open_camera(source, realtime=False)
    reader = CameraReader(camera)
    assert reader.name == camera.name
    subscriptions = [reader.subscribe() for _ in range(3)]

    async def three(subscription: FrameSubscription) -> list[Frame]:
        return [await subscription.recv() for _ in range(3)]

    results = await asyncio.gather(*(three(s) for s in subscriptions))
    for frames in results:
        assert all(f.ndim == 3 and f.shape[2] == 3 and f.dtype == np.uint8 for f in frames)
    for s in subscriptions:
        s.close()
    await reader.aclose()
    assert reader.frames_read >= 3
    with pytest.raises(DeviceError):
        reader.subscribe()


def test_an_unused_reader_closes_without_a_loop() -> None:
    camera = GatedCamera()
    reader = CameraReader(camera)
    reader.close()
    assert reader.closed and not reader.reading
