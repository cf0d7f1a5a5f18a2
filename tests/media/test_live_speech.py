"""Voice activity on the live audio track: a candidate who talks into the microphone (a WAV
file of a voiced sound, through Opus and the gateway) gets a `speaking` violation with its time
span, and the proctors a `flag`; a silent candidate gets none."""

from __future__ import annotations

import asyncio
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from av import AudioFrame

from proctor_client.devices.camera_reader import CameraReader
from proctor_client.devices.microphones import SilenceMicrophone, WavFileMicrophone
from proctor_client.media.publisher import MediaSources
from proctor_server import admin
from proctor_server.app import Server
from proctor_server.clock import SystemClock
from proctor_server.media.gateway import StreamKey
from proctor_server.media.sound import box_mono, mono_int16
from proctor_server.media.speech import LiveSpeech
from proctor_server.store import SqliteStore
from shared import proctor_protocol as pp
from tests.media.fakes import PaletteCamera
from tests.media.peers import poll, proctor
from tests.shared.vision.test_voice import RATE, silence, voice
from tests.support.exam_env import Env


def talking_wav(path: Path, seconds: float = 5) -> Path:
    rng = np.random.default_rng(3)
    audio = np.concatenate([silence(1, rng), voice(seconds, rng), silence(3, rng)])
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(audio.astype("<i2").tobytes())
    return path


async def test_talking_on_the_live_audio_is_a_speaking_violation(
    server: Server, env: Env, tmp_path: Path
) -> None:
    exam_id, ticket = await env.exam()
    token = await admin.proctor_token(server.store, exam_id)
    sources = MediaSources(
        camera=CameraReader(PaletteCamera()),
        microphone=WavFileMicrophone(talking_wav(tmp_path / "talk.wav")),
    )
    async with proctor(f"{server.ws_url}/ws/proctor?token={token}") as watcher:
        runtime = env.runtime(ticket, media=sources)
        runtime.start()
        async with asyncio.timeout(30):
            state = await runtime.wait_for(lambda s: s.media == "live")
            await watcher.until(lambda: any(f.kind == "speaking" for f in watcher.of_type(pp.Flag)))
            assert state.session is not None
            session = state.session

            async def span_closed() -> bool:  # once the talking stops
                return any(v.ended_at is not None for v in await server.store.violations(session))

            await poll(span_closed, 0.2)
    (violation, *_) = await server.store.violations(state.session)
    assert violation.kind == "speaking" and violation.source == "server"
    assert violation.ended_at is not None
    assert 3.5 <= (violation.ended_at - violation.server_at).total_seconds() <= 6.5


async def test_silence_is_no_violation(server: Server, env: Env) -> None:
    _, ticket = await env.exam()
    sources = MediaSources(camera=CameraReader(PaletteCamera()), microphone=SilenceMicrophone())
    runtime = env.runtime(ticket, media=sources)
    runtime.start()
    async with asyncio.timeout(20):
        state = await runtime.wait_for(lambda s: s.media == "live")
        assert state.session is not None
        session = state.session

        def heard_five_seconds() -> bool:
            stats = server.media.stats(session)
            return stats is not None and stats.audio_frames >= 250

        await poll(heard_five_seconds)
    await runtime.close()
    async with asyncio.timeout(5):
        await poll(lambda: server.media.stats(session) is None)
    assert await server.store.violations(state.session) == []


class _NoExams:
    def loaded(self, exam_id: str) -> None:
        return None

    async def load(self, exam_id: str) -> None:
        return None


def _frame(samples: np.ndarray, layout: str, rate: int = 48_000) -> AudioFrame:
    fmt = "fltp" if samples.dtype == np.float32 else "s16"
    frame = AudioFrame.from_ndarray(samples, format=fmt, layout=layout)
    frame.sample_rate = rate
    return frame


def _stereo(rng: np.random.Generator) -> AudioFrame:
    return _frame(rng.integers(-20_000, 20_000, (1, 1920), dtype=np.int16), "stereo")


def _mono(rng: np.random.Generator) -> AudioFrame:
    return _frame(rng.integers(-20_000, 20_000, (1, 960), dtype=np.int16), "mono")


def _planar(rng: np.random.Generator) -> AudioFrame:
    return _frame(rng.uniform(-0.5, 0.5, (2, 960)).astype(np.float32), "stereo")


def _slow(rng: np.random.Generator) -> AudioFrame:  # another rate: resampled, not boxed
    return _frame(rng.integers(-20_000, 20_000, (1, 640), dtype=np.int16), "mono", 32_000)


@pytest.mark.parametrize(
    "kinds",
    [
        [_stereo] * 60,  # aiortc's Opus: packed 16-bit stereo, kept as bytes
        [_mono] * 60,
        [_stereo] * 10 + [_planar] + [_stereo] * 49,  # a float frame between packed ones
        [_stereo] * 12 + [_mono] * 12 + [_stereo] * 36,  # the channels change
        [_stereo] * 20 + [_slow] * 5 + [_stereo] * 35,
    ],
)
async def test_chunks_hold_each_frames_mono_samples_in_order(
    tmp_path: Path, kinds: list[Callable[[np.random.Generator], AudioFrame]]
) -> None:
    """However the frames come, a chunk is their samples made mono one by one, in order."""
    rng = np.random.default_rng(7)
    frames = [kind(rng) for kind in kinds]
    speech = LiveSpeech(SqliteStore(tmp_path / "exam.db"), SystemClock(), _NoExams)
    key = StreamKey("exam", "attempt")
    for frame in frames:
        speech.on_frame(key, frame)
    state = speech._attempts[key.attempt]
    if state.worker is not None:
        state.worker.cancel()
    chunks = [c for c in [*state.chunks, *state.samples] if isinstance(c, np.ndarray)]
    assert len(chunks) == len(state.chunks) + len(state.samples)  # decoded: no packets
    got = np.concatenate([*chunks, *(box_mono(r, state.raw_channels, 1) for r in state.raw)])
    expected = np.concatenate([mono_int16(f, 48_000) for f in frames])
    assert len(state.chunks) >= 2 and all(c.size >= 24_000 for c in chunks[: len(state.chunks)])
    np.testing.assert_array_equal(got, expected)
