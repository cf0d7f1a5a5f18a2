"""Attempts: entry (one transaction from ticket to watermark nonce), state
transitions through the table in `shared.states`, warnings, and the reads over attempts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from proctor_server.core.records import AttemptRecord, TicketRecord
from proctor_server.store.sql import rows
from proctor_server.store.sql.audit import SYSTEM, append_audit, audit_attempt, record_command
from proctor_server.store.sql.connection import Connection
from proctor_server.store.sql.database import Database
from proctor_server.store.sql.exams import FINISHED_STATES, TICKET_SQL
from proctor_server.store.sql.writes import latest_answers
from shared.questions import Question, max_score, score
from shared.states import AttemptState, Effect, Trigger, transition
from shared.timeutil import from_wire, to_wire
from shared.vocabulary import Mode

ATTEMPT_SQL = f"SELECT {rows.columns(rows.ATTEMPT)} FROM attempts"
Admitted = Callable[[], bool]  # whether a proctor admitted the ticket past the entry window
# A ticket's latest attempt in a mode. The mode is written into the statement, from Mode's
# values only: SQLite plans a statement again whenever a new value is bound to a column that a
# partial index is conditioned on (attempts_one_exam_per_ticket: mode = 'exam'), which made
# this read cost more than the rest of an entry's statements together; with the literal, an
# exam's entry reads that unique index.
_LATEST = {
    m: f"{ATTEMPT_SQL} WHERE ticket = ? AND mode = '{m.value}' ORDER BY created_at DESC LIMIT 1"
    for m in Mode
}


def latest_attempt_sql(mode: str) -> str:
    """The query for a ticket's latest attempt in `mode` (its one parameter: the ticket)."""
    return _LATEST[Mode(mode)]


INSERT_ATTEMPT = (
    f"INSERT INTO attempts ({rows.columns(rows.ATTEMPT)}) VALUES ({rows.marks(rows.ATTEMPT)})"
)


def insert_attempt(c: Connection, a: AttemptRecord) -> None:
    """An attempt's row and its first state."""
    c.execute(INSERT_ATTEMPT, rows.attempt_values(a))
    c.execute(
        "INSERT INTO attempt_states (attempt_id, state, at, reason) VALUES (?,?,?,?)",
        (a.id, a.state.value, to_wire(a.created_at), "entered"),
    )


def insert_nonce(c: Connection, attempt_id: str, nonce: str, at: datetime) -> None:
    c.execute(
        "INSERT INTO nonces (attempt_id, nonce, live_from) VALUES (?,?,?)",
        (attempt_id, nonce, to_wire(at)),
    )


class AttemptTables(Database):
    async def _attempts(self, where: str, args: tuple[Any, ...]) -> list[AttemptRecord]:
        sql = f"{ATTEMPT_SQL} WHERE {where}"
        found = await self._read(lambda c: c.execute(sql, args).fetchall())
        return [rows.attempt(r) for r in found]

    async def find_attempt(self, ticket: str, mode: str) -> AttemptRecord | None:
        sql = latest_attempt_sql(mode)
        found = await self._read(lambda c: c.execute(sql, (ticket,)).fetchone())
        return None if found is None else rows.attempt(found)

    async def get_attempt(self, attempt_id: str) -> AttemptRecord | None:
        found = await self._attempts("id = ?", (attempt_id,))
        return found[0] if found else None

    async def unfinished_attempts(self, exam_id: str) -> list[AttemptRecord]:
        return await self._attempts(f"exam_id = ? AND state NOT IN {FINISHED_STATES}", (exam_id,))

    async def attempts_of_exam(self, exam_id: str) -> list[AttemptRecord]:
        return await self._attempts("exam_id = ? ORDER BY created_at", (exam_id,))

    async def enter(
        self,
        token: str,
        mode: str,
        nonce: str,
        at: datetime,
        decide: Callable[[TicketRecord | None, AttemptRecord | None, Admitted], AttemptRecord],
    ) -> tuple[TicketRecord, AttemptRecord, bool]:
        """A candidate's entry in one write transaction (the join's hot path): read the ticket
        and its latest attempt in `mode`, let `decide` pick the attempt to enter (the one found,
        or a new one to insert) or raise, then record the watermark nonce. `decide` asks
        whether a proctor admitted the ticket late (R15) only for an entry past the window,
        so an entry on time reads no admission. Returns the ticket, the attempt and whether it
        was resumed. Every effect is in the transaction: a group of entries runs without
        savepoints (`repeatable`)."""

        def op(c: Connection) -> tuple[TicketRecord, AttemptRecord, bool]:
            # the ticket's row locked first: entries of one ticket on two processes take turns
            row = c.execute(TICKET_SQL + " WHERE token = ?" + c.dialect.for_update, (token,))
            row = row.fetchone()
            ticket = None if row is None else rows.ticket(row, self.fields)
            found_row = c.execute(latest_attempt_sql(mode), (token,)).fetchone() if ticket else None
            found = None if found_row is None else rows.attempt(found_row)
            asked: list[bool] = []  # the admission, once asked for

            def admitted() -> bool:
                if not asked:
                    sql = "SELECT 1 FROM admissions WHERE ticket = ?"
                    asked.append(c.execute(sql, (token,)).fetchone() is not None)
                return asked[0]

            attempt = decide(ticket, found, admitted)
            assert ticket is not None  # decide refuses an unknown ticket
            resumed = found is not None and attempt.id == found.id
            if not resumed:
                insert_attempt(c, attempt)
            insert_nonce(c, attempt.id, nonce, at)
            append_audit(
                c,
                attempt.exam_id,
                SYSTEM,
                "entry",
                {
                    "attempt": attempt.id,
                    "candidate": ticket.candidate_code,
                    "mode": attempt.mode.value,
                    "resumed": resumed,
                    "late_admission": bool(asked) and asked[0] and not resumed,
                },
                at,
            )
            return ticket, attempt, resumed

        return await self._write(op, repeatable=True)

    async def create_attempt(self, attempt: AttemptRecord) -> None:
        """Insert an attempt with its first state (staff tools and tests; candidates enter
        through `enter`)."""
        await self._write(lambda c: insert_attempt(c, attempt))

    async def transition(
        self,
        attempt_id: str,
        trigger: Trigger,
        at: datetime,
        reason: str,
        *,
        questions: list[Question],
        pass_score: int,
    ) -> tuple[AttemptRecord, tuple[Effect, ...]]:
        """Change an attempt's state through the transition table, inside one transaction.

        The current state is read in the same transaction as the change, its row locked
        (another process's transition or write on it waits), so a deadline and a submit racing
        each other cannot both win, on whichever processes they run. Scoring (Effect.SCORE) reads the answers
        committed before this transaction: every acknowledged answer counts.
        """

        def op(c: Connection) -> tuple[AttemptRecord, tuple[Effect, ...]]:
            row = c.execute(
                f"{ATTEMPT_SQL} WHERE id = ?{c.dialect.for_update}", (attempt_id,)
            ).fetchone()
            if row is None:
                raise KeyError(attempt_id)
            a = rows.attempt(row)
            before = a.state
            state, effects = transition(a.state, trigger)
            a.state = state
            if trigger is Trigger.IDENTITY_ACCEPTED:
                a.identity_accepted = True
            if state is AttemptState.IN_PROGRESS and a.started_at is None:
                a.started_at = at
            if Effect.SCORE in effects:
                chosen = {
                    question: frozenset(choice)
                    for question, choice in latest_answers(c, attempt_id).items()
                }
                a.score = score(questions, chosen)
                a.max_score = max_score(questions)
                a.passed = a.score >= pass_score
                a.finished_at = at
            c.execute(
                "UPDATE attempts SET state=?, started_at=?, finished_at=?, score=?, max_score=?, "
                "passed=?, identity_accepted=? WHERE id=?",
                (
                    state.value,
                    rows.t(a.started_at),
                    rows.t(a.finished_at),
                    a.score,
                    a.max_score,
                    a.passed,
                    int(a.identity_accepted),
                    a.id,
                ),
            )
            c.execute(
                "INSERT INTO attempt_states (attempt_id, state, at, reason) VALUES (?,?,?,?)",
                (a.id, state.value, to_wire(at), reason),
            )
            detail: dict[str, Any] = {
                "from": before.value,
                "to": state.value,
                "trigger": trigger.value,
                "reason": reason,
            }
            if Effect.SCORE in effects:
                detail.update(score=a.score, max_score=a.max_score, passed=a.passed)
            audit_attempt(c, a.id, "state", detail, at)
            return a, effects

        return await self._write(op)

    async def state_history(self, attempt_id: str) -> list[tuple[str, datetime, str]]:
        found = await self._read(
            lambda c: c.execute(
                "SELECT state, at, reason FROM attempt_states WHERE attempt_id = ? ORDER BY rowid",
                (attempt_id,),
            ).fetchall()
        )
        return [(r["state"], from_wire(r["at"]), r["reason"]) for r in found]

    async def add_warning(
        self,
        attempt_id: str,
        at: datetime | None = None,
        *,
        actor: str = "system",
        text: str = "",
        command: tuple[str, str, str] | None = None,
    ) -> int:
        """Count one warning toward the attempt's limit; its audit entry names who gave it
        (`command`: a proctor's command, recorded with it)."""

        def op(c: Connection) -> int:
            c.execute(
                "UPDATE attempts SET warnings_used = warnings_used + 1 WHERE id = ?", (attempt_id,)
            )
            used = int(
                c.execute(
                    "SELECT warnings_used FROM attempts WHERE id = ?", (attempt_id,)
                ).fetchone()["warnings_used"]
            )
            when = at or datetime.now().astimezone()
            if command is not None:
                record_command(c, *command, when)
            audit_attempt(c, attempt_id, "warning", {"count": used, "text": text}, when, actor)
            return used

        return await self._write(op)
