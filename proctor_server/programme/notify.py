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

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from proctor_server.programme.ports import (
    Candidate,
    DeliveryState,
    Notice,
    Outbox,
    ProgrammeTx,
)
from shared.timeutil import to_wire

log = logging.getLogger(__name__)

__all__ = [
    "CHANNELS",
    "Backoff",
    "Channel",
    "DeliveryState",
    "DispatchReport",
    "Dispatcher",
    "Notice",
    "SendFailed",
    "addresses",
    "deliveries",
    "enqueue",
    "next_due",
    "retry",
]

CHANNELS: tuple[str, ...] = ("sms", "site", "email", "chat")


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
    tx: ProgrammeTx,
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
    return tx.add_notice(
        key, candidate.id, registration_id, kind, subject, body, now, addresses(candidate)
    )


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
        grown: timedelta = self.first * (2 ** (attempt - 1))
        return min(grown, self.ceiling)


class Dispatcher:
    """Sends due deliveries. `run_once(now)` is one pass; it never sends a delivery twice."""

    def __init__(
        self,
        outbox: Outbox,
        channels: Mapping[str, Channel],
        *,
        backoff: Backoff | None = None,
        lease: timedelta = timedelta(minutes=10),
    ):
        self.outbox = outbox
        self.channels = dict(channels)
        self.backoff = backoff or Backoff()
        self.lease = lease  # a claim older than this belongs to a crashed run

    async def run_once(self, now: datetime) -> DispatchReport:
        report = DispatchReport()
        # claims left by a crashed run: idempotent channels retry, the others become uncertain
        idempotent = [name for name, ch in self.channels.items() if ch.idempotent]
        report.recovered = await self.outbox.recover_deliveries(now - self.lease, idempotent)
        for due in await self.outbox.due_deliveries(now):
            notice, channel_name = due.notice, due.channel
            channel = self.channels.get(channel_name)
            if channel is None:
                continue  # not configured in this run: stays pending
            if not await self.outbox.claim_delivery(notice.id, channel_name, now):
                continue  # another dispatcher took it
            outcome, error = await self._send(channel, notice, due.address)
            outcome = await self._record(
                notice.id, channel_name, due.attempts + 1, outcome, error, now
            )
            if outcome is DeliveryState.SENT:
                report.sent += 1
            elif outcome is DeliveryState.PENDING:
                report.retrying += 1
            elif outcome is DeliveryState.FAILED:
                report.failed += 1
            else:
                report.uncertain += 1
            if error:
                report.errors.append(f"notice {notice.id} {channel_name}: {error}")
        return report

    async def _send(
        self, channel: Channel, notice: Notice, address: str
    ) -> tuple[DeliveryState, str | None]:
        try:
            await channel.send(notice, address)
        except SendFailed as exc:
            return (DeliveryState.FAILED if exc.permanent else DeliveryState.PENDING), str(exc)
        except Exception as exc:  # the outcome is unknown
            log.warning("delivery of notice %s on %s uncertain: %s", notice.id, channel.name, exc)
            return (
                DeliveryState.PENDING if channel.idempotent else DeliveryState.UNCERTAIN
            ), f"{type(exc).__name__}: {exc}"
        return DeliveryState.SENT, None

    async def _record(
        self,
        notice_id: int,
        channel: str,
        attempts: int,
        outcome: DeliveryState,
        error: str | None,
        now: datetime,
    ) -> DeliveryState:
        """Store the outcome of one attempt; returns the state recorded."""
        if outcome is DeliveryState.PENDING and attempts >= self.backoff.attempts:
            outcome = DeliveryState.FAILED
        pending = outcome is DeliveryState.PENDING
        next_at = now + self.backoff.delay(attempts) if pending else now
        sent_at = now if outcome is DeliveryState.SENT else None
        await self.outbox.record_delivery(
            notice_id, channel, outcome, attempts, next_at, sent_at, error
        )
        return outcome


async def deliveries(outbox: Outbox, state: str | None = None) -> list[dict[str, object]]:
    """The delivery rows, for `notices list`."""
    found = await outbox.deliveries(DeliveryState(state) if state else None)
    return [
        {
            "notice": d.notice,
            "kind": d.kind,
            "registration": d.registration,
            "channel": d.channel,
            "address": d.address,
            "state": d.state.value,
            "attempts": d.attempts,
            "next_at": to_wire(d.next_at),
            "sent_at": None if d.sent_at is None else to_wire(d.sent_at),
            "error": d.error,
        }
        for d in found
    ]


async def retry(outbox: Outbox, notice_id: int, channel: str | None, now: datetime) -> int:
    """Staff decide to resend an uncertain or failed delivery; returns how many were queued."""
    return await outbox.retry_deliveries(notice_id, channel, now)


async def next_due(outbox: Outbox) -> datetime | None:
    return await outbox.next_due()
