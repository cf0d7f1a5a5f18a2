"""Exams and admission tickets."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from proctor_server.core.records import ExamRecord, TicketRecord
from proctor_server.store.sealing import Fields
from proctor_server.store.sql import rows
from proctor_server.store.sql.audit import append_audit
from proctor_server.store.sql.connection import Connection
from proctor_server.store.sql.database import Database
from shared.errors import ConfigError
from shared.questions import encode_bank
from shared.timeutil import to_wire

EXAM_SQL = f"SELECT {rows.columns(rows.EXAM)} FROM exams"
TICKET_SQL = f"SELECT {rows.columns(rows.TICKET)} FROM tickets"
FINISHED_STATES = "('submitted','timed_out','terminated')"


TICKET_COLUMNS = (*rows.TICKET, "created_at")
INSERT_TICKET = (
    f"INSERT INTO tickets ({rows.columns(TICKET_COLUMNS)}) VALUES ({rows.marks(TICKET_COLUMNS)})"
)


def insert_exam(c: Connection, exam: ExamRecord, *, or_ignore: bool = False) -> None:
    """An exam's row (`or_ignore`: keep the one already stored under that id)."""
    created = exam.created_at or datetime.now().astimezone()
    keep = " ON CONFLICT DO NOTHING" if or_ignore else ""
    c.execute(
        f"INSERT INTO exams ({rows.columns(rows.EXAM)}) VALUES ({rows.marks(rows.EXAM)}){keep}",
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


def ticket_values(t: TicketRecord, created: str, fields: Fields) -> tuple[object, ...]:
    """A ticket's row; `t.token` is its key (the store never sees a raw ticket); the name and
    contacts sealed under the data key when there is one (`personal.py`)."""
    key = (t.exam_id, t.candidate_code)
    return (
        t.token,
        t.exam_id,
        t.candidate_code,
        fields.seal(t.name, "tickets", "name", key),
        fields.seal(t.email, "tickets", "email", key),
        fields.seal(t.phone, "tickets", "phone", key),
        t.reference_photo,
        int(t.revoked),
        int(t.trial_only),
        created,
    )


class ExamTables(Database):
    async def create_exam(self, exam: ExamRecord) -> None:
        await self._write(lambda c: insert_exam(c, exam))

    async def get_exam(self, exam_id: str) -> ExamRecord | None:
        row = await self._read(
            lambda c: c.execute(EXAM_SQL + " WHERE id = ?", (exam_id,)).fetchone()
        )
        return None if row is None else rows.exam(row)

    async def list_live_exams(self, now: datetime) -> list[ExamRecord]:
        """Exams not over yet, and exams over that still hold unfinished attempts. A sitting's
        trial exam (it holds trial passes, R12) counts only while a trial in it is unfinished:
        it is loaded when a pass enters, and is no exam for a proctor to follow."""
        found = await self._read(
            lambda c: c.execute(
                EXAM_SQL + " WHERE NOT EXISTS (SELECT 1 FROM tickets t "
                "WHERE t.exam_id = exams.id AND t.trial_only = 1)"
            ).fetchall()
        )
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
        live = [e for e in exams if not e.window.over(now) or e.id in unfinished]
        known = {e.id for e in live}
        for exam_id in sorted(unfinished - known):  # a trial exam with a trial going on
            exam = await self.get_exam(exam_id)
            if exam is not None:
                live.append(exam)
        return live

    async def create_ticket(self, ticket: TicketRecord) -> None:
        await self.create_tickets([ticket])

    async def create_tickets(self, tickets: Sequence[TicketRecord]) -> None:
        """All of them in one write, or none (a duplicate code or key refuses the batch)."""
        now = to_wire(datetime.now().astimezone())
        values = [ticket_values(t, now, self.fields) for t in tickets]
        await self._write(lambda c: c.executemany(INSERT_TICKET, values))

    async def get_ticket(self, token: str) -> TicketRecord | None:
        """The ticket with this key (`core.session.ticket_key` of the raw ticket)."""
        row = await self._read(
            lambda c: c.execute(TICKET_SQL + " WHERE token = ?", (token,)).fetchone()
        )
        return None if row is None else rows.ticket(row, self.fields)

    async def revoke_ticket(
        self, exam_id: str, candidate_code: str, at: datetime, *, actor: str, reason: str
    ) -> TicketRecord:
        """Revoke the admission ticket (and trial pass) of a candidate of the exam, with its
        audit entry in the exam's chain; returns the ticket. ConfigError when the exam has no
        such candidate; revoking twice changes nothing but the audit entry."""

        def op(c: Connection) -> TicketRecord:
            row = c.execute(
                TICKET_SQL + " WHERE exam_id = ? AND candidate_code = ?" + c.dialect.for_update,
                (exam_id, candidate_code),
            ).fetchone()
            if row is None:
                raise ConfigError(f"exam {exam_id} has no candidate {candidate_code}")
            c.execute(
                "UPDATE tickets SET revoked = 1, revoked_at = coalesce(revoked_at, ?) "
                "WHERE token = ?",
                (to_wire(at), row["token"]),
            )
            detail = {"candidate": candidate_code, "reason": reason, "was_revoked": row["revoked"]}
            append_audit(c, exam_id, actor, "ticket_revoke", detail, at)
            return rows.ticket(row, self.fields)

        return await self._write(op)

    async def revoked_tickets(self, exam_id: str) -> set[str]:
        """The keys of the exam's revoked tickets (the runtime's sweep: few, and indexed)."""
        found = await self._read(
            lambda c: c.execute(
                "SELECT token FROM tickets WHERE exam_id = ? AND revoked = 1", (exam_id,)
            ).fetchall()
        )
        return {str(r["token"]) for r in found}

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
