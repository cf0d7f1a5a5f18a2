"""The live analysis's sampling, alone: from encoded frames it asks for a keyframe when a
sample falls due and decodes the next one alone into a picture of the colour the camera
showed; from decoded frames (the fallback) it takes the frame due. At most one sample per
interval and one being encoded per attempt."""

from __future__ import annotations

import fractions
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import av
import cv2
import numpy as np
from av import VideoFrame

from proctor_server.media.gateway import StreamKey
from proctor_server.media.live_video import LiveVideo
from proctor_server.media.receiver_tap import Vp8Frame, vp8_keyframe_size
from tests.media.fakes import PALETTE_BGR
from tests.media.peers import poll
from tests.support.clock import FakeClock

START = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
KEY = StreamKey("exam", "attempt")


def _picture(colour: int) -> VideoFrame:
    image = np.full((240, 320, 3), PALETTE_BGR[colour], np.uint8)
    return VideoFrame.from_ndarray(image, format="bgr24").reformat(format="yuv420p")


def _vp8(colours: list[int]) -> list[Vp8Frame]:
    """libvpx frames of the colours given (the first a keyframe, the rest delta frames)."""
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt = 320, 240, "yuv420p"
    encoder.time_base = fractions.Fraction(1, 15)
    encoder.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    frames = []
    for n, colour in enumerate(colours):
        frame = _picture(colour)
        frame.pts = n
        for packet in encoder.encode(frame):
            data = bytes(packet)
            frames.append(Vp8Frame(n * 6000, data, vp8_keyframe_size(data) is not None))
    return frames


class _Exams:
    """An exam directory with one session whose live frames are kept."""

    def __init__(self) -> None:
        self.jpegs: list[tuple[str, bytes, datetime]] = []
        analysis = SimpleNamespace(submit_live=self._submit)
        self.runtime = SimpleNamespace(sessions={KEY.attempt: SimpleNamespace(code="C1")})
        self.runtime.analysis = analysis

    def _submit(self, attempt: str, code: str, frame_id: str, jpeg: bytes, at: datetime) -> None:
        self.jpegs.append((frame_id, jpeg, at))

    def loaded(self, exam: str) -> Any:
        return self.runtime


def _colour(jpeg: bytes) -> int | None:
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None and image.shape == (240, 320, 3)
    mean = image.reshape(-1, 3).mean(axis=0)
    distances = [float(np.abs(mean - np.array(c)).max()) for c in PALETTE_BGR]
    best = int(np.argmin(distances))
    return best if distances[best] < 40 else None


async def test_a_sample_due_asks_for_a_keyframe_and_decodes_it_alone() -> None:
    clock, exams = FakeClock(START), _Exams()
    live = LiveVideo(clock, lambda: exams, interval_s=10.0)  # type: ignore[arg-type,return-value]
    asked: list[str] = []

    def ask(attempt: str) -> bool:
        asked.append(attempt)
        return True

    live.use_keyframes(ask)
    first = _vp8([2, 2, 2])  # blue: a keyframe, two delta frames
    assert [f.keyframe for f in first] == [True, False, False]
    later = _vp8([1, 1])  # green, after the next keyframe
    try:
        live.on_encoded(KEY, first[1])  # due, but a delta frame: ask, take nothing
        assert asked == ["attempt"] and live.sampled == 0
        live.on_encoded(KEY, first[0])  # the keyframe: taken
        live.on_encoded(KEY, first[2])  # no longer due: not even asked
        assert asked == ["attempt"]
        await poll(lambda: live.sampled == 1)
        clock.set(START + timedelta(seconds=5))
        live.on_encoded(KEY, later[0])  # a keyframe before the next sample is due: ignored
        clock.set(START + timedelta(seconds=10))
        live.on_encoded(KEY, later[1])  # due: ask again
        assert asked == ["attempt", "attempt"]
        live.on_encoded(KEY, later[0])
        await poll(lambda: live.sampled == 2)
        live.on_frame(KEY, _picture(3))  # decoded frames are not sampled from: frames come coded
    finally:
        await live.close()
    assert [_colour(jpeg) for _, jpeg, _ in exams.jpegs] == [2, 1]  # decoded from keyframes alone
    assert [at for _, _, at in exams.jpegs] == [START, START + timedelta(seconds=10)]
    assert live.from_keyframes == 2 and live.dropped == 0


async def test_without_encoded_frames_the_decoded_frame_due_is_sampled() -> None:
    clock, exams = FakeClock(START), _Exams()
    live = LiveVideo(clock, lambda: exams, interval_s=10.0)  # type: ignore[arg-type,return-value]
    try:
        live.on_frame(KEY, _picture(0))
        live.on_frame(KEY, _picture(1))  # not due
        await poll(lambda: live.sampled == 1)
        clock.set(START + timedelta(seconds=10))
        live.on_frame(KEY, _picture(3))
        await poll(lambda: live.sampled == 2)
    finally:
        await live.close()
    assert [_colour(jpeg) for _, jpeg, _ in exams.jpegs] == [0, 3]
    assert live.from_keyframes == 0
