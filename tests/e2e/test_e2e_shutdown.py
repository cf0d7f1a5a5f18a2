"""Stopping the server: SIGINT or SIGTERM mid-exam, with a candidate connected, ends the
process within a bounded time (the real `proctor-server demo` process and its candidate); the
forced stop (a second signal, or a stop that outlasts its grace period) exits at once with
status 1; and a demo that cannot start leaves no database behind."""

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


async def test_a_second_stop_signal_ends_a_stopping_server_at_once(tmp_path: Path) -> None:
    """The real `serve`, frozen with SIGSTOP while both stop signals arrive: on waking it meets
    the second before its orderly stop has begun, and exits at once with status 1."""
    process = await asyncio.create_subprocess_exec(
        *SERVER,
        *("serve", "--db", str(tmp_path / "exam.db"), "--port", "0", "--no-media"),
        *("--analysis", "basic"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    seen: list[str] = []
    try:
        async with asyncio.timeout(60):
            await read_until(process.stdout, "listening on", seen)
        process.send_signal(signal.SIGSTOP)
        process.send_signal(signal.SIGINT)
        process.send_signal(signal.SIGTERM)
        process.send_signal(signal.SIGCONT)
        async with asyncio.timeout(STOP_WITHIN_S):
            out, err = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 1
    assert "a second stop signal; exiting now" in err.decode()
    assert "stopped" not in out.decode().splitlines()  # not the orderly stop


HANGING_CLOSE = """
import asyncio, sys
from proctor_server.commands.exam import serve_until_stopped

class HangingServer:  # a server whose close never returns (a pool or thread never joined)
    async def start(self):
        pass
    async def close(self):
        await asyncio.Event().wait()

asyncio.run(serve_until_stopped(HangingServer(), lambda s: print("ready", flush=True),
                                grace_s=float(sys.argv[1])))
"""


async def test_a_stop_that_hangs_ends_the_process_after_the_grace_period() -> None:
    """The watchdog in a real process, with real signals: a close that never returns (which no
    real server can be made to do on purpose) is cut short once the grace period is over."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-c", HANGING_CLOSE, "0.5"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        async with asyncio.timeout(60):
            await read_until(process.stdout, "ready", [])
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(STOP_WITHIN_S):
            _, err = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 1
    assert "not stopped within 0.5 s; exiting now" in err.decode()
