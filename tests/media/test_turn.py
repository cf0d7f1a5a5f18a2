"""Live media through a TURN relay: the real coturn (Debian's `turnserver`, installed by
`tools/system-deps`) on loopback, the exam server configured with it (`--ice-server turn:...`),
and a candidate whose app may use the relay alone, as on a network that lets nothing else
through. The frames and the tone still arrive, and coturn's log shows the allocation."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from proctor_server.app import ServerConfig, run_server
from proctor_server.media.ice import parse_ice_server
from tests.media.coturn_process import PASSWORD, TURNSERVER, USER, running_coturn
from tests.media.peers import palette_sources, poll
from tests.support.exam_env import Env

pytestmark = pytest.mark.skipif(
    TURNSERVER is None, reason="coturn is not installed (tools/system-deps installs it)"
)
TIMEOUT_S = 30.0


@pytest.fixture
async def turn(tmp_path: Path) -> AsyncIterator[tuple[int, Path]]:
    """coturn on 127.0.0.1 with one long-term user; yields its port and its log file."""
    async with running_coturn(tmp_path) as running:
        yield running


async def test_media_arrive_through_the_relay_alone(turn: tuple[int, Path], tmp_path: Path) -> None:
    port, log = turn
    relay = parse_ice_server(f"turn:{USER}:{PASSWORD}@127.0.0.1:{port}")
    config = ServerConfig(db=tmp_path / "exam.db", port=0, ice_servers=[relay])
    async with run_server(config) as server:
        env = Env(server, tmp_path)
        try:
            _, ticket = await env.exam(starts_in=3600)  # the trial publishes too
            sources = dataclasses.replace(palette_sources(), relay_only=True)
            runtime = env.runtime(ticket, mode="trial", media=sources)
            runtime.start()
            async with asyncio.timeout(TIMEOUT_S):
                state = await runtime.wait_for(lambda s: s.media == "live")
                session = state.session
                assert session is not None

                def frames_arrive() -> bool:
                    stats = server.media.stats(session)
                    return stats is not None and stats.video_frames > 5 and stats.audio_frames > 5

                await poll(frames_arrive)
        finally:
            for runtime in env.runtimes:
                await runtime.close()
    text = log.read_text()
    assert "ALLOCATE processed, success" in text, text[-3000:]
    assert f"user <{USER}>" in text
