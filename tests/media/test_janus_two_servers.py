"""Two exam servers of one deployment (one PostgreSQL database, one Janus, the same admin key):
a candidate publishes through one, a proctor signed in to the other watches them. The rooms'
secrets come from the shared key, and the second server finds the candidate's feed in the room."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from proctor_server import admin
from proctor_server.app import ServerConfig, run_server
from proctor_server.media.janus_gateway import shared_room
from shared import proctor_protocol as pp
from tests.media.janus_process import JANUS, RunningJanus
from tests.media.peers import palette_sources, proctor
from tests.support.exam_env import Env
from tests.support.postgres import Cluster, postgres

__all__ = ["postgres"]

pytestmark = pytest.mark.skipif(
    JANUS is None, reason="Debian's janus is not installed (tools/system-deps installs it)"
)
LIVE_TIMEOUT_S = 30.0


def _config(dsn: str, janus: RunningJanus, data: Path) -> ServerConfig:
    return ServerConfig(
        db=dsn,
        data_dir=data,
        port=0,
        nonce_rotation_s=3600,
        media_gateway="janus",
        janus_url=janus.url,
        janus_admin_key=janus.admin_key,
    )


async def test_a_proctor_on_one_server_watches_a_candidate_publishing_through_another(
    postgres: Cluster, janus: RunningJanus, tmp_path: Path
) -> None:
    dsn = postgres.create("janus")
    async with (
        run_server(_config(dsn, janus, tmp_path / "data")) as a,
        run_server(_config(dsn, janus, tmp_path / "data")) as b,
    ):
        env = Env(a, tmp_path)
        try:
            exam_id, ticket = await env.exam()
            runtime = env.runtime(ticket, media=palette_sources())
            runtime.start()
            async with asyncio.timeout(LIVE_TIMEOUT_S):
                state = await runtime.wait_for(lambda s: s.media == "live")
            attempt = state.session
            assert attempt is not None
            token = await admin.proctor_token(b.store, exam_id)
            async with proctor(f"{b.ws_url}/ws/proctor?token={token}") as watcher:
                await watcher.command(pp.Watch(id="w1", attempt=attempt))
                async with asyncio.timeout(LIVE_TIMEOUT_S):
                    await watcher.until(lambda: len(watcher.video) >= 20)
            assert b.media.stats(attempt) is None  # the stream is A's; B only subscribed
        finally:
            for r in env.runtimes:
                await r.close()


@pytest.mark.parametrize(
    ("key", "exam", "same_as"),
    [
        ("k1", "e-1", ("k1", "e-1")),
        ("k1", "e-2", None),
        ("k2", "e-1", None),
    ],
)
def test_rooms_are_derived_from_the_key_and_the_exam(
    key: str, exam: str, same_as: tuple[str, str] | None
) -> None:
    room = shared_room(key, exam)
    other = shared_room("k1", "e-1")
    assert room is not None and other is not None
    assert (room == other) is (same_as is not None)
    assert 0 < room.id < 2**53 and len(room.pin) >= 8 and len(room.secret) >= 16
    assert shared_room(None, exam) is None and shared_room("", exam) is None
