"""The real coturn (Debian's `turnserver`, installed by `tools/system-deps`) for tests: one
long-term user, UDP only, listening and relaying on one address of this machine, run in the
foreground and stopped with SIGTERM; its log is kept beside."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path

TURNSERVER = shutil.which("turnserver")
USER, PASSWORD = "proctor", "relay-secret"


def free_udp_port(ip: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((ip, 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def running_coturn(folder: Path, ip: str = "127.0.0.1") -> AsyncIterator[tuple[int, Path]]:
    """coturn on `ip` until the block ends; yields its port and its log file."""
    assert TURNSERVER is not None
    folder.mkdir(parents=True, exist_ok=True)
    port, log = free_udp_port(ip), folder / "turn.log"
    process = await asyncio.create_subprocess_exec(
        TURNSERVER,
        *("-n", f"--listening-ip={ip}", f"--relay-ip={ip}", f"--listening-port={port}"),
        *("--lt-cred-mech", f"--user={USER}:{PASSWORD}", "--realm=proctor.test"),
        *("--no-tls", "--no-dtls", "--no-cli", "--allow-loopback-peers", "--simple-log", "-V"),
        *(f"--userdb={folder / 'turndb'}", f"--pidfile={folder / 'turn.pid'}"),
        *("--log-file=stdout",),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
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
            await read_until(f"UDP listener opened on: {ip}:{port}")
        reader = asyncio.create_task(read_until(None))  # the rest of its log, to the end
        yield port, log
    finally:
        process.terminate()
        await process.wait()
        if reader is not None:
            await reader
