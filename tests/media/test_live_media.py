"""Three peers in one process: a candidate's runtime publishes a palette camera and a tone, the
server receives them, a proctor watching receives them relayed; the content is checked."""

from __future__ import annotations

import asyncio
import itertools

from proctor_client.core.state import ClientState
from proctor_server import admin
from proctor_server.app import Server
from proctor_server.media.gateway import StreamStats
from shared import proctor_protocol as pp
from shared import protocol as p
from tests.media.fakes import audio_samples, dominant_frequency, palette_index
from tests.media.peers import TONE_HZ, palette_sources, proctor
from tests.support.exam_env import Env

LIVE_TIMEOUT_S = 20.0


def _live(state: ClientState) -> bool:
    return state.media == "live"


async def _frames_arrive(server: Server, attempt: str, more_than: int) -> StreamStats:
    """Wait (polling the gateway's counters) until the attempt's stream passed `more_than`
    video frames and carries audio."""
    while True:
        stats = server.media.stats(attempt)
        if stats is not None and stats.video_frames > more_than and stats.audio_frames > 0:
            return stats
        await asyncio.sleep(0.05)


async def test_published_media_reaches_the_server_and_a_watching_proctor(
    server: Server, env: Env
) -> None:
    exam_id, ticket = await env.exam()
    runtime = env.runtime(ticket, media=palette_sources())
    runtime.start()
    async with asyncio.timeout(LIVE_TIMEOUT_S):
        state = await runtime.wait_for(_live)
        assert state.session is not None
        attempt = state.session
        stats = await _frames_arrive(server, attempt, 5)
    assert (stats.width, stats.height) == (320, 240)  # the floor, scaled from 640x480

    token = await admin.proctor_token(server.store, exam_id)
    async with proctor(f"{server.ws_url}/ws/proctor?token={token}") as watcher:
        await watcher.command(pp.Watch(id="w1", attempt=attempt))
        async with asyncio.timeout(LIVE_TIMEOUT_S):
            await watcher.until(lambda: len(watcher.video) >= 40 and len(watcher.audio) >= 50)
        assert [a.id for a in watcher.of_type(p.Ack)] == ["w1"]
        assert server.media.stats(attempt) is not None
        # Video: the palette's colours, in their order, one second each.
        seen = [palette_index(frame) for frame in watcher.video[-30:]]
        colours = [c for c in seen if c is not None]
        assert len(colours) >= 25, seen
        changes = [(a, b) for a, b in itertools.pairwise(colours) if a != b]
        assert changes, "the colour never advanced"
        assert all(b == (a + 1) % 4 for a, b in changes), changes
        # Audio: the tone, after Opus and the relay.
        samples, rate = audio_samples(watcher.audio[-25:])
        assert abs(dominant_frequency(samples, rate) - TONE_HZ) < 15

        await watcher.command(pp.Unwatch(id="u1", attempt=attempt))
        async with asyncio.timeout(5):
            await watcher.until(lambda: "u1" in [a.id for a in watcher.of_type(p.Ack)])
        stats_after = server.media.stats(attempt)
        assert stats_after is not None and stats_after.watchers == 0


async def test_a_proctor_sees_the_media_status_and_cannot_watch_another_exam(
    server: Server, env: Env
) -> None:
    exam_id, ticket = await env.exam()
    other_exam, _ = await env.exam()
    token = await admin.proctor_token(server.store, exam_id)
    other_token = await admin.proctor_token(server.store, other_exam)
    async with (
        proctor(f"{server.ws_url}/ws/proctor?token={token}") as mine,
        proctor(f"{server.ws_url}/ws/proctor?token={other_token}") as other,
    ):
        runtime = env.runtime(ticket, media=palette_sources())
        runtime.start()
        async with asyncio.timeout(LIVE_TIMEOUT_S):
            state = await runtime.wait_for(_live)
            await mine.until(lambda: any(m.status == "live" for m in mine.of_type(pp.Media)))
        assert state.session is not None
        await other.command(pp.Watch(id="x1", attempt=state.session))
        async with asyncio.timeout(5):
            await other.until(lambda: bool(other.of_type(p.Error)))
        error = other.of_type(p.Error)[0]
        assert (error.code, error.ref) == ("not_allowed", "x1")
        assert other.offers == 0
