"""Stopping the server: SIGINT or SIGTERM mid-exam, with a candidate connected, ends the
process within a bounded time (the real `proctor-server demo` process and its candidate), and
a demo that cannot start leaves no database behind."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

SERVER = [sys.executable, "-m", "proctor_server.cli"]
STOP_WITHIN_S = 20.0  # the server's own bound is 15 s after the first signal


async def read_until(stream: asyncio.StreamReader, marker: str, seen: list[str]) -> None:
    while True:
        line = (await stream.readline()).decode(errors="replace")
        if not line:
            raise AssertionError(f"ended before {marker!r}: {''.join(seen)[-3000:]}")
        seen.append(line)
        if marker in line:
            return


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
async def test_the_demo_stops_mid_exam_within_a_bounded_time(
    tmp_path: Path, sig: signal.Signals
) -> None:
    process = await asyncio.create_subprocess_exec(
        *SERVER,
        *("demo", "--dir", str(tmp_path), "--port", "0", "--analysis", "basic"),
        *("--starts-in", "0", "--candidate-pace", "30"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    seen: list[str] = []
    try:
        async with asyncio.timeout(90):
            # the demo candidate is connected and has its paper: mid-exam
            await read_until(process.stdout, "[demo candidate]", seen)
            await read_until(process.stdout, "paper:", seen)
        process.send_signal(sig)
        async with asyncio.timeout(STOP_WITHIN_S):
            rest = await process.stdout.read()
            code = await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    output = "".join(seen) + rest.decode(errors="replace")
    assert code == 0, output[-3000:]  # an orderly stop, not the forced one
    assert "stopped" in output.splitlines()


def test_the_printed_commands_name_a_client_that_runs(tmp_path: Path) -> None:
    from proctor_server.commands.demo import printed_client_command

    command = printed_client_command()
    assert Path(command[0]).name in ("proctor-client", Path(sys.executable).name)


async def test_a_demo_that_cannot_start_leaves_no_database(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = await asyncio.create_subprocess_exec(
            *SERVER,
            *("demo", "--dir", str(tmp_path / "d"), "--port", str(port), "--analysis", "basic"),
            "--no-candidate",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        async with asyncio.timeout(60):
            _, err = await process.communicate()
    assert process.returncode == 2
    assert "choose another port with --port" in err.decode()
    assert list((tmp_path / "d").iterdir()) == []
