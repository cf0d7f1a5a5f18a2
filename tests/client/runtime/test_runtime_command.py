"""`proctor-client take` as a user runs it: a real process against the real server."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from pathlib import Path

from shared.questions import encode_bank
from tests.support.exam_env import QUESTIONS, Env

CLI = [sys.executable, "-m", "proctor_client.cli"]


async def take(tmp: Path, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *CLI,
        "take",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={"PROCTOR_CLIENT_HOME": str(tmp / "home"), "PATH": "/usr/bin:/bin"},
    )
    async with asyncio.timeout(60):
        out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_take_answers_from_a_bank_and_prints_the_result(env: Env, tmp_path: Path) -> None:
    bank = tmp_path / "bank.json"
    bank.write_bytes(encode_bank(QUESTIONS))
    _, ticket = await env.exam()
    code, out, err = await take(
        tmp_path, "--server", env.server.url, "--ticket", ticket, "--answers", str(bank), "--json"
    )
    assert code == 0, err
    result = json.loads(out)
    assert (result["score"], result["max_score"], result["passed"]) == (5, 5, True)
    assert result["counts"] and result["answered"] == 4 and result["phase"] == "result"
    assert (tmp_path / "home" / "outbox.sqlite3").exists()


async def test_take_like_a_person_leaves_the_screen_once_for_one_warning(
    env: Env, tmp_path: Path
) -> None:
    exam_id, ticket = await env.exam()
    code, out, err = await take(
        tmp_path,
        *("--server", env.server.url, "--ticket", ticket, "--random"),
        *("--pace", "0.05", "--leave-once"),
    )
    assert code == 0, (out, err)
    assert sum("answered question" in line for line in out.splitlines()) == 4
    assert "back on the exam screen (warnings left: 2)" in out  # four signals, one warning
    (attempt,) = await env.server.store.attempts_of_exam(exam_id)
    violations = await env.server.store.violations(attempt.id)
    left = [v for v in violations if v.kind == "left_exam_window"]
    assert len(left) == 1  # (this machine may also be a virtual machine: judged apart)


async def test_take_the_trial_at_random_in_words(env: Env, tmp_path: Path) -> None:
    _, ticket = await env.exam(starts_in=3600)
    code, out, err = await take(
        tmp_path, "--server", env.server.url, "--ticket", ticket, "--trial", "--random"
    )
    assert code == 0, (out, err)
    lines = out.splitlines()
    assert "connected: Cloud Practitioner (trial)" in lines[0], out
    assert any("paper: 3 questions" in line for line in lines)
    assert "(trial: nothing counts)" in lines[-1], out


async def test_take_refusals_are_one_line_errors(env: Env, tmp_path: Path) -> None:
    code, out, err = await take(
        tmp_path, "--server", env.server.url, "--ticket", "nobody", "--random", "--json"
    )
    assert code == 2
    assert err.strip().splitlines() == [
        "proctor-client: error: bad_ticket: this admission ticket is not valid"
    ]
    assert json.loads(out)["error"].startswith("bad_ticket")


async def test_take_gives_up_on_a_server_that_cannot_be_reached(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, _, err = await take(
        tmp_path,
        *("--server", f"http://127.0.0.1:{port}", "--ticket", "T", "--random"),
        *("--connect-timeout", "1"),
    )
    assert code == 2
    (line,) = err.strip().splitlines()
    assert line.startswith("proctor-client: error: cannot reach the server at ws://127.0.0.1:")


async def test_take_bad_inputs_are_one_line_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"questions": [')
    cases = [
        (["--answers", str(tmp_path / "missing.json")], "No such file"),
        (["--answers", str(broken)], "nor is it an answers file"),
        (["--random", "--server", "ftp://example"], "use http://, https://, ws:// or wss://"),
        (["--random", "--camera", str(tmp_path / "nocam.mp4")], "no such video file"),
        ([], "give --answers FILE or --random"),  # never a blank paper by default
    ]
    for extra, message in cases:
        args = ["--server", "http://127.0.0.1:9", "--ticket", "T", *extra]
        code, _, err = await take(tmp_path, *args)
        assert code == 2, extra
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("proctor-client: error: "), err
        assert message in lines[0]
