"""A real Janus (Debian's `janus`) for tests: the shipped sample configuration
(examples/janus/) copied into a temporary folder, its folders pointed at copies holding only
the video room plugin and the WebSocket transport, the API on a free loopback port, run in the
foreground (`-F` config folder, no daemon) and stopped with SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import shutil
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

JANUS = shutil.which("janus")
ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "janus"
READY = "WebSockets thread started"
START_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class RunningJanus:
    url: str
    admin_key: str
    log: Path
    process: asyncio.subprocess.Process

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    async def stop(self) -> None:
        """Stop Janus now (SIGTERM), as a crash or a restart would."""
        if self.process.returncode is None:
            self.process.terminate()
        await self.process.wait()


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def library_folder(kind: str) -> Path:
    """Where Debian's janus keeps its plugins or transports (from the shipped janus.jcfg)."""
    text = (EXAMPLES / "janus.jcfg").read_text()
    found = re.search(rf'{kind}_folder = "([^"]+)"', text)
    assert found is not None, kind
    return Path(found.group(1))


def set_value(text: str, key: str, value: str) -> str:
    """Replace `key = ...` (the first, uncommented) in a .jcfg text."""
    new, count = re.subn(rf"(?m)^(\s*){key} = [^\n#]*", rf"\g<1>{key} = {value}", text, count=1)
    assert count == 1, key
    return new


def write_config(folder: Path, port: int, admin_key: str, nat: dict[str, str]) -> None:
    plugins, transports, empty = folder / "plugins", folder / "transports", folder / "none"
    for sub in (plugins, transports, empty):
        sub.mkdir(parents=True)
    (plugins / "libjanus_videoroom.so").symlink_to(
        library_folder("plugins") / "libjanus_videoroom.so"
    )
    (transports / "libjanus_websockets.so").symlink_to(
        library_folder("transports") / "libjanus_websockets.so"
    )
    core = (EXAMPLES / "janus.jcfg").read_text()
    for key, value in {
        "configs_folder": f'"{folder}"',
        "plugins_folder": f'"{plugins}"',
        "transports_folder": f'"{transports}"',
        "events_folder": f'"{empty}"',
        "loggers_folder": f'"{empty}"',
        "debug_level": "4",
    }.items():
        core = set_value(core, key, value)
    for key in [k for k in nat if re.search(rf"(?m)^\s*{k} = ", core)]:
        core = set_value(core, key, nat.pop(key))
    extra = "".join(f"\t{key} = {value}\n" for key, value in nat.items())
    core = core.replace("nat: {\n", "nat: {\n" + extra, 1)
    core = core.replace("general: {\n", "general: {\n\tdebug_timestamps = true\n", 1)
    (folder / "janus.jcfg").write_text(core)
    room = set_value(
        (EXAMPLES / "janus.plugin.videoroom.jcfg").read_text(), "admin_key", f'"{admin_key}"'
    )
    (folder / "janus.plugin.videoroom.jcfg").write_text(room)
    ws = set_value((EXAMPLES / "janus.transport.websockets.jcfg").read_text(), "ws_port", str(port))
    (folder / "janus.transport.websockets.jcfg").write_text(ws)


@contextlib.asynccontextmanager
async def running_janus(
    folder: Path, nat: dict[str, str] | None = None
) -> AsyncIterator[RunningJanus]:
    """Janus with the sample configuration in `folder` until the block ends; its output goes
    to folder/janus.log. `nat` adds settings to the nat section (e.g. a TURN server)."""
    assert JANUS is not None
    port, admin_key = free_tcp_port(), secrets.token_hex(8)
    write_config(folder, port, admin_key, nat or {})
    log = folder / "janus.log"
    process = await asyncio.create_subprocess_exec(
        JANUS,
        *("-F", str(folder), "-C", str(folder / "janus.jcfg"), "--disable-colors"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    lines: list[str] = []

    async def read_until(marker: str | None) -> None:
        assert process.stdout is not None
        with log.open("a") as out:
            while line := await process.stdout.readline():
                text = line.decode(errors="replace")
                lines.append(text)
                out.write(text)
                out.flush()
                if marker is not None and marker in text:
                    return
        if marker is not None:
            raise AssertionError(f"janus ended before {marker!r}:\n{''.join(lines)[-3000:]}")

    reader: asyncio.Task[None] | None = None
    try:
        async with asyncio.timeout(START_TIMEOUT_S):
            await read_until(READY)
        reader = asyncio.create_task(read_until(None))  # the rest of its log, to the end
        yield RunningJanus(f"ws://127.0.0.1:{port}", admin_key, log, process)
    finally:
        if process.returncode is None:
            process.terminate()
        try:
            async with asyncio.timeout(15):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()
        if reader is not None:
            await reader
