from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from proctor_server.app import Server, ServerConfig, run_server
from tests.media.janus_process import RunningJanus, running_janus
from tests.support.exam_env import Env

# PROCTOR_TEST_MEDIA=process runs every media test with the gateway in its own process.
IN_PROCESS = os.environ.get("PROCTOR_TEST_MEDIA", "in-process") != "process"


@pytest.fixture(autouse=True)
def media_placement(monkeypatch: pytest.MonkeyPatch) -> None:
    if IN_PROCESS:
        return
    original = Server._remote_media

    def remote(self: Server) -> object:
        self.config.media_process = True
        return original(self)

    monkeypatch.setattr(Server, "_remote_media", remote)


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    """A real server on loopback with live media (aiortc) and no ICE servers (host only)."""
    async with run_server(
        ServerConfig(db=tmp_path / "exam.db", port=0, nonce_rotation_s=3600)
    ) as s:
        yield s


@pytest.fixture
async def env(server: Server, tmp_path: Path) -> AsyncIterator[Env]:
    e = Env(server, tmp_path)
    try:
        yield e
    finally:
        for runtime in e.runtimes:
            await runtime.close()


@pytest.fixture
async def janus(tmp_path: Path) -> AsyncIterator[RunningJanus]:
    """A real Janus from the shipped sample configuration (its tests skip without Debian's
    janus)."""
    async with running_janus(tmp_path / "janus") as running:
        yield running
