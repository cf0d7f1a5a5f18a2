"""Voice activity's own Opus decoding (sound.py `OpusSound`, speech.py `on_encoded`), pure, no
network: the app's voice packets (proctor_client/media/voice.py) decode to 16 kHz mono with the
tone's pitch whatever the sender's rate; a hole in RTP time (lost packets) becomes silence of
its length, so a speaking span after it keeps its time; one stream is heard one way only; and
the decoded fallback (`on_frame`, where the tap cannot be set) still gives spans."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from av import AudioFrame

from proctor_client.media.voice import PACKET_TICKS, VoiceEncoder
from proctor_server.media.gateway import StreamKey, needs_decoded
from proctor_server.media.receiver_tap import OpusFrame
from proctor_server.media.sound import OpusSound
from proctor_server.media.speech import CHUNK_PACKETS, LiveSpeech
from proctor_server.store import SqliteStore
from tests.media.fakes import dominant_frequency
from tests.shared.vision.test_voice import RATE, silence, voice
from tests.store.conftest import seat

KEY = StreamKey("exam", "attempt")
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class _Clock:
    def now(self) -> datetime:
        return START

    async def sleep_until(self, moment: datetime) -> None:
        raise AssertionError("voice activity never waits for the clock")


class _NoExams:
    def loaded(self, exam_id: str) -> None:
        return None

    async def load(self, exam_id: str) -> None:
        return None


def _packets(samples: np.ndarray, rate: int) -> list[OpusFrame]:
    encoder = VoiceEncoder(rate)
    return [OpusFrame(int(p.pts or 0), bytes(p)) for p in encoder.encode(samples)]


def _tone(hz: float, rate: int, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (0.5 * 32767 * np.sin(2 * np.pi * hz * t)).astype(np.int16)


@pytest.mark.parametrize(
    ("hz", "rate"),
    [(440.0, 16_000), (1000.0, 16_000), (2500.0, 16_000), (440.0, 48_000), (1000.0, 22_050)],
)
def test_packets_decode_to_16_khz_mono_with_the_tones_pitch(hz: float, rate: int) -> None:
    packets = _packets(_tone(hz, rate), rate)
    sound = OpusSound(16_000)
    pcm = np.concatenate([sound.decode(packets[:25]), sound.decode(packets[25:])])
    assert pcm.dtype == np.int16 and pcm.ndim == 1
    assert pcm.size == len(packets) * 320  # 20 ms each at 16 kHz
    assert abs(dominant_frequency(pcm[1600:].astype(np.float64), 16_000) - hz) < 20
    assert np.abs(pcm[1600:]).max() > 0.3 * 32768  # the tone's level, not a faint leak
    assert sound.lost_ticks == 0 and sound.skipped == 0


@pytest.mark.parametrize("name", ["libopus", "opus"])
def test_ffmpegs_opus_decoders_give_48_khz_whatever_rate_is_asked(name: str) -> None:
    """Why `OpusSound` decodes at 48 kHz mono and boxes to 16 kHz itself."""
    codec: Any = av.CodecContext.create(name, "r")
    codec.sample_rate, codec.layout = 16_000, "mono"
    packets = _packets(_tone(440.0, 16_000, 0.1), 16_000)
    frames = [f for p in packets for f in codec.decode(av.Packet(p.data))]
    assert {(f.sample_rate, f.layout.nb_channels) for f in frames} == {(48_000, 1)}


def test_a_hole_in_rtp_time_is_silence_of_its_length_and_a_repeat_is_skipped() -> None:
    packets = _packets(_tone(440.0, 16_000), 16_000)
    holed = packets[:10] + packets[20:30] + [packets[29]] + packets[30:]  # 10 lost, 1 repeated
    sound = OpusSound(16_000)
    pcm = sound.decode(holed)
    assert pcm.size == len(packets) * 320  # the stream's length on its RTP clock
    assert sound.lost_ticks == 10 * PACKET_TICKS and sound.skipped == 1
    assert not pcm[10 * 320 : 20 * 320].any()  # the hole is silence
    assert np.abs(pcm[21 * 320 : 30 * 320]).max() > 0.3 * 32768  # the tone after it, in place


def test_voice_activity_hears_its_own_packets_not_decoded_sound(tmp_path: Path) -> None:
    speech = LiveSpeech(SqliteStore(tmp_path / "exam.db"), _Clock(), _NoExams)
    assert not needs_decoded(speech, "audio") and not needs_decoded(speech, "video")

    class _Decoded:
        def on_frame(self, key: StreamKey, frame: object) -> None: ...

    assert needs_decoded(_Decoded(), "audio") and needs_decoded(_Decoded(), "video")


async def _spoken(speech: LiveSpeech, key: StreamKey, packets: list[OpusFrame]) -> None:
    """Hand the packets on as the gateway does, letting each chunk's work finish (a slow
    worker would drop chunks under back-pressure, which the timing test is not about)."""
    for packet in packets:
        speech.on_encoded(key, packet)
        worker = speech._attempts[key.attempt].worker
        if worker is not None and not worker.done():
            await worker
    await speech.on_end(key)


def _talk() -> np.ndarray:
    rng = np.random.default_rng(3)
    return np.concatenate([silence(1, rng), voice(5, rng), silence(3, rng)])


@pytest.mark.parametrize(
    "lost",
    [
        range(0),
        range(10, 40),  # 0.6 s lost in the silence before the talking
        range(200, 203),  # 60 ms lost while talking (a pause shorter than a breath)
        range(25, 25 + CHUNK_PACKETS),  # a whole chunk's worth
    ],
    ids=["none", "before", "while-talking", "a-chunk"],
)
async def test_lost_packets_keep_the_spans_time(tmp_path: Path, lost: range) -> None:
    packets = [p for n, p in enumerate(_packets(_talk(), RATE)) if n not in lost]
    store = SqliteStore(tmp_path / "exam.db")
    await store.open()
    try:
        attempt = (await seat(store)).attempt.id
        speech = LiveSpeech(store, _Clock(), _NoExams)
        await _spoken(speech, StreamKey("exam", attempt), packets)
        (violation,) = await store.violations(attempt)
    finally:
        await store.close()
    assert violation.ended_at is not None
    start = (violation.server_at - START).total_seconds()
    length = (violation.ended_at - violation.server_at).total_seconds()
    assert abs(start - 1.0) <= 0.15, start  # the talking starts one second in
    assert 4.5 <= length <= 5.5, length


async def test_the_decoded_fallback_gives_the_same_span(tmp_path: Path) -> None:
    """Where the tap cannot be set, aiortc's decoded frames (48 kHz stereo) come instead."""
    codec = av.CodecContext.create("libopus", "r")
    codec.layout = "stereo"
    frames: list[AudioFrame] = [
        f for p in _packets(_talk(), RATE) for f in codec.decode(av.Packet(p.data))
    ]
    store = SqliteStore(tmp_path / "exam.db")
    await store.open()
    try:
        attempt = (await seat(store)).attempt.id
        key = StreamKey("exam", attempt)
        speech = LiveSpeech(store, _Clock(), _NoExams)
        for frame in frames:
            speech.on_frame(key, frame)
            worker = speech._attempts[key.attempt].worker
            if worker is not None and not worker.done():
                await worker
        speech.on_encoded(key, OpusFrame(0, b"\xf8"))  # never both: this stream comes decoded
        assert not speech._attempts[key.attempt].packets
        await speech.on_end(key)
        (violation,) = await store.violations(attempt)
    finally:
        await store.close()
    assert violation.ended_at is not None
    start = (violation.server_at - START).total_seconds()
    assert abs(start - 1.0) <= 0.15, start
    assert 4.5 <= (violation.ended_at - violation.server_at).total_seconds() <= 5.5


async def test_a_stream_heard_encoded_ignores_its_decoded_frames(tmp_path: Path) -> None:
    speech = LiveSpeech(SqliteStore(tmp_path / "exam.db"), _Clock(), _NoExams)
    speech.on_encoded(KEY, _packets(_tone(440.0, 16_000, 0.1), 16_000)[0])
    frame = AudioFrame.from_ndarray(np.zeros((1, 1920), np.int16), format="s16", layout="stereo")
    frame.sample_rate = 48_000
    speech.on_frame(KEY, frame)
    state = speech._attempts[KEY.attempt]
    assert len(state.packets) == 1 and not state.raw and not state.samples
