"""The certification programme's records: what the programme reads from and writes to its
port (`proctor_server.programme.ports`), and what a store implementing that port maps its rows
to. Plain frozen values, no I/O; the programme re-exports them under its own names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from shared.calendar import Sitting
from shared.programme_rules import Facts, Kind, RegState


@dataclass(frozen=True, slots=True)
class Candidate:
    id: int
    name: str
    id_number: str
    phone: str
    email: str


@dataclass(frozen=True, slots=True)
class Registration:
    id: int
    candidate_id: int
    kind: Kind
    retake_of: int | None
    city: str
    sitting: str
    state: RegState
    registered_at: datetime
    paid_at: datetime | None
    refunded_at: datetime | None
    deferred_from: str | None
    exam_id: str | None
    ticket_token: str | None
    candidate_code: str | None
    score: int | None
    max_score: int | None
    no_show: bool | None
    result_at: datetime | None

    def facts(self, sitting: Sitting) -> Facts:
        return Facts(
            id=f"#{self.id}",
            kind=self.kind,
            state=self.state,
            sitting=sitting,
            paid_at=self.paid_at,
            deferred_from=self.deferred_from,
        )


@dataclass(frozen=True, slots=True)
class Certificate:
    """A pass's certificate (R19): valid until the day before `expires_on`."""

    number: str
    candidate_id: int
    registration_id: int
    exam_date: date
    published_at: datetime
    e_available_from: datetime
    paper_due: datetime
    expires_on: date
    paper_mailed_at: datetime | None = None


class DeliveryState(StrEnum):
    """Where one notice stands on one channel (docs/programme.md, "Notices")."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNCERTAIN = "uncertain"


@dataclass(frozen=True, slots=True)
class Notice:
    id: int
    candidate_id: int
    kind: str
    subject: str
    body: str


@dataclass(frozen=True, slots=True)
class DueDelivery:
    """A pending delivery whose time has come: the notice, the channel, where it goes."""

    notice: Notice
    channel: str
    address: str
    attempts: int


@dataclass(frozen=True, slots=True)
class Delivery:
    """One notice on one channel, as staff list them."""

    notice: int
    kind: str
    registration: int | None
    channel: str
    address: str
    state: DeliveryState
    attempts: int
    next_at: datetime
    sent_at: datetime | None
    error: str | None
