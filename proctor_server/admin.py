"""Staff operations shared by the command line, the demo and the tests."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from proctor_server.analysis import decode_jpeg
from proctor_server.console import staff
from proctor_server.core.session import ticket_key
from proctor_server.store import ExamRecord, Store, TicketRecord
from shared.errors import ConfigError
from shared.protocol import WarningLimitAction
from shared.questions import TRIAL_QUESTIONS, Question, max_score, validate
from shared.rules import default_pass_score


async def create_exam(
    store: Store,
    *,
    title: str,
    starts_at: datetime,
    duration: timedelta,
    questions: list[Question],
    trial_questions: list[Question] | None = None,
    pass_score: int | None = None,
    snapshot_interval_s: int = 30,
    warning_limit: int | None = 3,
    on_warning_limit: WarningLimitAction = WarningLimitAction.ALERT,
    retention_days: int = 365,
) -> ExamRecord:
    if not title.strip():
        raise ConfigError("the exam needs a title")
    if duration <= timedelta(0):
        raise ConfigError("the duration must be positive")
    if snapshot_interval_s < 1:
        raise ConfigError("the snapshot interval must be at least 1 second")
    if retention_days < 1:
        raise ConfigError("evidence must be kept at least 1 day")
    validate(questions, source="questions")
    trial = (
        validate(trial_questions, source="trial questions") if trial_questions else TRIAL_QUESTIONS
    )
    top = max_score(questions)
    if pass_score is None:
        pass_score = default_pass_score(top)
    if not 0 <= pass_score <= top:
        raise ConfigError(f"the pass score must be between 0 and the maximum, {top}")
    exam = ExamRecord(
        id="exam-" + uuid.uuid4().hex[:10],
        title=title.strip(),
        # stored and sent with millisecond precision: keep exactly that
        starts_at=starts_at.astimezone(UTC).replace(
            microsecond=starts_at.microsecond // 1000 * 1000
        ),
        duration=duration,
        questions=questions,
        trial_questions=trial,
        pass_score=pass_score,
        snapshot_interval_s=snapshot_interval_s,
        warning_limit=warning_limit,
        created_at=datetime.now(UTC),
        on_warning_limit=on_warning_limit,
        retention_days=retention_days,
    )
    await store.create_exam(exam)
    await store.audit(
        "staff",
        "exam_create",
        {
            "exam": exam.id,
            "title": exam.title,
            "warning_limit": warning_limit,
            "on_warning_limit": on_warning_limit.value,
            "retention_days": retention_days,
        },
        datetime.now(UTC),
    )
    return exam


async def require_exam(store: Store, exam_id: str) -> ExamRecord:
    exam = await store.get_exam(exam_id)
    if exam is None:
        raise ConfigError(f"no exam with id {exam_id!r}")
    return exam


@dataclass(frozen=True, slots=True)
class TicketRequest:
    """One candidate to admit: a real name, and optionally contact details and a reference
    photo (JPEG bytes) to match the identity photo against."""

    name: str
    email: str | None = None
    phone: str | None = None
    photo: bytes | None = None
    candidate_code: str | None = None


@dataclass(frozen=True, slots=True)
class Issued:
    """A ticket as issued: the raw `token`, handed out once (printed, written, sent), and the
    stored `ticket`, which holds only its key (`ticket_key(token)`)."""

    token: str
    ticket: TicketRecord

    @property
    def key(self) -> str:
        return self.ticket.token

    @property
    def exam_id(self) -> str:
        return self.ticket.exam_id

    @property
    def candidate_code(self) -> str:
        return self.ticket.candidate_code

    @property
    def name(self) -> str:
        return self.ticket.name

    @property
    def reference_photo(self) -> str | None:
        return self.ticket.reference_photo


async def issue_ticket(
    store: Store,
    exam_id: str,
    *,
    name: str,
    email: str | None = None,
    phone: str | None = None,
    photo: bytes | None = None,
    candidate_code: str | None = None,
) -> Issued:
    (ticket,) = await issue_tickets(
        store, exam_id, [TicketRequest(name, email, phone, photo, candidate_code)]
    )
    return ticket


async def issue_tickets(
    store: Store, exam_id: str, requests: Sequence[TicketRequest]
) -> list[Issued]:
    """Admission tickets for many candidates at once, in order: all of them or none. Every
    request is checked before anything is written; reference photos are written before the
    rows (and removed again if the rows are refused)."""
    await require_exam(store, exam_id)
    for n, request in enumerate(requests, 1):
        where = f"candidate {n}: " if len(requests) > 1 else ""
        if not request.name.strip():
            raise ConfigError(f"{where}the candidate needs a name")
        if request.photo is not None and decode_jpeg(request.photo) is None:
            raise ConfigError(f"{where}the reference photo is not a readable JPEG")
    first = await store.count_tickets(exam_id) + 1
    issued: list[Issued] = []
    photos: list[tuple[str, bytes]] = []
    for n, request in enumerate(requests):
        token = new_ticket_token()
        key = ticket_key(token)
        reference = None
        if request.photo is not None:  # named after the key: no ticket in a file name
            reference = f"references/{exam_id}/{key[:16]}.jpg"
            photos.append((reference, request.photo))
        ticket = TicketRecord(
            token=key,
            exam_id=exam_id,
            candidate_code=request.candidate_code or f"C{first + n:05d}",
            name=request.name.strip(),
            email=request.email or None,
            phone=request.phone or None,
            reference_photo=reference,
        )
        issued.append(Issued(token, ticket))
    tickets = [i.ticket for i in issued]
    if photos:
        await asyncio.to_thread(_write_all, store, photos)
    try:
        await store.create_tickets(tickets)
    except BaseException:
        await asyncio.to_thread(_remove_all, store, [path for path, _ in photos])
        raise
    detail: dict[str, object] = (
        {"exam": exam_id, "candidate": tickets[0].candidate_code}
        if len(tickets) == 1
        else {"exam": exam_id, "count": len(tickets)}
    )
    action = "ticket_issue" if len(tickets) == 1 else "tickets_issue"
    await store.audit("staff", action, detail, datetime.now(UTC))
    return issued


def new_ticket_token() -> str:
    """A ticket token: 144 random bits, URL-safe, never starting with "-" (a token that did
    would read as an option on a command line: `--ticket -abc`)."""
    while (token := secrets.token_urlsafe(18)).startswith("-"):
        pass
    return token


def _write_all(store: Store, photos: Sequence[tuple[str, bytes]]) -> None:
    for path, data in photos:
        store.blobs.write(path, data)


def _remove_all(store: Store, paths: Sequence[str]) -> None:
    for path in paths:
        store.blobs.remove(path)


async def proctor_token(store: Store, exam_id: str) -> str:
    """A new proctor of the exam named "proctor" (`proctor-token`); its sign-in token."""
    await require_exam(store, exam_id)
    return await staff.proctor_token(store, exam_id)
