"""The outbox of notices (R1, R8, R18, R20) and the dispatcher that delivers them.

Every notice is recorded once (keyed, so a repeated staff action adds nothing) in the same
transaction as the change it announces, with one delivery row per channel: SMS, in-site
message, e-mail and the chat-app channel (R18). The dispatcher sends what is due.

Delivery semantics, per channel:

- A delivery is *claimed* (state `sending`, committed) before the channel is called, and its
  outcome is recorded right after. A channel that raises `SendFailed` reports that nothing was
  delivered; the delivery goes back to `pending` with exponential backoff, or to `failed` after
  the last attempt (or at once when the failure is permanent, a 5xx from SMTP say).
- Any other error, or a crash between the send and the record, leaves the outcome unknown.
  For channels that are not idempotent (SMS, e-mail, chat) such a delivery becomes
  `uncertain` and is never resent automatically: **at most once**. Staff see it in
  `proctor-server notices list` and resend it deliberately with `notices retry`; e-mails carry
  a Message-ID stable per notice, so a deliberate resend can be recognised downstream.
- Idempotent channels (the in-site message, keyed by notice) go back to `pending` instead:
  at least once, which for them is exactly once.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from proctor_server.programme.db import Candidate, ProgrammeDB
from shared.timeutil import from_wire, to_wire

log = logging.getLogger(__name__)

CHANNELS: tuple[str, ...] = ("sms", "site", "email", "chat")


@dataclass(frozen=True, slots=True)
class Notice:
    id: int
    candidate_id: int
    kind: str
    subject: str
    body: str


class SendFailed(Exception):
    """The channel is sure nothing was delivered; `permanent` when retrying cannot help."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


class Channel(Protocol):
    """One way to reach a candidate. `send` returns once the message is handed over."""

    name: str
    idempotent: bool  # a repeat of the same notice is harmless (deduplicated by the channel)

    async def send(self, notice: Notice, address: str) -> None: ...


def addresses(candidate: Candidate) -> dict[str, str]:
    """Where each channel reaches a candidate (R1: the bound phone and e-mail)."""
    return {
        "sms": candidate.phone,
        "site": str(candidate.id),
        "email": candidate.email,
        "chat": candidate.phone,  # the messaging account is bound to the phone number
    }


def enqueue(
    conn: sqlite3.Connection,
    key: str,
    candidate: Candidate,
    registration_id: int | None,
    kind: str,
    subject: str,
    body: str,
    now: datetime,
) -> int | None:
    """Record a notice and its four deliveries inside the caller's transaction.

    Returns the notice id, or None when a notice with this key exists already.
    """
    cur = conn.execute(
        "INSERT INTO programme_notices "
        "(key, candidate_id, registration_id, kind, subject, body, created_at) "
        "VALUES (?,?,?,?,?,?,?) ON CONFLICT (key) DO NOTHING",
        (key, candidate.id, registration_id, kind, subject, body, to_wire(now)),
    )
    if cur.rowcount == 0:
        return None
    notice_id = cur.lastrowid
    assert notice_id is not None
    for channel, address in addresses(candidate).items():
        conn.execute(
            "INSERT INTO programme_deliveries (notice_id, channel, address, state, next_at) "
            "VALUES (?,?,?,'pending',?)",
            (notice_id, channel, address, to_wire(now)),
        )
    return notice_id


@dataclass(slots=True)
class DispatchReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    uncertain: int = 0
    recovered: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Backoff:
    first: timedelta = timedelta(minutes=1)
    ceiling: timedelta = timedelta(hours=1)
    attempts: int = 6

    def delay(self, attempt: int) -> timedelta:
        """The wait after the `attempt`-th failure: first, 2×first, 4×first… up to ceiling."""
        return min(self.first * (2 ** (attempt - 1)), self.ceiling)


class Dispatcher:
    """Sends due deliveries. `run_once(now)` is one pass; it never sends a delivery twice."""

    def __init__(
        self,
        db_path: Path | str,
        channels: Mapping[str, Channel],
        *,
        backoff: Backoff | None = None,
        lease: timedelta = timedelta(minutes=10),
    ):
        self.db_path = Path(db_path)
        self.channels = dict(channels)
        self.backoff = backoff or Backoff()
        self.lease = lease  # a claim older than this belongs to a crashed run

    async def run_once(self, now: datetime) -> DispatchReport:
        report = DispatchReport()
        db = await asyncio.to_thread(ProgrammeDB, self.db_path)
        try:
            report.recovered = await asyncio.to_thread(self._recover, db, now)
            due = await asyncio.to_thread(self._due, db, now)
            for notice, channel_name, address, attempts in due:
                channel = self.channels.get(channel_name)
                if channel is None:
                    continue  # not configured in this run: stays pending
                if not await asyncio.to_thread(self._claim, db, notice.id, channel_name, now):
                    continue  # another dispatcher took it
                outcome, error = await self._send(channel, notice, address)
                outcome = await asyncio.to_thread(
                    self._record, db, notice.id, channel_name, attempts + 1, outcome, error, now
                )
                if outcome == "sent":
                    report.sent += 1
                elif outcome == "pending":
                    report.retrying += 1
                elif outcome == "failed":
                    report.failed += 1
                else:
                    report.uncertain += 1
                if error:
                    report.errors.append(f"notice {notice.id} {channel_name}: {error}")
        finally:
            db.close()
        return report

    async def _send(self, channel: Channel, notice: Notice, address: str) -> tuple[str, str | None]:
        try:
            await channel.send(notice, address)
        except SendFailed as exc:
            return ("failed" if exc.permanent else "pending"), str(exc)
        except Exception as exc:  # the outcome is unknown
            log.warning("delivery of notice %s on %s uncertain: %s", notice.id, channel.name, exc)
            return (
                "pending" if channel.idempotent else "uncertain"
            ), f"{type(exc).__name__}: {exc}"
        return "sent", None

    # ------------------------------------------------------------ database steps

    def _recover(self, db: ProgrammeDB, now: datetime) -> int:
        """Claims left by a crashed run: idempotent channels retry, the others become uncertain."""
        stale = to_wire(now - self.lease)
        idempotent = [name for name, ch in self.channels.items() if ch.idempotent]
        marks = ",".join("?" * len(idempotent)) or "''"
        with db.transaction() as c:
            back = c.execute(
                f"UPDATE programme_deliveries SET state = 'pending', claimed_at = NULL "
                f"WHERE state = 'sending' AND claimed_at < ? AND channel IN ({marks})",
                (stale, *idempotent),
            ).rowcount
            unsure = c.execute(
                "UPDATE programme_deliveries SET state = 'uncertain', "
                "last_error = 'interrupted between send and record' "
                "WHERE state = 'sending' AND claimed_at < ?",
                (stale,),
            ).rowcount
        return back + unsure

    def _due(self, db: ProgrammeDB, now: datetime) -> list[tuple[Notice, str, str, int]]:
        rows = db.c.execute(
            "SELECT n.id, n.candidate_id, n.kind, n.subject, n.body, d.channel, d.address, "
            "d.attempts FROM programme_deliveries d JOIN programme_notices n ON n.id = d.notice_id "
            "WHERE d.state = 'pending' AND d.next_at <= ? ORDER BY n.id, d.channel",
            (to_wire(now),),
        ).fetchall()
        return [(Notice(*r[:5]), r[5], r[6], r[7]) for r in rows]

    def _claim(self, db: ProgrammeDB, notice_id: int, channel: str, now: datetime) -> bool:
        with db.transaction() as c:
            return (
                c.execute(
                    "UPDATE programme_deliveries SET state = 'sending', claimed_at = ? "
                    "WHERE notice_id = ? AND channel = ? AND state = 'pending'",
                    (to_wire(now), notice_id, channel),
                ).rowcount
                == 1
            )

    def _record(
        self,
        db: ProgrammeDB,
        notice_id: int,
        channel: str,
        attempts: int,
        outcome: str,
        error: str | None,
        now: datetime,
    ) -> str:
        """Store the outcome of one attempt; returns the state recorded."""
        if outcome == "pending" and attempts >= self.backoff.attempts:
            outcome = "failed"
        next_at = now + self.backoff.delay(attempts) if outcome == "pending" else now
        with db.transaction() as c:
            c.execute(
                "UPDATE programme_deliveries SET state = ?, attempts = ?, next_at = ?, "
                "claimed_at = NULL, sent_at = ?, last_error = ? "
                "WHERE notice_id = ? AND channel = ?",
                (
                    outcome,
                    attempts,
                    to_wire(next_at),
                    to_wire(now) if outcome == "sent" else None,
                    error,
                    notice_id,
                    channel,
                ),
            )
        return outcome


def deliveries(db: ProgrammeDB, state: str | None = None) -> list[dict[str, object]]:
    """The delivery rows, for `notices list`."""
    sql = (
        "SELECT d.notice_id, n.kind, n.registration_id, d.channel, d.address, d.state, "
        "d.attempts, d.next_at, d.sent_at, d.last_error FROM programme_deliveries d "
        "JOIN programme_notices n ON n.id = d.notice_id"
    )
    args: tuple[str, ...] = ()
    if state:
        sql += " WHERE d.state = ?"
        args = (state,)
    keys = (
        "notice",
        "kind",
        "registration",
        "channel",
        "address",
        "state",
        "attempts",
        "next_at",
        "sent_at",
        "error",
    )
    return [dict(zip(keys, r, strict=True)) for r in db.c.execute(sql + " ORDER BY 1, 4", args)]


def retry(db: ProgrammeDB, notice_id: int, channel: str | None, now: datetime) -> int:
    """Staff decide to resend an uncertain or failed delivery; returns how many were queued."""
    sql = (
        "UPDATE programme_deliveries SET state = 'pending', attempts = 0, next_at = ?, "
        "last_error = NULL WHERE notice_id = ? AND state IN ('uncertain', 'failed')"
    )
    args: tuple[object, ...] = (to_wire(now), notice_id)
    if channel:
        sql += " AND channel = ?"
        args = (*args, channel)
    with db.transaction() as c:
        return c.execute(sql, args).rowcount


def next_due(db: ProgrammeDB) -> datetime | None:
    row = db.c.execute(
        "SELECT min(next_at) FROM programme_deliveries WHERE state = 'pending'"
    ).fetchone()
    return None if row is None or row[0] is None else from_wire(row[0])
