"""The two tracks the app publishes, as aiortc `MediaStreamTrack`s.

`CameraTrack` is one more subscriber of the camera's one reader (beside the preview and the
snapshots): each `recv()` waits for the next frame slot at the publishing rate, takes the
latest frame of its subscription, scales it to the publishing size and converts it to I420
with OpenCV (`video_frame`), and stamps it on a 90 kHz clock.
`MicrophoneTrack` reads the microphone (a real one or a fake: silence, tone, WAV file; the
app's `SharedMicrophone` through a subscription of its own) one 20 ms buffer at a time in a
worker thread (read several at a time, the buffers left in bursts, and the server's voice
activity then heard speech seconds late), and the same thread encodes each buffer as a
voice-grade Opus packet (voice.py: mono, 24 kb/s) that aiortc sends as it is. Stopping a track
closes its camera subscription, so the camera is read only while someone needs it."""

from __future__ import annotations

import asyncio
import fractions
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import av
import cv2
import numpy as np
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError
from av import VideoFrame

from proctor_client.devices.base import DeviceError, Microphone
from proctor_client.devices.camera_reader import CameraReader, FrameSubscription
from proctor_client.devices.microphones import MicrophoneSubscription, SharedMicrophone
from proctor_client.media.voice import PACKET_S, VOICE_BITRATE, VoiceEncoder

VIDEO_CLOCK = 90_000
VIDEO_TIME_BASE = fractions.Fraction(1, VIDEO_CLOCK)
AUDIO_PTIME_S = PACKET_S


@dataclass(frozen=True, slots=True)
class VideoSettings:
    width: int = 320
    height: int = 240
    fps: float = 15.0

    def __post_init__(self) -> None:
        if self.width < 16 or self.height < 16 or not 1 <= self.fps <= 60:
            raise ValueError(f"unusable video settings {self}")


class CameraTrack(MediaStreamTrack):
    kind = "video"

    def __init__(self, reader: CameraReader, settings: VideoSettings = VideoSettings()) -> None:
        super().__init__()
        self._reader = reader
        self._settings = settings
        self._subscription: FrameSubscription | None = None
        self._start: float | None = None
        self._next: float = 0.0
        self.sent = 0

    async def recv(self) -> VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        now = time.monotonic()
        if self._start is None:
            self._start = self._next = now
        elif self._next > now:
            await asyncio.sleep(self._next - now)  # pace at the publishing rate
        period = 1.0 / self._settings.fps
        self._next = max(self._next + period, time.monotonic() - period)
        try:
            if self._subscription is None or self._subscription.ended:
                self._subscription = self._reader.subscribe()
            image = await self._subscription.recv()
        except DeviceError:
            self.stop()
            raise MediaStreamError from None
        frame = video_frame(image, self._settings.width, self._settings.height)
        frame.pts = round((time.monotonic() - self._start) * VIDEO_CLOCK)
        frame.time_base = VIDEO_TIME_BASE
        self.sent += 1
        return frame

    def stop(self) -> None:
        super().stop()
        if self._subscription is not None:
            self._subscription.close()
            self._subscription = None


def video_frame(image: np.ndarray, width: int, height: int) -> VideoFrame:
    """A BGR camera image as the encoder's I420 frame of `width` x `height`: an area resize
    and OpenCV's BT.601 conversion (the values PyAV's scaler gives, at about a fifth of its
    CPU: 0.3 against 1.5 ms a 640x480 image). Odd sizes, which I420 cannot hold, go through
    PyAV's scaler."""
    if width % 2 or height % 2:
        frame = VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24")
        return frame.reformat(width=width, height=height, format="yuv420p")
    if (image.shape[1], image.shape[0]) != (width, height):
        image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    i420 = np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420), dtype=np.uint8)
    return VideoFrame.from_ndarray(i420, format="yuv420p")


class MicrophoneTrack(MediaStreamTrack):
    """The microphone as voice-grade Opus packets (`voice.VoiceEncoder`: mono, 24 kb/s, 20 ms),
    which aiortc sends as they are. Each `recv` reads 20 ms and encodes it in one trip to a
    worker thread; the packets are stamped one after the other on Opus's 48 kHz clock."""

    kind = "audio"

    def __init__(
        self, microphone: Microphone | SharedMicrophone, *, bitrate: int = VOICE_BITRATE
    ) -> None:
        super().__init__()
        # A shared microphone (the app's) is subscribed to for this track's life only.
        self._subscription: MicrophoneSubscription | None = None
        if isinstance(microphone, SharedMicrophone):
            microphone = self._subscription = microphone.subscribe()
        self._microphone: Microphone = microphone
        self._chunk = max(1, round(microphone.sample_rate * AUDIO_PTIME_S))
        self.encoder = VoiceEncoder(microphone.sample_rate, bitrate)
        self._ready: deque[av.Packet[Any]] = deque()  # made, not yet handed to aiortc

    async def recv(self) -> av.Packet[Any]:
        if self.readyState != "live":
            raise MediaStreamError
        if not self._ready:
            try:
                self._ready.extend(await asyncio.to_thread(self._read_packets))
            except DeviceError:
                self.stop()
                raise MediaStreamError from None
        return self._ready.popleft()

    def _read_packets(self) -> list[av.Packet[Any]]:
        """In the worker thread: read 20 ms buffers until they make a packet (one buffer, but
        for a resampled rate whose 20 ms is not a whole number of samples)."""
        while True:
            packets = self.encoder.encode(self._microphone.read(self._chunk))
            if packets:
                return packets

    def stop(self) -> None:
        super().stop()
        if self._subscription is not None:
            self._subscription.close()  # wakes a read waiting in its worker thread
