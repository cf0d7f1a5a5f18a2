"""What the programme needs from persistence: the ports a store implements.

- `ProgrammeStore.programme_transaction(work)`: one staff action is one transaction. `work`
  reads the facts, asks the pure rules (`shared.programme_rules`) and writes the change, its
  history and its notices through a `ProgrammeTx`; the store commits before it returns, and
  an exception from `work` leaves nothing written. `work` is plain synchronous code (the rules
  are), run by the store wherever its transaction lives (SQLite: on its connection thread).
- `ProgrammeStore.programme_read(work)`: the same reads outside a write transaction.
- `Outbox`: the notices' deliveries, one small durable step each, for the dispatcher.

Both stores implement them (`proctor_server.store.sql.programme`); the programme's
tables are its migration component "programme" (`schema.MIGRATIONS`), passed to the store
when it is opened. tests/store/test_programme_port.py is the contract.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Protocol, TypeVar, runtime_checkable

from proctor_server.core.programme_records import (
    Candidate,
    Certificate,
    Delivery,
    DeliveryState,
    DueDelivery,
    Notice,
    Registration,
)
from proctor_server.core.records import ExamRecord, TicketRecord
from shared.calendar import Sitting
from shared.programme_rules import Kind, RegState

T = TypeVar("T")

__all__ = [
    "Candidate",
    "Certificate",
    "Delivery",
    "DeliveryState",
    "DueDelivery",
    "Notice",
    "Outbox",
    "ProgrammeReads",
    "ProgrammeStore",
    "ProgrammeTx",
    "Registration",
]


class ProgrammeReads(Protocol):
    """The programme's facts, read inside or outside a transaction."""

    def candidate(self, candidate_id: int) -> Candidate:
        """LookupError when there is none."""
        ...

    def candidate_by_id_number(self, id_number: str) -> Candidate | None: ...
    def stored_sitting(self, month: str) -> Sitting | None: ...
    def sitting_exam(self, month: str) -> str | None:
        """The exam a sitting is linked to (when its tickets were issued)."""
        ...

    def registration(self, registration_id: int) -> Registration:
        """LookupError when there is none."""
        ...

    def registrations_of(
        self, candidate_id: int, states: Collection[RegState]
    ) -> list[Registration]: ...
    def registrations_in(self, sitting: str, state: RegState) -> list[Registration]: ...
    def retakes_of(self, registration_id: int) -> list[Registration]: ...
    def history(self, registration_id: int) -> list[dict[str, object]]:
        """Each action as recorded: `at` (wire time), `action` and its details."""
        ...

    def ticket_token(self, exam_id: str, candidate_code: str) -> str | None:
        """The key (`ticket_key`, never the raw ticket) of the exam server's ticket of that
        candidate code, revoked or not alike."""
        ...

    def certificate(self, number: str) -> Certificate | None: ...
    def certificates(
        self, *, number: str | None = None, id_number: str | None = None
    ) -> list[tuple[Certificate, Candidate]]:
        """By number or by holder's identity number; the newest published first."""
        ...


class ProgrammeTx(ProgrammeReads, Protocol):
    """Reads and writes inside one staff action's transaction."""

    def upsert_candidate(
        self, name: str, id_number: str, phone: str, email: str, now: datetime
    ) -> Candidate:
        """Create the candidate, or bind the newest contact details to the existing one."""
        ...

    def store_sitting(self, sitting: Sitting) -> None:
        """Fix a sitting's date the first time it is used; later calls change nothing."""
        ...

    def link_sitting_exam(self, month: str, exam_id: str, now: datetime) -> None: ...
    def mark_results_published(self, month: str, now: datetime) -> None: ...

    def add_registration(
        self,
        candidate_id: int,
        kind: Kind,
        city: str,
        sitting: str,
        state: RegState,
        registered_at: datetime,
        *,
        retake_of: int | None = None,
        paid_at: datetime | None = None,
    ) -> int: ...
    def record_payment(self, registration_id: int, state: RegState, at: datetime) -> None: ...
    def record_refund(self, registration_id: int, state: RegState, at: datetime) -> None: ...
    def record_deferral(
        self, registration_id: int, sitting: str, deferred_from: str, at: datetime
    ) -> None: ...
    def record_ticket(
        self,
        registration_id: int,
        state: RegState,
        exam_id: str,
        ticket_token: str,
        candidate_code: str,
    ) -> None: ...
    def record_result(
        self,
        registration_id: int,
        state: RegState,
        score: int | None,
        max_score: int | None,
        no_show: bool,
        at: datetime,
    ) -> None: ...

    def log(
        self,
        candidate_id: int,
        registration_id: int | None,
        at: datetime,
        action: str,
        **detail: object,
    ) -> None:
        """Add an action to the history; `detail` is JSON-able."""
        ...

    def revoke_ticket(self, token: str) -> None:
        """The exam server's ticket (by its key) no longer admits anyone."""
        ...

    def issue_ticket(self, ticket: TicketRecord, now: datetime) -> None:
        """Add the exam server's ticket (`ticket.token` is its key). A ticket of the same exam
        and candidate code left by an interrupted run of an earlier version, never sent, is
        replaced: its raw token was lost, this one is the ticket from now on."""
        ...

    def add_trial_pass(self, exam: ExamRecord, ticket: TicketRecord, now: datetime) -> None:
        """A trial pass (R12): the sitting's trial exam (added when missing) and a ticket on it
        that opens the trial only; a pass given again to the same candidate replaces the last."""
        ...

    def revoke_trial_passes(self, candidate_code: str) -> None:
        """Every trial pass of that candidate code no longer opens anything."""
        ...

    def add_certificate(self, certificate: Certificate) -> None: ...
    def mark_paper_mailed(self, number: str, at: datetime) -> None: ...

    def add_notice(
        self,
        key: str,
        candidate_id: int,
        registration_id: int | None,
        kind: str,
        subject: str,
        body: str,
        now: datetime,
        addresses: Mapping[str, str],
    ) -> int | None:
        """Record a notice and one pending delivery per channel in `addresses`; None (and
        nothing written) when a notice with this key exists already."""
        ...


class Outbox(Protocol):
    """The deliveries of notices: each step durable when it returns."""

    async def recover_deliveries(self, claimed_before: datetime, retry: Sequence[str]) -> int:
        """Claims older than `claimed_before`: back to pending on the `retry` channels,
        uncertain on the others. Returns how many."""
        ...

    async def due_deliveries(self, now: datetime) -> list[DueDelivery]: ...
    async def claim_delivery(self, notice_id: int, channel: str, now: datetime) -> bool:
        """Pending → sending; False when it was not pending (another run took it)."""
        ...

    async def record_delivery(
        self,
        notice_id: int,
        channel: str,
        state: DeliveryState,
        attempts: int,
        next_at: datetime,
        sent_at: datetime | None,
        error: str | None,
    ) -> None: ...
    async def deliveries(self, state: DeliveryState | None = None) -> list[Delivery]: ...
    async def retry_deliveries(self, notice_id: int, channel: str | None, now: datetime) -> int:
        """Uncertain or failed deliveries of a notice back to pending; returns how many."""
        ...

    async def next_due(self) -> datetime | None: ...
    async def put_site_message(self, notice: Notice, candidate_id: int, at: datetime) -> None:
        """The in-site message box: one message per notice (a repeat changes nothing)."""
        ...


@runtime_checkable
class ProgrammeStore(Outbox, Protocol):
    """The programme's persistence: staff actions as transactions, and the outbox."""

    async def programme_transaction(self, work: Callable[[ProgrammeTx], T]) -> T: ...
    async def programme_read(self, work: Callable[[ProgrammeReads], T]) -> T: ...
