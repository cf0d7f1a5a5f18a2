"""SQLite's side of the store: `connect` (the file's settings and migrations; every
connection to the database file is opened here) and `SqliteDatabase`, the shared transaction
machinery (`sql.database`: one connection on one thread, grouped commits, a savepoint per
write, acknowledgement after COMMIT) on one file in WAL mode with synchronous=FULL.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path

from proctor_server.store.migrations import STORE_COMPONENTS, migrate
from proctor_server.store.sealing import Sealer
from proctor_server.store.sql.connection import SQLITE
from proctor_server.store.sql.database import MAX_GROUP, CommitPolicy, Database
from shared.errors import ConfigError

__all__ = ["MAX_GROUP", "CommitPolicy", "SqliteDatabase", "connect"]


def connect(
    path: Path | str,
    components: Mapping[str, Sequence[str]] | None = None,
    *,
    busy_timeout_ms: int = 5000,
    check_same_thread: bool = False,
) -> sqlite3.Connection:
    """A connection to the database file in autocommit mode (transactions are explicit), with
    the durability settings, and the store's own tables plus `components` migrated."""
    try:
        return _connect(path, components, busy_timeout_ms, check_same_thread)
    except sqlite3.Error as exc:  # a read-only or full disk, a file that is not a database...
        raise ConfigError(f"{path}: cannot open the database: {exc}") from None


def _connect(
    path: Path | str,
    components: Mapping[str, Sequence[str]] | None,
    busy_timeout_ms: int,
    check_same_thread: bool,
) -> sqlite3.Connection:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():  # personal data: the owner alone reads it (the WAL follows suit)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    conn = sqlite3.connect(
        path,
        isolation_level=None,
        timeout=busy_timeout_ms / 1000,
        check_same_thread=check_same_thread,
        factory=SqliteConnection,
    )
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        migrate(conn, {**STORE_COMPONENTS, **(components or {})})
    except BaseException:
        conn.close()
        raise
    return conn


class SqliteConnection(sqlite3.Connection):
    """A SQLite connection that names its dialect (the table modules ask it for row locks:
    none, SQLite's writer is alone)."""

    dialect = SQLITE


class SqliteDatabase(Database):
    """The shared machinery (`sql.database`) on a SQLite file: WAL, synchronous=FULL, one
    writer (BEGIN IMMEDIATE). Photos and clips default to a folder beside the file."""

    dialect = SQLITE

    def __init__(
        self,
        path: Path | str,
        data_dir: Path | str | None = None,
        *,
        components: Mapping[str, Sequence[str]] | None = None,
        sealer: Sealer | None = None,
        commits: CommitPolicy | None = None,
    ):
        self.path = Path(path)
        super().__init__(self.path, data_dir, components=components, sealer=sealer, commits=commits)

    def _default_blob_root(self) -> Path:
        return self.path.with_name(self.path.stem + "-files")

    def _open_connection(self) -> sqlite3.Connection:
        conn = connect(self.path, self._components)
        conn.row_factory = sqlite3.Row  # rows are read by column name
        return conn
