"""Exams and admission tickets in SQLite."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from proctor_server.core.records import ExamRecord, TicketRecord
from proctor_server.store.sqlite import rows
from proctor_server.store.sqlite.database import Database
from shared.questions import encode_bank
from shared.timeutil import to_wire

EXAM_SQL = f"SELECT {rows.columns(rows.EXAM)} FROM exams"
TICKET_SQL = f"SELECT {rows.columns(rows.TICKET)} FROM tickets"
FINISHED_STATES = "('submitted','timed_out','terminated')"


class ExamTables(Database):
    async def create_exam(self, exam: ExamRecord) -> None:
        created = exam.created_at or datetime.now().astimezone()
        sql = f"INSERT INTO exams ({rows.columns(rows.EXAM)}) VALUES ({rows.marks(rows.EXAM)})"

        def op(c: sqlite3.Connection) -> None:
            c.execute(
                sql,
                (
                    exam.id,
                    exam.title,
                    to_wire(exam.starts_at),
                    exam.duration.total_seconds(),
                    encode_bank(exam.questions).decode(),
                    encode_bank(exam.trial_questions).decode(),
                    exam.pass_score,
                    exam.snapshot_interval_s,
                    exam.warning_limit,
                    to_wire(created),
                    exam.on_warning_limit.value,
                    exam.retention_days,
                ),
            )

        await self._write(op)

    async def get_exam(self, exam_id: str) -> ExamRecord | None:
        row = await self._read(
            lambda c: c.execute(EXAM_SQL + " WHERE id = ?", (exam_id,)).fetchone()
        )
        return None if row is None else rows.exam(row)

    async def list_live_exams(self, now: datetime) -> list[ExamRecord]:
        found = await self._read(lambda c: c.execute(EXAM_SQL).fetchall())
        exams = [rows.exam(r) for r in found]
        # exams not yet over, and exams over that still hold unfinished attempts
        unfinished = set(
            await self._read(
                lambda c: [
                    r["exam_id"]
                    for r in c.execute(
                        "SELECT DISTINCT exam_id FROM attempts "
                        f"WHERE state NOT IN {FINISHED_STATES}"
                    )
                ]
            )
        )
        return [e for e in exams if not e.window.over(now) or e.id in unfinished]

    async def create_ticket(self, ticket: TicketRecord) -> None:
        await self.create_tickets([ticket])

    async def create_tickets(self, tickets: Sequence[TicketRecord]) -> None:
        """All of them in one write, or none (a duplicate code or token refuses the batch)."""
        now = to_wire(datetime.now().astimezone())
        names = (*rows.TICKET, "created_at")
        sql = f"INSERT INTO tickets ({rows.columns(names)}) VALUES ({rows.marks(names)})"
        seal = self.fields.seal
        values = [
            (
                t.token,
                t.exam_id,
                t.candidate_code,
                seal(t.name, "tickets", "name", (t.exam_id, t.candidate_code)),
                seal(t.email, "tickets", "email", (t.exam_id, t.candidate_code)),
                seal(t.phone, "tickets", "phone", (t.exam_id, t.candidate_code)),
                t.reference_photo,
                int(t.revoked),
                now,
            )
            for t in tickets
        ]
        await self._write(lambda c: c.executemany(sql, values))

    async def get_ticket(self, token: str) -> TicketRecord | None:
        row = await self._read(
            lambda c: c.execute(TICKET_SQL + " WHERE token = ?", (token,)).fetchone()
        )
        return None if row is None else rows.ticket(row, self.fields)

    async def count_tickets(self, exam_id: str) -> int:
        return int(
            await self._read(
                lambda c: c.execute(
                    "SELECT count(*) AS n FROM tickets WHERE exam_id = ?", (exam_id,)
                ).fetchone()["n"]
            )
        )

    async def tickets_of_exam(self, exam_id: str) -> list[TicketRecord]:
        """Every ticket of an exam, by candidate code (absentees included)."""
        found = await self._read(
            lambda c: c.execute(
                TICKET_SQL + " WHERE exam_id = ? ORDER BY candidate_code", (exam_id,)
            ).fetchall()
        )
        return [rows.ticket(r, self.fields) for r in found]
