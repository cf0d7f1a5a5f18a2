"""The proctor console's tables: proctors (tokens as hashes) and their sign-in
sessions, late admissions, reviews of violations, verdicts on attempts, and an attempt's own
deadline moved by extra time. Every staff change is committed with its audit entry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from proctor_server.core.audit import AuditEntry
from proctor_server.core.records import AttemptRecord, ProctorRecord
from proctor_server.store.sql import rows
from proctor_server.store.sql.attempts import ATTEMPT_SQL
from proctor_server.store.sql.audit import append_audit, record_command
from proctor_server.store.sql.connection import Connection
from proctor_server.store.sql.database import Database
from proctor_server.store.sql.exams import FINISHED_STATES
from shared.errors import ErrorCode, RuleError
from shared.timeutil import to_wire

PROCTOR_SQL = f"SELECT {rows.columns(rows.PROCTOR)} FROM proctors"

# What a proctor's command leaves in the audit log, written with the change it made:
# (proctor id, client id, kind) and the entry's actor, action and detail.
Command = tuple[str, str, str]
Entry = tuple[str, str, dict[str, Any]]


def _judge(
    c: Connection,
    table: str,
    key_column: str,
    key: object,
    verdict: str,
    note: str,
    by: str,
    at: datetime,
) -> None:
    """A review of a violation or a verdict on an attempt: the latest one stands."""
    c.execute(
        f"INSERT INTO {table} ({key_column}, verdict, note, by_proctor, at) VALUES (?,?,?,?,?) "
        f"ON CONFLICT ({key_column}) DO UPDATE SET verdict = excluded.verdict, "
        "note = excluded.note, by_proctor = excluded.by_proctor, at = excluded.at",
        (key, verdict, note, by, to_wire(at)),
    )


def _audited(
    c: Connection, chain: str, command: Command | None, entry: Entry, at: datetime
) -> AuditEntry:
    if command is not None:
        record_command(c, *command, at)
    return append_audit(c, chain, *entry, at)


class ProctorTables(Database):
    # ------------------------------------------------------------ proctors and sessions

    async def add_proctor(self, proctor: ProctorRecord, token_hash: str) -> None:
        names = (*rows.PROCTOR, "token_hash")
        sql = f"INSERT INTO proctors ({rows.columns(names)}) VALUES ({rows.marks(names)})"
        await self._write(
            lambda c: c.execute(
                sql,
                (
                    proctor.id,
                    proctor.name,
                    proctor.role.value,
                    proctor.exam_id,
                    to_wire(proctor.created_at),
                    rows.t(proctor.revoked_at),
                    token_hash,
                ),
            )
        )

    async def proctor_by_token(self, token_hash: str) -> ProctorRecord | None:
        """The proctor a sign-in token (by its hash) belongs to, revoked or not."""
        row = await self._read(
            lambda c: c.execute(PROCTOR_SQL + " WHERE token_hash = ?", (token_hash,)).fetchone()
        )
        return None if row is None else rows.proctor(row)

    async def get_proctor(self, proctor_id: str) -> ProctorRecord | None:
        row = await self._read(
            lambda c: c.execute(PROCTOR_SQL + " WHERE id = ?", (proctor_id,)).fetchone()
        )
        return None if row is None else rows.proctor(row)

    async def proctors(self, exam_id: str | None = None) -> list[ProctorRecord]:
        """Every proctor (of `exam_id`, with the chiefs, who see every exam), oldest first."""
        args: tuple[str, ...] = ()
        if exam_id is None:
            sql = PROCTOR_SQL + " ORDER BY created_at, id"
        else:
            sql = PROCTOR_SQL + " WHERE exam_id = ? OR role = 'chief' ORDER BY created_at, id"
            args = (exam_id,)
        found = await self._read(lambda c: c.execute(sql, args).fetchall())
        return [rows.proctor(r) for r in found]

    async def revoke_proctors(
        self, name: str, at: datetime, entry: Entry, exam_id: str | None = None
    ) -> list[ProctorRecord]:
        """Revoke every active proctor of that name (in `exam_id` when given) and end their
        sessions; one audit entry per proctor, in their exam's chain."""

        def op(c: Connection) -> list[ProctorRecord]:
            sql = PROCTOR_SQL + " WHERE name = ? AND revoked_at IS NULL"
            args: tuple[str, ...] = (name,)
            if exam_id is not None:
                sql += " AND exam_id = ?"
                args = (name, exam_id)
            sql += c.dialect.for_update
            found = [rows.proctor(r) for r in c.execute(sql, args).fetchall()]
            for p in found:
                c.execute("UPDATE proctors SET revoked_at = ? WHERE id = ?", (to_wire(at), p.id))
                c.execute("DELETE FROM proctor_sessions WHERE proctor_id = ?", (p.id,))
                actor, action, detail = entry
                detail = {**detail, "proctor": p.name, "role": p.role.value, "exam": p.exam_id}
                append_audit(c, p.exam_id or "", actor, action, detail, at)
            return found

        return await self._write(op)

    async def create_proctor_session(
        self, id_hash: str, proctor_id: str, at: datetime, expires_at: datetime
    ) -> None:
        """A new session (sessions expired by `at` are removed on the way)."""

        def op(c: Connection) -> None:
            c.execute("DELETE FROM proctor_sessions WHERE expires_at <= ?", (to_wire(at),))
            c.execute(
                "INSERT INTO proctor_sessions (id_hash, proctor_id, created_at, expires_at) "
                "VALUES (?,?,?,?)",
                (id_hash, proctor_id, to_wire(at), to_wire(expires_at)),
            )

        await self._write(op)

    async def proctor_by_session(self, id_hash: str, now: datetime) -> ProctorRecord | None:
        """The active proctor of an unexpired session, or None."""
        sql = (
            PROCTOR_SQL + " WHERE revoked_at IS NULL AND id = (SELECT proctor_id FROM "
            "proctor_sessions WHERE id_hash = ? AND expires_at > ?)"
        )
        row = await self._read(lambda c: c.execute(sql, (id_hash, to_wire(now))).fetchone())
        return None if row is None else rows.proctor(row)

    async def end_proctor_session(self, id_hash: str) -> None:
        await self._write(
            lambda c: c.execute("DELETE FROM proctor_sessions WHERE id_hash = ?", (id_hash,))
        )

    # ------------------------------------------------------------ what proctors decide

    async def admit(
        self,
        exam_id: str,
        candidate_code: str,
        at: datetime,
        entry: Entry,
        command: Command | None = None,
    ) -> str:
        """Let this candidate's first entry through after the entry window (R15); returns the
        ticket. RuleError when the exam has no such candidate."""

        def op(c: Connection) -> str:
            row = c.execute(
                "SELECT token FROM tickets WHERE exam_id = ? AND candidate_code = ? "
                "AND revoked = 0" + c.dialect.for_update,  # the candidate's entry waits
                (exam_id, candidate_code),
            ).fetchone()
            if row is None:
                raise RuleError(f"no candidate {candidate_code} in this exam")
            actor, _, detail = entry
            c.execute(
                "INSERT INTO admissions (ticket, by_proctor, reason, at) VALUES (?,?,?,?) "
                "ON CONFLICT (ticket) DO UPDATE SET by_proctor = excluded.by_proctor, "
                "reason = excluded.reason, at = excluded.at",
                (row["token"], actor, str(detail.get("reason", "")), to_wire(at)),
            )
            _audited(c, exam_id, command, entry, at)
            return str(row["token"])

        return await self._write(op)

    async def admitted(self, ticket: str) -> bool:
        row = await self._read(
            lambda c: c.execute("SELECT 1 FROM admissions WHERE ticket = ?", (ticket,)).fetchone()
        )
        return row is not None

    async def admitted_tickets(self, exam_id: str) -> set[str]:
        found = await self._read(
            lambda c: c.execute(
                "SELECT a.ticket FROM admissions a JOIN tickets t ON t.token = a.ticket "
                "WHERE t.exam_id = ?",
                (exam_id,),
            ).fetchall()
        )
        return {str(r["ticket"]) for r in found}

    async def violation_exam(self, violation_id: int) -> tuple[str, str] | None:
        """(attempt id, exam id) of a violation, or None."""
        row = await self._read(
            lambda c: c.execute(
                "SELECT v.attempt_id AS attempt_id, a.exam_id AS exam_id FROM violations v "
                "JOIN attempts a ON a.id = v.attempt_id WHERE v.id = ?",
                (violation_id,),
            ).fetchone()
        )
        return None if row is None else (str(row["attempt_id"]), str(row["exam_id"]))

    async def review_violation(
        self,
        violation_id: int,
        verdict: str,
        note: str,
        at: datetime,
        exam_id: str,
        entry: Entry,
        command: Command | None = None,
    ) -> None:
        """A proctor's review of a violation (the latest review stands; each is audited)."""

        def op(c: Connection) -> None:
            _judge(
                c, "violation_reviews", "violation_id", violation_id, verdict, note, entry[0], at
            )
            _audited(c, exam_id, command, entry, at)

        await self._write(op)

    async def violation_reviews(self, attempt_id: str) -> dict[int, tuple[str, str, str]]:
        """Violation id -> (verdict, note, by) for an attempt's reviewed violations."""
        found = await self._read(
            lambda c: c.execute(
                "SELECT r.violation_id, r.verdict, r.note, r.by_proctor FROM violation_reviews r "
                "JOIN violations v ON v.id = r.violation_id WHERE v.attempt_id = ?",
                (attempt_id,),
            ).fetchall()
        )
        return {int(r["violation_id"]): (r["verdict"], r["note"], r["by_proctor"]) for r in found}

    async def set_verdict(
        self,
        attempt_id: str,
        verdict: str,
        note: str,
        at: datetime,
        exam_id: str,
        entry: Entry,
        command: Command | None = None,
    ) -> None:
        """The staff's verdict on a finished attempt (clean, suspicious, invalidated)."""

        def op(c: Connection) -> None:
            _judge(c, "attempt_verdicts", "attempt_id", attempt_id, verdict, note, entry[0], at)
            _audited(c, exam_id, command, entry, at)

        await self._write(op)

    async def attempt_verdicts(self, exam_id: str) -> dict[str, str]:
        """Attempt id -> the staff's verdict, for the attempts of an exam that have one. Result
        publishing reads it: an invalidated attempt is not a pass."""
        found = await self._read(
            lambda c: c.execute(
                "SELECT v.attempt_id, v.verdict FROM attempt_verdicts v "
                "JOIN attempts a ON a.id = v.attempt_id WHERE a.exam_id = ?",
                (exam_id,),
            ).fetchall()
        )
        return {str(r["attempt_id"]): str(r["verdict"]) for r in found}

    async def set_deadline(
        self,
        attempt_id: str,
        ends_at: datetime,
        at: datetime,
        entry: Entry,
        command: Command | None = None,
    ) -> AttemptRecord:
        """Move an unfinished attempt's own deadline (extra time); RuleError when it finished."""

        def op(c: Connection) -> AttemptRecord:
            cur = c.execute(
                f"UPDATE attempts SET ends_at = ? WHERE id = ? AND state NOT IN {FINISHED_STATES}",
                (to_wire(ends_at), attempt_id),
            )
            if cur.rowcount != 1:
                raise RuleError("the attempt has already finished", code=ErrorCode.EXAM_OVER)
            row = c.execute(f"{ATTEMPT_SQL} WHERE id = ?", (attempt_id,)).fetchone()
            attempt = rows.attempt(row)
            _audited(c, attempt.exam_id, command, entry, at)
            return attempt

        return await self._write(op)
