"""Frames of the live video go to the exam's analysis like snapshots: a candidate publishes a
palette camera over a real aiortc peer, the server samples its stream at the configured rate,
the analyzer sees the palette's colours, and what it raises reaches the proctors as a flag.
A slow analysis never queues more than one live frame per candidate: the rest are dropped
and counted."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
import pytest

from proctor_server.analysis import ViolationDraft
from proctor_server.app import Server, ServerConfig, run_server
from proctor_server.exams import ExamRuntime
from proctor_server.media.live_video import LiveVideo
from shared import proctor_protocol as pp
from shared.vocabulary import ViolationKind
from tests.media.fakes import PALETTE_BGR
from tests.media.peers import palette_sources, poll
from tests.support.exam_env import Env

INTERVAL_S = 0.4
TIMEOUT_S = 30.0


class Recording:
    """A snapshot analyzer that notes what it is given, raises `looking_away` on the first
    live frame, and can be held up (a slow analysis)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, int | None, datetime]] = []  # (frame id, palette colour, at)
        self.release = asyncio.Event()
        self.release.set()
        self.running = 0

    async def analyze(
        self, attempt_id: str, snapshot_id: str, jpeg: bytes, at: datetime
    ) -> list[ViolationDraft]:
        self.running += 1
        try:
            await self.release.wait()
        finally:
            self.running -= 1
        image = cv2.imdecode(np.frombuffer(jpeg, dtype=np.uint8), cv2.IMREAD_COLOR)
        assert image is not None and image.shape == (240, 320, 3)
        self.seen.append((snapshot_id, _colour(image), at))
        live = [s for s in self.seen if s[0].startswith("live-")]
        if len(live) == 1:
            return [ViolationDraft(ViolationKind.LOOKING_AWAY, 0.9, at)]
        return []

    async def finish(self, attempt_id: str, at: datetime) -> None:
        return None

    async def close(self) -> None:
        return None


def _colour(image: np.ndarray) -> int | None:
    mean = image.reshape(-1, 3).mean(axis=0)
    distances = [float(np.abs(mean - np.array(c)).max()) for c in PALETTE_BGR]
    best = int(np.argmin(distances))
    return best if distances[best] < 40 else None


@pytest.fixture
async def sampling_server(tmp_path: Path) -> AsyncIterator[Server]:
    config = ServerConfig(
        db=tmp_path / "exam.db", port=0, nonce_rotation_s=3600, live_analysis_interval_s=INTERVAL_S
    )
    async with run_server(config) as s:
        yield s


async def _runtime_with(server: Server, exam_id: str, analyzer: Recording) -> ExamRuntime:
    runtime = await server.runtime_for(exam_id)
    assert runtime is not None
    runtime.analysis.analyzer = analyzer
    return runtime


async def test_live_frames_are_analysed_at_the_configured_rate_and_flag(
    sampling_server: Server, tmp_path: Path
) -> None:
    env = Env(sampling_server, tmp_path)
    exam_id, ticket = await env.exam()
    analyzer = Recording()
    runtime = await _runtime_with(sampling_server, exam_id, analyzer)
    feed = sampling_server.bus.subscribe(exam_id)
    candidate = env.runtime(ticket, media=palette_sources(), photos=False)
    candidate.start()
    try:
        async with asyncio.timeout(TIMEOUT_S):
            await poll(lambda: sum(s[0].startswith("live-") for s in analyzer.seen) >= 8)
            flag = None
            while flag is None:
                published = await feed.get()
                assert published is not None
                if isinstance(published.event, pp.Flag):
                    flag = published.event
    finally:
        feed.close()
        await candidate.close()
    live = [s for s in analyzer.seen if s[0].startswith("live-")]
    assert flag.kind == ViolationKind.LOOKING_AWAY and flag.snapshot is None
    colours = [c for _, c, _ in live]
    assert all(c is not None for c in colours), colours  # the palette, after VP8 and JPEG
    assert len(set(colours)) >= 2  # the picture advanced between samples
    gaps = [(b[2] - a[2]).total_seconds() for a, b in itertools.pairwise(live)]
    assert min(gaps) >= INTERVAL_S * 0.9, gaps  # never faster than the configured rate
    assert np.median(gaps) < INTERVAL_S * 5, gaps  # and near it (a busy machine skips some)
    assert runtime.analysis.live_dropped == 0
    live_video = sampling_server.live_video
    if isinstance(live_video, LiveVideo):  # in this process: each from a keyframe decoded alone
        assert live_video.from_keyframes == live_video.sampled >= len(live)


async def test_a_slow_analysis_keeps_one_live_frame_waiting_and_counts_the_rest(
    sampling_server: Server, tmp_path: Path
) -> None:
    env = Env(sampling_server, tmp_path)
    exam_id, ticket = await env.exam()
    analyzer = Recording()
    analyzer.release.clear()  # the analysis is stuck on the first frame
    runtime = await _runtime_with(sampling_server, exam_id, analyzer)
    candidate = env.runtime(ticket, media=palette_sources(), photos=False)
    candidate.start()
    try:
        async with asyncio.timeout(TIMEOUT_S):
            await poll(lambda: runtime.analysis.live_dropped >= 4)
            assert analyzer.running == 1  # one frame under analysis
            assert runtime.analysis.waiting == 1  # one waiting: the newest
            analyzer.release.set()
            await poll(lambda: len(analyzer.seen) >= 3)
    finally:
        await candidate.close()
    assert sampling_server.live_video is not None
    assert sampling_server.live_video.sampled >= 6
