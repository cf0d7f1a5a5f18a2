"""Live media through a TURN relay: the real coturn (Debian's `turnserver`, installed by
`tools/system-deps`) on loopback, the exam server configured with it (`--ice-server turn:...`),
and a candidate whose app may use the relay alone, as on a network that lets nothing else
through. The frames and the tone still arrive, and coturn's log shows the allocation."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from proctor_server.app import ServerConfig, run_server
from proctor_server.media.ice import parse_ice_server
from tests.media.peers import palette_sources, poll
from tests.support.exam_env import Env

TURNSERVER = shutil.which("turnserver")
pytestmark = pytest.mark.skipif(
    TURNSERVER is None, reason="coturn is not installed (tools/system-deps installs it)"
)
USER, PASSWORD = "proctor", "relay-secret"
TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def turn(tmp_path: Path) -> AsyncIterator[tuple[int, Path]]:
    """coturn on 127.0.0.1 with one long-term user; yields its port and its log file."""
    assert TURNSERVER is not None
    port, log = free_port(), tmp_path / "turn.log"
    process = await asyncio.create_subprocess_exec(
        TURNSERVER,
        *("-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", f"--listening-port={port}"),
        *("--lt-cred-mech", f"--user={USER}:{PASSWORD}", "--realm=proctor.test"),
        *("--no-tls", "--no-dtls", "--no-cli", "--allow-loopback-peers", "--simple-log", "-V"),
        *(f"--userdb={tmp_path / 'turndb'}", f"--pidfile={tmp_path / 'turn.pid'}"),
        *("--log-file=stdout",),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    lines: list[str] = []

    async def read_until(marker: str | None) -> None:
        assert process.stdout is not None
        while line := await process.stdout.readline():
            lines.append(line.decode(errors="replace"))
            log.write_text("".join(lines))
            if marker is not None and marker in lines[-1]:
                return
        if marker is not None:
            raise AssertionError(f"coturn ended before {marker!r}: {''.join(lines)[-2000:]}")

    reader: asyncio.Task[None] | None = None
    try:
        async with asyncio.timeout(15):
            await read_until(f"UDP listener opened on: 127.0.0.1:{port}")
        reader = asyncio.create_task(read_until(None))  # the rest of its log, to the end
        yield port, log
    finally:
        process.terminate()
        await process.wait()
        if reader is not None:
            await reader


async def test_media_arrive_through_the_relay_alone(turn: tuple[int, Path], tmp_path: Path) -> None:
    port, log = turn
    relay = parse_ice_server(f"turn:{USER}:{PASSWORD}@127.0.0.1:{port}")
    config = ServerConfig(db=tmp_path / "exam.db", port=0, ice_servers=[relay])
    async with run_server(config) as server:
        env = Env(server, tmp_path)
        try:
            _, ticket = await env.exam(starts_in=3600)  # the trial publishes too
            sources = dataclasses.replace(palette_sources(), relay_only=True)
            runtime = env.runtime(ticket, mode="trial", media=sources)
            runtime.start()
            async with asyncio.timeout(TIMEOUT_S):
                state = await runtime.wait_for(lambda s: s.media == "live")
                session = state.session
                assert session is not None

                def frames_arrive() -> bool:
                    stats = server.media.stats(session)
                    return stats is not None and stats.video_frames > 5 and stats.audio_frames > 5

                await poll(frames_arrive)
        finally:
            for runtime in env.runtimes:
                await runtime.close()
    text = log.read_text()
    assert "ALLOCATE processed, success" in text, text[-3000:]
    assert f"user <{USER}>" in text
