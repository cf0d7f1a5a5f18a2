"""Personal fields at rest: with a data key, names, contacts, postal addresses, face
embeddings and the programme's register and notices are sealed in their columns, so the
database file holds none of them; rotation and `reseal` keep them readable; a value copied to
another row does not open; without a key nothing changes. What reads the SQLite file's bytes
runs on SQLite; sealing, rotation and reseal run on both engines (`database`)."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import msgspec
import pytest

from proctor_server.console.snapshot import grid_risk
from proctor_server.core.records import CalibrationRecord, TicketRecord
from proctor_server.programme.schema import MIGRATIONS
from proctor_server.store import make_store
from proctor_server.store.sealing import FIELD_MAGIC, Key, SealBroken, Sealer
from proctor_server.store.sql.personal import PERSONAL
from proctor_server.store.sql.programme import ProgrammeRows
from proctor_server.store.sql.retention import PURGED_NAME
from proctor_server.store.sql.tables import Tables
from tests.store.conftest import NOW, exam_record, seat
from tests.support.postgres import Cluster

NAME, EMAIL, PHONE = "Grace Hopper-Zanzibar", "grace.zz@example.org", "+86 13912345678"
ADDRESS = {"name": "G Hopper", "address": "42 Quillfeather Lane", "postcode": "9Q7 ZX1"}
EMBEDDING = [0.123456789, -0.987654321]
ID_NUMBER = "110101199001011234"
PERSONAL_VALUES = [NAME, EMAIL, PHONE, ADDRESS["address"], "Quillfeather", "123456789"]


async def open_store(db: Path | str, sealer: Sealer | None) -> Tables:
    store = make_store(db, components=MIGRATIONS, sealer=sealer)
    await store.open()
    return store


async def fill(store: Tables) -> tuple[str, str]:
    """One of each personal field; returns the exam id and the attempt id."""
    seated = await seat(store)
    exam = seated.exam
    await store.create_ticket(
        TicketRecord("tk-grace", exam.id, "C00002", NAME, email=EMAIL, phone=PHONE)
    )
    assert await store.save_profile(seated.attempt.id, "m-1", ADDRESS, NOW)
    cal = CalibrationRecord(source="identity", yaw=1.0, embedding=EMBEDDING)
    await store.put_calibration(seated.attempt.id, seated.ticket.token, cal, NOW)

    def register(rows: ProgrammeRows) -> None:
        cand = rows.upsert_candidate(NAME, ID_NUMBER, PHONE, EMAIL, NOW)
        rows.add_notice(
            "k-1", cand.id, None, "result", "Result", f"Dear {NAME}", NOW, {"email": EMAIL}
        )

    await store.programme_transaction(register)
    return exam.id, seated.attempt.id


async def check_readable(store: Tables, exam_id: str, attempt_id: str) -> None:
    grace = next(t for t in await store.tickets_of_exam(exam_id) if t.candidate_code == "C00002")
    assert (grace.name, grace.email, grace.phone) == (NAME, EMAIL, PHONE)
    grid = await store.exam_grid(
        exam_id, grid_risk(NOW)
    )  # the proctor's grid reads names in one pass
    codes, names = (msgspec.json.decode(grid.columns[f]) for f in ("candidate", "name"))
    assert dict(zip(codes, names, strict=True))["C00002"] == NAME
    assert await store.profile(attempt_id) == ADDRESS
    cal = await store.calibration(attempt_id)
    assert cal is not None and cal.embedding == EMBEDDING
    cand = await store.programme_read(lambda rows: rows.candidate_by_id_number(ID_NUMBER))
    assert cand is not None and (cand.name, cand.phone, cand.email) == (NAME, PHONE, EMAIL)
    (due,) = await store.due_deliveries(NOW + timedelta(seconds=1))
    assert (due.notice.body, due.address) == (f"Dear {NAME}", EMAIL)


def raw_bytes(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*") if p.is_file())


async def test_with_a_key_the_database_file_holds_no_personal_value(tmp_path: Path) -> None:
    db = tmp_path / "exam.db"
    store = await open_store(db, Sealer([Key.new()]))
    exam_id, attempt_id = await fill(store)
    await check_readable(store, exam_id, attempt_id)
    await store.close()
    raw = raw_bytes(db)
    assert FIELD_MAGIC.encode() in raw
    for value in PERSONAL_VALUES:
        assert value.encode() not in raw, value


async def test_without_a_key_fields_stay_in_clear_until_a_key_and_reseal(tmp_path: Path) -> None:
    db = tmp_path / "exam.db"
    store = await open_store(db, None)
    exam_id, attempt_id = await fill(store)
    await check_readable(store, exam_id, attempt_id)
    assert await store.reseal_fields() == 0  # nothing to seal with
    await store.close()
    assert NAME.encode() in raw_bytes(db)  # today's behaviour without a key

    store = await open_store(db, Sealer([Key.new()]))
    await check_readable(store, exam_id, attempt_id)  # clear values still read
    assert await store.reseal_fields() >= len(PERSONAL_VALUES)
    assert await store.reseal_fields() == 0
    await check_readable(store, exam_id, attempt_id)
    await store.close()
    with sqlite3.connect(db) as conn:
        conn.execute("VACUUM")  # the old clear pages go too
    conn.close()
    for value in PERSONAL_VALUES:
        assert value.encode() not in raw_bytes(db), value


async def test_rotation_and_reseal_keep_every_field_readable(database: Path | str) -> None:
    db = database
    old = Key.new()
    store = await open_store(db, Sealer([old]))
    exam_id, attempt_id = await fill(store)
    await store.close()

    new = Key.new()
    store = await open_store(db, Sealer([new, old]))
    await check_readable(store, exam_id, attempt_id)  # old values open with the old key
    resealed = await store.reseal_fields()
    assert resealed >= len(PERSONAL_VALUES)
    assert await store.reseal_fields() == 0
    await store.close()

    store = await open_store(db, Sealer([new]))  # the old key removed from the file
    try:
        await check_readable(store, exam_id, attempt_id)
    finally:
        await store.close()
    with pytest.raises(SealBroken, match="not in the key file"):
        store = await open_store(db, Sealer([old]))
        try:
            await store.tickets_of_exam(exam_id)
        finally:
            await store.close()


async def test_a_value_copied_to_another_row_does_not_open(tmp_path: Path) -> None:
    db = tmp_path / "exam.db"
    store = await open_store(db, Sealer([Key.new()]))
    exam_id, _ = await fill(store)
    await store.close()
    with sqlite3.connect(db) as conn:  # someone with the file swaps a name into another row
        conn.execute(
            "UPDATE tickets SET name = (SELECT name FROM tickets WHERE candidate_code = 'C00002') "
            "WHERE candidate_code = 'C00001'"
        )
    conn.close()
    store = await open_store(db, Sealer(store.fields.sealer.keys))  # type: ignore[union-attr]
    try:
        with pytest.raises(SealBroken, match=r"tickets\.name of row .*C00001.*copied from another"):
            await store.tickets_of_exam(exam_id)
    finally:
        await store.close()


async def test_a_value_moved_to_another_column_does_not_open(tmp_path: Path) -> None:
    db = tmp_path / "exam.db"
    key = Key.new()
    store = await open_store(db, Sealer([key]))
    exam_id, _ = await fill(store)
    await store.close()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE tickets SET email = phone WHERE candidate_code = 'C00002'")
    conn.close()
    store = await open_store(db, Sealer([key]))
    try:
        with pytest.raises(SealBroken, match=r"tickets\.email"):
            await store.tickets_of_exam(exam_id)
    finally:
        await store.close()


async def test_purged_fields_stay_purged_through_reseal(database: Path | str) -> None:
    db = database
    key = Key.new()
    store = await open_store(db, Sealer([key]))
    exam_id, attempt_id = await fill(store)
    report = await store.purge_evidence(exam_id, NOW, actor="staff")
    assert (report.tickets, report.addresses) == (2, 1)
    store.fields.sealer = Sealer([Key.new(), key])
    await store.reseal_fields()
    tickets = await store.tickets_of_exam(exam_id)
    assert {(t.name, t.email, t.phone) for t in tickets} == {(PURGED_NAME, None, None)}
    assert await store.profile(attempt_id) == {}
    report = await store.purge_evidence(exam_id, NOW, actor="staff", dry_run=True)
    assert (report.tickets, report.addresses) == (0, 0)
    await store.close()


def test_every_personal_column_exists_in_the_schema(tmp_path: Path) -> None:
    """The list that `reseal` walks names real tables, columns and row keys."""
    from proctor_server.store.sqlite.database import connect

    conn = connect(tmp_path / "schema.db", MIGRATIONS)
    try:
        for spec in PERSONAL:
            have = {r[1] for r in conn.execute(f"PRAGMA table_info({spec.table})")}
            assert set(spec.columns) | set(spec.row_key) <= have, spec
    finally:
        conn.close()


async def test_a_second_exam_keeps_its_own_rows(database: Path | str) -> None:
    """Two exams with the same candidate code: each ticket's name opens in its own row."""
    store = await open_store(database, Sealer([Key.new()]))
    try:
        first, second = exam_record(), exam_record()
        for exam, name in ((first, "Ada"), (second, "Alan")):
            await store.create_exam(exam)
            await store.create_ticket(TicketRecord(f"tk-{exam.id}", exam.id, "C1", name))
        assert [t.name for t in await store.tickets_of_exam(second.id)] == ["Alan"]
        assert [t.name for t in await store.tickets_of_exam(first.id)] == ["Ada"]
    finally:
        await store.close()


async def test_a_clear_value_in_postgresql_is_sealed_by_reseal(postgres: Cluster) -> None:
    """The data step in Python (`reseal`) on PostgreSQL: fields stored in clear before a key
    was configured are sealed in place, and no clear value is left in their columns."""
    import psycopg

    dsn = postgres.create("reseal")
    store = await open_store(dsn, None)
    exam_id, attempt_id = await fill(store)
    await store.close()
    store = await open_store(dsn, Sealer([Key.new()]))
    try:
        assert await store.reseal_fields() >= len(PERSONAL_VALUES)
        await check_readable(store, exam_id, attempt_id)
    finally:
        await store.close()
    with psycopg.connect(dsn) as conn:
        for spec in PERSONAL:
            for column in spec.columns:
                for (value,) in conn.execute(f"SELECT {column} FROM {spec.table}"):
                    assert value is None or not any(v in str(value) for v in PERSONAL_VALUES)
