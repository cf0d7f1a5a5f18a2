"""The local outbox: what the candidate did, kept on disk until the server acknowledges it.

One SQLite file in the candidate's per-user data directory (the path is injectable). Answers,
events, the postal address, the submission and snapshots go in as the exact frames that will be
sent; the runtime sends them in order and deletes each one when its `ack` arrives. After a
crash or a lost connection, whatever is still here is sent again (the server ignores repeats).
The file also remembers the session (server, ticket, mode) so a restarted app resumes.

Several exams can share one file: every row belongs to a *scope* (the server, the ticket and the
mode), and an outbox object only sees its own scope.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.errors import ProctorError

SCHEMA_VERSION = 1
DEFAULT_SNAPSHOT_CAP = 40  # unsent snapshots kept at most; older ones give way (bounded disk)
FILE_NAME = "outbox.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    scope TEXT NOT NULL,
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    text TEXT,
    frame BLOB,
    created_at REAL NOT NULL,
    UNIQUE (scope, id)
);
CREATE TABLE IF NOT EXISTS session (
    scope TEXT PRIMARY KEY,
    server TEXT NOT NULL,
    ticket TEXT NOT NULL,
    mode TEXT NOT NULL,
    updated_at REAL NOT NULL,
    finished INTEGER NOT NULL DEFAULT 0
);
"""


class OutboxError(ProctorError):
    """The outbox file cannot be opened or written (not a database, no permission, full disk)."""


@dataclass(frozen=True, slots=True)
class OutboxItem:
    seq: int
    id: str
    kind: str  # answer | event | profile | submit | snapshot
    data: str | bytes  # a text frame or a binary frame, exactly as sent


@dataclass(frozen=True, slots=True)
class SessionRecord:
    server: str
    ticket: str
    mode: str
    finished: bool = False


def default_data_dir() -> Path:
    """The candidate's per-user data directory (PROCTOR_CLIENT_HOME overrides it)."""
    override = os.environ.get("PROCTOR_CLIENT_HOME")
    if override:
        return Path(override)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "proctor-client"


def default_path() -> Path:
    return default_data_dir() / FILE_NAME


def scope_of(server: str, ticket: str, mode: str) -> str:
    """A stable name for one candidate's attempt on one server (the ticket is not stored in it)."""
    digest = hashlib.sha256(f"{server.rstrip('/')}\n{ticket}\n{mode}".encode()).hexdigest()
    return digest[:32]


class Outbox:
    """Unsent work of one scope in a SQLite file. Calls are quick and synchronous."""

    def __init__(self, path: Path, scope: str, *, snapshot_cap: int = DEFAULT_SNAPSHOT_CAP) -> None:
        self.path = Path(path)
        self.scope = scope
        self.snapshot_cap = snapshot_cap
        self._db: sqlite3.Connection | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fresh = not self.path.exists()
            db = sqlite3.connect(self.path, isolation_level=None)
            self._db = db
            if fresh:
                with contextlib.suppress(OSError):
                    os.chmod(self.path, 0o600)  # it holds the admission ticket
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # survives a killed app; WAL keeps order
            db.execute("PRAGMA busy_timeout=5000")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise OutboxError(
                    f"outbox {self.path} was written by a newer version (schema {version})"
                )
            db.executescript(_SCHEMA)
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.Error as exc:
            self.close()
            raise OutboxError(f"cannot open the outbox {self.path}: {exc}") from None
        except OSError as exc:
            self.close()
            raise OutboxError(f"cannot create the outbox {self.path}: {exc}") from None
        except OutboxError:
            self.close()
            raise

    # ------------------------------------------------------------ items

    def add(self, id: str, kind: str, data: str | bytes) -> bool:
        """Keep one message; False when that id is already here (a repeat changes nothing)."""
        text, frame = (data, None) if isinstance(data, str) else (None, bytes(data))
        with self._write() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO outbox (scope, id, kind, text, frame, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (self.scope, id, kind, text, frame, time.time()),
            )
            added = cursor.rowcount == 1
            if added and kind == "snapshot":
                db.execute(
                    "DELETE FROM outbox WHERE scope = ? AND kind = 'snapshot' AND seq NOT IN"
                    " (SELECT seq FROM outbox WHERE scope = ? AND kind = 'snapshot'"
                    "  ORDER BY seq DESC LIMIT ?)",
                    (self.scope, self.scope, self.snapshot_cap),
                )
        return added

    def remove(self, id: str) -> bool:
        """Drop a message once the server acknowledged (or refused) it."""
        with self._write() as db:
            cursor = db.execute("DELETE FROM outbox WHERE scope = ? AND id = ?", (self.scope, id))
            return cursor.rowcount == 1

    def items(self, after: int = 0, limit: int | None = None) -> list[OutboxItem]:
        """Messages with a sequence number above `after`, oldest first."""
        sql = (
            "SELECT seq, id, kind, text, frame FROM outbox WHERE scope = ? AND seq > ? ORDER BY seq"
        )
        args: tuple[object, ...] = (self.scope, after)
        if limit is not None:
            sql += " LIMIT ?"
            args = (*args, limit)
        rows = self._read(sql, args)
        return [
            OutboxItem(seq, mid, kind, text if text is not None else bytes(frame))
            for seq, mid, kind, text, frame in rows
        ]

    def count(self, kind: str | None = None) -> int:
        if kind is None:
            rows = self._read("SELECT COUNT(*) FROM outbox WHERE scope = ?", (self.scope,))
        else:
            rows = self._read(
                "SELECT COUNT(*) FROM outbox WHERE scope = ? AND kind = ?", (self.scope, kind)
            )
        return int(rows[0][0])

    def ids(self) -> list[str]:
        rows = self._read("SELECT id FROM outbox WHERE scope = ? ORDER BY seq", (self.scope,))
        return [row[0] for row in rows]

    def clear(self) -> None:
        with self._write() as db:
            db.execute("DELETE FROM outbox WHERE scope = ?", (self.scope,))

    # ------------------------------------------------------------ the session

    def remember(self, server: str, ticket: str, mode: str) -> None:
        """Record the session so that a restarted app can resume it."""
        with self._write() as db:
            db.execute(
                "INSERT INTO session (scope, server, ticket, mode, updated_at, finished)"
                " VALUES (?, ?, ?, ?, ?, 0) ON CONFLICT (scope) DO UPDATE SET"
                " updated_at = excluded.updated_at",
                (self.scope, server, ticket, mode, time.time()),
            )

    def finish(self) -> None:
        """The attempt is over: nothing here will ever be accepted; forget the unsent work."""
        with self._write() as db:
            db.execute("DELETE FROM outbox WHERE scope = ?", (self.scope,))
            db.execute("UPDATE session SET finished = 1 WHERE scope = ?", (self.scope,))

    def session(self) -> SessionRecord | None:
        rows = self._read(
            "SELECT server, ticket, mode, finished FROM session WHERE scope = ?", (self.scope,)
        )
        if not rows:
            return None
        server, ticket, mode, finished = rows[0]
        return SessionRecord(server, ticket, mode, bool(finished))

    # ------------------------------------------------------------ plumbing

    def close(self) -> None:
        """Idempotent."""
        db, self._db = self._db, None
        if db is not None:
            db.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise OutboxError(f"the outbox {self.path} is closed")
        return self._db

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        db = self._conn()
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise OutboxError(f"cannot write the outbox {self.path}: {exc}") from None

    def _read(self, sql: str, args: tuple[object, ...]) -> list[tuple[Any, ...]]:
        try:
            return list(self._conn().execute(sql, args).fetchall())
        except sqlite3.Error as exc:
            raise OutboxError(f"cannot read the outbox {self.path}: {exc}") from None


def last_session(path: Path) -> SessionRecord | None:
    """The most recent unfinished session recorded in an outbox file, if any."""
    if not Path(path).exists():
        return None
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = db.execute(
                "SELECT server, ticket, mode FROM session WHERE finished = 0"
                " ORDER BY updated_at DESC LIMIT 1"
            ).fetchone()
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise OutboxError(f"cannot read the outbox {path}: {exc}") from None
    return None if row is None else SessionRecord(row[0], row[1], row[2])
