"""Evidence clips: a violation opens while a candidate publishes (a palette camera and a
tone over a real aiortc peer); the server writes the seconds before and after it as a WebM
file linked to that violation, sealed under the data key, which PyAV decodes with the right
length, every frame the candidate sent (remuxed), the palette's colours and the tone; the
console serves it behind the proctor's session and the evidence export includes it."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import av
import numpy as np
import pytest

from proctor_server import admin
from proctor_server.analysis import ViolationDraft
from proctor_server.app import Server, ServerConfig, run_server
from proctor_server.commands.evidence import export_evidence
from proctor_server.media.receiver_tap import KEYFRAME_INTERVAL_S
from proctor_server.store.sealing import Key, is_sealed, write_key_file
from shared.vocabulary import Source, ViolationKind
from tests.media.fakes import audio_samples, dominant_frequency, palette_index
from tests.media.peers import TONE_HZ, palette_sources, poll
from tests.server.test_console_signin import fetch, sign_in_cookie
from tests.support.exam_env import Env

SIDE_S = 3.0  # seconds kept before and after the violation
LIVE_FRAMES_BEFORE_FLAG = 12  # at 0.4 s a frame: about 4.5 s of stream before the violation
TIMEOUT_S = 40.0


class FlagLater:
    """Raises (and stores, as face analysis does) one `looking_away` on a live frame once
    the stream has run for a while."""

    def __init__(self, server: Server) -> None:
        self.store = server.store
        self.frames = 0
        self.violation: int | None = None
        self.at: datetime | None = None

    async def analyze(
        self, attempt_id: str, snapshot_id: str, jpeg: bytes, at: datetime
    ) -> list[ViolationDraft]:
        self.frames += 1
        if self.frames != LIVE_FRAMES_BEFORE_FLAG:
            return []
        self.at = at
        self.violation = await self.store.add_violation(
            attempt_id, ViolationKind.LOOKING_AWAY, Source.SERVER, at, confidence=0.9
        )
        return [ViolationDraft(ViolationKind.LOOKING_AWAY, 0.9, at)]

    async def finish(self, attempt_id: str, at: datetime) -> None:
        return None

    async def close(self) -> None:
        return None


@pytest.fixture
async def clip_server(tmp_path: Path) -> AsyncIterator[Server]:
    key_file = tmp_path / "data.key"
    write_key_file(key_file, [Key.new()])
    config = ServerConfig(
        db=tmp_path / "exam.db",
        port=0,
        nonce_rotation_s=3600,
        live_analysis_interval_s=0.4,
        clip_seconds=SIDE_S,
        data_key_file=key_file,
    )
    async with run_server(config) as s:
        yield s


async def test_a_violation_gets_a_playable_clip_of_the_seconds_around_it(
    clip_server: Server, tmp_path: Path
) -> None:
    server = clip_server
    clips = server.clips
    assert clips is not None
    env = Env(server, tmp_path)
    exam_id, ticket = await env.exam()
    analyzer = FlagLater(server)
    runtime = await server.runtime_for(exam_id)
    assert runtime is not None
    runtime.analysis.analyzer = analyzer
    candidate = env.runtime(ticket, media=palette_sources(), photos=False)
    candidate.start()
    try:
        async with asyncio.timeout(TIMEOUT_S):
            await poll(lambda: any(analyzer.violation in c.violations for c in clips.written))
    finally:
        await candidate.close()
    assert analyzer.violation is not None and analyzer.at is not None
    attempt = candidate.state.session
    assert attempt is not None
    # the tone also opened a `speaking` violation, with a clip of its own
    [clip] = [c for c in await server.store.clips(attempt) if analyzer.violation in c.violations]
    assert clip.violations == (analyzer.violation,) and clip.kind == "violation"
    assert clip.started_at < analyzer.at < clip.ended_at
    # sealed at rest like photos; the store opens it
    raw = (tmp_path / "exam-files" / clip.path).read_bytes()
    assert is_sealed(raw)
    data = server.store.blobs.read(clip.path)
    assert data is not None and len(data) == clip.size

    container = av.open(io.BytesIO(data), mode="r")
    kinds = sorted(s.type for s in container.streams)
    assert kinds == ["audio", "video"]
    frames = list(container.decode(video=0))
    container = av.open(io.BytesIO(data), mode="r")
    sound = list(container.decode(audio=0))
    first, last = frames[0].time, frames[-1].time
    assert first is not None and last is not None
    length = last - first
    # from the keyframe at or before the span's start: up to a keyframe interval earlier
    assert 2 * SIDE_S - 1.5 <= length <= 2 * SIDE_S + KEYFRAME_INTERVAL_S + 1.0, length
    # the frames as the candidate sent them (15 a second), not pictures sampled for clips
    assert 12 * (length - 0.5) <= len(frames) <= 16 * (length + 0.5)
    colours = {palette_index(f) for f in frames}
    assert len(colours - {None}) >= 3, colours  # a palette colour a second: the picture moves
    samples, rate = audio_samples(sound[len(sound) // 4 :])
    assert abs(dominant_frequency(samples, rate) - TONE_HZ) < 15
    assert samples.size / rate >= SIDE_S
    assert np.abs(samples).max() > 0.1  # the tone (float samples, full scale 1), not silence
    # bounded memory: the ring held a few seconds of 320x240 pictures and sound
    assert clips.peak_bytes < 2_000_000

    # the proctor's console: linked from the violation, served behind the session only
    cookie = await sign_in_cookie(server, await admin.proctor_token(server.store, exam_id))
    response, body = await fetch(server, f"/api/attempt/{attempt}", cookie)
    assert response.status == 200
    [shown] = [v for v in json.loads(body)["violations"] if v["id"] == analyzer.violation]
    assert shown["clip"] == clip.id
    response, body = await fetch(server, f"/evidence/{attempt}/clip/{clip.id}", cookie)
    assert (response.status, response.getheader("Content-Type")) == (200, "video/webm")
    assert body == data
    response, _ = await fetch(server, f"/evidence/{attempt}/clip/{clip.id}")
    assert response.status == 401
    # the evidence export: the file as stored, checked against its hash
    manifest = await export_evidence(server.store, exam_id, tmp_path / "export")
    [exported] = [f for f in manifest["files"] if clip.id in f["path"]]
    assert exported["kind"] == "clip" and exported["verified"]
    assert exported["violations"] == [analyzer.violation]
    assert (tmp_path / "export" / exported["path"]).read_bytes() == data


async def test_full_session_recording_keeps_the_whole_stream(tmp_path: Path) -> None:
    config = ServerConfig(
        db=tmp_path / "exam.db",
        port=0,
        nonce_rotation_s=3600,
        clip_seconds=0,
        record_sessions=True,
        live_analysis_interval_s=0,
    )
    async with run_server(config) as server:
        clips = server.clips
        assert clips is not None
        env = Env(server, tmp_path)
        _, ticket = await env.exam()
        candidate = env.runtime(ticket, media=palette_sources(), photos=False)
        candidate.start()
        try:
            async with asyncio.timeout(TIMEOUT_S):
                await candidate.wait_for(lambda s: s.media == "live")
                attempt = candidate.state.session
                assert attempt is not None
                await poll(
                    lambda: (
                        (stats := server.media.stats(attempt)) is not None
                        and stats.video_frames >= 15 * 5
                    )
                )  # five seconds of stream
        finally:
            await candidate.close()
        async with asyncio.timeout(TIMEOUT_S):
            await poll(lambda: bool(clips.written))
            await clips.settle()
        [recording] = await server.store.clips(attempt)
        assert recording.kind == "session" and recording.violations == ()
        data = server.store.blobs.read(recording.path)
        assert data is not None
    container = av.open(io.BytesIO(data), mode="r")
    frames = list(container.decode(video=0))
    first, last = frames[0].time, frames[-1].time
    assert first is not None and last is not None
    assert last - first >= 4.0  # the whole stream, from its first picture to its end
    assert len({palette_index(f) for f in frames} - {None}) >= 4
    # the sound as the candidate's app encoded it (Opus copied): the tone, as long as the video
    with av.open(io.BytesIO(data), mode="r") as container:
        sound = list(container.decode(audio=0))
    samples, rate = audio_samples(sound)
    assert samples.size / rate >= 4.0
    assert abs(dominant_frequency(samples, rate) - TONE_HZ) < 15
    assert not list((tmp_path / "exam-files" / "recording").glob("*"))  # no file left behind
