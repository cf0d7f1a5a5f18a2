"""A candidate's writes: answers, events, the mailing profile and photos.

Each write is idempotent by (attempt, client message id): a resend changes nothing and returns
False. Each is refused, inside its own transaction, when the attempt no longer takes it, by
the rule the session applies (`core.session.check_write`)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from dataclasses import replace
from datetime import datetime
from typing import Any

from proctor_server.core.records import PhotoRecord, SavedEvent, ViolationRecord
from proctor_server.core.session import check_write
from proctor_server.store.sql import rows
from proctor_server.store.sql.audit import audit_attempt
from proctor_server.store.sql.connection import Connection
from proctor_server.store.sql.database import Database
from shared.errors import ErrorCode, RuleError
from shared.rules import WRITE_GRACE
from shared.states import AttemptState
from shared.timeutil import from_wire, to_wire
from shared.vocabulary import Source

_MAIL_TO = ("profiles", "mail_to")  # sealed by attempt and client id (`personal.py`)
PHOTO_SQL = f"SELECT {rows.columns(rows.PHOTO_READ)} FROM photos"
VIOLATION_INSERT = (
    "INSERT INTO violations (attempt_id, kind, source, server_at, client_at, ended_at, "
    "confidence, evidence) VALUES (?,?,?,?,?,?,?,?)"
)


ANSWER_LOG_INSERT = "INSERT INTO answer_log (attempt_id, question, choice, client_id, saved_at) "
# An answer's history row, inserted only while its attempt takes answers: in progress, and
# `at` before ends_at + the write grace. Wire times compare as text when both are in the one
# form `to_wire` writes (UTC, to the millisecond, a Z); a deadline in any other form goes to
# the slow path, where `check_write` reads it.
ANSWER_LOGGED = (
    ANSWER_LOG_INSERT
    + "SELECT id, ?, ?, ?, ? FROM attempts WHERE id = ? AND state = ? AND ends_at > ? "
    "AND ends_at LIKE '____-__-__T__:__:__.___Z'"
)
# An attempt's history, oldest first: each question's answer is its newest row there
# (`latest_answers`). Read by the attempt's index, then in order (PostgreSQL's rowid is an
# identity column without an index of its own: no lookups by it).
ANSWER_HISTORY = "SELECT question, choice FROM answer_log WHERE attempt_id = ? ORDER BY rowid"


def latest_answers(c: Connection, attempt_id: str) -> dict[int, list[int]]:
    """An attempt's answers: each question's choice in its newest history row."""
    newest: dict[int, str] = {}
    for question, choice in c.execute(ANSWER_HISTORY, (attempt_id,)).fetchall():
        newest[int(question)] = choice
    return {q: list(json.loads(choice)) for q, choice in newest.items()}


_IN_PROGRESS = AttemptState.IN_PROGRESS.value
# A second on the wire -> that second less the write grace, for the seconds seen lately (a busy
# second's answers share one); cleared when it grows. The grace is whole seconds (a test says
# so), so the milliseconds carry over unchanged.
_CUTOFFS: dict[str, str] = {}


def wire_cutoff(when: str, at: datetime) -> str:
    """`to_wire(at - WRITE_GRACE)`, given `when` = `to_wire(at)`, without a datetime made per
    answer: a write at `at` is taken while its attempt's deadline is after this."""
    second = when[:19]
    before = _CUTOFFS.get(second)
    if before is None:
        if len(_CUTOFFS) >= 256:
            _CUTOFFS.clear()
        before = _CUTOFFS[second] = to_wire(at - WRITE_GRACE)[:19]
    return before + when[19:]


log = logging.getLogger(__name__)


class ClientWrites(Database):
    @staticmethod
    def _require_open(c: Connection, attempt_id: str, at: datetime, *, paper: bool) -> None:
        """Refuse a write the attempt no longer takes, checked in the write's own transaction
        by the same rule the session applies (`core.session.check_write`). The attempt's row
        is locked until the write commits: a transition elsewhere (a submit, the deadline)
        waits for it and scores it, or goes first and the write is refused."""
        row = c.execute(
            "SELECT state, ends_at FROM attempts WHERE id = ?" + c.dialect.for_update,
            (attempt_id,),
        ).fetchone()
        if row is None:
            raise KeyError(attempt_id)
        check_write(AttemptState(row["state"]), from_wire(row["ends_at"]), at, needs_paper=paper)

    @staticmethod
    def _claim(c: Connection, attempt_id: str, client_id: str, kind: str, at: str) -> bool:
        """Record a client message id; False when it was stored before (a resend)."""
        cur = c.execute(
            "INSERT INTO client_messages (attempt_id, client_id, kind, received_at) "
            "VALUES (?,?,?,?) ON CONFLICT DO NOTHING",
            (attempt_id, client_id, kind, at),
        )
        return cur.rowcount == 1

    # ------------------------------------------------------------ answers

    async def save_answer(
        self, attempt_id: str, client_id: str, question: int, choice: list[int], at: datetime
    ) -> bool:
        """Store an answer once: one statement when the attempt takes it. Its history row
        is inserted only if the attempt is open for answers at `at` (the open case of
        `core.session.check_write`, as SQL over the row, which it locks) and the client id
        is new for the attempt (the history's unique index claims it); a question's answer
        is its newest history row (`latest_answers`). When no row went in, the slow path
        says why: a resend (False), or the rule's own refusal, read from the attempt's row."""
        when = to_wire(at)
        cutoff = wire_cutoff(when, at)  # open while ends_at + grace > at
        if len(choice) == 1:  # json.dumps's text, sooner
            text = f"[{choice[0]}]"
        else:
            text = "[" + ", ".join(map(str, sorted(choice))) + "]"

        def op(c: Connection) -> bool:
            logged = c.execute(
                ANSWER_LOGGED + c.dialect.for_update + " ON CONFLICT DO NOTHING",
                (question, text, client_id, when, attempt_id, _IN_PROGRESS, cutoff),
            ).rowcount
            return logged == 1 or self._log_answer(
                c, attempt_id, client_id, question, text, at, when
            )

        return await self._write(op, repeatable=True)

    def _log_answer(
        self,
        c: Connection,
        attempt_id: str,
        client_id: str,
        question: int,
        text: str,
        at: datetime,
        when: str,
    ) -> bool:
        """The answer's slow path, when its history row did not go in: False for a resend
        (its id is in the history), else the attempt's refusal (`check_write`) raised; True,
        the row inserted, in the case the quick test missed (a deadline stored otherwise).
        `when`: `at` as stored."""
        if c.execute(
            "SELECT 1 FROM answer_log WHERE attempt_id = ? AND client_id = ?",
            (attempt_id, client_id),
        ).fetchone():
            return False
        self._require_open(c, attempt_id, at, paper=True)
        return (
            c.execute(
                ANSWER_LOG_INSERT + "VALUES (?,?,?,?,?) ON CONFLICT DO NOTHING",
                (attempt_id, question, text, client_id, when),
            ).rowcount
            == 1
        )

    async def answers(self, attempt_id: str) -> dict[int, list[int]]:
        return await self._read(lambda c: latest_answers(c, attempt_id))

    # ------------------------------------------------------------ events

    async def save_event(
        self,
        attempt_id: str,
        client_id: str,
        kind: str,
        client_at: str | None,
        at: datetime,
        detail: dict[str, Any],
        violation: str | None,
        ends: str | None = None,
    ) -> SavedEvent:
        """Store a client event, with the violation it raises (`violation`) or the open
        client-raised violation of kind `ends` it ends, at the event's server time."""
        when = to_wire(at)

        def op(c: Connection) -> SavedEvent:
            if not self._claim(c, attempt_id, client_id, "event", when):
                return SavedEvent(new=False)
            self._require_open(c, attempt_id, at, paper=False)
            c.execute(
                "INSERT INTO events (attempt_id, client_id, kind, client_at, server_at, detail) "
                "VALUES (?,?,?,?,?,?)",
                (attempt_id, client_id, kind, client_at, when, json.dumps(detail)),
            )
            if violation is not None:
                c.execute(
                    VIOLATION_INSERT,
                    (
                        attempt_id,
                        violation,
                        Source.CLIENT.value,
                        when,
                        client_at,
                        None,
                        1.0,
                        json.dumps({"event": client_id, **detail}),
                    ),
                )
                audit_attempt(
                    c,
                    attempt_id,
                    "violation",
                    {"kind": violation, "source": Source.CLIENT.value, "event": client_id},
                    at,
                )
            ended = self._end_open(c, attempt_id, ends, when) if ends is not None else ()
            return SavedEvent(new=True, ended=ended)

        return await self._write(op, repeatable=True)

    @staticmethod
    def _end_open(
        c: Connection, attempt_id: str, kind: str, when: str
    ) -> tuple[ViolationRecord, ...]:
        """End the attempt's open client-raised violations of `kind` at `when`."""
        found = c.execute(
            f"SELECT {rows.columns(rows.VIOLATION)} FROM violations WHERE attempt_id = ? "
            "AND kind = ? AND source = ? AND ended_at IS NULL ORDER BY id",
            (attempt_id, kind, Source.CLIENT.value),
        ).fetchall()
        ended = []
        for row in found:
            c.execute("UPDATE violations SET ended_at = ? WHERE id = ?", (when, row["id"]))
            ended.append(replace(rows.violation(row), ended_at=from_wire(when)))
        return tuple(ended)

    async def events(self, attempt_id: str) -> list[dict[str, Any]]:
        found = await self._read(
            lambda c: c.execute(
                "SELECT client_id, kind, client_at, server_at, detail FROM events "
                "WHERE attempt_id = ? ORDER BY rowid",
                (attempt_id,),
            ).fetchall()
        )
        return [
            {
                "id": r["client_id"],
                "kind": r["kind"],
                "client_at": r["client_at"],
                "server_at": r["server_at"],
                "detail": json.loads(r["detail"]),
            }
            for r in found
        ]

    # ------------------------------------------------------------ the mailing profile

    async def save_profile(
        self, attempt_id: str, client_id: str, mail_to: dict[str, str], at: datetime
    ) -> bool:
        when = to_wire(at)
        text = json.dumps(mail_to, ensure_ascii=False)
        # an empty address ('{}', as purge leaves it) is nothing personal: kept as it is
        mail = text if not mail_to else self.fields.seal(text, *_MAIL_TO, (attempt_id, client_id))

        def op(c: Connection) -> bool:
            if not self._claim(c, attempt_id, client_id, "profile", when):
                return False
            c.execute(
                "INSERT INTO profiles (attempt_id, client_id, mail_to, saved_at) VALUES (?,?,?,?)",
                (attempt_id, client_id, mail, when),
            )
            c.execute("UPDATE attempts SET profile_saved = 1 WHERE id = ?", (attempt_id,))
            return True

        return await self._write(op)

    async def save_consent(
        self, attempt_id: str, client_id: str, version: str, at: datetime
    ) -> bool:
        """The candidate accepted the rules of conduct of `version` (R16); audited."""
        when = to_wire(at)

        def op(c: Connection) -> bool:
            if not self._claim(c, attempt_id, client_id, "consent", when):
                return False
            self._require_open(c, attempt_id, at, paper=False)
            c.execute(
                "UPDATE attempts SET consent_version = ?, consented_at = ? WHERE id = ?",
                (version, when, attempt_id),
            )
            audit_attempt(c, attempt_id, "consent", {"version": version}, at)
            return True

        return await self._write(op)

    async def profile(self, attempt_id: str) -> dict[str, str] | None:
        row = await self._read(
            lambda c: c.execute(
                "SELECT client_id, mail_to FROM profiles WHERE attempt_id = ? "
                "ORDER BY rowid DESC LIMIT 1",
                (attempt_id,),
            ).fetchone()
        )
        if row is None:
            return None
        return dict(
            json.loads(self.fields.text(row["mail_to"], *_MAIL_TO, (attempt_id, row["client_id"])))
        )

    # ------------------------------------------------------------ photos

    async def save_photo(self, photo: PhotoRecord, data: bytes) -> bool:
        """Write the file durably first, then the row: a row never points at a missing file.

        Evidence is written once. A resend of the same client id with the same bytes is a
        no-op (False); with other bytes it is refused (`duplicate_id`) and the first file and
        row stay as they were, byte for byte. Paths carry the content's hash, so the bytes of
        a refused resend never land on the stored file."""
        loop = asyncio.get_running_loop()
        stored = await self._stored_photo(photo.attempt_id, photo.client_id)
        if stored is not None:
            return self._same_photo(stored, photo)
        try:
            await loop.run_in_executor(None, self.blobs.write, photo.path, data)
        except OSError as exc:
            log.error("cannot store evidence under %s: %s", self.blobs.root, exc.strerror or exc)
            raise RuleError(
                "the server cannot store images right now; answers are still saved",
                code=ErrorCode.STORAGE_UNAVAILABLE,
            ) from None
        when = to_wire(photo.received_at)
        sql = f"INSERT INTO photos ({rows.columns(rows.PHOTO)}) VALUES ({rows.marks(rows.PHOTO)})"

        def op(c: Connection) -> tuple[bool, tuple[str, str] | None]:
            if not self._claim(c, photo.attempt_id, photo.client_id, photo.kind, when):
                row = c.execute(
                    "SELECT path, sha256 FROM photos WHERE attempt_id = ? AND client_id = ?",
                    (photo.attempt_id, photo.client_id),
                ).fetchone()
                return False, None if row is None else (str(row[0]), str(row[1]))
            self._require_open(c, photo.attempt_id, photo.received_at, paper=False)
            c.execute(
                sql,
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
            if photo.kind == "identity_photo" and photo.accepted is not None:
                audit_attempt(
                    c,
                    photo.attempt_id,
                    "identity_verdict",
                    {"photo": photo.id, "accepted": photo.accepted, "reasons": photo.reasons},
                    photo.received_at,
                )
            return True, None

        try:
            new, existing = await self._write(op)
        except Exception:
            # Refused (a finished attempt, say): leave no file that no row points at.
            await loop.run_in_executor(None, self.blobs.remove, photo.path)
            raise
        if new:
            return True
        # The same id arrived twice at once: the other one was stored first.
        if existing is None or existing[0] != photo.path:
            await loop.run_in_executor(None, self.blobs.remove, photo.path)
        if existing is not None:
            return self._same_photo(existing, photo)
        return False

    async def _stored_photo(self, attempt_id: str, client_id: str) -> tuple[str, str] | None:
        row = await self._read(
            lambda c: c.execute(
                "SELECT path, sha256 FROM photos WHERE attempt_id = ? AND client_id = ?",
                (attempt_id, client_id),
            ).fetchone()
        )
        return None if row is None else (str(row[0]), str(row[1]))

    @staticmethod
    def _same_photo(stored: tuple[str, str], photo: PhotoRecord) -> bool:
        """False for a true resend; `duplicate_id` when the same id carries other bytes."""
        if stored[1] != photo.sha256:
            raise RuleError(
                "this image id was already used for another image; the first one is kept",
                code=ErrorCode.DUPLICATE_ID,
            )
        return False

    @staticmethod
    def photo_id(attempt_id: str, client_id: str) -> str:
        return hashlib.sha256(f"{attempt_id}:{client_id}".encode()).hexdigest()[:20]

    async def photos(self, attempt_id: str, kind: str | None = None) -> list[PhotoRecord]:
        sql = PHOTO_SQL + " WHERE attempt_id = ?" + (" AND kind = ?" if kind else "")
        args: tuple[Any, ...] = (attempt_id, kind) if kind else (attempt_id,)
        found = await self._read(
            lambda c: c.execute(sql + " ORDER BY received_at", args).fetchall()
        )
        return [rows.photo(r) for r in found]

    async def photo_bytes(self, photo_id: str) -> bytes | None:
        row = await self._read(
            lambda c: c.execute("SELECT path FROM photos WHERE id = ?", (photo_id,)).fetchone()
        )
        if row is None:
            return None
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self.blobs.read, row["path"])
