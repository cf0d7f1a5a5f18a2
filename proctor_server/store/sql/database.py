"""The transaction machinery both stores share: one connection on one thread, grouped
commits with a savepoint per write.

Writes queue up while a transaction is being committed; the store's thread then runs
everything that arrived meanwhile in one transaction (one flush for the group), each write in
its own savepoint so that one failing write does not undo the others (a group made only of
`repeatable` writes first runs without savepoints, and again with them if one fails). A write's future
resolves only after COMMIT returned, so callers acknowledge only what is durable. Reads run on
the same thread, between groups, each seeing the writes queued before it and none queued after
it. The event loop hands work over with one queue entry per call (no executor future, and
no wake-up of the store's thread while it sleeps through a commit window) and gets the
outcomes of a whole group back with one wake-up.
`CommitPolicy` sets how writes are grouped (the operator's `--commit-window-ms`,
`--commit-max`).

A store's engine subclasses `Database` with its `dialect`, `_open_connection` (on the store's
thread: connect and migrate) and `_default_blob_root`: `sqlite.database`, `postgres.database`.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from proctor_server.store.files import BlobDir
from proctor_server.store.sealing import Fields, Sealer
from proctor_server.store.sql.chain_heads import ChainHeads, heads_of
from proctor_server.store.sql.connection import SQLITE, Connection, Dialect

T = TypeVar("T")
log = logging.getLogger(__name__)
Op = Callable[[Any], Any]

MAX_GROUP = 512  # writes per transaction at most (the default)
# Times a write that lost to another process's transaction (PostgreSQL chose it to break a
# deadlock) runs again, in a transaction of its own after the group's, before it fails.
RETRIES = 3


@dataclass(frozen=True, slots=True)
class CommitPolicy:
    """How writes are grouped into transactions. `window_ms`: after the first write of a group
    arrives, wait this long for more before committing (0: commit at once whatever arrived while
    the last transaction was written). `max_group`: writes per transaction at most."""

    window_ms: float = 0.0
    max_group: int = MAX_GROUP

    def __post_init__(self) -> None:
        if self.window_ms < 0 or self.max_group < 1:
            raise ValueError("the commit window must be >= 0 and the group size >= 1")


# One unit of work for the store's thread: (operation, its future, what it is: READ, WRITE
# or REPEATABLE, a write whose every effect is in the transaction, so it may run again).
READ, WRITE, REPEATABLE = 0, 1, 2
_Job = tuple[Op, "asyncio.Future[Any]", int]
_STOP = None


class Database:
    """The connection thread and the group writer; the table modules build on `_read` and
    `_write`. Open with `await open()`; `close()` is idempotent."""

    dialect: Dialect = SQLITE

    def __init__(
        self,
        target: Path | str,
        data_dir: Path | str | None = None,
        *,
        components: Mapping[str, Sequence[str]] | None = None,
        sealer: Sealer | None = None,
        commits: CommitPolicy | None = None,
    ):
        self.target = target
        root = Path(data_dir) if data_dir is not None else self._default_blob_root()
        self.blobs = BlobDir(root, sealer)
        self.fields = Fields(sealer)  # personal fields sealed under the same key
        self._components = dict(components or {})
        policy = commits or CommitPolicy()
        most = self.dialect.max_group
        if most is not None and policy.max_group > most:
            policy = CommitPolicy(policy.window_ms, most)
        self.policy = policy
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._conn: Any = None
        self._open = False
        self._closed = False
        self.commits = 0  # transactions committed by the group writer (for benchmarks)
        self.writes = 0

    # ------------------------------------------------------------ lifecycle

    def _default_blob_root(self) -> Path:
        """Where photos and clips go when no data folder is given."""
        raise NotImplementedError

    def _open_connection(self) -> Any:
        """On the store's thread: a connection with the schema migrated, rows read by name."""
        raise NotImplementedError

    def _connect(self, _: Any = None) -> None:
        conn = self._open_connection()
        try:
            self.blobs.prepare()
            self._rename_blobs(conn)
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    def _rename_blobs(self, conn: Connection) -> None:
        """Carry out the file renames a migration queued (reference photos once named after
        the raw ticket): each file rewritten under its new name, then the old one removed and
        the rename forgotten, so a crash midway is finished at the next start."""
        for row in conn.execute("SELECT old, new FROM blob_renames").fetchall():
            data = self.blobs.read(row["old"])
            if data is not None:
                self.blobs.write(row["new"], data)
                self.blobs.remove(row["old"])
            conn.execute("DELETE FROM blob_renames WHERE old = ?", (row["old"],))

    async def open(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._run, name="store", daemon=True)
        self._thread.start()
        try:
            await self._submit(self._connect, READ)
        except BaseException:
            self._jobs.put(_STOP)
            await asyncio.to_thread(self._thread.join)
            self._closed = True
            raise
        self._open = True

    async def close(self) -> None:
        """Run what is queued, then close the connection and end the thread."""
        if self._closed:
            return
        self._closed = True
        self._open = False
        if self._thread is None:
            return
        self._jobs.put(_STOP)
        await asyncio.to_thread(self._thread.join)

    # ------------------------------------------------------------ reads and grouped writes

    def _submit(self, op: Callable[[Any], T], kind: int) -> asyncio.Future[T]:
        assert self._loop is not None
        fut: asyncio.Future[T] = self._loop.create_future()
        self._jobs.put((op, fut, kind))
        return fut

    def _read(self, op: Callable[[Any], T]) -> asyncio.Future[T]:
        """Run `op` on the store's thread; await its outcome. (The future itself, not a
        coroutine around it: one object less on every call.)"""
        assert self._open, "store not open"
        return self._submit(op, READ)

    def _write(self, op: Callable[[Any], T], *, repeatable: bool = False) -> asyncio.Future[T]:
        """Run `op` in the next group's transaction; await its outcome, settled once that
        committed. `repeatable`: all `op` does is in the transaction (no Python state changed,
        nothing outside the database), so a group made only of such writes first runs without
        a savepoint per write, and again with them if one of its writes fails."""
        if not self._open:
            raise RuntimeError("store not open")
        return self._submit(op, REPEATABLE if repeatable else WRITE)

    # ------------------------------------------------------------ the store's thread

    def _run(self) -> None:
        """Take what is queued, commit the writes as one group, run the reads, hand every
        outcome back to the event loop at once; until the stop mark, with everything queued
        before it done.

        A write that finds the store idle opens the commit window: the thread sleeps through
        it, then takes everything queued meanwhile at once. (Waiting on the queue instead
        would wake the thread, and make the event loop wake it, for every write that joins.)"""
        jobs, policy = self._jobs, self.policy
        window = policy.window_ms / 1000
        held: deque[_Job] = deque()  # taken from the queue, not yet run
        stopping = False
        while held or not stopping:
            if not held:
                first = jobs.get()
                if first is _STOP:
                    break
                held.append(first)
                if window and first[2] != READ:
                    time.sleep(window)
            if not stopping:
                stopping = _take_queued(jobs, held)
            self._hand_back(self._work(_next_batch(held, policy.max_group)))
            if getattr(self._conn, "broken", False):
                self._reconnect()
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def _reconnect(self) -> None:
        """A new connection in place of one the database server dropped (PostgreSQL restarted,
        or ended this session): the writes that failed with it were not acknowledged, their
        clients send them again. While the server is away the next batch tries again."""
        try:
            conn = self._open_connection()
        except Exception as exc:
            log.warning("the database is unreachable: %s", exc)
            return
        old, self._conn = self._conn, conn
        try:
            old.close()
        except Exception:
            pass

    def _work(self, batch: list[_Job]) -> list[tuple[asyncio.Future[Any], bool, Any]]:
        """The batch's writes as one group, and its reads: those queued before the first
        write run before the group, those after it once it committed (`_run` ends a batch at
        a read that follows writes). So each read sees the writes queued before it and none
        queued after it, as if each job had run alone in turn."""
        outcomes: list[tuple[asyncio.Future[Any], bool, Any]] = []
        first_write = next((k for k, job in enumerate(batch) if job[2]), len(batch))
        self._reads(batch[:first_write], outcomes)
        group = [job for job in batch if job[2]]
        for tries in range(RETRIES + 1):
            if not group:
                break
            try:
                results = self._commit_group(group)
            except Exception as exc:  # the whole transaction failed: nothing is acknowledged
                results = [(False, exc)] * len(group)
            again: list[_Job] = []
            for job, (ok, value) in zip(group, results, strict=True):
                if not ok and tries < RETRIES and self.dialect.retryable(value):
                    again.append(job)  # lost a deadlock to another process: run it again
                else:
                    outcomes.append((job[1], ok, value))
            group = again
        self._reads(batch[first_write:], outcomes)
        return outcomes

    def _reads(
        self, jobs: list[_Job], outcomes: list[tuple[asyncio.Future[Any], bool, Any]]
    ) -> None:
        """Run the reads among `jobs`, in order, adding their outcomes."""
        for op, fut, kind in jobs:
            if kind != READ:
                continue
            try:
                outcomes.append((fut, True, op(self._conn)))
            except Exception as exc:
                outcomes.append((fut, False, exc))

    def _hand_back(self, outcomes: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
        assert self._loop is not None
        try:
            self._loop.call_soon_threadsafe(_resolve, outcomes)
        except RuntimeError:  # the event loop is closed: nobody is waiting any more
            pass

    def _commit_group(self, group: list[_Job]) -> list[tuple[bool, Any]]:
        """The group's transaction; the audit chains' heads it moves are kept on the
        connection meanwhile (`chain_heads`) and written once each before COMMIT."""
        conn = self._conn
        assert conn is not None
        conn.chain_heads = ChainHeads()
        try:
            return self._run_group(conn, group)
        finally:
            conn.chain_heads = None

    def _run_group(self, conn: Any, group: list[_Job]) -> list[tuple[bool, Any]]:
        results: list[tuple[bool, Any]] = []
        heads: ChainHeads = conn.chain_heads
        conn.execute(self.dialect.begin)
        if len(group) == 1:  # a lone write needs no savepoint: its transaction is its own
            return self._commit_one(conn, group[0][0])
        if all(kind == REPEATABLE for _, _, kind in group):
            done = self._commit_all(conn, group)
            if done is not None:
                return done
            conn.execute(self.dialect.begin)  # one failed: again, each write in a savepoint
        release = self.dialect.release_savepoints
        try:
            for op, _, _ in group:
                conn.execute("SAVEPOINT w")
                mark = heads.mark()
                try:
                    results.append((True, op(conn)))
                    if release:
                        conn.execute("RELEASE w")
                except Exception as exc:
                    conn.execute("ROLLBACK TO w")  # the newest savepoint of that name
                    heads.back_to(mark)
                    if release:
                        conn.execute("RELEASE w")
                    results.append((False, exc))
            _commit(conn)
        except BaseException:
            if conn.in_transaction:
                _rollback(conn)
            raise
        self.commits += 1
        self.writes += len(group)
        return results

    def _commit_all(self, conn: Any, group: list[_Job]) -> list[tuple[bool, Any]] | None:
        """The group's writes without savepoints (each costs a statement and makes the first
        change of every page dearer), committed when all succeed; None, rolled back, when
        one fails."""
        try:
            results: list[tuple[bool, Any]] = [(True, op(conn)) for op, _, _ in group]
        except Exception:
            _rollback(conn)
            return None
        except BaseException:
            _rollback(conn)
            raise
        _commit(conn)
        self.commits += 1
        self.writes += len(group)
        return results

    def _commit_one(self, conn: Any, op: Op) -> list[tuple[bool, Any]]:
        try:
            outcome: tuple[bool, Any] = (True, op(conn))
        except Exception as exc:
            _rollback(conn)
            outcome = (False, exc)
        except BaseException:
            _rollback(conn)
            raise
        else:
            _commit(conn)
        self.commits += 1
        self.writes += 1
        return [outcome]


def _commit(conn: Any) -> None:
    """The moved audit heads written, then COMMIT; a failed one leaves no transaction open
    (and is raised)."""
    heads = heads_of(conn)
    try:
        if heads is not None:
            heads.write(conn)
        conn.execute("COMMIT")
    except BaseException:
        if heads is not None:
            heads.forget()
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _rollback(conn: Any) -> None:
    """ROLLBACK, and the audit heads the transaction moved forgotten."""
    heads = heads_of(conn)
    if heads is not None:
        heads.forget()
    conn.execute("ROLLBACK")


def _resolve(outcomes: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    """On the event loop: settle the futures of one batch (a caller that gave up is skipped)."""
    for fut, ok, value in outcomes:
        if fut.done():
            continue
        if ok:
            fut.set_result(value)
        else:
            fut.set_exception(value)


def _take_queued(jobs: queue.SimpleQueue[_Job | None], held: deque[_Job]) -> bool:
    """Move every job queued now into `held`, in order; True when the stop mark was among
    them (it is queued last: nothing follows it)."""
    while True:
        try:
            job = jobs.get_nowait()
        except queue.Empty:
            return False
        if job is _STOP:
            return True
        held.append(job)


def _next_batch(held: deque[_Job], max_group: int) -> list[_Job]:
    """The next batch from the front of `held`: jobs in order up to `max_group` writes, ended
    by a read that follows writes (they commit, then it runs: no write queued after it joins
    them, so it sees exactly the writes queued before it)."""
    batch: list[_Job] = []
    writes = 0
    while held and writes < max_group:
        job = held.popleft()
        batch.append(job)
        if job[2] != READ:
            writes += 1
        elif writes:
            break
    return batch
