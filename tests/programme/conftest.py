from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from proctor_server.core.session import ticket_key
from proctor_server.programme.schema import MIGRATIONS
from proctor_server.programme.service import Programme, Settings
from proctor_server.store.base import AttemptRecord, ExamRecord
from proctor_server.store.sqlite import SqliteStore
from shared.questions import Question
from shared.shuffle import PaperOrder
from shared.states import AttemptState
from shared.vocabulary import Mode

SH = ZoneInfo("Asia/Shanghai")
QUESTIONS = [
    Question(
        id="q1", text="Which port does HTTPS use?", options=["21", "443"], answer=[1], points=50
    ),
    Question(id="q2", text="What is DNS for?", options=["names", "mail"], answer=[0], points=50),
]
ID_NUMBERS = ["11010519491231002X", "E12345678", "G87654321", "P11223344"]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "exam.db"


async def open_programme(db_path: Path, settings: Settings | None = None) -> Programme:
    """The programme over the server's store on `db_path` (its tables migrated)."""
    store = SqliteStore(db_path, components=MIGRATIONS)
    await store.open()
    return Programme(store, settings or Settings(SH))


async def close_programme(prog: Programme) -> None:
    await stored(prog).close()


@pytest.fixture
async def prog(db_path: Path) -> AsyncIterator[Programme]:
    opened = await open_programme(db_path)
    try:
        yield opened
    finally:
        await close_programme(opened)


def stored(prog: Programme) -> SqliteStore:
    store = prog.store
    assert isinstance(store, SqliteStore)
    return store


def query(prog: Programme, sql: str, *args: object) -> list[tuple[Any, ...]]:
    """Run SQL on the database file on a connection of the test's own (autocommit): what the
    store committed, or a state the test sets up behind its back."""
    conn = sqlite3.connect(stored(prog).path, isolation_level=None)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


async def enrol(
    prog: Programme, n: int = 0, sitting: str = "2026-07", now: str = "2026-07-01T09:00:00+08:00"
) -> int:
    """Register and pay candidate n for a sitting; returns the registration id."""
    reg = await prog.register(
        name=f"Candidate {n}",
        id_number=ID_NUMBERS[n],
        phone=f"1380013800{n}",
        email=f"c{n}@example.cn",
        city="Shenzhen",
        sitting=sitting,
        identity_verified=True,
        now=at(now),
    )
    await prog.pay(reg.id, at(now) + timedelta(minutes=5))
    return reg.id


async def make_exam(db_path: Path, starts_at: str, minutes: int = 60) -> str:
    store = SqliteStore(db_path)
    await store.open()
    try:
        exam_id = uuid.uuid4().hex[:12]
        await store.create_exam(
            ExamRecord(
                id=exam_id,
                title="Cloud Practitioner",
                starts_at=at(starts_at),
                duration=timedelta(minutes=minutes),
                questions=QUESTIONS,
                trial_questions=QUESTIONS,
                pass_score=60,
                created_at=at(starts_at) - timedelta(days=20),
            )
        )
        return exam_id
    finally:
        await store.close()


async def sit_exam(
    db_path: Path,
    exam_id: str,
    ticket: str,
    score: int | None,
    *,
    starts_at: str,
    state: AttemptState = AttemptState.SUBMITTED,
) -> None:
    """An attempt as the exam server leaves it (finished and scored, or still open), entered
    with the raw `ticket`."""
    store = SqliteStore(db_path)
    await store.open()
    try:
        start = at(starts_at)
        await store.create_attempt(
            AttemptRecord(
                id=uuid.uuid4().hex,
                exam_id=exam_id,
                ticket=ticket_key(ticket),  # the raw ticket, as handed out
                mode=Mode.EXAM,
                state=state,
                seed="s",
                order=PaperOrder(questions=[0, 1], options=[[0, 1], [0, 1]]),
                created_at=start - timedelta(minutes=20),
                ends_at=start + timedelta(minutes=60),
                started_at=start,
                finished_at=start + timedelta(minutes=40) if score is not None else None,
                score=score,
                max_score=100 if score is not None else None,
                passed=None if score is None else score >= 60,
            )
        )
    finally:
        await store.close()


async def open_store(db_path: Path) -> SqliteStore:
    store = SqliteStore(db_path)
    await store.open()
    return store
