"""A candidate's app killed outright (SIGKILL) in the waiting room and started again: it resumes
the same attempt from its outbox and session, without a second identity photo."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import pytest

from shared.questions import encode_bank
from tests.support.exam_env import QUESTIONS, Env

CLI = [sys.executable, "-m", "proctor_client.cli", "take"]

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")


async def test_a_killed_app_resumes_where_it_was(env: Env, tmp_path: Path) -> None:
    bank = tmp_path / "bank.json"
    bank.write_bytes(encode_bank(QUESTIONS))
    _, ticket = await env.exam(starts_in=8)
    args = [
        "--server",
        env.server.url,
        "--ticket",
        ticket,
        "--outbox",
        str(tmp_path / "outbox.sqlite3"),
        "--answers",
        str(bank),
    ]
    environ = {"PATH": "/usr/bin:/bin", "PROCTOR_CLIENT_HOME": str(tmp_path)}
    first = await asyncio.create_subprocess_exec(
        *CLI, *args, stdout=asyncio.subprocess.PIPE, env=environ
    )
    assert first.stdout is not None
    lines: list[str] = []
    async with asyncio.timeout(20):
        while not lines or "waiting room" not in lines[-1]:
            line = (await first.stdout.readline()).decode()
            assert line, f"the app ended early: {lines}"
            lines.append(line)
    os.kill(first.pid, signal.SIGKILL)
    await first.wait()
    assert first.returncode == -signal.SIGKILL
    assert not any("(resumed)" in line for line in lines)

    second = await asyncio.create_subprocess_exec(
        *CLI, *args, "--json", stdout=asyncio.subprocess.PIPE, env=environ
    )
    async with asyncio.timeout(40):
        out, _ = await second.communicate()
    assert second.returncode == 0
    result = json.loads(out)
    assert result["resumed"] and (result["score"], result["passed"]) == (5, True)
    photos = await env.server.store.photos(result["attempt"], "identity_photo")
    assert len(photos) == 1  # the entry gate was passed once
    profile = await env.server.store.profile(result["attempt"])
    assert profile is not None and profile["name"] == "Test Candidate"
