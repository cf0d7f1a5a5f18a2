"""A throwaway PostgreSQL cluster for the tests and the benchmarks: Debian's `postgresql`
binaries, a data folder under a temporary directory, a Unix socket there and no TCP port, trust
authentication for one role, and a fresh database per test.

PostgreSQL refuses to run as root: under root the server runs as the `postgres` system user
(the package creates it) with the folder handed over to it. Where the binaries are missing the
tests that need the cluster are skipped and say why; `tools/system-deps` installs them.

`durable=False` (the tests) turns off fsync: a test kills server processes, never the machine,
so what it proves does not rest on the disk's flushes, and it runs faster. The benchmarks keep
fsync on, as a real deployment does."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROLE = "proctor"


def binaries() -> Path | None:
    """The folder of `initdb` and `pg_ctl`, or None where PostgreSQL is not installed."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), reverse=True)
    return versions[0].parent if versions else None


class Cluster:
    """One running cluster; `dsn(name)` addresses a database in it, `create(name)` makes one."""

    def __init__(self, root: Path, *, durable: bool = False) -> None:
        bindir = binaries()
        if bindir is None:
            raise FileNotFoundError("PostgreSQL's server binaries (Debian: postgresql)")
        self.bindir = bindir
        self.root = root
        self.data = root / "data"
        self.socket_dir = root / "sock"
        self.durable = durable
        self.port = 5432
        self._user: str | None = "postgres" if os.geteuid() == 0 else None
        self._names = itertools.count(1)

    def _run(self, *argv: str) -> None:
        cmd = list(argv)
        if self._user is not None:
            cmd = ["runuser", "-u", self._user, "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        if self._user is not None:
            shutil.chown(self.root, self._user)
            shutil.chown(self.socket_dir, self._user)
            self.root.chmod(0o755)
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            ROLE,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        options = [
            f"-k {self.socket_dir}",
            "-c listen_addresses=''",
            f"-p {self.port}",
            "-c max_connections=300",
            "-c shared_buffers=64MB",
        ]
        if not self.durable:
            options += ["-c fsync=off", "-c full_page_writes=off", "-c synchronous_commit=off"]
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.root / "server.log"),
            "-o",
            " ".join(options),
            "-w",
            "start",
        )

    def stop(self) -> None:
        if self.data.exists():
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://{ROLE}@/{database}?host={self.socket_dir}&port={self.port}"

    def create(self, prefix: str = "t") -> str:
        """A new empty database; its DSN."""
        import psycopg

        name = f"{prefix}_{next(self._names)}"
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" STRATEGY FILE_COPY')
        return self.dsn(name)


def running_cluster(*, durable: bool = False) -> Iterator[Cluster]:
    """A started cluster in a temporary folder, stopped and removed after use."""
    with tempfile.TemporaryDirectory(prefix="pg-") as tmp:
        cluster = Cluster(Path(tmp), durable=durable)
        cluster.start()
        try:
            yield cluster
        finally:
            cluster.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Cluster]:
    """The session's cluster (skipped, with the reason, where PostgreSQL is missing)."""
    if binaries() is None:
        pytest.skip("PostgreSQL is not installed (Debian: postgresql; tools/system-deps)")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg is not installed (the server extra)")
    yield from running_cluster()
