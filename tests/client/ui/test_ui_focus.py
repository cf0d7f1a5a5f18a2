"""One leave of the exam screen under a real X server: another program's window takes the
focus (a real X focus change, not a call of a handler), the candidate comes back. The system
sends several signals; the candidate gets one warning and one notice, worded in their
language, and the server counts one."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from proctor_server import admin
from proctor_server.app import ServerConfig, run_server
from shared.questions import Question

XVFB_RUN = shutil.which("xvfb-run")
pytestmark = pytest.mark.skipif(
    XVFB_RUN is None, reason="xvfb-run is missing (Debian package xvfb: apt-get install -y xvfb)"
)
QUESTIONS = [Question(id="q1", text="1 + 1 = ?", options=["1", "2"], answer=[1], points=5)]
DRIVER_TIMEOUT_S = 150.0


async def run_driver(server: str, ticket: str, out: Path, lang: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env["PROCTOR_CLIENT_HOME"] = str(out.parent)
    assert XVFB_RUN is not None
    process = await asyncio.create_subprocess_exec(
        XVFB_RUN,
        "-a",
        sys.executable,
        "-m",
        "tests.client.ui.focus_driver",
        *(server, ticket, str(out), lang),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, err = await asyncio.wait_for(process.communicate(), DRIVER_TIMEOUT_S)
    except TimeoutError:
        process.kill()
        _, err = await process.communicate()
        pytest.fail(f"the app did not finish in {DRIVER_TIMEOUT_S} s: {err.decode()[-3000:]}")
    assert process.returncode == 0 and out.exists(), err.decode()[-3000:]
    result: dict[str, Any] = json.loads(out.read_text())
    return result


@pytest.mark.parametrize(
    ("lang", "title", "left", "ok"),
    [
        ("en", "You left the exam screen", "Warnings left: 2 of 3.", "OK"),
        ("zh", "您离开了考试界面", "。剩余警告次数：2/3。", "确定"),
    ],
)
async def test_one_leave_is_one_warning_and_one_notice(
    tmp_path: Path, lang: str, title: str, left: str, ok: str
) -> None:
    async with run_server(ServerConfig(db=tmp_path / "exam.db", port=0)) as server:
        exam = await admin.create_exam(
            server.store,
            title="Focus exam",
            starts_at=datetime.now(UTC) - timedelta(minutes=1),
            duration=timedelta(minutes=30),
            questions=QUESTIONS,
            warning_limit=3,
        )
        ticket = await admin.issue_ticket(server.store, exam.id, name="张三丰")
        seen = await run_driver(server.url, ticket.token, tmp_path / "seen.json", lang)
        events = await server.store.events(seen["attempt"])
        violations = await server.store.violations(seen["attempt"])
    # the system said it more than once; the app sent one leave and its return
    assert len(seen["signals"]) >= 2, seen
    leave = [e["kind"] for e in events if e["kind"] != "device_signal"]
    assert len(leave) == 2 and leave[0] == seen["away_kind"], (leave, seen)
    assert [v.kind for v in violations if v.kind == "left_exam_window"] == ["left_exam_window"]
    # one warning, one count everywhere, one non-modal notice in the candidate's language
    assert seen["warnings_used"] == 1 and seen["warnings_left"] == 2
    assert seen["warnings"] == ["system"] and not seen["proctor_banner_visible"]
    assert seen["banner_visible"] and left in seen["banner"] and left in seen["banner_after"]
    assert seen["notices_while_away"] == 0
    assert seen["visible_dialogs"] == 1 and not seen["modal"]
    assert seen["notice_title"] == title and left in seen["notice_text"]
    assert seen["notice_button"] == ok
    assert "proctor:" not in seen["notice_text"] and "监考老师提醒" not in seen["notice_text"]
    # the result screen carries no warning banner
    assert seen["result_banners_visible"] == [False, False]
