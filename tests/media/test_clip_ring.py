"""The clips' ring on VP8 frames, on a clock the test moves: it always starts on a keyframe no
later than the window's start and holds no more than the window plus one keyframe interval;
a clip takes the frames from the keyframe at or before its span; sound is reduced to 16 kHz
mono the same way on the integer fast path as on the general one."""

from __future__ import annotations

import asyncio
from collections import deque
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from av import AudioFrame

from proctor_server.media.clip_file import OpusPacket, Picture, Sound
from proctor_server.media.clip_remux import Gop, SessionFile, VideoPacket, span_packets
from proctor_server.media.clips import ClipRecorder, ClipSettings
from proctor_server.media.gateway import StreamKey
from proctor_server.media.receiver_tap import OpusFrame, Vp8Frame
from proctor_server.media.sound import mono_int16
from proctor_server.store import SqliteStore
from tests.support.clock import FakeClock

FPS = 15
KEY_EVERY = 4 * FPS  # frames
START = datetime(2026, 5, 1, 9, tzinfo=UTC)
KEY = StreamKey("exam", "attempt")


def _frame(n: int) -> Vp8Frame:
    keyframe = n % KEY_EVERY == 0
    # only the first byte's bit 0 matters to the ring; the tap decided `keyframe`
    return Vp8Frame(n * 90_000 // FPS, bytes([0 if keyframe else 1]) + bytes(999), keyframe)


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    return SqliteStore(tmp_path / "exam.db")


def test_the_ring_starts_on_the_latest_keyframe_before_its_window(store: SqliteStore) -> None:
    clock = FakeClock(START)
    recorder = ClipRecorder(store, clock, ClipSettings(before_s=10, after_s=10))
    for n in range(2, 40 * FPS):  # the stream's first frames were lost: no keyframe yet
        clock._now = START + timedelta(seconds=n / FPS)
        recorder.on_encoded(KEY, _frame(n))
        gops = recorder._rings[KEY.attempt].gops
        if n < KEY_EVERY:
            assert not gops  # nothing decodable before the first keyframe
            continue
        first = gops[0].packets[0]
        window_start = clock.now().timestamp() - 10
        assert first.keyframe
        first_key = START.timestamp() + KEY_EVERY / FPS
        assert first.at <= window_start or first.at == first_key  # never inside the window
        assert len(gops) == 1 or gops[1].packets[0].at > window_start  # nor earlier than needed
        held = sum(len(g.packets) for g in gops)
        assert held <= (10 + 4) * FPS + 1
    assert recorder.peak_bytes <= ((10 + 4) * FPS + 1) * 1000


def test_decoded_video_is_not_kept_once_the_stream_comes_encoded(store: SqliteStore) -> None:
    from av import VideoFrame

    clock = FakeClock(START)
    recorder = ClipRecorder(store, clock)
    recorder.on_encoded(KEY, _frame(0))
    recorder.on_frame(KEY, VideoFrame(320, 240, "yuv420p"))
    ring = recorder._rings[KEY.attempt]
    assert not ring.pictures and not recorder._tasks and ring.size == 1000


def test_decoded_sound_is_not_kept_once_the_stream_comes_as_opus(store: SqliteStore) -> None:
    """Before its first Opus packet a stream's sound is kept as 16 kHz samples; from it on,
    only the packets as received (the tap hands each over before it is decoded)."""
    clock = FakeClock(START)
    recorder = ClipRecorder(store, clock, ClipSettings(before_s=1, after_s=1))
    tone = np.zeros((1, 1920), np.int16)
    recorder.on_frame(KEY, _audio(tone, "stereo", 48_000))
    ring = recorder._rings[KEY.attempt]
    assert [type(x) for x in ring.sounds] == [Sound] and ring.size == 640
    for n in range(200):  # 4 s of 20 ms packets, each followed by its decoded frame
        clock._now = START + timedelta(seconds=0.02 * (n + 1))
        recorder.on_encoded(KEY, OpusFrame(960 * n, bytes(80)))
        recorder.on_frame(KEY, _audio(tone, "stereo", 48_000))
    kept = [x for x in ring.sounds if isinstance(x, OpusPacket)]
    assert len(kept) == len(ring.sounds)
    # one second (the ring's window, no video to hold it longer), 80 bytes a packet
    assert 50 <= len(kept) <= 51 and ring.size == 80 * len(kept)
    assert [x.rtp for x in kept] == list(range(kept[0].rtp, 960 * 200, 960))


async def _stop(recorder: ClipRecorder) -> None:
    tasks = list(recorder._tasks)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_recording_waits_for_the_sound_to_know_its_kind_and_loses_no_video(
    store: SqliteStore,
) -> None:
    clock = FakeClock(START)
    recorder = ClipRecorder(store, clock, ClipSettings(before_s=0, after_s=0, record_sessions=True))
    recorder.on_encoded(KEY, _frame(0))  # the keyframe comes before any sound
    recording = recorder._rings[KEY.attempt].recording
    assert recording is not None and recording.writer is None and len(recording.items) == 1
    recorder.on_encoded(KEY, OpusFrame(0, bytes(80)))
    assert recording.sound == "opus" and recording.writer is not None
    assert [type(x) for x in recording.items] == [VideoPacket, OpusPacket]
    await _stop(recorder)


async def test_a_recording_without_sound_starts_after_the_wait(store: SqliteStore) -> None:
    clock = FakeClock(START)
    recorder = ClipRecorder(store, clock, ClipSettings(before_s=0, after_s=0, record_sessions=True))
    for n in range(40):  # video only: no sound for 40 / 15 s
        clock._now = START + timedelta(seconds=n / FPS)
        recorder.on_encoded(KEY, _frame(n))
    recording = recorder._rings[KEY.attempt].recording
    assert recording is not None and recording.writer is not None and recording.sound == "pcm"
    assert recording.dropped == 0 and len(recording.items) == 40
    await _stop(recorder)


def _gops(*starts: float) -> deque[Gop]:
    out: deque[Gop] = deque()
    for start in starts:
        packets = [
            VideoPacket(start + k, round(start + k) * 90_000, b"x", k == 0) for k in range(4)
        ]
        out.append(Gop(packets, 4))
    return out


@pytest.mark.parametrize(
    ("starts", "span", "first", "last"),
    [
        ((0.0, 4.0, 8.0), (5.0, 9.0), 4.0, 9.0),  # from the keyframe before the span
        ((0.0, 4.0, 8.0), (4.0, 20.0), 4.0, 11.0),  # a keyframe right at its start
        ((6.0, 10.0), (2.0, 7.0), 6.0, 7.0),  # the ring began after the span: its first
        ((0.0, 4.0), (0.0, 0.0), 0.0, 0.0),
    ],
)
def test_a_clip_takes_its_frames_from_the_keyframe_at_or_before_its_span(
    starts: tuple[float, ...], span: tuple[float, float], first: float, last: float
) -> None:
    packets = span_packets(_gops(*starts), *span)
    assert packets[0].keyframe
    assert (packets[0].at, packets[-1].at) == (first, last)


def _audio(samples: np.ndarray, layout: str, rate: int) -> AudioFrame:
    fmt = "fltp" if samples.dtype == np.float32 else "s16"
    frame = AudioFrame.from_ndarray(samples, format=fmt, layout=layout)
    frame.sample_rate = rate
    return frame


@pytest.mark.parametrize(
    ("layout", "channels", "rate", "dtype", "target"),
    [
        ("stereo", 2, 48_000, np.int16, 16_000),  # aiortc's Opus: the integer path (clips)
        ("mono", 1, 48_000, np.int16, 16_000),
        ("stereo", 2, 48_000, np.float32, 16_000),  # planar float: the general path
        ("mono", 1, 44_100, np.int16, 16_000),  # not a multiple of 16 kHz: interpolated
        ("stereo", 2, 48_000, np.int16, 48_000),  # its own rate: integers (voice activity)
        ("stereo", 2, 48_000, np.float32, 48_000),
    ],
)
def test_sound_is_reduced_to_mono_at_the_rate_asked(
    layout: str, channels: int, rate: int, dtype: type[np.generic], target: int
) -> None:
    n = rate // 50
    t = np.arange(n) / rate
    tone = np.sin(2 * np.pi * 440 * t) * 0.25
    if dtype == np.float32:
        frame = _audio(np.tile(tone, (channels, 1)).astype(np.float32), layout, rate)
    else:
        packed = np.repeat((tone * 32767).astype(np.int16), channels).reshape(1, -1)
        frame = _audio(packed, layout, rate)
    mono = mono_int16(frame, target)
    assert mono.dtype == np.int16 and abs(mono.size - target // 50) <= 1
    expected = np.interp(np.arange(mono.size) * rate / target, np.arange(n), tone * 32767)
    assert np.abs(mono.astype(float) - expected).max() < 32767 * 0.03  # the same tone


def test_a_recording_of_pictures_encodes_them_and_leaves_out_vp8_frames(tmp_path: Path) -> None:
    """A stream without encoded frames (the JPEG ring) is recorded from its pictures; a VP8
    frame handed to that file is not its kind of video and is left out."""

    def picture(k: int) -> Picture:
        ok, jpeg = cv2.imencode(".jpg", np.full((240, 320, 3), 40 * k, np.uint8))
        assert ok
        return Picture(100.0 + k / 5, bytes(jpeg))

    path = tmp_path / "rec" / "a.webm"
    file = SessionFile(path, picture(0), fps=5, rate=16_000)
    for k in range(1, 5):
        file.add(picture(k))
        file.add(Sound(100.0 + k / 5, np.zeros(3_200, np.int16)))
    file.add(VideoPacket(101.0, 0, bytes(1000), True))
    assert file.close() == (5, 0.8)
    with av.open(str(path)) as container:
        assert len(list(container.decode(video=0))) == 5
