"""The exam server on PostgreSQL, as an operator runs it: the staff commands create an exam and
issue tickets with `--db postgresql://...`, a real `serve` process on that database takes a
scripted candidate's entry and answers and acknowledges them, and what it acknowledged is in
the database (read back through a store of our own)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from proctor_server.core.session import ticket_key
from proctor_server.store import is_postgres, open_store
from shared.vocabulary import Mode
from tests.server.conftest import QUESTIONS
from tests.server.scripted import Candidate
from tests.support.postgres import Cluster, postgres  # noqa: F401 (the session's cluster)
from tests.support.server_process import ServerProcess, cli


def _bank(path: Path) -> Path:
    questions = [
        {"id": q.id, "text": q.text, "options": q.options, "answer": q.answer, "points": q.points}
        for q in QUESTIONS
    ]
    path.write_text(json.dumps({"questions": questions}))
    return path


async def test_a_candidate_sits_an_exam_on_postgresql(postgres: Cluster, tmp_path: Path) -> None:  # noqa: F811
    dsn = postgres.create("serve")
    assert is_postgres(dsn)
    files = tmp_path / "files"
    starts = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    exam_id = cli(
        "exam", "create", "--db", dsn, "--title", "On PostgreSQL", "--starts-at", starts,
        "--duration-min", "60", "--questions", str(_bank(tmp_path / "bank.json")),
    )  # fmt: skip
    ticket = cli("ticket", "--db", dsn, "--data-dir", str(files), "--exam", exam_id,
                 "--candidate", "Ada")  # fmt: skip

    server = ServerProcess(dsn, "--data-dir", str(files))
    acknowledged: dict[str, list[str]] = {}
    try:
        c = await Candidate.connect(server.ws_url)
        _, paper = await c.enter(ticket)
        for q in paper.questions:
            choice = [q.options[0].id]
            await c.expect_ack(await c.answer(q.id, choice))
            acknowledged[q.id] = choice
        await c.close()
    finally:
        server.stop()

    store = await open_store(dsn, files)
    try:
        attempt = await store.find_attempt(ticket_key(ticket), Mode.EXAM)
        assert attempt is not None and attempt.exam_id == exam_id
        stored = await store.answers(attempt.id)
    finally:
        await store.close()
    assert len(stored) == len(acknowledged) == len(QUESTIONS)
