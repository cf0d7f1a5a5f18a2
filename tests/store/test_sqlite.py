"""What is particular to the SQLite store (the contract all stores share is in the other
modules here): durable settings, grouped commits, isolation of failing writes, migrations
run per component (features' steps passed in), and files that rows never point at before
they are whole. Durability across kill -9 is tests/server/test_restart.py."""

from __future__ import annotations

import asyncio
import sqlite3
import stat
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from proctor_server.core.audit import verify_chain
from proctor_server.store import AttemptRecord, PhotoRecord, SqliteStore, TicketRecord
from proctor_server.store.migrations import CORE, VISION, migrate
from proctor_server.store.sqlite import connect
from shared.errors import ErrorCode, RuleError
from shared.states import Trigger
from shared.vocabulary import Mode
from tests.store.conftest import NOW, QUESTIONS, attempt_record, exam_record, seat


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    s = SqliteStore(tmp_path / "s.db")
    await s.open()
    yield s
    await s.close()


async def attempt_in_progress(store: SqliteStore) -> str:
    return (await seat(store)).attempt.id


async def test_durability_settings(store: SqliteStore) -> None:
    def pragmas(c: sqlite3.Connection) -> tuple[str, int]:
        return c.execute("PRAGMA journal_mode").fetchone()[0], c.execute(
            "PRAGMA synchronous"
        ).fetchone()[0]

    assert await store._read(pragmas) == ("wal", 2)  # 2 = FULL


async def test_concurrent_writes_are_grouped_into_few_transactions(store: SqliteStore) -> None:
    attempt = await attempt_in_progress(store)
    before_commits, before_writes = store.commits, store.writes
    results = await asyncio.gather(
        *(store.save_answer(attempt, f"c{i}", i % 4, [0], NOW) for i in range(200))
    )
    assert all(results)
    writes = store.writes - before_writes
    commits = store.commits - before_commits
    assert writes == 200
    assert commits < 20, f"{commits} transactions for {writes} writes"


async def test_a_failing_write_does_not_undo_its_neighbours(store: SqliteStore) -> None:
    attempt = await attempt_in_progress(store)

    def boom(c: sqlite3.Connection) -> None:
        c.execute("INSERT INTO audit (at, actor, action, detail) VALUES ('x', 'y', 'z', '{}')")
        raise ValueError("refused")

    ok1 = store.save_answer(attempt, "before", 0, [1], NOW)
    bad = store._write(boom)
    ok2 = store.save_answer(attempt, "after", 1, [2], NOW)
    results = await asyncio.gather(ok1, bad, ok2, return_exceptions=True)
    assert results[0] is True and results[2] is True
    assert isinstance(results[1], ValueError)
    assert await store.answers(attempt) == {0: [1], 1: [2]}
    assert (
        await store._read(
            lambda c: c.execute("SELECT count(*) FROM audit WHERE actor='y'").fetchone()[0]
        )
        == 0
    )


async def test_a_refused_answer_in_a_group_leaves_its_neighbours_stored_once(
    store: SqliteStore,
) -> None:
    """A group of answers runs without savepoints first; one refused answer sends the group
    round again with them: the others are stored once each, their history once, the refused
    one not at all."""
    open_one = await attempt_in_progress(store)
    seated = await seat(store)
    await store.transition(
        seated.attempt.id, Trigger.SUBMIT, NOW, "test", questions=QUESTIONS, pass_score=10
    )
    writes = [store.save_answer(open_one, f"c{i}", i % 4, [i % 3], NOW) for i in range(20)]
    writes.insert(10, store.save_answer(seated.attempt.id, "late", 0, [1], NOW))
    writes.append(store.save_answer(open_one, "c3", 3, [0], NOW))  # a resend in the same group
    results = await asyncio.gather(*writes, return_exceptions=True)
    refused = results.pop(10)
    assert isinstance(refused, RuleError) and refused.code is ErrorCode.EXAM_OVER
    assert results == [True] * 20 + [False]
    assert await store.answers(open_one) == {q: [(16 + q) % 3] for q in range(4)}

    def history(c: sqlite3.Connection) -> list[tuple[str, int]]:
        return c.execute(
            "SELECT attempt_id, count(*) FROM answer_log GROUP BY client_id, attempt_id"
        ).fetchall()

    assert sorted(count for _, count in await store._read(history)) == [1] * 20
    assert {attempt for attempt, _ in await store._read(history)} == {open_one}


async def test_entries_and_answers_are_never_planned_again(store: SqliteStore) -> None:
    """SQLite plans a prepared statement again when a new value is bound to a column a
    partial index is conditioned on (`attempts.mode`, `tickets.revoked`): on the entry's and
    the answer's statements, run for thousands of candidates, that cost more than the rest of
    the entry's reads together. `sqlite_stmt` counts each cached statement's re-plans (the
    migrations' schema changes re-plan what ran before them: only growth counts)."""

    def plans(c: sqlite3.Connection) -> dict[str, int]:
        try:
            return dict(c.execute("SELECT sql, reprep FROM sqlite_stmt").fetchall())
        except sqlite3.OperationalError:
            pytest.skip("this SQLite is built without the sqlite_stmt table")

    seated = await seat(store)
    before = await store._read(plans)
    for n, mode in enumerate([Mode.EXAM, Mode.TRIAL] * 3):
        ticket = TicketRecord(
            token=f"tk-plan-{n}", exam_id=seated.exam.id, candidate_code=f"P{n}", name="Ann"
        )
        await store.create_ticket(ticket)
        new = attempt_record(seated.exam, ticket, mode=mode)

        def found_or_new(
            t: TicketRecord | None, found: AttemptRecord | None, a: object, new: AttemptRecord = new
        ) -> AttemptRecord:
            return found or new

        for nonce in (f"n-plan-{n}", f"n-again-{n}"):  # a first entry, then a resumption
            await store.enter(ticket.token, mode, nonce, NOW, found_or_new)
        assert await store.find_attempt(ticket.token, mode) == new
        assert await store.save_answer(seated.attempt.id, f"c-{n}", n % 4, [n % 3], NOW)
    after = await store._read(plans)
    assert {sql: k for sql, k in after.items() if k > before.get(sql, 0)} == {}


async def test_migrations_record_versions_and_refuse_a_newer_database(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    conn = sqlite3.connect(db, isolation_level=None)
    migrate(conn)
    migrate(conn)  # idempotent
    assert (
        conn.execute("SELECT version FROM schema_versions WHERE component='core'").fetchone()[0]
        >= 1
    )
    migrate(conn, {"extra": ["CREATE TABLE extra_one (x)", "CREATE TABLE extra_two (y)"]})
    assert (
        conn.execute("SELECT version FROM schema_versions WHERE component='extra'").fetchone()[0]
        == 2
    )
    conn.execute("UPDATE schema_versions SET version = 99 WHERE component = 'core'")
    with pytest.raises(RuntimeError, match="newer than this server"):
        migrate(conn)


async def test_a_failing_migration_step_leaves_no_half_schema(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "f.db", isolation_level=None)
    with pytest.raises(sqlite3.OperationalError):
        migrate(conn, {"bad": ["CREATE TABLE half (x); CREATE TABLE oops (;"]})
    assert conn.execute("SELECT name FROM sqlite_master WHERE name='half'").fetchone() is None
    assert (
        conn.execute("SELECT count(*) FROM schema_versions WHERE component='bad'").fetchone()[0]
        == 0
    )


async def test_the_files_folder_is_made_with_the_first_file(tmp_path: Path) -> None:
    """Opening a store makes no folder (a staff command that stores no file leaves none
    behind, in the working directory for PostgreSQL's); the first photo makes it, 0700."""
    store = SqliteStore(tmp_path / "s.db")
    await store.open()
    try:
        assert not store.blobs.root.exists()
        attempt = await attempt_in_progress(store)
        record = PhotoRecord("p1", attempt, "snapshot", "c1", "snapshots/a/p1.jpg", "sha", 4, NOW)
        assert await store.save_photo(record, b"\xff\xd8xx")
        assert stat.S_IMODE(store.blobs.root.stat().st_mode) == 0o700
    finally:
        await store.close()


async def test_photo_rows_point_only_at_whole_files(store: SqliteStore, tmp_path: Path) -> None:
    attempt = await attempt_in_progress(store)
    data = b"\xff\xd8" + b"x" * 5000
    record = PhotoRecord(
        "p1", attempt, "snapshot", "c1", "snapshots/a/p1.jpg", "sha", len(data), NOW
    )
    assert await store.save_photo(record, data)
    assert await store.photo_bytes("p1") == data
    assert not list(store.blobs.root.rglob("*.tmp"))
    # a crash between writing and renaming leaves a .tmp: swept at the next start
    stale = store.blobs.root / "snapshots" / "a" / "p2.jpg.tmp"
    stale.write_bytes(b"half")
    store.blobs.prepare()
    assert not stale.exists()
    # a row is not written when the attempt is finished, but nothing half-written remains
    await store.transition(
        attempt, Trigger.SUBMIT, NOW, "submitted", questions=QUESTIONS, pass_score=12
    )
    late = PhotoRecord("p3", attempt, "snapshot", "c3", "snapshots/a/p3.jpg", "sha", 4, NOW)
    assert (store.blobs.root / "snapshots" / "a" / "p1.jpg").exists()
    with pytest.raises(RuleError):
        await store.save_photo(late, b"\xff\xd8xx")
    assert [p.id for p in await store.photos(attempt)] == ["p1"]
    assert not (store.blobs.root / "snapshots" / "a" / "p3.jpg").exists()


async def test_features_pass_their_migration_steps_in(tmp_path: Path) -> None:
    """The store runs its own components and what a feature hands it; it knows no feature."""
    steps = {"feature": ["CREATE TABLE feature_things (x TEXT)"]}
    store = SqliteStore(tmp_path / "s.db", components=steps)
    await store.open()
    try:

        def versions(c: sqlite3.Connection) -> dict[str, int]:
            rows = c.execute("SELECT component, version FROM schema_versions").fetchall()
            return {r["component"]: r["version"] for r in rows}

        assert await store._read(versions) == {
            "core": len(CORE),
            "vision": len(VISION),
            "lookups": 2,
            "media": 1,
            "feature": 1,
        }
    finally:
        await store.close()
    conn = connect(tmp_path / "s.db")  # opened without the feature: its tables stay as they are
    try:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "feature_things" in names and "programme_candidates" not in names
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()


async def test_an_entry_finds_the_tickets_attempt_by_index(store: SqliteStore) -> None:
    """The join's lookup of a ticket's latest attempt reads an index, not the whole table."""

    def plan(c: sqlite3.Connection) -> str:
        found = c.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM attempts WHERE ticket = ? AND mode = ? "
            "ORDER BY created_at DESC LIMIT 1",
            ("t", "exam"),
        ).fetchall()
        return " ".join(str(r[3]) for r in found)

    assert "USING INDEX attempts_by_ticket" in await store._read(plan)


async def test_a_refused_entry_in_a_group_leaves_the_other_entries_stored_once(
    store: SqliteStore,
) -> None:
    """Entries run as a group without savepoints first; one refused entry sends the group round
    again with them: every other candidate has one attempt, one nonce and one audit entry, the
    exam's chain still verifies, and the refused one left nothing."""
    exam = exam_record()
    await store.create_exam(exam)
    tickets = [
        TicketRecord(token=f"tk-g{i}", exam_id=exam.id, candidate_code=f"G{i:04}", name="Ada")
        for i in range(20)
    ]
    for ticket in tickets:
        await store.create_ticket(ticket)
    refused_token = tickets[7].token

    def decide(
        ticket: TicketRecord | None, found: AttemptRecord | None, _: Callable[[], bool]
    ) -> AttemptRecord:
        assert ticket is not None
        if ticket.token == refused_token:
            raise RuleError("not now", code=ErrorCode.NOT_ALLOWED)
        return found or attempt_record(exam, ticket)

    commits = store.commits
    results = await asyncio.gather(
        *(store.enter(t.token, Mode.EXAM, f"n-{t.token}", NOW, decide) for t in tickets),
        return_exceptions=True,
    )
    assert store.commits - commits < 19  # grouped: one of the groups held the refused entry
    refused = results.pop(7)
    assert isinstance(refused, RuleError)
    assert all(isinstance(r, tuple) and not r[2] for r in results)  # all new, none resumed
    for ticket in tickets:
        attempts = [a for a in await store.attempts_of_exam(exam.id) if a.ticket == ticket.token]
        nonce = await store.find_nonce(f"n-{ticket.token}")
        assert (len(attempts), nonce is not None) == (
            (0, False) if ticket.token == refused_token else (1, True)
        )
    chain = await store.audit_chain(exam.id)
    assert [e.action for e in chain].count("entry") == 19
    assert verify_chain(chain, await store.audit_head(exam.id)) is None
