"""`QueuePool`: analysis jobs go to a table in PostgreSQL and any number of analysis workers
(`proctor-server analysis-worker`, on this machine or others) take them with `FOR UPDATE SKIP
LOCKED`; the result comes back by NOTIFY. It stands in for the local `VisionPool` when the
exam servers run on PostgreSQL (`serve --analysis-workers queue`): the servers keep each
attempt's tracker (which snapshot follows which), the workers only compute.

- Identity photos go before snapshots (a candidate waits for the verdict).
- A job a worker took and did not finish within `LEASE_S` (the worker died) is taken again by
  another, at most `TRIES` times in all.
- A job not answered within `WAIT_S` fails here: that snapshot goes unanalysed and is logged;
  the next one is tried (the analysis queue already keeps the latest per attempt).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from contextlib import suppress
from typing import Any, TypeVar

import psycopg

from proctor_server.vision import job_codec
from proctor_server.vision.worker import analyze_job, embed_job, identity_job, warm_job

T = TypeVar("T")
log = logging.getLogger(__name__)

JOBS: dict[str, Callable[..., Any]] = {
    "identity": identity_job,
    "analyze": analyze_job,
    "embed": embed_job,
    "warm": warm_job,
}
_NAMES = {fn: name for name, fn in JOBS.items()}
PRIORITY = {"identity": 0, "embed": 1, "analyze": 2, "warm": 3}
NEW_JOB = "analysis_jobs"  # the channel workers listen on
DONE = "analysis_done"  # the channel a worker tells a finished job's id on
LEASE_S = 30
TRIES = 3
WAIT_S = 60.0

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS analysis_jobs (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ref UUID NOT NULL UNIQUE,  -- chosen by the server, which waits for it before it inserts
    job TEXT NOT NULL,
    priority SMALLINT NOT NULL,
    args BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    claimed_by TEXT,
    claimed_at TIMESTAMPTZ,
    tries SMALLINT NOT NULL DEFAULT 0,
    done BOOLEAN NOT NULL DEFAULT false,
    ok BOOLEAN,
    result BYTEA
);
CREATE INDEX IF NOT EXISTS analysis_jobs_waiting
    ON analysis_jobs (priority, id) WHERE NOT done;
-- a job given up on after {TRIES} tries is answered as failed by the server that waits for it
"""


# The table made once, whoever starts first (a server or a worker): under the product's advisory
# lock class (cluster/postgres.py), key 1; run inside a transaction.
PREPARE = "SELECT pg_advisory_xact_lock(7301, 1);" + SCHEMA


async def prepare(conn: psycopg.AsyncConnection[Any]) -> None:
    """Create the queue's table once, whoever starts first."""
    async with conn.transaction():
        await conn.execute(PREPARE)


class JobFailed(RuntimeError):
    """The worker could not run the job (its message says why)."""


class QueuePool:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._listen: psycopg.AsyncConnection[Any] | None = None
        self._reader: psycopg.AsyncConnection[Any] | None = None
        self._pending: dict[str, asyncio.Future[tuple[bool, bytes]]] = {}
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Lock()
        self._closed = False
        self.restarts = 0  # the local pool's counter; workers restart on their own here

    async def _open(self) -> psycopg.AsyncConnection[Any]:
        async with self._ready:
            if self._conn is None:
                if self._closed:
                    raise RuntimeError("analysis queue closed")
                conn = await psycopg.AsyncConnection.connect(self.dsn, autocommit=True)
                await prepare(conn)
                self._reader = await psycopg.AsyncConnection.connect(self.dsn, autocommit=True)
                self._listen = await psycopg.AsyncConnection.connect(self.dsn, autocommit=True)
                await self._listen.execute(f"LISTEN {DONE}")
                self._task = asyncio.get_running_loop().create_task(self._answers())
                self._conn = conn
            return self._conn

    def warm(self) -> None:
        """The workers load their models when they start: nothing to do here."""

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        name = _NAMES.get(fn)
        if name is None:
            raise ValueError(f"{fn.__name__} is not an analysis job")
        conn = await self._open()
        ref = str(uuid.uuid4())
        fut: asyncio.Future[tuple[bool, bytes]] = asyncio.get_running_loop().create_future()
        self._pending[ref] = fut
        try:
            await conn.execute(  # one statement: the job and its notice commit together
                "WITH job AS (INSERT INTO analysis_jobs (ref, job, priority, args)"
                " VALUES (%s, %s, %s, %s) RETURNING id)"
                f" SELECT pg_notify('{NEW_JOB}', '') FROM job",
                (ref, name, PRIORITY[name], job_codec.dumps(args)),
            )
            ok, data = await asyncio.wait_for(fut, WAIT_S)
        except TimeoutError:
            raise JobFailed(f"no analysis worker answered within {WAIT_S:.0f} s") from None
        finally:
            self._pending.pop(ref, None)
        if not ok:
            raise JobFailed(data.decode(errors="replace"))
        result: T = job_codec.loads(data)
        return result

    async def _answers(self) -> None:
        """Take finished jobs' ids as workers announce them; read, hand over, delete."""
        assert self._listen is not None
        async for note in self._listen.notifies():
            if note.payload in self._pending:
                try:
                    await self._collect(note.payload)
                except psycopg.Error:
                    log.exception("the result of analysis job %s could not be read", note.payload)

    async def _collect(self, ref: str) -> None:
        assert self._reader is not None
        cur = await self._reader.execute(
            "DELETE FROM analysis_jobs WHERE ref = %s AND done RETURNING ok, result", (ref,)
        )
        row = await cur.fetchone()
        fut = self._pending.get(ref)
        if row is None or fut is None or fut.done():
            return
        fut.set_result((bool(row[0]), bytes(row[1] or b"")))

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for conn in (self._listen, self._reader, self._conn):
            if conn is not None:
                with suppress(Exception):
                    await conn.close()
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(RuntimeError("analysis queue closed"))
