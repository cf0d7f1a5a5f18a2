"""The SQLite transaction machinery: one connection on one thread, WAL, synchronous=FULL,
grouped commits with a savepoint per write.

Writes queue up while a transaction is being committed; the writer then runs everything that
arrived meanwhile in one transaction (one fsync for the group), each write in its own
savepoint so that one failing write does not undo the others. A write's future resolves only
after COMMIT returned, so callers acknowledge only what is durable. Reads run on the same
thread, between groups.

`connect` opens a connection to the store's file with the store's settings and runs the
registered migrations (the store's own and the components passed in, the programme's say);
every connection to the database file is opened here.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from proctor_server.store.files import BlobDir
from proctor_server.store.migrations import STORE_COMPONENTS, migrate
from proctor_server.store.sealing import Sealer
from shared.errors import ConfigError

T = TypeVar("T")
Op = Callable[[sqlite3.Connection], Any]

MAX_GROUP = 512  # writes per transaction at most


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


class Database:
    """The connection thread and the group writer; the table modules build on `_read` and
    `_write`. Open with `await open()`; `close()` is idempotent."""

    def __init__(
        self,
        path: Path | str,
        data_dir: Path | str | None = None,
        *,
        components: Mapping[str, Sequence[str]] | None = None,
        sealer: Sealer | None = None,
    ):
        self.path = Path(path)
        root = (
            Path(data_dir)
            if data_dir is not None
            else self.path.with_name(self.path.stem + "-files")
        )
        self.blobs = BlobDir(root, sealer)
        self._components = dict(components or {})
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        self._conn: sqlite3.Connection | None = None
        self._queue: asyncio.Queue[tuple[Op, asyncio.Future[Any]]] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._closed = False
        self.commits = 0  # transactions committed by the group writer (for benchmarks)
        self.writes = 0

    # ------------------------------------------------------------ lifecycle

    def _connect(self) -> None:
        conn = connect(self.path, self._components)
        conn.row_factory = sqlite3.Row  # rows are read by column name
        self.blobs.prepare()
        self._conn = conn

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._connect)
        self._queue = asyncio.Queue()
        self._writer = asyncio.create_task(self._write_loop(), name="store-writer")

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._writer is not None:
            self._writer.cancel()
            try:
                await self._writer
            except asyncio.CancelledError:
                pass
        if self._queue is not None:
            while not self._queue.empty():  # nothing queued is dropped silently
                _, fut = self._queue.get_nowait()
                if not fut.done():
                    fut.set_exception(RuntimeError("store closed"))
        conn = self._conn
        if conn is not None:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self._executor, conn.close)
        self._executor.shutdown(wait=True)

    # ------------------------------------------------------------ reads and grouped writes

    async def _read(self, op: Callable[[sqlite3.Connection], T]) -> T:
        assert self._conn is not None, "store not open"
        loop = asyncio.get_running_loop()
        conn = self._conn
        return await loop.run_in_executor(self._executor, op, conn)

    async def _write(self, op: Callable[[sqlite3.Connection], T]) -> T:
        if self._queue is None or self._closed:
            raise RuntimeError("store not open")
        fut: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((op, fut))
        return await fut

    async def _write_loop(self) -> None:
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        while True:
            group = [await self._queue.get()]
            while len(group) < MAX_GROUP and not self._queue.empty():
                group.append(self._queue.get_nowait())
            try:
                results = await loop.run_in_executor(self._executor, self._commit_group, group)
            except Exception as exc:  # the whole transaction failed: nothing is acknowledged
                for _, fut in group:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            for (_, fut), (ok, value) in zip(group, results, strict=True):
                if fut.done():
                    continue
                if ok:
                    fut.set_result(value)
                else:
                    fut.set_exception(value)

    def _commit_group(self, group: list[tuple[Op, Any]]) -> list[tuple[bool, Any]]:
        conn = self._conn
        assert conn is not None
        results: list[tuple[bool, Any]] = []
        conn.execute("BEGIN IMMEDIATE")
        try:
            for op, _ in group:
                conn.execute("SAVEPOINT w")
                try:
                    results.append((True, op(conn)))
                    conn.execute("RELEASE w")
                except Exception as exc:
                    conn.execute("ROLLBACK TO w")
                    conn.execute("RELEASE w")
                    results.append((False, exc))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self.commits += 1
        self.writes += len(group)
        return results
