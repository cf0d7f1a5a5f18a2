"""The store contract's fixtures: one `store` per implementation.

Every test in tests/store/ that takes `store` runs once per entry of `OPENERS`: SQLite, and
PostgreSQL (a fresh database of the session's cluster, `tests.support.postgres`; skipped with
the reason where PostgreSQL is not installed). The records built here go straight to the store, not through the server."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

import pytest

from proctor_server.store import (
    AttemptRecord,
    ExamRecord,
    SqliteStore,
    Store,
    TicketRecord,
)
from proctor_server.store.postgres.store import PostgresStore
from proctor_server.vision.calibration import CalibrationStore
from shared.questions import Question
from shared.shuffle import order_for
from shared.states import AttemptState, Trigger
from shared.vocabulary import Mode
from tests.support.postgres import Cluster, postgres  # noqa: F401 (the session's cluster)

NOW = datetime(2026, 7, 25, 6, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)

QUESTIONS = [
    Question(id="q1", text="HTTPS port?", options=["21", "80", "443"], answer=[2], points=5),
    Question(id="q2", text="Clouds?", options=["S3", "OSS", "vi"], answer=[0, 1], points=5),
    Question(id="q3", text="DNS is for?", options=["names", "mail"], answer=[0], points=5),
    Question(id="q4", text="404?", options=["ok", "not found"], answer=[1], points=5),
]
TRIAL = QUESTIONS[:2]
PASS = 12


class ContractStore(Store, CalibrationStore, Protocol):
    """What every store of the project implements: the server's `Store` and the ports of the
    features that keep data (calibrations)."""


async def _sqlite(tmp_path: Path) -> ContractStore:
    store = SqliteStore(tmp_path / "contract.db")
    await store.open()
    return store


async def _postgres(tmp_path: Path, cluster: Cluster | None) -> ContractStore:
    assert cluster is not None
    store = PostgresStore(cluster.create(), tmp_path / "files")
    await store.open()
    return store


OPENERS: dict[str, Callable[[Path, Cluster | None], Awaitable[ContractStore]]] = {
    "sqlite": lambda tmp_path, _: _sqlite(tmp_path),
    "postgres": _postgres,
}


@pytest.fixture(params=sorted(OPENERS))
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ContractStore]:
    # the session's PostgreSQL cluster, started only when a PostgreSQL store is asked for
    cluster = request.getfixturevalue("postgres") if request.param == "postgres" else None
    opened = await OPENERS[request.param](tmp_path, cluster)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture(params=["postgres", "sqlite"])
def database(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path | str:
    """One empty database per test for tests that open (and reopen) stores on it themselves:
    a SQLite file's path, or a PostgreSQL URL (`proctor_server.store.make_store` takes both;
    a PostgreSQL store's files default to a folder in the working directory: the test's)."""
    monkeypatch.chdir(tmp_path)
    if request.param == "postgres":
        cluster: Cluster = request.getfixturevalue("postgres")
        return cluster.create()
    return tmp_path / "exam.db"


_ids = itertools.count(1)


def exam_record(
    starts_at: datetime = NOW, duration: timedelta = HOUR, exam_id: str | None = None
) -> ExamRecord:
    return ExamRecord(
        id=exam_id or f"e-{next(_ids)}",
        title="Cloud Practitioner",
        starts_at=starts_at,
        duration=duration,
        questions=QUESTIONS,
        trial_questions=TRIAL,
        pass_score=PASS,
        snapshot_interval_s=20,
        warning_limit=2,
        created_at=NOW - HOUR,
    )


def attempt_record(
    exam: ExamRecord,
    ticket: TicketRecord,
    *,
    attempt_id: str | None = None,
    mode: Mode = Mode.EXAM,
    created_at: datetime = NOW,
    ends_at: datetime | None = None,
) -> AttemptRecord:
    seed = f"{next(_ids):032x}"
    return AttemptRecord(
        id=attempt_id or f"a-{next(_ids)}",
        exam_id=exam.id,
        ticket=ticket.token,
        mode=mode,
        state=AttemptState.WAITING,
        seed=seed,
        order=order_for(seed, TRIAL if mode is Mode.TRIAL else QUESTIONS),
        created_at=created_at,
        ends_at=ends_at or exam.window.ends_at,
    )


@dataclass
class Seated:
    """An exam, one ticket, and that ticket's exam attempt."""

    exam: ExamRecord
    ticket: TicketRecord
    attempt: AttemptRecord


async def seat(
    store: Store,
    *,
    open_paper: bool = True,
    code: str = "C00001",
    exam: ExamRecord | None = None,
) -> Seated:
    """A candidate at an exam: the attempt in progress (or waiting with `open_paper=False`)."""
    if exam is None:
        exam = exam_record()
        await store.create_exam(exam)
    ticket = TicketRecord(
        token=f"tk-{next(_ids)}", exam_id=exam.id, candidate_code=code, name="Ada Lovelace"
    )
    await store.create_ticket(ticket)
    attempt = attempt_record(exam, ticket)
    await store.create_attempt(attempt)
    if open_paper:
        for trigger in (Trigger.IDENTITY_ACCEPTED, Trigger.PAPER_RELEASED):
            attempt, _ = await store.transition(
                attempt.id, trigger, NOW, "test", questions=QUESTIONS, pass_score=PASS
            )
    return Seated(exam, ticket, attempt)
