"""Fixtures for the runtime and end-to-end tests: a real exam server on 127.0.0.1, and the
candidate runtimes a test starts on it (closed afterwards). Helpers in tests/support/exam_env.py."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from proctor_server.app import ServerConfig, run_server
from tests.support.exam_env import Env, synthetic_photo


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    config = ServerConfig(db=tmp_path / "exam.db", port=0, nonce_rotation_s=60.0)
    async with run_server(config) as server:
        env = Env(server, tmp_path)
        try:
            yield env
        finally:
            for runtime in env.runtimes:
                await runtime.close()


@pytest.fixture
def photo() -> Callable[[], bytes]:
    return synthetic_photo()
