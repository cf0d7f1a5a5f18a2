"""`proctor-server tickets`: a sitting's tickets from one CSV, in one transaction, in order."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import secrets
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from proctor_server import admin
from proctor_server.cli import main
from proctor_server.core.session import ticket_key
from proctor_server.store import SqliteStore, TicketRecord
from shared.questions import parse_bank

BANK = {
    "questions": [
        {"id": "q1", "text": "Which port?", "options": ["21", "443"], "answer": [1], "points": 5}
    ]
}


@pytest.fixture
def exam(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, str]:
    bank = tmp_path / "bank.json"
    bank.write_text(json.dumps(BANK))
    db = tmp_path / "e.db"
    args = ["exam", "create", "--db", str(db), "--title", "Cloud", "--duration-min", "90"]
    args += ["--starts-at", "2026-07-25T14:00:00+08:00", "--questions", str(bank)]
    assert main(args) == 0
    return db, capsys.readouterr().out.strip()


def stored(db: Path, tokens: list[str]) -> list[TicketRecord | None]:
    async def read() -> list[TicketRecord | None]:
        store = SqliteStore(db)
        await store.open()
        try:
            return [await store.get_ticket(ticket_key(t)) for t in tokens]
        finally:
            await store.close()

    return asyncio.run(read())


def run_tickets(
    capsys: pytest.CaptureFixture[str], db: Path, exam_id: str, sheet: Path
) -> tuple[int, list[list[str]], str]:
    code = main(["tickets", "--db", str(db), "--exam", exam_id, "--csv", str(sheet)])
    out, err = capsys.readouterr()
    return code, list(csv.reader(io.StringIO(out))), err


def test_one_ticket_per_row_in_order_with_photos(
    tmp_path: Path, exam: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    db, exam_id = exam
    cv2.imwrite(str(tmp_path / "li.jpg"), np.full((240, 320, 3), 128, np.uint8))
    sheet = tmp_path / "sitting.csv"
    sheet.write_text(
        "name,email,phone,photo\n"
        "李四,li@example.org,13800000000,li.jpg\n"
        '"Smith, Jane",,,\n'
        "王五,,,\n",
        encoding="utf-8",
    )
    code, rows, err = run_tickets(capsys, db, exam_id, sheet)
    assert code == 0, err
    assert rows[0] == ["name", "token"]
    assert [r[0] for r in rows[1:]] == ["李四", "Smith, Jane", "王五"]
    saved = stored(db, [r[1] for r in rows[1:]])
    assert [(t.candidate_code, t.name) for t in saved if t is not None] == [
        ("C00001", "李四"),
        ("C00002", "Smith, Jane"),
        ("C00003", "王五"),
    ]
    first = saved[0]
    assert first is not None and (first.email, first.phone) == ("li@example.org", "13800000000")
    assert first.reference_photo is not None and saved[1] is not None
    assert saved[1].reference_photo is None and saved[1].email is None


def test_a_thousand_rows_are_one_command(
    tmp_path: Path, exam: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    db, exam_id = exam
    sheet = tmp_path / "big.csv"
    sheet.write_text("name\n" + "".join(f"Candidate {n}\n" for n in range(1000)))
    code, rows, err = run_tickets(capsys, db, exam_id, sheet)
    assert code == 0, err
    assert len(rows) == 1001 and len({r[1] for r in rows[1:]}) == 1000
    last = stored(db, [rows[-1][1]])[0]
    assert last is not None and (last.candidate_code, last.name) == ("C01000", "Candidate 999")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("email\nx@example.org\n", "at least 'name'"),
        ("name,age\nA,3\n", "unknown column 'age'"),
        ("name,email\nAlice,\n,x@example.org\n", ":3: the candidate needs a name"),
        ("name,photo\nAlice,missing.jpg\n", ":2: cannot read the photo"),
        ("name\nAlice,extra\n", ":2: more fields than columns"),
        ("name\n", "no candidates"),
        ("name,photo\nAlice,bad.jpg\n", "the reference photo is not a readable JPEG"),
        (
            "name,photo\nAl,\nBo,bad.jpg\n",
            "candidate 2: the reference photo is not a readable JPEG",
        ),
    ],
)
def test_a_bad_sheet_issues_nothing_and_says_why_in_one_line(
    tmp_path: Path,
    exam: tuple[Path, str],
    capsys: pytest.CaptureFixture[str],
    content: str,
    message: str,
) -> None:
    db, exam_id = exam
    (tmp_path / "bad.jpg").write_bytes(b"#!/bin/sh\necho not a photo\n")
    sheet = tmp_path / "s.csv"
    sheet.write_text(content, encoding="utf-8")
    code, rows, err = run_tickets(capsys, db, exam_id, sheet)
    assert code == 2 and rows == []
    assert message in err and len(err.strip().splitlines()) == 1
    # nothing was issued: the next good sheet starts at C00001
    good = tmp_path / "good.csv"
    good.write_text("name\nBob\n")
    code, rows, _ = run_tickets(capsys, db, exam_id, good)
    saved = stored(db, [rows[1][1]])[0]
    assert code == 0 and saved is not None and saved.candidate_code == "C00001"


async def test_a_refused_batch_leaves_no_reference_photo_behind(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "e.db")
    await store.open()
    try:
        exam = await admin.create_exam(
            store,
            title="T",
            starts_at=datetime(2026, 7, 25, 6, 0, tzinfo=UTC),
            duration=timedelta(hours=1),
            questions=parse_bank(json.dumps(BANK).encode(), source="bank"),
        )
        ok, face = cv2.imencode(".jpg", np.full((240, 320, 3), 128, np.uint8))
        assert ok
        # two rows with the same candidate code: the store refuses the whole batch
        twins = [
            admin.TicketRequest("Ann", photo=bytes(face), candidate_code="X1"),
            admin.TicketRequest("Bea", photo=bytes(face), candidate_code="X1"),
        ]
        with pytest.raises(sqlite3.IntegrityError):
            await admin.issue_tickets(store, exam.id, twins)
        assert await store.count_tickets(exam.id) == 0
        references = tmp_path / "e-files" / "references"
        assert not references.exists() or not any(references.rglob("*.jpg"))
    finally:
        await store.close()


def test_a_ticket_token_never_starts_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn = iter(["-looks-like-an-option", "--again", "fine-token"])
    monkeypatch.setattr(secrets, "token_urlsafe", lambda n: next(drawn))
    assert admin.new_ticket_token() == "fine-token"
