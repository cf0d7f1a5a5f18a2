"""What the server records about attempts: violations (and an exam's overview of
them), watermark nonces, and the staff audit trail."""

from __future__ import annotations

import functools
import json
from datetime import datetime
from typing import Any

import msgspec

from proctor_server.core.console import ExamGrid, GridRisk
from proctor_server.core.records import AttemptRecord, TicketRecord, ViolationRecord
from proctor_server.store.sealing import FIELD_MAGIC
from proctor_server.store.sql import rows
from proctor_server.store.sql.attempts import ATTEMPT_SQL, insert_nonce
from proctor_server.store.sql.audit import audit_attempt
from proctor_server.store.sql.connection import Connection
from proctor_server.store.sql.database import Database
from proctor_server.store.sql.exams import TICKET_SQL
from proctor_server.store.sql.writes import VIOLATION_INSERT
from shared.timeutil import from_wire, to_wire
from shared.vocabulary import Source, ViolationKind

KINDS = {k.value: k for k in ViolationKind}
SOURCES = {s.value: s for s in Source}
VIOLATION_SQL = f"SELECT {rows.columns(rows.VIOLATION)} FROM violations"
# The proctor's grid: each ticket with the attempt its row shows (the exam attempt, else the
# latest trial), the riskiest first (?2: a JSON object of the attempts' risks), then in
# candidate-code order, read as the snapshot's columns: the database writes each column as one
# JSON array (`Dialect.grid_sql`), in the wire's words (an absentee's state is `not_entered`, its
# attempt ""; `admitted` and `passed` JSON booleans or null). The last value says whether a
# name is sealed under the data key (those are opened in Python, `exam_grid`).
GRID_FIELDS = (
    "candidate", "name", "state", "attempt", "mode", "ends_at", "warnings", "admitted",
    "verdict", "score", "max_score", "passed",
)  # fmt: skip


GRID_ROWS = f"""
  SELECT t.candidate_code AS code, t.name AS name,
         coalesce(a.state, 'not_entered') AS state, coalesce(a.id, '') AS attempt,
         coalesce(a.mode, 'exam') AS mode, a.ends_at AS ends_at,
         coalesce(a.warnings_used, 0) AS warnings,
         ad.ticket IS NOT NULL AS admitted,
         v.verdict AS verdict, a.score AS score, a.max_score AS max_score,
         a.passed AS passed,
         substr(t.name, 1, {len(FIELD_MAGIC)}) = '{FIELD_MAGIC}' AS sealed
  FROM tickets t
  LEFT JOIN attempts e ON e.ticket = t.token AND e.mode = 'exam'
  LEFT JOIN attempts a ON a.rowid = coalesce(e.rowid, (
      SELECT x.rowid FROM attempts x WHERE e.rowid IS NULL AND x.ticket = t.token
      AND x.mode = 'trial' ORDER BY x.created_at DESC LIMIT 1))
  LEFT JOIN admissions ad ON ad.ticket = t.token
  LEFT JOIN attempt_verdicts v ON v.attempt_id = a.id
  LEFT JOIN ranks r ON r.attempt = a.id
  WHERE t.exam_id = {{exam}}
  ORDER BY coalesce(r.risk, 0) DESC, t.candidate_code
"""  # the dialect aggregates it (`Dialect.grid_sql`), `{exam}` its placeholder for the exam
# What the risk of a grid row needs of the exam's violations (not their evidence), with the
# finish of their attempt (a finished attempt's risk is the one it had when it finished).
GRID_VIOLATION_SQL = """
SELECT v.id, v.attempt_id, v.kind, v.source, v.server_at, v.client_at, v.ended_at,
       v.confidence, a.finished_at
FROM attempts a JOIN violations v ON v.attempt_id = a.id
WHERE a.exam_id = ?
"""  # each attempt's violations come in id order (the index on attempt_id ends with the id)


class RecordTables(Database):
    @functools.cached_property
    def _grid_sql(self) -> str:
        return self.dialect.grid_sql(GRID_ROWS)

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
        def op(c: Connection) -> int:
            cur = c.execute(
                VIOLATION_INSERT + " RETURNING id",
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
            violation_id = int(cur.fetchone()[0])
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
        def op(c: Connection) -> None:
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

    async def note_violation(self, violation_id: int, notes: dict[str, Any]) -> None:
        """Add `notes` to a violation's evidence (its span untouched)."""

        def op(c: Connection) -> None:
            row = c.execute("SELECT evidence FROM violations WHERE id = ?", (violation_id,))
            found = row.fetchone()
            if found is not None:
                evidence = {**json.loads(found[0] or "{}"), **notes}
                c.execute(
                    "UPDATE violations SET evidence = ? WHERE id = ?",
                    (json.dumps(evidence, ensure_ascii=False), violation_id),
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

        def op(c: Connection) -> tuple[list[rows.Row], list[rows.Row], list[rows.Row]]:
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

    async def exam_grid(self, exam_id: str, risk: GridRisk) -> ExamGrid:
        """Every ticket of an exam as the grid's columns, the database writing their JSON in the
        order of the attempts' `risk` (scored here on the exam's violations, their evidence
        left out): one read, no record built for a ticket or an attempt."""

        def op(c: Connection) -> ExamGrid:
            cursor = self.dialect.tuples(c)  # plain tuples, read by position
            violations: dict[str, list[ViolationRecord]] = {}
            finished: dict[str, str | None] = {}
            for r in cursor.execute(GRID_VIOLATION_SQL, (exam_id,)):
                found = violations.get(r[1])
                if found is None:
                    found = violations[r[1]] = []
                    finished[r[1]] = r[8]
                found.append(
                    ViolationRecord(
                        id=r[0],
                        attempt_id=r[1],
                        kind=KINDS[r[2]],
                        source=SOURCES[r[3]],
                        server_at=from_wire(r[4]),
                        client_at=r[5],
                        ended_at=None if r[6] is None else from_wire(r[6]),
                        confidence=r[7],
                        evidence={},  # not read: the risk does not use it
                    )
                )
            risks: dict[str, tuple[int, float, list[str]]] = {}
            for attempt, found in violations.items():
                end = finished[attempt]
                score, reasons = risk(attempt, found, None if end is None else from_wire(end))
                risks[attempt] = (len(found), score, reasons)
            ranks = msgspec.json.encode({a: r[1] for a, r in risks.items() if r[1] > 0})
            *arrays, sealed = cursor.execute(
                self._grid_sql, self.dialect.grid_params(exam_id, ranks)
            ).fetchone()
            columns = {f: a.encode() for f, a in zip(GRID_FIELDS, arrays, strict=True)}
            if sealed:  # names sealed by exam and candidate code (`personal.py`): opened here
                text = self.fields.text
                codes = msgspec.json.decode(columns["candidate"])
                names = msgspec.json.decode(columns["name"])
                opened = [
                    text(n, "tickets", "name", (exam_id, code))
                    for code, n in zip(codes, names, strict=True)
                ]
                columns["name"] = msgspec.json.encode(opened)
            return ExamGrid(columns, msgspec.json.decode(columns["attempt"]), risks)

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
