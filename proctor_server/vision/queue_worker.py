"""An analysis worker: takes jobs from the queue table (`queue_pool`), runs them, stores the
result and tells the waiting server. `proctor-server analysis-worker --db postgresql://…
--processes N` runs N of these; each loads the models once and takes one job at a time, so a
worker on a slow machine simply takes fewer. Stopping (SIGTERM, Ctrl+C) finishes the job in
hand first."""

from __future__ import annotations

import logging
import os
import signal
import socket
import traceback
from typing import Any

import psycopg

from proctor_server.vision import job_codec
from proctor_server.vision.queue_pool import DONE, JOBS, LEASE_S, NEW_JOB, PREPARE, TRIES

log = logging.getLogger(__name__)

IDLE_POLL_S = 1.0  # without a notification, look again this often (leases run out silently)

_CLAIM = f"""
UPDATE analysis_jobs SET claimed_by = %s, claimed_at = now(), tries = tries + 1
WHERE id = (
    SELECT id FROM analysis_jobs
    WHERE NOT done AND tries < {TRIES}
      AND (claimed_at IS NULL OR claimed_at < now() - interval '{LEASE_S} seconds')
    ORDER BY priority, id
    FOR UPDATE SKIP LOCKED
    LIMIT 1
)
RETURNING id, ref, job, args
"""
_GIVE_UP = f"""
UPDATE analysis_jobs SET done = true, ok = false,
    result = convert_to('no analysis worker could finish it in {TRIES} tries', 'UTF8')
WHERE NOT done AND tries >= {TRIES} AND claimed_at < now() - interval '{LEASE_S} seconds'
RETURNING ref
"""


class Worker:
    def __init__(self, dsn: str, name: str | None = None) -> None:
        self.dsn = dsn
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.done = 0
        self._stopping = False

    def stop(self, *_: Any) -> None:
        self._stopping = True

    def run(self, max_jobs: int | None = None) -> None:
        """Work until stopped (or `max_jobs` done)."""
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            with conn.transaction():
                conn.execute(PREPARE)
            conn.execute(f"LISTEN {NEW_JOB}")
            JOBS["warm"]()
            log.info("analysis worker %s ready", self.name)
            while not self._stopping and (max_jobs is None or self.done < max_jobs):
                if not self._one(conn):
                    self._give_up_stale(conn)
                    for _ in conn.notifies(timeout=IDLE_POLL_S, stop_after=1):
                        pass

    def _one(self, conn: psycopg.Connection[Any]) -> bool:
        row = conn.execute(_CLAIM, (self.name,)).fetchone()
        if row is None:
            return False
        job_id, ref, name, args = int(row[0]), str(row[1]), str(row[2]), bytes(row[3])
        try:
            result = job_codec.dumps(JOBS[name](*job_codec.loads(args)))
            ok = True
        except Exception:
            log.exception("analysis job %s (%s) failed", job_id, name)
            result, ok = traceback.format_exc(limit=3).encode(), False
        with conn.transaction():
            conn.execute(
                "UPDATE analysis_jobs SET done = true, ok = %s, result = %s"
                " WHERE id = %s AND claimed_by = %s",
                (ok, result, job_id, self.name),
            )
            conn.execute("SELECT pg_notify(%s, %s)", (DONE, ref))
        self.done += 1
        return True

    def _give_up_stale(self, conn: psycopg.Connection[Any]) -> None:
        with conn.transaction():
            for (ref,) in conn.execute(_GIVE_UP).fetchall():
                conn.execute("SELECT pg_notify(%s, %s)", (DONE, str(ref)))


def work(dsn: str) -> None:
    """One worker process's life (the command starts several)."""
    worker = Worker(dsn)
    signal.signal(signal.SIGTERM, worker.stop)
    signal.signal(signal.SIGINT, worker.stop)
    worker.run()
