"""`proctor add | list | revoke`, `proctor-token`, `exam create --on-warning-limit` and
`audit [--json] [--verify]` on a real database file, with the audit chain tampered with by
hand: an altered entry, an entry deleted in the middle, the last entry deleted."""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from proctor_server.cli import main
from proctor_server.core.console import token_hash
from proctor_server.store import SqliteStore
from shared.protocol import WarningLimitAction
from tests.server.test_cli import BANK


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out.strip(), err.strip()


@pytest.fixture
def exam_db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    bank = tmp_path / "bank.json"
    bank.write_text(json.dumps(BANK))
    db = str(tmp_path / "e.db")
    code, exam_id, err = run(
        capsys,
        *("exam", "create", "--db", db, "--title", "Cloud"),
        *("--starts-at", "2026-07-25T14:00:00+08:00", "--duration-min", "90"),
        *("--questions", str(bank), "--on-warning-limit", "terminate"),
    )
    assert code == 0, err
    return db, exam_id


def stored_exam_action(db: str, exam_id: str) -> WarningLimitAction:
    async def go() -> WarningLimitAction:
        store = SqliteStore(db)
        await store.open()
        try:
            exam = await store.get_exam(exam_id)
            assert exam is not None
            return exam.on_warning_limit
        finally:
            await store.close()

    return asyncio.run(go())


def test_proctors_are_added_listed_and_revoked(
    exam_db: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    db, exam = exam_db
    assert stored_exam_action(db, exam) is WarningLimitAction.TERMINATE
    code, token, _ = run(capsys, "proctor", "add", "--db", db, "--exam", exam, "--name", "Li Wei")
    assert code == 0 and token.startswith("p-") and len(token) > 30
    code, _, err = run(capsys, "proctor", "add", "--db", db, "--exam", exam, "--name", "Li Wei")
    assert code == 2 and "already has a proctor named 'Li Wei'" in err
    code, _, err = run(capsys, "proctor", "add", "--db", db, "--name", "Nobody")
    assert code == 2 and "--exam" in err
    code, chief, _ = run(capsys, "proctor", "add", "--db", db, "--name", "Boss", "--role", "chief")
    assert code == 0 and chief != token
    for _ in range(2):  # the shortcut: "proctor", then "proctor-2"
        code, shortcut, _ = run(capsys, "proctor-token", "--db", db, "--exam", exam)
        assert code == 0 and shortcut.startswith("p-")
    code, listing, _ = run(capsys, "proctor", "list", "--db", db, "--exam", exam)
    lines = [line.split("\t") for line in listing.splitlines()]
    assert [(x[0], x[1], x[2], x[4]) for x in lines[1:]] == [
        ("Li Wei", "proctor", exam, "active"),
        ("Boss", "chief", "*", "active"),
        ("proctor", "proctor", exam, "active"),
        ("proctor-2", "proctor", exam, "active"),
    ]
    code, out, _ = run(capsys, "proctor", "revoke", "--db", db, "--name", "Li Wei")
    assert code == 0 and out == f"revoked Li Wei (proctor, exam {exam})"
    code, _, err = run(capsys, "proctor", "revoke", "--db", db, "--name", "Li Wei")
    assert code == 2 and "no active proctor named 'Li Wei'" in err
    # only the hash of a token is stored
    with sqlite3.connect(db) as conn:
        hashes = {r[0] for r in conn.execute("SELECT token_hash FROM proctors")}
        dumped = "\n".join(conn.iterdump())
    assert token_hash(token) in hashes and token not in dumped


def tampered(db: str, tmp_path: Path, name: str, sql: str, *args: object) -> str:
    copy = str(tmp_path / f"{name}.db")
    shutil.copy(db, copy)
    with sqlite3.connect(copy) as conn:
        conn.execute(sql, args)
    return copy


def test_audit_prints_the_chain_and_verify_finds_tampering(
    exam_db: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, exam = exam_db
    for name in ("Li", "Wang", "Zhao"):
        assert run(capsys, "proctor", "add", "--db", db, "--exam", exam, "--name", name)[0] == 0
    code, out, err = run(capsys, "audit", "--db", db, "--exam", exam, "--verify")
    assert code == 0 and "verified: 4 entries" in err
    assert [line.split()[3] for line in out.splitlines()] == [
        "exam_create",
        "proctor_add",
        "proctor_add",
        "proctor_add",
    ]
    code, out, _ = run(capsys, "audit", "--db", db, "--exam", exam, "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["seq"] for r in rows] == [1, 2, 3, 4] and rows[1]["detail"]["proctor"] == "Li"
    assert rows[0]["actor"] == "staff" and len(rows[0]["hash"]) == 64

    cases = {
        "altered": (
            'UPDATE audit SET detail = \'{"proctor": "Mallory"}\' WHERE chain = ? AND seq = 2',
            "entry 2 (proctor_add) was altered",
        ),
        "deleted": ("DELETE FROM audit WHERE chain = ? AND seq = 3", "entry 3 deleted"),
        "truncated": (
            "DELETE FROM audit WHERE chain = ? AND seq = 4",
            "entry 4 deleted at the end of the chain",
        ),
    }
    for name, (sql, problem) in cases.items():
        copy = tampered(db, tmp_path, name, sql, exam)
        code, _, err = run(capsys, "audit", "--db", copy, "--exam", exam, "--verify")
        assert code == 1, name
        assert f"broken at entry {problem.split()[1]}" in err and problem in err, err


def test_a_database_with_plain_proctor_tokens_keeps_them_as_hashes(tmp_path: Path) -> None:
    from proctor_server.store.migrations import CORE, VISION, migrate

    db = tmp_path / "old.db"
    conn = sqlite3.connect(db, isolation_level=None)
    migrate(conn, {"core": CORE[:1], "vision": VISION})
    conn.execute(
        "INSERT INTO exams (id, title, starts_at, duration_s, questions, trial_questions, "
        "pass_score, snapshot_interval_s, warning_limit, created_at) "
        "VALUES ('e-old', 'Old', '2026-07-25T06:00:00.000Z', 3600, '[]', '[]', 0, 30, 3, "
        "'2026-07-25T05:00:00.000Z')"
    )
    conn.execute(
        "INSERT INTO proctor_tokens (token, exam_id, created_at) "
        "VALUES ('p-old-token', 'e-old', '2026-07-25T05:00:00.000Z')"
    )
    conn.close()

    async def go() -> None:
        store = SqliteStore(db)
        await store.open()
        try:
            found = await store.proctor_by_token(token_hash("p-old-token"))
            assert found is not None and (found.name, found.exam_id) == ("proctor", "e-old")
        finally:
            await store.close()

    asyncio.run(go())
    with sqlite3.connect(db) as check:
        tables = {r[0] for r in check.execute("SELECT name FROM sqlite_master")}
    assert "proctor_tokens" not in tables
