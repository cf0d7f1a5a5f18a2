"""The real exam server on loopback, for the network parts of the environment check."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from proctor_server.app import Server, ServerConfig, run_server


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    async with run_server(ServerConfig(db=tmp_path / "exam.db", port=0)) as running:
        yield running
