"""What the server records about attempts in SQLite: violations (and an exam's overview of
them), watermark nonces, and the staff audit trail."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any

from proctor_server.core.console import ExamGrid, GridSeat
from proctor_server.core.records import AttemptRecord, TicketRecord, ViolationRecord
from proctor_server.store.sqlite import rows
from proctor_server.store.sqlite.attempts import ATTEMPT_SQL, insert_nonce
from proctor_server.store.sqlite.audit import audit_attempt
from proctor_server.store.sqlite.database import Database
from proctor_server.store.sqlite.exams import TICKET_SQL
from proctor_server.store.sqlite.writes import VIOLATION_INSERT
from shared.timeutil import from_wire, to_wire

VIOLATION_SQL = f"SELECT {rows.columns(rows.VIOLATION)} FROM violations"
# The proctor's grid: each ticket with the attempt its row shows (the exam attempt, else the
# latest trial), in one statement; columns in `GridSeat`'s order.
GRID_SQL = """
SELECT t.candidate_code, t.name, ad.ticket IS NOT NULL,
       a.id, a.mode, a.state, a.ends_at, a.finished_at, a.score, a.max_score, a.passed,
       a.warnings_used, v.verdict
FROM tickets t
LEFT JOIN attempts a ON a.id = coalesce(
    (SELECT x.id FROM attempts x WHERE x.ticket = t.token AND x.mode = 'exam'),
    (SELECT x.id FROM attempts x WHERE x.ticket = t.token AND x.mode = 'trial'
     ORDER BY x.created_at DESC LIMIT 1))
LEFT JOIN admissions ad ON ad.ticket = t.token
LEFT JOIN attempt_verdicts v ON v.attempt_id = a.id
WHERE t.exam_id = ?
ORDER BY t.candidate_code
"""


class RecordTables(Database):
    # ------------------------------------------------------------ violations

    async def add_violation(
        self,
        attempt_id: str,
        kind: str,
        source: str,
        at: datetime,
        *,
        client_at: str | None = None,
        ended_at: datetime | None = None,
        confidence: float = 1.0,
        evidence: dict[str, Any] | None = None,
    ) -> int:
        def op(c: sqlite3.Connection) -> int:
            cur = c.execute(
                VIOLATION_INSERT,
                (
                    attempt_id,
                    kind,
                    source,
                    to_wire(at),
                    client_at,
                    rows.t(ended_at),
                    confidence,
                    json.dumps(evidence or {}, ensure_ascii=False),
                ),
            )
            violation_id = int(cur.lastrowid or 0)
            audit_attempt(
                c,
                attempt_id,
                "violation",
                {
                    "violation": violation_id,
                    "kind": kind,
                    "source": source,
                    "confidence": confidence,
                },
                at,
            )
            return violation_id

        return await self._write(op)

    async def end_violation(
        self, violation_id: int, ended_at: datetime, evidence: dict[str, Any] | None = None
    ) -> None:
        def op(c: sqlite3.Connection) -> None:
            if evidence is None:
                c.execute(
                    "UPDATE violations SET ended_at = ? WHERE id = ?",
                    (to_wire(ended_at), violation_id),
                )
            else:
                c.execute(
                    "UPDATE violations SET ended_at = ?, evidence = ? WHERE id = ?",
                    (to_wire(ended_at), json.dumps(evidence, ensure_ascii=False), violation_id),
                )

        await self._write(op)

    async def violations(self, attempt_id: str) -> list[ViolationRecord]:
        sql = VIOLATION_SQL + " WHERE attempt_id = ? ORDER BY id"
        found = await self._read(lambda c: c.execute(sql, (attempt_id,)).fetchall())
        return [rows.violation(r) for r in found]

    async def exam_overview(
        self, exam_id: str
    ) -> list[tuple[AttemptRecord, TicketRecord, list[ViolationRecord]]]:
        """Every attempt of an exam with its ticket and violations, in one read (a proctor's
        view of thousands of candidates must not cost thousands of queries)."""
        attempt_sql = ATTEMPT_SQL + " WHERE exam_id = ? ORDER BY created_at"
        ticket_sql = TICKET_SQL + " WHERE exam_id = ?"
        violation_sql = (
            VIOLATION_SQL
            + " WHERE attempt_id IN (SELECT id FROM attempts WHERE exam_id = ?) ORDER BY id"
        )

        def op(c: sqlite3.Connection) -> tuple[list[rows.Row], list[rows.Row], list[rows.Row]]:
            return (
                c.execute(attempt_sql, (exam_id,)).fetchall(),
                c.execute(ticket_sql, (exam_id,)).fetchall(),
                c.execute(violation_sql, (exam_id,)).fetchall(),
            )

        attempt_rows, ticket_rows, violation_rows = await self._read(op)
        tickets = {row["token"]: rows.ticket(row, self.fields) for row in ticket_rows}
        by_attempt: dict[str, list[ViolationRecord]] = {}
        for row in violation_rows:
            by_attempt.setdefault(row["attempt_id"], []).append(rows.violation(row))
        attempts = [rows.attempt(row) for row in attempt_rows]
        return [(a, tickets[a.ticket], by_attempt.get(a.id, [])) for a in attempts]

    async def exam_grid(self, exam_id: str) -> ExamGrid:
        """Every ticket of an exam with the attempt its grid row shows, and those attempts'
        violations: one read, no record built for what the grid does not show."""
        violation_sql = (
            VIOLATION_SQL
            + " WHERE attempt_id IN (SELECT id FROM attempts WHERE exam_id = ?) ORDER BY id"
        )

        def op(c: sqlite3.Connection) -> ExamGrid:
            cursor = c.cursor()
            cursor.row_factory = None  # plain tuples: read by position, in GridSeat's order
            text = self.fields.text  # names are sealed by exam and candidate code (`personal.py`)
            seats = [
                GridSeat._make((r[0], text(r[1], "tickets", "name", (exam_id, r[0])), *r[2:]))
                for r in cursor.execute(GRID_SQL, (exam_id,))
            ]
            by_attempt: dict[str, list[ViolationRecord]] = {}
            for row in c.execute(violation_sql, (exam_id,)):
                by_attempt.setdefault(row["attempt_id"], []).append(rows.violation(row))
            return ExamGrid(seats, by_attempt)

        return await self._read(op)

    # ------------------------------------------------------------ watermark nonces

    async def add_nonce(self, attempt_id: str, nonce: str, at: datetime) -> None:
        await self._write(lambda c: insert_nonce(c, attempt_id, nonce, at))

    async def nonce_history(self, attempt_id: str) -> list[tuple[str, datetime]]:
        found = await self._read(
            lambda c: c.execute(
                "SELECT nonce, live_from FROM nonces WHERE attempt_id = ? ORDER BY live_from",
                (attempt_id,),
            ).fetchall()
        )
        return [(r["nonce"], from_wire(r["live_from"])) for r in found]

    async def find_nonce(self, nonce: str) -> tuple[str, datetime] | None:
        row = await self._read(
            lambda c: c.execute(
                "SELECT attempt_id, live_from FROM nonces WHERE nonce = ?", (nonce,)
            ).fetchone()
        )
        return None if row is None else (row["attempt_id"], from_wire(row["live_from"]))
