from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from proctor_server import admin
from proctor_server.app import Server, ServerConfig, run_server
from proctor_server.store import ExamRecord
from shared.questions import Question
from tests.support.clock import FakeClock

QUESTIONS = [
    Question(
        id="q1",
        text="Which port does HTTPS use?",
        options=["21", "80", "443"],
        answer=[2],
        points=5,
    ),
    Question(
        id="q2",
        text="Pick the two clouds.",
        options=["S3", "OSS", "MySQL", "vi"],
        answer=[0, 1],
        points=5,
    ),
    Question(id="q3", text="What is DNS for?", options=["names", "mail"], answer=[0], points=5),
    Question(
        id="q4", text="404 means?", options=["ok", "not found", "moved"], answer=[1], points=5
    ),
]

MakeExam = Callable[..., Awaitable[ExamRecord]]


@pytest.fixture
def clock() -> FakeClock:
    """The server's clock in these tests: it starts at the real time and moves only when a
    test moves it, so deadlines and releases happen exactly when the test says."""
    return FakeClock(datetime.now(UTC))


@pytest.fixture
async def server(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Server]:
    async with run_server(
        ServerConfig(db=tmp_path / "exam.db", port=0, nonce_rotation_s=3600), clock
    ) as s:
        yield s


@pytest.fixture
def make_exam(server: Server, clock: FakeClock) -> MakeExam:
    async def make(
        starts_in: timedelta = timedelta(0),
        duration: timedelta = timedelta(minutes=60),
        **kwargs: object,
    ) -> ExamRecord:
        exam = await admin.create_exam(
            server.store,
            title="Cloud Practitioner",
            starts_at=clock.now() + starts_in,
            duration=duration,
            questions=QUESTIONS,
            **kwargs,  # type: ignore[arg-type]
        )
        await server.runtime_for(exam.id)
        return exam

    return make


async def ticket_for(server: Server, exam: ExamRecord, name: str = "张三丰") -> str:
    return (await admin.issue_ticket(server.store, exam.id, name=name)).token
