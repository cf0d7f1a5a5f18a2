"""Staff operations shared by the command line, the demo and the tests."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from datetime import UTC, datetime, timedelta

from proctor_server.analysis import decode_jpeg
from proctor_server.store import ExamRecord, Store, TicketRecord
from shared.errors import ConfigError
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
) -> ExamRecord:
    if not title.strip():
        raise ConfigError("the exam needs a title")
    if duration <= timedelta(0):
        raise ConfigError("the duration must be positive")
    if snapshot_interval_s < 1:
        raise ConfigError("the snapshot interval must be at least 1 second")
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
    )
    await store.create_exam(exam)
    await store.audit(
        "staff", "exam_create", {"exam": exam.id, "title": exam.title}, datetime.now(UTC)
    )
    return exam


async def require_exam(store: Store, exam_id: str) -> ExamRecord:
    exam = await store.get_exam(exam_id)
    if exam is None:
        raise ConfigError(f"no exam with id {exam_id!r}")
    return exam


async def issue_ticket(
    store: Store,
    exam_id: str,
    *,
    name: str,
    email: str | None = None,
    phone: str | None = None,
    photo: bytes | None = None,
    candidate_code: str | None = None,
) -> TicketRecord:
    await require_exam(store, exam_id)
    if not name.strip():
        raise ConfigError("the candidate needs a name")
    token = secrets.token_urlsafe(18)
    reference = None
    if photo is not None:
        if decode_jpeg(photo) is None:
            raise ConfigError("the reference photo is not a readable JPEG")
        reference = f"references/{exam_id}/{token[:12]}.jpg"
        await asyncio.to_thread(store.blobs.write, reference, photo)
    code = candidate_code or f"C{await store.count_tickets(exam_id) + 1:05d}"
    ticket = TicketRecord(
        token=token,
        exam_id=exam_id,
        candidate_code=code,
        name=name.strip(),
        email=email,
        phone=phone,
        reference_photo=reference,
    )
    await store.create_ticket(ticket)
    await store.audit(
        "staff", "ticket_issue", {"exam": exam_id, "candidate": code}, datetime.now(UTC)
    )
    return ticket


async def proctor_token(store: Store, exam_id: str) -> str:
    await require_exam(store, exam_id)
    token = "p-" + secrets.token_urlsafe(18)
    await store.create_proctor_token(exam_id, token)
    await store.audit("staff", "proctor_token", {"exam": exam_id}, datetime.now(UTC))
    return token
