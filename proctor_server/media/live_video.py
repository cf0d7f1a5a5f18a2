"""Analysis on the live video: a frame of each exam stream every `interval_s` seconds goes to
its exam's analysis queue (`AnalysisQueue.submit_live`), the same line, analyzer and process
pool as the stored snapshots, so what it finds becomes the same flags and violations (raised
by the server; their evidence names the `live-...` frames instead of stored snapshots).

The aiortc gateway decodes no video (aiortc_gateway.py): it hands this hook each received VP8
frame (`on_encoded`) and a way to ask a stream's sender for a keyframe (`use_keyframes`). When
a sample falls due the hook asks for a keyframe (it comes within about a round trip, instead
of up to the tap's 4 s interval) and takes the next one that comes: a keyframe decodes alone,
so a fresh PyAV VP8 decoder makes its picture in a worker thread, which is encoded as a JPEG
there too. One picture decoded every `interval_s` per stream instead of every frame.
Where the gateway cannot hand encoded frames (another aiortc), it calls `on_frame` on the
event loop for every decoded frame; this hook then copies the chosen frame's planes there and
encodes them as a JPEG in a worker thread.
Back-pressure, per attempt: a sample that falls due while the previous one is still being
encoded is dropped (`dropped`), and the queue keeps at most one frame waiting per attempt
(`AnalysisQueue.live_dropped`). Nothing grows with a slow analysis."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import av
import numpy as np
from av import AudioFrame, VideoFrame

from proctor_server.clock import Clock
from proctor_server.media.gateway import KeyframeAsk, StreamKey
from proctor_server.media.receiver_tap import EncodedFrame, Vp8Frame
from proctor_server.session.deps import ExamDirectory

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_S = 10.0
JPEG_QUALITY = 90


def copy_picture(frame: VideoFrame) -> np.ndarray:
    """The frame's pixels, copied on the event loop (a fraction of a millisecond): I420
    planes stacked (height * 3/2, width) when the frame is yuv420p of even size, as decoded
    video is, else BGR. Never convert a received frame in a worker thread: the relay shares
    it with the watchers' encoders, and PyAV's converter of one frame is not thread safe."""
    width, height = frame.width, frame.height
    if frame.format.name != "yuv420p" or width % 2 or height % 2:
        return np.ascontiguousarray(frame.to_ndarray(format="bgr24"), dtype=np.uint8)
    parts = []
    for plane, (w, h) in zip(
        frame.planes,
        ((width, height), (width // 2, height // 2), (width // 2, height // 2)),
        strict=True,
    ):
        rows = np.frombuffer(memoryview(plane), dtype=np.uint8).reshape(-1, plane.line_size)
        parts.append(rows[:h, :w].reshape(-1))
    return np.concatenate(parts).reshape(height * 3 // 2, width)


def encode_jpeg(picture: np.ndarray, quality: int = JPEG_QUALITY) -> bytes:
    """A picture from `copy_picture` as JPEG bytes (runs in a worker thread)."""
    import cv2

    if picture.ndim == 2:  # I420
        picture = cv2.cvtColor(picture, cv2.COLOR_YUV2BGR_I420)
    ok, data = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("the picture could not be encoded")
    return bytes(data)


def decode_keyframe(data: bytes) -> np.ndarray:
    """A VP8 keyframe's picture, decoded alone by a fresh decoder (runs in a worker thread), as
    `copy_picture` gives it."""
    decoder = av.CodecContext.create("vp8", "r")
    frames = decoder.decode(av.Packet(data)) + decoder.decode(None)
    video = [f for f in frames if isinstance(f, VideoFrame)]
    if not video:
        raise ValueError("the keyframe decoded to no picture")
    return copy_picture(video[-1])


def keyframe_jpeg(data: bytes) -> bytes:
    """A VP8 keyframe as JPEG bytes (runs in a worker thread)."""
    return encode_jpeg(decode_keyframe(data))


class LiveVideo:
    """A media hook (`on_encoded`, `use_keyframes`, `on_frame`, `on_end`) sampling live video
    for analysis."""

    def __init__(
        self,
        clock: Clock,
        exams: Callable[[], ExamDirectory],
        *,
        interval_s: float = DEFAULT_INTERVAL_S,
        skip_exams: frozenset[str] = frozenset(),
    ) -> None:
        if interval_s <= 0:
            raise ValueError("the live analysis interval must be positive")
        self.clock = clock
        self.exams = exams
        self.interval = timedelta(seconds=interval_s)
        self.skip_exams = skip_exams
        self._due: dict[str, datetime] = {}  # attempt -> when its next sample is due
        self._encoding: set[str] = set()  # attempts with a frame being encoded
        self._coded: set[str] = set()  # attempts whose frames come encoded (`on_encoded`)
        self._ask: KeyframeAsk | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.sampled = 0  # frames handed to the analysis queue
        self.dropped = 0  # samples skipped: the attempt's previous one was still encoding
        self.from_keyframes = 0  # samples taken from a keyframe decoded alone (figures, tests)

    def use_keyframes(self, ask: KeyframeAsk) -> None:
        """The gateway's way to ask an attempt's sender for a keyframe."""
        self._ask = ask

    def on_encoded(self, key: StreamKey, frame: EncodedFrame) -> None:
        if not isinstance(frame, Vp8Frame) or key.exam in self.skip_exams:
            return
        self._coded.add(key.attempt)
        if not self._sample_due(key):
            return
        if not frame.keyframe:
            if self._ask is not None:
                self._ask(key.attempt)  # rate-limited by the gateway's tap
            return
        self.from_keyframes += self._sample(key, functools.partial(keyframe_jpeg, frame.data))

    def on_frame(self, key: StreamKey, frame: AudioFrame | VideoFrame) -> None:
        if not isinstance(frame, VideoFrame) or key.exam in self.skip_exams:
            return
        if key.attempt in self._coded or not self._sample_due(key):
            return  # sampled from its keyframes (`on_encoded`)
        self._sample(key, functools.partial(encode_jpeg, copy_picture(frame)))

    def _sample_due(self, key: StreamKey) -> bool:
        due = self._due.get(key.attempt)
        return due is None or self.clock.now() >= due

    def _sample(self, key: StreamKey, to_jpeg: Callable[[], bytes]) -> bool:
        """Take this sample: encode it in a worker thread and submit it, unless the previous
        one of the attempt is still being encoded."""
        now = self.clock.now()
        self._due[key.attempt] = now + self.interval
        if key.attempt in self._encoding:
            self.dropped += 1
            return False
        runtime = self.exams().loaded(key.exam)
        session = runtime.sessions.get(key.attempt) if runtime is not None else None
        if runtime is None or session is None:
            return False
        self._encoding.add(key.attempt)
        task = asyncio.create_task(
            self._submit(key, session.code, to_jpeg, now),
            name=f"live-video-{key.attempt}",
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _submit(
        self, key: StreamKey, candidate: str, to_jpeg: Callable[[], bytes], at: datetime
    ) -> None:
        try:
            jpeg = await asyncio.to_thread(to_jpeg)
        except Exception:
            log.exception("a live frame of %s could not be encoded", key.attempt)
            return
        finally:
            self._encoding.discard(key.attempt)
        runtime = self.exams().loaded(key.exam)
        if runtime is None:
            return
        frame_id = f"live-{round(at.timestamp() * 1000)}"
        runtime.analysis.submit_live(key.attempt, candidate, frame_id, jpeg, at)
        self.sampled += 1

    async def on_end(self, key: StreamKey) -> None:
        self._due.pop(key.attempt, None)
        self._coded.discard(key.attempt)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
