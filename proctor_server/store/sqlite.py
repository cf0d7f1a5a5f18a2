"""SQLite store: WAL mode, synchronous=FULL, one connection on one thread, grouped commits.

Writes queue up while a transaction is being committed; the writer then runs everything that
arrived meanwhile in one transaction (one fsync for the group), each write in its own
savepoint so that one failing write does not undo the others. A write's future resolves only
after COMMIT returned, so callers acknowledge only what is durable.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from proctor_server.core.session import check_write
from proctor_server.store.base import (
    AttemptRecord,
    ExamRecord,
    PhotoRecord,
    TicketRecord,
    ViolationRecord,
)
from proctor_server.store.files import BlobDir
from proctor_server.store.migrations import migrate
from shared.questions import Question, encode_bank, max_score, parse_bank, score
from shared.shuffle import PaperOrder
from shared.states import AttemptState, Effect, Trigger, transition
from shared.timeutil import from_wire, to_wire
from shared.vocabulary import Mode, Source, ViolationKind

T = TypeVar("T")
Op = Callable[[sqlite3.Connection], Any]

MAX_GROUP = 512  # writes per transaction at most


def _t(moment: datetime | None) -> str | None:
    return None if moment is None else to_wire(moment)


def _dt(text: str | None) -> datetime | None:
    return None if text is None else from_wire(text)


def _bank(text: str) -> list[Question]:
    return parse_bank(text, source="stored bank")


class SqliteStore:
    """The default `Store`. Open with `await store.open()`; `close()` is idempotent."""

    def __init__(self, path: Path | str, data_dir: Path | str | None = None):
        self.path = Path(path)
        root = (
            Path(data_dir)
            if data_dir is not None
            else self.path.with_name(self.path.stem + "-files")
        )
        self.blobs = BlobDir(root)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        self._conn: sqlite3.Connection | None = None
        self._queue: asyncio.Queue[tuple[Op, asyncio.Future[Any]]] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._closed = False
        self.commits = 0  # transactions committed by the group writer (for benchmarks)
        self.writes = 0

    # ------------------------------------------------------------ lifecycle

    def _connect(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=5000")
        migrate(conn)
        self.blobs.prepare()
        self._conn = conn

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._connect)
        self._queue = asyncio.Queue()
        self._writer = asyncio.create_task(self._write_loop(), name="store-writer")

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._writer is not None:
            self._writer.cancel()
            try:
                await self._writer
            except asyncio.CancelledError:
                pass
        if self._queue is not None:
            while not self._queue.empty():  # nothing queued is dropped silently
                _, fut = self._queue.get_nowait()
                if not fut.done():
                    fut.set_exception(RuntimeError("store closed"))
        conn = self._conn
        if conn is not None:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self._executor, conn.close)
        self._executor.shutdown(wait=True)

    # ------------------------------------------------------------ plumbing

    async def _read(self, op: Callable[[sqlite3.Connection], T]) -> T:
        assert self._conn is not None, "store not open"
        loop = asyncio.get_running_loop()
        conn = self._conn
        return await loop.run_in_executor(self._executor, op, conn)

    async def _write(self, op: Callable[[sqlite3.Connection], T]) -> T:
        if self._queue is None or self._closed:
            raise RuntimeError("store not open")
        fut: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((op, fut))
        return await fut

    async def _write_loop(self) -> None:
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        while True:
            group = [await self._queue.get()]
            while len(group) < MAX_GROUP and not self._queue.empty():
                group.append(self._queue.get_nowait())
            try:
                results = await loop.run_in_executor(self._executor, self._commit_group, group)
            except Exception as exc:  # the whole transaction failed: nothing is acknowledged
                for _, fut in group:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            for (_, fut), (ok, value) in zip(group, results, strict=True):
                if fut.done():
                    continue
                if ok:
                    fut.set_result(value)
                else:
                    fut.set_exception(value)

    def _commit_group(self, group: list[tuple[Op, Any]]) -> list[tuple[bool, Any]]:
        conn = self._conn
        assert conn is not None
        results: list[tuple[bool, Any]] = []
        conn.execute("BEGIN IMMEDIATE")
        try:
            for op, _ in group:
                conn.execute("SAVEPOINT w")
                try:
                    results.append((True, op(conn)))
                    conn.execute("RELEASE w")
                except Exception as exc:
                    conn.execute("ROLLBACK TO w")
                    conn.execute("RELEASE w")
                    results.append((False, exc))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self.commits += 1
        self.writes += len(group)
        return results

    # ------------------------------------------------------------ exams, tickets, proctors

    async def create_exam(self, exam: ExamRecord) -> None:
        created = exam.created_at or datetime.now().astimezone()

        def op(c: sqlite3.Connection) -> None:
            c.execute(
                "INSERT INTO exams VALUES (?,?,?,?,?,?,?,?,?,?)",
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
                ),
            )

        await self._write(op)

    @staticmethod
    def _exam(row: sqlite3.Row | tuple[Any, ...]) -> ExamRecord:
        return ExamRecord(
            id=row[0],
            title=row[1],
            starts_at=from_wire(row[2]),
            duration=timedelta(seconds=row[3]),
            questions=_bank(row[4]),
            trial_questions=_bank(row[5]),
            pass_score=row[6],
            snapshot_interval_s=row[7],
            warning_limit=row[8],
            created_at=from_wire(row[9]),
        )

    async def get_exam(self, exam_id: str) -> ExamRecord | None:
        row = await self._read(
            lambda c: c.execute("SELECT * FROM exams WHERE id = ?", (exam_id,)).fetchone()
        )
        return None if row is None else self._exam(row)

    async def list_live_exams(self, now: datetime) -> list[ExamRecord]:
        rows = await self._read(lambda c: c.execute("SELECT * FROM exams").fetchall())
        exams = [self._exam(r) for r in rows]
        # exams not yet over, and exams over that still hold unfinished attempts
        unfinished = set(
            await self._read(
                lambda c: [
                    r[0]
                    for r in c.execute(
                        "SELECT DISTINCT exam_id FROM attempts WHERE state NOT IN "
                        "('submitted','timed_out','terminated')"
                    )
                ]
            )
        )
        return [e for e in exams if not e.window.over(now) or e.id in unfinished]

    async def create_ticket(self, ticket: TicketRecord) -> None:
        now = to_wire(datetime.now().astimezone())
        await self._write(
            lambda c: c.execute(
                "INSERT INTO tickets VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    ticket.token,
                    ticket.exam_id,
                    ticket.candidate_code,
                    ticket.name,
                    ticket.email,
                    ticket.phone,
                    ticket.reference_photo,
                    int(ticket.revoked),
                    now,
                ),
            )
        )

    _TICKET_SQL = (
        "SELECT token, exam_id, candidate_code, name, email, phone, reference_photo, revoked "
        "FROM tickets WHERE token = ?"
    )

    @staticmethod
    def _ticket(row: tuple[Any, ...]) -> TicketRecord:
        return TicketRecord(
            token=row[0],
            exam_id=row[1],
            candidate_code=row[2],
            name=row[3],
            email=row[4],
            phone=row[5],
            reference_photo=row[6],
            revoked=bool(row[7]),
        )

    async def get_ticket(self, token: str) -> TicketRecord | None:
        row = await self._read(lambda c: c.execute(self._TICKET_SQL, (token,)).fetchone())
        return None if row is None else self._ticket(row)

    async def count_tickets(self, exam_id: str) -> int:
        return int(
            await self._read(
                lambda c: c.execute(
                    "SELECT count(*) FROM tickets WHERE exam_id = ?", (exam_id,)
                ).fetchone()[0]
            )
        )

    async def create_proctor_token(self, exam_id: str, token: str) -> None:
        now = to_wire(datetime.now().astimezone())
        await self._write(
            lambda c: c.execute("INSERT INTO proctor_tokens VALUES (?,?,?)", (token, exam_id, now))
        )

    async def proctor_exam(self, token: str) -> str | None:
        row = await self._read(
            lambda c: c.execute(
                "SELECT exam_id FROM proctor_tokens WHERE token = ?", (token,)
            ).fetchone()
        )
        return None if row is None else str(row[0])

    # ------------------------------------------------------------ attempts

    _ATTEMPT_COLS = (
        "id, exam_id, ticket, mode, state, seed, paper_order, created_at, ends_at, started_at, "
        "finished_at, score, max_score, passed, identity_accepted, profile_saved, warnings_used"
    )

    @staticmethod
    def _attempt(r: tuple[Any, ...]) -> AttemptRecord:
        return AttemptRecord(
            id=r[0],
            exam_id=r[1],
            ticket=r[2],
            mode=Mode(r[3]),
            state=AttemptState(r[4]),
            seed=r[5],
            order=msgspec.json.decode(r[6], type=PaperOrder),
            created_at=from_wire(r[7]),
            ends_at=from_wire(r[8]),
            started_at=_dt(r[9]),
            finished_at=_dt(r[10]),
            score=r[11],
            max_score=r[12],
            passed=None if r[13] is None else bool(r[13]),
            identity_accepted=bool(r[14]),
            profile_saved=bool(r[15]),
            warnings_used=r[16],
        )

    async def _attempts(self, where: str, args: tuple[Any, ...]) -> list[AttemptRecord]:
        sql = f"SELECT {self._ATTEMPT_COLS} FROM attempts WHERE {where}"
        rows = await self._read(lambda c: c.execute(sql, args).fetchall())
        return [self._attempt(r) for r in rows]

    _LATEST = "ticket = ? AND mode = ? ORDER BY created_at DESC LIMIT 1"  # a ticket's latest

    async def find_attempt(self, ticket: str, mode: str) -> AttemptRecord | None:
        found = await self._attempts(self._LATEST, (ticket, mode))
        return found[0] if found else None

    async def get_attempt(self, attempt_id: str) -> AttemptRecord | None:
        found = await self._attempts("id = ?", (attempt_id,))
        return found[0] if found else None

    async def unfinished_attempts(self, exam_id: str) -> list[AttemptRecord]:
        return await self._attempts(
            "exam_id = ? AND state NOT IN ('submitted','timed_out','terminated')", (exam_id,)
        )

    async def attempts_of_exam(self, exam_id: str) -> list[AttemptRecord]:
        return await self._attempts("exam_id = ? ORDER BY created_at", (exam_id,))

    async def enter(
        self,
        token: str,
        mode: str,
        nonce: str,
        at: datetime,
        decide: Callable[[TicketRecord | None, AttemptRecord | None], AttemptRecord],
    ) -> tuple[TicketRecord, AttemptRecord, bool]:
        """A candidate's entry in one write transaction (the join's hot path): read the ticket
        and its latest attempt in `mode`, let `decide` pick the attempt to enter (the one found,
        or a new one to insert) or raise, then record the watermark nonce. Returns the ticket,
        the attempt and whether it was resumed."""
        sql = f"SELECT {self._ATTEMPT_COLS} FROM attempts WHERE {self._LATEST}"

        def op(c: sqlite3.Connection) -> tuple[TicketRecord, AttemptRecord, bool]:
            row = c.execute(self._TICKET_SQL, (token,)).fetchone()
            ticket = None if row is None else self._ticket(row)
            found_row = c.execute(sql, (token, mode)).fetchone() if ticket else None
            found = None if found_row is None else self._attempt(found_row)
            attempt = decide(ticket, found)
            assert ticket is not None  # decide refuses an unknown ticket
            resumed = found is not None and attempt.id == found.id
            if not resumed:
                self._insert_attempt(c, attempt)
            c.execute("INSERT INTO nonces VALUES (?,?,?)", (attempt.id, nonce, to_wire(at)))
            return ticket, attempt, resumed

        return await self._write(op)

    async def create_attempt(self, attempt: AttemptRecord) -> None:
        """Insert an attempt with its first state (staff tools and tests; candidates enter
        through `enter`)."""
        await self._write(lambda c: self._insert_attempt(c, attempt))

    def _insert_attempt(self, c: sqlite3.Connection, a: AttemptRecord) -> None:
        c.execute(
            f"INSERT INTO attempts ({self._ATTEMPT_COLS}) VALUES "
            "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                a.id,
                a.exam_id,
                a.ticket,
                a.mode,
                a.state.value,
                a.seed,
                msgspec.json.encode(a.order).decode(),
                to_wire(a.created_at),
                to_wire(a.ends_at),
                _t(a.started_at),
                _t(a.finished_at),
                a.score,
                a.max_score,
                a.passed,
                int(a.identity_accepted),
                int(a.profile_saved),
                a.warnings_used,
            ),
        )
        c.execute(
            "INSERT INTO attempt_states VALUES (?,?,?,?)",
            (a.id, a.state.value, to_wire(a.created_at), "entered"),
        )

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

        The current state is read in the same transaction as the change, so a deadline and a
        submit racing each other cannot both win. Scoring (Effect.SCORE) reads the answers
        committed before this transaction: every acknowledged answer counts.
        """

        def op(c: sqlite3.Connection) -> tuple[AttemptRecord, tuple[Effect, ...]]:
            row = c.execute(
                f"SELECT {self._ATTEMPT_COLS} FROM attempts WHERE id = ?", (attempt_id,)
            ).fetchone()
            if row is None:
                raise KeyError(attempt_id)
            a = self._attempt(row)
            state, effects = transition(a.state, trigger)
            a.state = state
            if trigger is Trigger.IDENTITY_ACCEPTED:
                a.identity_accepted = True
            if state is AttemptState.IN_PROGRESS and a.started_at is None:
                a.started_at = at
            if Effect.SCORE in effects:
                chosen = {
                    int(q): frozenset(json.loads(ch))
                    for q, ch in c.execute(
                        "SELECT question, choice FROM answers WHERE attempt_id = ?", (attempt_id,)
                    )
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
                    _t(a.started_at),
                    _t(a.finished_at),
                    a.score,
                    a.max_score,
                    a.passed,
                    int(a.identity_accepted),
                    a.id,
                ),
            )
            c.execute(
                "INSERT INTO attempt_states VALUES (?,?,?,?)",
                (a.id, state.value, to_wire(at), reason),
            )
            return a, effects

        return await self._write(op)

    async def state_history(self, attempt_id: str) -> list[tuple[str, datetime, str]]:
        rows = await self._read(
            lambda c: c.execute(
                "SELECT state, at, reason FROM attempt_states WHERE attempt_id = ? ORDER BY rowid",
                (attempt_id,),
            ).fetchall()
        )
        return [(r[0], from_wire(r[1]), r[2]) for r in rows]

    async def add_warning(self, attempt_id: str) -> int:
        def op(c: sqlite3.Connection) -> int:
            c.execute(
                "UPDATE attempts SET warnings_used = warnings_used + 1 WHERE id = ?", (attempt_id,)
            )
            return int(
                c.execute(
                    "SELECT warnings_used FROM attempts WHERE id = ?", (attempt_id,)
                ).fetchone()[0]
            )

        return await self._write(op)

    # ------------------------------------------------------------ client writes

    @staticmethod
    def _require_open(
        c: sqlite3.Connection, attempt_id: str, at: datetime, *, paper: bool
    ) -> None:
        """Refuse a write the attempt no longer takes, checked in the write's own transaction
        by the same rule the session applies (`core.session.check_write`)."""
        row = c.execute("SELECT state, ends_at FROM attempts WHERE id = ?", (attempt_id,)).fetchone()
        if row is None:
            raise KeyError(attempt_id)
        check_write(AttemptState(row[0]), from_wire(row[1]), at, needs_paper=paper)

    @staticmethod
    def _claim(c: sqlite3.Connection, attempt_id: str, client_id: str, kind: str, at: str) -> bool:
        """Record a client message id; False when it was stored before (a resend)."""
        cur = c.execute(
            "INSERT OR IGNORE INTO client_messages VALUES (?,?,?,?)",
            (attempt_id, client_id, kind, at),
        )
        return cur.rowcount == 1

    async def save_answer(
        self, attempt_id: str, client_id: str, question: int, choice: list[int], at: datetime
    ) -> bool:
        when = to_wire(at)
        text = json.dumps(sorted(choice))

        def op(c: sqlite3.Connection) -> bool:
            if not self._claim(c, attempt_id, client_id, "answer", when):
                return False
            self._require_open(c, attempt_id, at, paper=True)
            c.execute(
                "INSERT INTO answers VALUES (?,?,?,?,?) ON CONFLICT (attempt_id, question) "
                "DO UPDATE SET choice=excluded.choice, client_id=excluded.client_id, "
                "saved_at=excluded.saved_at",
                (attempt_id, question, text, client_id, when),
            )
            c.execute(
                "INSERT INTO answer_log VALUES (?,?,?,?,?)",
                (attempt_id, question, text, client_id, when),
            )
            return True

        return await self._write(op)

    async def answers(self, attempt_id: str) -> dict[int, list[int]]:
        rows = await self._read(
            lambda c: c.execute(
                "SELECT question, choice FROM answers WHERE attempt_id = ?", (attempt_id,)
            ).fetchall()
        )
        return {int(q): list(json.loads(ch)) for q, ch in rows}

    async def save_event(
        self,
        attempt_id: str,
        client_id: str,
        kind: str,
        client_at: str | None,
        at: datetime,
        detail: dict[str, Any],
        violation: str | None,
    ) -> bool:
        when = to_wire(at)

        def op(c: sqlite3.Connection) -> bool:
            if not self._claim(c, attempt_id, client_id, "event", when):
                return False
            self._require_open(c, attempt_id, at, paper=False)
            c.execute(
                "INSERT INTO events VALUES (?,?,?,?,?,?)",
                (attempt_id, client_id, kind, client_at, when, json.dumps(detail)),
            )
            if violation is not None:
                c.execute(
                    "INSERT INTO violations (attempt_id, kind, source, server_at, client_at, "
                    "ended_at, confidence, evidence) VALUES (?,?,?,?,?,?,?,?)",
                    (
                        attempt_id,
                        violation,
                        "client",
                        when,
                        client_at,
                        None,
                        1.0,
                        json.dumps({"event": client_id, **detail}),
                    ),
                )
            return True

        return await self._write(op)

    async def events(self, attempt_id: str) -> list[dict[str, Any]]:
        rows = await self._read(
            lambda c: c.execute(
                "SELECT client_id, kind, client_at, server_at, detail FROM events "
                "WHERE attempt_id = ? ORDER BY rowid",
                (attempt_id,),
            ).fetchall()
        )
        return [
            {
                "id": r[0],
                "kind": r[1],
                "client_at": r[2],
                "server_at": r[3],
                "detail": json.loads(r[4]),
            }
            for r in rows
        ]

    async def save_profile(
        self, attempt_id: str, client_id: str, mail_to: dict[str, str], at: datetime
    ) -> bool:
        when = to_wire(at)

        def op(c: sqlite3.Connection) -> bool:
            if not self._claim(c, attempt_id, client_id, "profile", when):
                return False
            c.execute(
                "INSERT INTO profiles VALUES (?,?,?,?)",
                (attempt_id, client_id, json.dumps(mail_to, ensure_ascii=False), when),
            )
            c.execute("UPDATE attempts SET profile_saved = 1 WHERE id = ?", (attempt_id,))
            return True

        return await self._write(op)

    async def profile(self, attempt_id: str) -> dict[str, str] | None:
        row = await self._read(
            lambda c: c.execute(
                "SELECT mail_to FROM profiles WHERE attempt_id = ? ORDER BY rowid DESC LIMIT 1",
                (attempt_id,),
            ).fetchone()
        )
        return None if row is None else dict(json.loads(row[0]))

    async def save_photo(self, photo: PhotoRecord, data: bytes) -> bool:
        """Write the file durably first, then the row: a row never points at a missing file."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self.blobs.write, photo.path, data)
        when = to_wire(photo.received_at)

        def op(c: sqlite3.Connection) -> bool:
            if not self._claim(c, photo.attempt_id, photo.client_id, photo.kind, when):
                return False
            self._require_open(c, photo.attempt_id, photo.received_at, paper=False)
            c.execute(
                "INSERT INTO photos VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    photo.id,
                    photo.attempt_id,
                    photo.kind,
                    photo.client_id,
                    photo.path,
                    photo.sha256,
                    photo.size,
                    when,
                    None if photo.accepted is None else int(photo.accepted),
                    json.dumps(photo.reasons, ensure_ascii=False),
                ),
            )
            return True

        try:
            return await self._write(op)
        except Exception:
            # Refused (a finished attempt, say): leave no file that no row points at.
            # A resend of a stored photo never gets here: its claim returns False.
            await loop.run_in_executor(None, self.blobs.remove, photo.path)
            raise

    @staticmethod
    def photo_id(attempt_id: str, client_id: str) -> str:
        return hashlib.sha256(f"{attempt_id}:{client_id}".encode()).hexdigest()[:20]

    async def photos(self, attempt_id: str, kind: str | None = None) -> list[PhotoRecord]:
        sql = "SELECT * FROM photos WHERE attempt_id = ?" + (" AND kind = ?" if kind else "")
        args: tuple[Any, ...] = (attempt_id, kind) if kind else (attempt_id,)
        rows = await self._read(lambda c: c.execute(sql + " ORDER BY received_at", args).fetchall())
        return [
            PhotoRecord(
                id=r[0],
                attempt_id=r[1],
                kind=r[2],
                client_id=r[3],
                path=r[4],
                sha256=r[5],
                size=r[6],
                received_at=from_wire(r[7]),
                accepted=None if r[8] is None else bool(r[8]),
                reasons=list(json.loads(r[9])),
            )
            for r in rows
        ]

    async def photo_bytes(self, photo_id: str) -> bytes | None:
        row = await self._read(
            lambda c: c.execute("SELECT path FROM photos WHERE id = ?", (photo_id,)).fetchone()
        )
        if row is None:
            return None
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self.blobs.read, row[0])

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
                "INSERT INTO violations (attempt_id, kind, source, server_at, client_at, ended_at, "
                "confidence, evidence) VALUES (?,?,?,?,?,?,?,?)",
                (
                    attempt_id,
                    kind,
                    source,
                    to_wire(at),
                    client_at,
                    _t(ended_at),
                    confidence,
                    json.dumps(evidence or {}, ensure_ascii=False),
                ),
            )
            return int(cur.lastrowid or 0)

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

    _VIOLATION_SQL = (
        "SELECT id, attempt_id, kind, source, server_at, client_at, ended_at, confidence, "
        "evidence FROM violations"
    )

    @staticmethod
    def _violation(r: tuple[Any, ...]) -> ViolationRecord:
        return ViolationRecord(
            id=r[0],
            attempt_id=r[1],
            kind=ViolationKind(r[2]),
            source=Source(r[3]),
            server_at=from_wire(r[4]),
            client_at=r[5],
            ended_at=_dt(r[6]),
            confidence=r[7],
            evidence=json.loads(r[8]),
        )

    async def violations(self, attempt_id: str) -> list[ViolationRecord]:
        sql = self._VIOLATION_SQL + " WHERE attempt_id = ? ORDER BY id"
        rows = await self._read(lambda c: c.execute(sql, (attempt_id,)).fetchall())
        return [self._violation(r) for r in rows]

    async def exam_overview(
        self, exam_id: str
    ) -> list[tuple[AttemptRecord, TicketRecord, list[ViolationRecord]]]:
        """Every attempt of an exam with its ticket and violations, in one read (a proctor's
        view of thousands of candidates must not cost thousands of queries)."""
        attempt_sql = (
            f"SELECT {self._ATTEMPT_COLS} FROM attempts WHERE exam_id = ? ORDER BY created_at"
        )
        ticket_sql = self._TICKET_SQL.replace("WHERE token = ?", "WHERE exam_id = ?")
        violation_sql = (
            self._VIOLATION_SQL
            + " WHERE attempt_id IN (SELECT id FROM attempts WHERE exam_id = ?) ORDER BY id"
        )

        def op(c: sqlite3.Connection) -> tuple[list[Any], list[Any], list[Any]]:
            return (
                c.execute(attempt_sql, (exam_id,)).fetchall(),
                c.execute(ticket_sql, (exam_id,)).fetchall(),
                c.execute(violation_sql, (exam_id,)).fetchall(),
            )

        attempt_rows, ticket_rows, violation_rows = await self._read(op)
        tickets = {row[0]: self._ticket(row) for row in ticket_rows}
        by_attempt: dict[str, list[ViolationRecord]] = {}
        for row in violation_rows:
            by_attempt.setdefault(row[1], []).append(self._violation(row))
        attempts = [self._attempt(row) for row in attempt_rows]
        return [(a, tickets[a.ticket], by_attempt.get(a.id, [])) for a in attempts]

    # ------------------------------------------------------------ watermark nonces

    async def add_nonce(self, attempt_id: str, nonce: str, at: datetime) -> None:
        await self._write(
            lambda c: c.execute(
                "INSERT INTO nonces VALUES (?,?,?)", (attempt_id, nonce, to_wire(at))
            )
        )

    async def nonce_history(self, attempt_id: str) -> list[tuple[str, datetime]]:
        rows = await self._read(
            lambda c: c.execute(
                "SELECT nonce, live_from FROM nonces WHERE attempt_id = ? ORDER BY live_from",
                (attempt_id,),
            ).fetchall()
        )
        return [(r[0], from_wire(r[1])) for r in rows]

    async def find_nonce(self, nonce: str) -> tuple[str, datetime] | None:
        row = await self._read(
            lambda c: c.execute(
                "SELECT attempt_id, live_from FROM nonces WHERE nonce = ?", (nonce,)
            ).fetchone()
        )
        return None if row is None else (row[0], from_wire(row[1]))

    # ------------------------------------------------------------ audit

    async def audit(self, actor: str, action: str, detail: dict[str, Any], at: datetime) -> None:
        await self._write(
            lambda c: c.execute(
                "INSERT INTO audit (at, actor, action, detail) VALUES (?,?,?,?)",
                (to_wire(at), actor, action, json.dumps(detail, ensure_ascii=False)),
            )
        )

    async def audit_trail(self, limit: int = 100) -> list[dict[str, Any]]:
        rows = await self._read(
            lambda c: c.execute(
                "SELECT at, actor, action, detail FROM audit ORDER BY id DESC LIMIT ?", (limit,)
            ).fetchall()
        )
        return [
            {"at": r[0], "actor": r[1], "action": r[2], "detail": json.loads(r[3])} for r in rows
        ]


async def open_store(path: Path | str, data_dir: Path | str | None = None) -> SqliteStore:
    store = SqliteStore(path, data_dir)
    await store.open()
    return store
