"""One reader per camera, many subscribers: the preview, the exam snapshots, the environment
check (and live video later) all watch the same device without reading it twice.

    reader = CameraReader(open_camera("0"))   # the app's composition root owns it
    with reader.subscribe() as frames:        # any number of these at once
        frame = await frames.recv()           # the next frame the device delivers
    await reader.aclose()                     # stops reading, closes the camera

The shape is aiortc's ``MediaRelay`` and its relayed ``MediaStreamTrack`` (``subscribe``,
an async ``recv``, ``stop``), with three differences the candidate's app needs:

- every subscriber holds one slot, the latest frame, never a queue: a slow subscriber (the
  snapshot encoder, a preview that paints at ten frames a second) gets the newest frame when
  it asks, and costs the others nothing;
- the device is read only while someone is subscribed: the reading stops after the last
  subscription closes and starts again with the next one (so the exam screen, which takes a
  snapshot every half minute, does not keep the camera busy in between);
- a device failure ends the current subscriptions with a ``DeviceError``; the next
  subscription tries the device again (an unplugged camera put back).

The blocking ``camera.read()`` runs in a worker thread, one read at a time (drivers are not
safe to read from two threads at once); the frame is handed out on the event loop. Frames
are shared between subscribers, so they are marked read-only: copy one before drawing on it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from types import TracebackType

from proctor_client.devices.base import Camera, DeviceError, Frame

log = logging.getLogger(__name__)


class _Closed(Exception):
    """Raised in the worker thread when a read was due after the reader closed."""


class FrameSubscription:
    """One consumer's view of a camera: ``await recv()`` returns the next frame not yet
    returned to this subscriber (the latest one, when it fell behind). A context manager
    (plain or async) closes it."""

    def __init__(self, reader: CameraReader) -> None:
        self._reader: CameraReader | None = reader
        self._name = reader.name
        self._frame: Frame | None = None
        self._error: DeviceError | None = None
        self._ready = asyncio.Event()
        self.received = 0  # frames returned by recv (for figures and tests)

    @property
    def name(self) -> str:
        """The camera's name, as the operating system gives it."""
        return self._name

    @property
    def ended(self) -> bool:
        """True once closed, or ended by the reader (closed, or the camera failed)."""
        return self._reader is None

    async def recv(self) -> Frame:
        """The next frame; raises DeviceError when the camera failed, the reader closed, or
        this subscription was closed (also while waiting)."""
        while self._frame is None:
            if self._error is not None:
                raise DeviceError(self._error.message) from self._error
            self._ready.clear()
            await self._ready.wait()
        frame, self._frame = self._frame, None
        self.received += 1
        return frame

    def close(self) -> None:
        """Stop receiving; the reader stops reading when no subscription is left. Idempotent."""
        reader, self._reader = self._reader, None
        if reader is None:
            return
        reader._unsubscribe(self)
        self._end(DeviceError(f"the subscription to camera {self._name!r} is closed"))

    stop = close  # aiortc's MediaStreamTrack says stop

    # ------------------------------------------------------------ called by the reader

    def _deliver(self, frame: Frame) -> None:
        self._frame = frame  # replaces a frame this subscriber did not take: no queue
        self._ready.set()

    def _end(self, error: DeviceError) -> None:
        if self._error is None:
            self._error = error
        self._frame = None
        self._ready.set()

    # ------------------------------------------------------------ protocols

    def __enter__(self) -> FrameSubscription:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> FrameSubscription:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class CameraReader:
    """The one reader of one camera; owns the camera and closes it (see the module doc)."""

    def __init__(self, camera: Camera) -> None:
        self.camera = camera
        self._subscribers: list[FrameSubscription] = []
        self._pump: asyncio.Task[None] | None = None
        self._device = threading.Lock()  # one read at a time; close after the last read
        self._closed = False
        self._device_closed = False
        self.frames_read = 0  # frames the device delivered through this reader

    @property
    def name(self) -> str:
        return self.camera.name

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def reading(self) -> bool:
        """True while the reader reads the device (someone is subscribed, or the read under
        way when the last subscription closed has not returned yet)."""
        return self._pump is not None

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def subscribe(self) -> FrameSubscription:
        """A new subscription, served from the next frame on; starts reading if needed.
        Needs a running event loop; raises DeviceError once the reader is closed."""
        if self._closed:
            raise DeviceError(f"camera {self.name!r} is closed")
        subscription = FrameSubscription(self)
        self._subscribers.append(subscription)
        if self._pump is None:
            self._pump = asyncio.get_running_loop().create_task(
                self._read_loop(), name=f"camera-reader {self.name}"
            )
        return subscription

    async def wait_idle(self) -> None:
        """Return once the reader is not reading (no subscriber, the last read returned)."""
        pump = self._pump
        if pump is not None:
            await asyncio.wait([pump])

    def close(self) -> None:
        """Stop reading and end every subscription (their ``recv`` raises DeviceError). No
        read starts after this; the camera itself is closed by ``aclose``. Idempotent."""
        if self._closed:
            return
        self._closed = True
        error = DeviceError(f"camera {self.name!r} is closed")
        self._drop_all(error)
        if self._pump is not None:
            self._pump.cancel()

    async def aclose(self) -> None:
        """``close()``, then close the camera in a worker thread once a read under way has
        returned (a driver stuck in a read holds this up: bound it with a timeout). Idempotent."""
        self.close()
        await self.wait_idle()
        await asyncio.to_thread(self._close_device)

    # ------------------------------------------------------------ inside

    def _unsubscribe(self, subscription: FrameSubscription) -> None:
        if subscription in self._subscribers:
            self._subscribers.remove(subscription)

    def _read_one(self) -> Frame:
        """In a worker thread: one frame from the device, unless the reader closed."""
        with self._device:
            if self._closed:
                raise _Closed
            frame = self.camera.read()
            self.frames_read += 1
        frame.flags.writeable = False  # shared by every subscriber
        return frame

    def _close_device(self) -> None:
        with self._device:
            if self._device_closed:
                return
            self._device_closed = True
            self.camera.close()

    async def _read_loop(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._subscribers and not self._closed:
                try:
                    frame = await loop.run_in_executor(None, self._read_one)
                except _Closed:
                    return
                except DeviceError as exc:
                    self._drop_all(exc)
                    return
                except Exception as exc:  # a driver's own error: the same as no picture
                    log.warning("camera %r failed: %r", self.name, exc)
                    self._drop_all(DeviceError(f"camera {self.name!r} failed: {exc}"))
                    return
                for subscription in self._subscribers:
                    subscription._deliver(frame)
        finally:
            self._pump = None  # in the same step as the last check: a new subscriber restarts

    def _drop_all(self, error: DeviceError) -> None:
        """End the current subscriptions (after a failure, the next subscriber tries the
        device again)."""
        subscribers, self._subscribers = self._subscribers, []
        for subscription in subscribers:
            subscription._reader = None
            subscription._end(error)
