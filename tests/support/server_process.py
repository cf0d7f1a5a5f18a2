"""The staff command line and `proctor-server serve` as real processes, for the tests that kill
a server or run several: `cli` runs one command and returns what it printed; `ServerProcess`
starts `serve` on a free port and knows its address once it listens."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

CLI = [sys.executable, "-m", "proctor_server.cli"]


def cli(*args: str) -> str:
    done = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


class ServerProcess:
    def __init__(self, db: Path | str, *extra: str, log: Path | None = None):
        """`log`: a file for the server's log (default: none kept)."""
        with open(log or "/dev/null", "w") as err:
            self.proc = subprocess.Popen(
                [*CLI, "serve", "--db", str(db), "--port", "0", "--analysis", "basic", *extra],
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
            )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # blocks until the server accepts connections
        assert line.startswith("listening on http://"), line
        self.url = line.split()[-1]
        self.ws_url = self.url.replace("http://", "ws://")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
