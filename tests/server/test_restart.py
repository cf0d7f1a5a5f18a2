"""SIGKILL the server process mid-exam, restart it on the same database: every acknowledged
answer is there, the paper order is the same, and the remaining time follows the server clock.
(That the deadline timers are rebuilt from the store is shown in test_deadlines.py, on a clock
the test moves.)"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shared import protocol as p
from shared.timeutil import from_wire
from tests.server.conftest import QUESTIONS
from tests.server.scripted import Candidate
from tests.support.server_process import ServerProcess, cli


@pytest.fixture
def exam_db(tmp_path: Path) -> Iterator[tuple[Path, str, list[str]]]:
    db = tmp_path / "exam.db"
    bank = tmp_path / "bank.json"
    bank.write_text(
        json.dumps(
            {
                "questions": [
                    {
                        "id": q.id,
                        "text": q.text,
                        "options": q.options,
                        "answer": q.answer,
                        "points": q.points,
                    }
                    for q in QUESTIONS
                ]
            }
        )
    )
    starts = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    exam_id = cli(
        "exam",
        "create",
        "--db",
        str(db),
        "--title",
        "Restart",
        "--starts-at",
        starts,
        "--duration-min",
        "60",
        "--questions",
        str(bank),
    )
    tickets = [
        cli("ticket", "--db", str(db), "--exam", exam_id, "--candidate", n) for n in ("A", "B")
    ]
    yield db, exam_id, tickets


async def test_sigkill_mid_exam_loses_nothing_acknowledged(
    exam_db: tuple[Path, str, list[str]],
) -> None:
    db, _, (ticket, other_ticket) = exam_db
    server = ServerProcess(db)
    try:
        c = await Candidate.connect(server.ws_url)
        welcome, paper = await c.enter(ticket)
        other = await Candidate.connect(server.ws_url)
        other_welcome, _ = await other.enter(other_ticket)
        acknowledged: dict[str, list[str]] = {}
        for q in paper.questions:
            choice = [q.options[-1].id]
            await c.expect_ack(await c.answer(q.id, choice))
            acknowledged[q.id] = choice
        server.kill()
    finally:
        server.stop()

    server = ServerProcess(db)
    try:
        c = await Candidate.connect(server.ws_url)
        resumed = await c.hello(ticket)
        assert isinstance(resumed, p.Welcome)
        assert resumed.resumed and resumed.identity_accepted and resumed.session == welcome.session
        paper2 = await c.expect(p.Paper)
        assert [q.id for q in paper2.questions] == [q.id for q in paper.questions]
        assert [[o.id for o in q.options] for q in paper2.questions] == [
            [o.id for o in q.options] for q in paper.questions
        ]
        assert paper2.saved == acknowledged
        assert paper2.ends_at == paper.ends_at
        remaining = from_wire(paper2.ends_at) - from_wire(paper2.server_time)
        assert abs(remaining - (from_wire(paper.ends_at) - datetime.now(UTC))) < timedelta(
            seconds=2
        )
        # the attempt whose client said nothing before the kill is there too
        other = await Candidate.connect(server.ws_url)
        again = await other.hello(other_ticket)
        assert isinstance(again, p.Welcome)
        assert again.resumed and again.session == other_welcome.session
    finally:
        server.stop()
