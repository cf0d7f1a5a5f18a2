"""Analysis through the PostgreSQL queue: a real `proctor-server analysis-worker` process takes
the jobs a server's `QueuePool` queues and gives the same figures as analysis run here; a job a
dead worker held is taken again; a row naming a foreign class is refused, not run."""

from __future__ import annotations

import asyncio
import os
import pickle
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator

import psycopg
import pytest

from proctor_server.vision import job_codec
from proctor_server.vision.queue_pool import DONE, JobFailed, QueuePool, prepare
from proctor_server.vision.worker import analyze_job, embed_job, identity_job
from tests.shared.vision import frames as F
from tests.support.postgres import Cluster


@pytest.fixture
def dsn(postgres: Cluster) -> str:
    return postgres.create("queue")


@pytest.fixture
def worker(dsn: str) -> Iterator[subprocess.Popen[str]]:
    """One real analysis-worker process (with one worker in it), stopped with SIGTERM."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "proctor_server.cli",
            "analysis-worker",
            "--db",
            dsn,
            "--processes",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    assert proc.stdout is not None
    assert "analysis workers started" in proc.stdout.readline()
    yield proc
    proc.terminate()
    proc.wait(timeout=60)


@pytest.fixture
async def pool(dsn: str) -> AsyncIterator[QueuePool]:
    queued = QueuePool(dsn)
    yield queued
    await queued.close()


async def test_a_worker_process_analyses_a_snapshot_as_this_process_would(
    pool: QueuePool, worker: subprocess.Popen[str]
) -> None:
    snapshot = F.jpeg(F.candidate())
    remote = await pool.run(analyze_job, snapshot)
    here = analyze_job(snapshot)
    assert remote is not None and here is not None
    assert remote.face_count == here.face_count == 1
    assert [f.box for f in remote.faces] == [f.box for f in here.faces]
    assert remote.embedding == pytest.approx(here.embedding)
    figures = await pool.run(identity_job, snapshot, snapshot)
    assert figures.distance == pytest.approx(0.0, abs=1e-6)
    assert await pool.run(embed_job, b"not an image") is None


async def test_many_jobs_at_once_each_get_their_own_answer(
    pool: QueuePool, worker: subprocess.Popen[str]
) -> None:
    images = [F.jpeg(F.candidate()), F.jpeg(F.empty_room()), F.jpeg(F.two_people())]
    results = await asyncio.gather(*(pool.run(analyze_job, image) for image in images * 3))
    assert [r.face_count if r else None for r in results] == [1, 0, 2] * 3


async def test_a_job_a_dead_worker_held_is_taken_again(
    dsn: str, pool: QueuePool, worker: subprocess.Popen[str]
) -> None:
    """The row as a worker killed mid-job leaves it: claimed long ago, never done."""
    ref = str(uuid.uuid4())
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        await prepare(conn)
        await conn.execute(f"LISTEN {DONE}")
        await conn.execute(
            "INSERT INTO analysis_jobs (ref, job, priority, args, claimed_by, claimed_at, tries)"
            " VALUES (%s, 'embed', 1, %s, 'dead:1', now() - interval '1 hour', 1)",
            (ref, job_codec.dumps((F.jpeg(F.candidate()),))),
        )
        async for note in conn.notifies(timeout=60):  # the worker announces what it finished
            if note.payload == ref:
                break
        cur = await conn.execute(
            "SELECT done, ok, claimed_by FROM analysis_jobs WHERE ref = %s", (ref,)
        )
        row = await cur.fetchone()
        assert row is not None
        assert row[0] and row[1] and row[2] != "dead:1"


async def test_a_job_naming_a_foreign_class_is_refused_not_run(
    dsn: str,
    pool: QueuePool,
    worker: subprocess.Popen[str],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    marker = tmp_path_factory.mktemp("foreign") / "ran"

    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, (f"touch {marker}",))

    with pytest.raises(job_codec.RefusedClass):
        job_codec.loads(pickle.dumps(Evil()))
    ref = str(uuid.uuid4())
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        await prepare(conn)
        await conn.execute(
            "INSERT INTO analysis_jobs (ref, job, priority, args) VALUES (%s, 'embed', 1, %s)",
            (ref, pickle.dumps((Evil(),))),
        )
    # the worker refuses it; a real job queued after it is still answered
    assert await pool.run(embed_job, F.jpeg(F.candidate())) is not None
    assert not marker.exists()


async def test_without_workers_a_job_fails_clearly(
    pool: QueuePool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("proctor_server.vision.queue_pool.WAIT_S", 0.5)
    with pytest.raises(JobFailed, match="no analysis worker answered"):
        await pool.run(embed_job, b"x")
