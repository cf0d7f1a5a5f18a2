"""The real app, started as its own process under a virtual X server (xvfb-run), enters an
exam on a real server over loopback and shows its first screen."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from proctor_server import admin
from proctor_server.app import ServerConfig, run_server
from shared.questions import Question

XVFB_RUN = shutil.which("xvfb-run")
pytestmark = pytest.mark.skipif(
    XVFB_RUN is None, reason="xvfb-run is missing (Debian package xvfb: apt-get install -y xvfb)"
)


APP_TIMEOUT_S = 60.0


async def run_app(args: list[str], home: Path) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env["PROCTOR_CLIENT_HOME"] = str(home)
    assert XVFB_RUN is not None
    process = await asyncio.create_subprocess_exec(
        XVFB_RUN,
        "-a",
        sys.executable,
        "-m",
        "proctor_client.cli",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), APP_TIMEOUT_S)
    except TimeoutError:
        process.kill()
        out, err = await process.communicate()
        pytest.fail(f"the app did not exit in {APP_TIMEOUT_S} s: {err.decode()[-2000:]}")
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_the_app_entering_an_exam_shows_the_rules_first(tmp_path: Path) -> None:
    async with run_server(ServerConfig(db=tmp_path / "exam.db", port=0)) as server:
        exam = await admin.create_exam(
            server.store,
            title="Smoke exam",
            starts_at=datetime.now(UTC) + timedelta(minutes=5),
            duration=timedelta(minutes=30),
            questions=[Question(id="q1", text="1 + 1 = ?", options=["1", "2"], answer=[1])],
        )
        ticket = await admin.issue_ticket(server.store, exam.id, name="张三")
        code, out, err = await run_app(
            [
                "gui",
                "--server",
                server.url,
                f"--ticket={ticket.token}",  # a token may begin with "-"
                "--camera",
                "synthetic",
                "--lang",
                "zh",
                "--smoke-exit-after-ready",
            ],
            tmp_path / "home",
        )
    assert code == 0, err[-2000:]
    assert "ready rules" in out.splitlines(), (out, err[-2000:])  # the rules come first


async def test_the_app_without_a_ticket_shows_the_entry_screen(tmp_path: Path) -> None:
    code, out, err = await run_app(
        ["--camera", "synthetic", "--smoke-exit-after-ready"], tmp_path / "home"
    )
    assert code == 0, err[-2000:]
    assert "ready entry" in out.splitlines()


async def test_a_bad_camera_is_one_line_on_stderr(tmp_path: Path) -> None:
    code, _out, err = await run_app(
        ["--camera", str(tmp_path / "missing.mp4"), "--smoke-exit-after-ready"], tmp_path / "home"
    )
    assert code == 2
    assert err.strip().startswith("proctor-client: error: camera")
    assert "Traceback" not in err


async def test_a_camera_that_cannot_be_opened_does_not_stop_the_app(tmp_path: Path) -> None:
    code, out, err = await run_app(
        ["--camera", "/dev/video-none", "--lang", "en", "--smoke-exit-after-ready"],
        tmp_path / "home",
    )
    assert code == 0, err[-2000:]
    assert "ready entry" in out.splitlines()
