"""Admission tickets at rest and revoked: the store keeps only their SHA-256 (no raw ticket in
the database, the files' names or the log), and `proctor-server ticket revoke`, run as its
own process would (another connection to the same database file), ends a live session within
the runtime's sweep period, idle or not, for good; the answers given stay stored."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from websockets.exceptions import ConnectionClosed

from proctor_server import admin
from proctor_server.app import Server
from proctor_server.cli import main
from proctor_server.core.audit import verify_chain
from proctor_server.core.session import ticket_key
from proctor_server.exams import REVOCATION_SWEEP_S
from shared import protocol as p
from shared.vocabulary import CloseCode, Mode
from tests.server.conftest import MakeExam
from tests.server.scripted import Candidate
from tests.support.clock import FakeClock

BANK_QUESTION = {"id": "q1", "text": "2+2?", "options": ["3", "4"], "answer": [1], "points": 5}


def _face() -> bytes:
    ok, jpeg = cv2.imencode(".jpg", np.full((240, 320, 3), 128, np.uint8))
    assert ok
    return jpeg.tobytes()


async def test_no_raw_ticket_in_the_database_its_files_or_the_log(
    server: Server, make_exam: MakeExam, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    exam = await make_exam(starts_in=timedelta(minutes=-1))
    issued = await admin.issue_ticket(server.store, exam.id, name="Ada", photo=_face())
    assert issued.key == ticket_key(issued.token) != issued.token
    assert issued.reference_photo is not None and issued.token[:8] not in issued.reference_photo
    c = await Candidate.connect(server.ws_url)
    welcome, paper = await c.enter(issued.token)
    q = paper.questions[0]
    await c.expect_ack(await c.answer(q.id, [q.options[0].id]))
    await c.expect_ack(await c.snapshot())
    await c.close()
    wrong = await Candidate.connect(server.ws_url)  # a refusal is audited and logged
    assert isinstance(await wrong.hello(issued.token, mode=Mode.TRIAL), p.Error)  # started
    await wrong.close()
    attempt = await server.store.get_attempt(welcome.session)
    assert attempt is not None and attempt.ticket == issued.key
    # everything acknowledged is on disk: the database, its WAL, the files
    raw = issued.token.encode()
    for path in tmp_path.rglob("*"):
        assert issued.token[:8] not in path.name
        if path.is_file():
            assert raw not in path.read_bytes(), path
    assert issued.token not in caplog.text


async def test_a_revoked_ticket_ends_its_idle_session_and_cannot_come_back(
    server: Server, make_exam: MakeExam, clock: FakeClock, tmp_path: Path
) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-1))
    issued = await admin.issue_ticket(server.store, exam.id, name="Bea")
    other = await admin.issue_ticket(server.store, exam.id, name="Cy")
    c = await Candidate.connect(server.ws_url)
    welcome, paper = await c.enter(issued.token)
    bystander = await Candidate.connect(server.ws_url)
    _, other_paper = await bystander.enter(other.token)
    q = paper.questions[0]
    await c.expect_ack(await c.answer(q.id, [q.options[1].id]))

    # the staff command, as another process would run it: its own connection to the file
    argv = ["ticket", "revoke", "--db", str(tmp_path / "exam.db"), "--exam", exam.id]
    argv += ["--code", issued.candidate_code, "--reason", "impersonation"]
    assert await asyncio.to_thread(main, argv) == 0
    # idle: nothing is sent; one sweep period later the session is closed
    clock.advance(timedelta(seconds=REVOCATION_SWEEP_S))
    err = await c.expect(p.Error)
    assert err.code == "bad_ticket" and "revoked" in err.message
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await c.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == CloseCode.BAD_TOKEN
    assert int(CloseCode.BAD_TOKEN) == 4401

    again = await Candidate.connect(server.ws_url)
    back = await again.hello(issued.token)
    assert isinstance(back, p.Error) and back.code == "bad_ticket"
    assert await server.store.answers(welcome.session)  # what was answered stays stored
    # the other candidate is untouched
    theirs = other_paper.questions[0]
    ack = await bystander.answer(theirs.id, [theirs.options[0].id])
    await bystander.expect_ack(ack)
    entries = await server.store.audit_chain(exam.id)
    revoke = [e for e in entries if e.action == "ticket_revoke"]
    assert [(e.actor, e.detail["candidate"], e.detail["reason"]) for e in revoke] == [
        ("staff", issued.candidate_code, "impersonation")
    ]
    assert verify_chain(entries, await server.store.audit_head(exam.id)) is None
    await bystander.close()


def test_revoking_an_unknown_candidate_says_so_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "e.db"
    bank = tmp_path / "bank.json"
    bank.write_text(json.dumps({"questions": [BANK_QUESTION]}))
    create = ["exam", "create", "--db", str(db), "--title", "T", "--duration-min", "60"]
    create += ["--starts-at", "2026-07-25T14:00:00+08:00", "--questions", str(bank)]
    assert main(create) == 0
    exam_id = capsys.readouterr().out.strip()
    code = main(["ticket", "revoke", "--db", str(db), "--exam", exam_id, "--code", "C09999"])
    err = capsys.readouterr().err
    assert code == 2 and "no candidate C09999" in err and len(err.strip().splitlines()) == 1
    assert main(["ticket", "--db", str(db), "--exam", exam_id]) == 2  # issuing needs a name
    assert "--candidate" in capsys.readouterr().err
