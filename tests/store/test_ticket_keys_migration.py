"""The migration to tickets kept as hashes, on a database written by the version before it:
every column that names a ticket holds its key afterwards and still joins, the reference
photo is renamed after the key (and still opens), the raw ticket is gone from the file, and a
candidate enters with the raw ticket they were sent."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from proctor_server.core.session import ticket_key
from proctor_server.programme.schema import MIGRATIONS, PROGRAMME_STEPS
from proctor_server.store import SqliteStore
from proctor_server.store.migrations import CORE, LOOKUPS, MEDIA, VISION, migrate

RAW = "Sx0-rawTicketToken_abcd"
PHOTO = b"\xff\xd8 a reference face \xff\xd9"


def old_database(db: Path, files: Path) -> None:
    """The schema before tickets were hashed, holding one ticket named everywhere."""
    conn = sqlite3.connect(db, isolation_level=None)
    migrate(
        conn,
        {
            "core": CORE[:4],
            "vision": VISION[:1],
            "lookups": LOOKUPS,
            "programme": PROGRAMME_STEPS[:1],
        },
    )
    old_photo = f"references/exam-1/{RAW[:12]}.jpg"
    (files / "references" / "exam-1").mkdir(parents=True)
    (files / old_photo).write_bytes(PHOTO)
    conn.executescript(
        f"""
        BEGIN;
        INSERT INTO exams (id, title, starts_at, duration_s, questions, trial_questions,
            pass_score, snapshot_interval_s, warning_limit, created_at)
            VALUES ('exam-1', 'Old', '2026-07-25T06:00:00.000Z', 3600, '[]', '[]', 0, 30, 3,
                    '2026-07-01T00:00:00.000Z');
        INSERT INTO tickets (token, exam_id, candidate_code, name, reference_photo, created_at)
            VALUES ('{RAW}', 'exam-1', 'C00001', 'Ada', '{old_photo}',
                    '2026-07-01T00:00:00.000Z');
        INSERT INTO attempts (id, exam_id, ticket, mode, state, seed, paper_order, created_at,
            ends_at) VALUES ('a-1', 'exam-1', '{RAW}', 'exam', 'waiting', 's',
            '{{"questions": [], "options": []}}',
            '2026-07-25T05:50:00.000Z', '2026-07-25T07:00:00.000Z');
        INSERT INTO admissions (ticket, by_proctor, reason, at)
            VALUES ('{RAW}', 'pr-1', 'late train', '2026-07-25T06:40:00.000Z');
        INSERT INTO vision_calibrations (attempt_id, ticket, source, samples, updated_at)
            VALUES ('t-1', '{RAW}', 'trial', 3, '2026-07-20T00:00:00.000Z');
        INSERT INTO programme_candidates (id, name, id_number, phone, email,
            identity_verified_at, created_at, updated_at)
            VALUES (1, 'Ada', 'E12345678', '13800000000', 'ada@example.cn',
                    '2026-06-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z',
                    '2026-06-01T00:00:00.000Z');
        INSERT INTO programme_sittings (month, exam_date, tz)
            VALUES ('2026-07', '2026-07-25', 'Asia/Shanghai');
        INSERT INTO programme_registrations (id, candidate_id, kind, city, sitting, state,
            registered_at, exam_id, ticket_token, candidate_code)
            VALUES (1, 1, 'first', 'Beijing', '2026-07', 'ticketed',
                    '2026-06-01T00:00:00.000Z', 'exam-1', '{RAW}', 'C00001');
        COMMIT;
        """
    )
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


async def test_existing_tickets_are_hashed_everywhere_and_photos_renamed(tmp_path: Path) -> None:
    db, files = tmp_path / "old.db", tmp_path / "files"
    old_database(db, files)
    store = SqliteStore(db, files)  # as `serve` opens it: without the programme's steps
    await store.open()
    key = ticket_key(RAW)
    try:
        ticket = await store.get_ticket(key)
        assert ticket is not None and ticket.candidate_code == "C00001"
        assert await store.get_ticket(RAW) is None
        attempt = await store.find_attempt(key, "exam")
        assert attempt is not None and attempt.id == "a-1"
        assert await store.admitted(key)
        assert await store.admitted_tickets("exam-1") == {key}
        assert ticket.reference_photo == f"references/exam-1/{key[:16]}.jpg"
        assert store.blobs.read(ticket.reference_photo) == PHOTO
        assert store.blobs.files() == [ticket.reference_photo]

        def check(c: sqlite3.Connection) -> tuple[object, ...]:
            return (
                c.execute("SELECT ticket FROM vision_calibrations").fetchone()[0],
                c.execute("SELECT ticket_token FROM programme_registrations").fetchone()[0],
                c.execute("PRAGMA foreign_key_check").fetchall(),
                c.execute("SELECT count(*) FROM blob_renames").fetchone()[0],
            )

        assert await store._read(check) == (key, key, [], 0)
    finally:
        await store.close()
    for path in tmp_path.rglob("*"):
        assert RAW[:12] not in path.name
        if path.is_file():
            assert RAW.encode() not in path.read_bytes(), path


async def test_a_new_database_gets_the_step_without_the_optional_tables(tmp_path: Path) -> None:
    """Core step 5 runs before the vision and programme tables exist on a new database."""
    store = SqliteStore(tmp_path / "new.db", components=MIGRATIONS)
    await store.open()
    try:

        def versions(c: sqlite3.Connection) -> dict[str, int]:
            rows = c.execute("SELECT component, version FROM schema_versions").fetchall()
            return {r["component"]: r["version"] for r in rows}

        assert await store._read(versions) == {
            "core": len(CORE),
            "vision": len(VISION),
            "lookups": len(LOOKUPS),
            "media": len(MEDIA),
            "programme": len(PROGRAMME_STEPS),
        }
    finally:
        await store.close()
