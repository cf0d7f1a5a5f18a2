"""The store interface. SQLite implements it; a PostgreSQL store implements the same `Store`.

Every consumer (sessions, exam runtimes, staff tools, analysis) is typed against `Store`; the
contract tests in tests/store/ run against each implementation. Features with data of their
own declare a small port of their own (`vision.calibration.CalibrationStore`), which the
store implements as well."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from proctor_server.core.audit import AuditEntry
from proctor_server.core.console import ExamGrid, GridRisk
from proctor_server.core.records import (
    AttemptRecord,
    ClipRecord,
    ExamRecord,
    PhotoRecord,
    ProctorRecord,
    PurgeReport,
    SavedEvent,
    TicketRecord,
    ViolationRecord,
)
from shared.questions import Question
from shared.states import Effect, Trigger

__all__ = [
    "AttemptRecord",
    "Blobs",
    "ClipRecord",
    "DuplicateCommand",
    "ExamRecord",
    "PhotoRecord",
    "ProctorRecord",
    "Store",
    "TicketRecord",
    "ViolationRecord",
]


class DuplicateCommand(Exception):
    """A proctor's command id stored before: the write that carried it is undone."""


class Blobs(Protocol):
    """Files beside the rows (photos, reference photos), by relative path. Blocking: call from
    a worker thread. A write is whole and durable when it returns."""

    def write(self, relative: str, data: bytes) -> object: ...
    def read(self, relative: str) -> bytes | None: ...
    def remove(self, relative: str) -> None: ...
    def files(self) -> list[str]: ...
    def reseal(self, relative: str) -> bool: ...


class Store(Protocol):
    """What the server needs from persistence. Every write is durable when it returns."""

    async def open(self) -> None: ...
    async def close(self) -> None: ...

    @property
    def blobs(self) -> Blobs: ...

    # exams, tickets, proctors
    async def create_exam(self, exam: ExamRecord) -> None: ...
    async def get_exam(self, exam_id: str) -> ExamRecord | None: ...
    async def list_live_exams(self, now: datetime) -> list[ExamRecord]: ...
    async def create_ticket(self, ticket: TicketRecord) -> None: ...
    async def create_tickets(self, tickets: Sequence[TicketRecord]) -> None: ...
    async def get_ticket(self, token: str) -> TicketRecord | None:
        """By the ticket's key (`core.session.ticket_key`): the store holds no raw ticket."""
        ...

    async def revoke_ticket(
        self, exam_id: str, candidate_code: str, at: datetime, *, actor: str, reason: str
    ) -> TicketRecord:
        """Revoke a candidate's ticket of the exam, audited in the exam's chain."""
        ...

    async def revoked_tickets(self, exam_id: str) -> set[str]:
        """The keys of the exam's revoked tickets."""
        ...

    # attempts
    async def find_attempt(self, ticket: str, mode: str) -> AttemptRecord | None: ...
    async def get_attempt(self, attempt_id: str) -> AttemptRecord | None: ...
    async def enter(
        self,
        token: str,
        mode: str,
        nonce: str,
        at: datetime,
        decide: Callable[
            [TicketRecord | None, AttemptRecord | None, Callable[[], bool]], AttemptRecord
        ],
    ) -> tuple[TicketRecord, AttemptRecord, bool]: ...
    async def create_attempt(self, attempt: AttemptRecord) -> None: ...
    async def transition(
        self,
        attempt_id: str,
        trigger: Trigger,
        at: datetime,
        reason: str,
        *,
        questions: list[Question],
        pass_score: int,
    ) -> tuple[AttemptRecord, tuple[Effect, ...]]: ...
    async def state_history(self, attempt_id: str) -> list[tuple[str, datetime, str]]: ...
    async def add_warning(
        self,
        attempt_id: str,
        at: datetime | None = None,
        *,
        actor: str = "system",
        text: str = "",
        command: tuple[str, str, str] | None = None,
    ) -> int: ...
    async def count_tickets(self, exam_id: str) -> int: ...
    async def profile(self, attempt_id: str) -> dict[str, str] | None: ...
    async def end_violation(
        self, violation_id: int, ended_at: datetime, evidence: dict[str, Any] | None = None
    ) -> None: ...
    async def note_violation(self, violation_id: int, notes: dict[str, Any]) -> None: ...
    async def audit_trail(self, limit: int = 100) -> list[dict[str, Any]]: ...
    async def unfinished_attempts(self, exam_id: str) -> list[AttemptRecord]: ...
    async def attempts_of_exam(self, exam_id: str) -> list[AttemptRecord]: ...

    # client writes: idempotent by (attempt, client id); True when newly stored
    async def save_answer(
        self, attempt_id: str, client_id: str, question: int, choice: list[int], at: datetime
    ) -> bool: ...
    async def answers(self, attempt_id: str) -> dict[int, list[int]]: ...
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
    ) -> SavedEvent: ...
    async def save_consent(
        self, attempt_id: str, client_id: str, version: str, at: datetime
    ) -> bool: ...
    async def save_profile(
        self, attempt_id: str, client_id: str, mail_to: dict[str, str], at: datetime
    ) -> bool: ...
    def photo_id(self, attempt_id: str, client_id: str) -> str:
        """The stored id of a photo sent as `client_id` (the same for a resend)."""
        ...

    async def save_photo(self, photo: PhotoRecord, data: bytes) -> bool:
        """The file first, then the row; a refused row leaves no file behind."""
        ...

    async def photo_bytes(self, photo_id: str) -> bytes | None: ...
    async def photos(self, attempt_id: str, kind: str | None = None) -> list[PhotoRecord]: ...
    async def save_clip(self, clip: ClipRecord, data: bytes) -> None:
        """A live-media clip: its file written whole, then its row and violation links."""
        ...

    async def clips(self, attempt_id: str) -> list[ClipRecord]: ...
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
    ) -> int: ...
    async def violations(self, attempt_id: str) -> list[ViolationRecord]: ...
    async def exam_overview(
        self, exam_id: str
    ) -> list[tuple[AttemptRecord, TicketRecord, list[ViolationRecord]]]: ...
    async def exam_grid(self, exam_id: str, risk: GridRisk) -> ExamGrid:
        """Every ticket of the exam with the attempt its grid row shows, by columns, the
        riskiest first: one read."""
        ...

    async def events(self, attempt_id: str) -> list[dict[str, Any]]: ...

    # watermark nonces: which nonce was live when (R16)
    async def add_nonce(self, attempt_id: str, nonce: str, at: datetime) -> None: ...
    async def nonce_history(self, attempt_id: str) -> list[tuple[str, datetime]]: ...
    async def find_nonce(self, nonce: str) -> tuple[str, datetime] | None: ...

    # the audit log: append-only, one hash chain per exam (core.audit)
    async def audit(
        self,
        actor: str,
        action: str,
        detail: dict[str, Any],
        at: datetime,
        *,
        exam: str | None = None,
        command: tuple[str, str, str] | None = None,
    ) -> AuditEntry:
        """Append an entry to its exam's chain (`exam`, or the detail's "exam", else the chain
        ""). `command`: a proctor's (proctor id, client id, kind), recorded with the entry: the
        same id twice raises DuplicateCommand, and the entry is not written."""
        ...

    async def audit_chain(self, chain: str) -> list[AuditEntry]: ...

    # retention: evidence files and personal fields removed; scores and the audit chain stay
    async def all_exams(self) -> list[ExamRecord]: ...
    async def reseal_fields(self) -> int: ...
    async def purge_evidence(
        self, exam_id: str, at: datetime, *, actor: str, dry_run: bool = False
    ) -> PurgeReport: ...
    async def audit_head(self, chain: str) -> tuple[int, str] | None: ...
    async def command_seen(self, proctor_id: str, client_id: str) -> bool: ...

    # proctors: tokens and sessions kept as hashes
    async def add_proctor(self, proctor: ProctorRecord, token_hash: str) -> None: ...
    async def proctor_by_token(self, token_hash: str) -> ProctorRecord | None: ...
    async def get_proctor(self, proctor_id: str) -> ProctorRecord | None: ...
    async def proctors(self, exam_id: str | None = None) -> list[ProctorRecord]: ...
    async def revoke_proctors(
        self,
        name: str,
        at: datetime,
        entry: tuple[str, str, dict[str, Any]],
        exam_id: str | None = None,
    ) -> list[ProctorRecord]: ...
    async def create_proctor_session(
        self, id_hash: str, proctor_id: str, at: datetime, expires_at: datetime
    ) -> None: ...
    async def proctor_by_session(self, id_hash: str, now: datetime) -> ProctorRecord | None: ...
    async def end_proctor_session(self, id_hash: str) -> None: ...

    # what proctors decide, each committed with its audit entry (actor, action, detail) and,
    # for a console command, the command's (proctor id, client id, kind)
    async def admit(
        self,
        exam_id: str,
        candidate_code: str,
        at: datetime,
        entry: tuple[str, str, dict[str, Any]],
        command: tuple[str, str, str] | None = None,
    ) -> str: ...
    async def admitted(self, ticket: str) -> bool: ...
    async def admitted_tickets(self, exam_id: str) -> set[str]: ...
    async def violation_exam(self, violation_id: int) -> tuple[str, str] | None: ...
    async def review_violation(
        self,
        violation_id: int,
        verdict: str,
        note: str,
        at: datetime,
        exam_id: str,
        entry: tuple[str, str, dict[str, Any]],
        command: tuple[str, str, str] | None = None,
    ) -> None: ...
    async def violation_reviews(self, attempt_id: str) -> dict[int, tuple[str, str, str]]: ...
    async def set_verdict(
        self,
        attempt_id: str,
        verdict: str,
        note: str,
        at: datetime,
        exam_id: str,
        entry: tuple[str, str, dict[str, Any]],
        command: tuple[str, str, str] | None = None,
    ) -> None: ...
    async def attempt_verdicts(self, exam_id: str) -> dict[str, str]: ...
    async def set_deadline(
        self,
        attempt_id: str,
        ends_at: datetime,
        at: datetime,
        entry: tuple[str, str, dict[str, Any]],
        command: tuple[str, str, str] | None = None,
    ) -> AttemptRecord: ...
    async def tickets_of_exam(self, exam_id: str) -> list[TicketRecord]: ...
