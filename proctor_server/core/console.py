"""The proctor console's decisions, as plain functions: tokens kept as hashes, which exam a
proctor's feed follows, who may act on what, how far an extension moves a deadline, and what
reaching the warning limit does."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

from proctor_server.core.records import (
    AttemptRecord,
    ExamRecord,
    ProctorRecord,
    ProctorRole,
    ViolationRecord,
)
from shared.errors import ErrorCode, RuleError
from shared.rules import WRITE_GRACE
from shared.vocabulary import WarningLimitAction

MAX_EXTENSION = timedelta(hours=24)  # an attempt's deadline moves at most this far in total


def token_hash(token: str) -> str:
    """What the store keeps of a sign-in token or a session id: its SHA-256, in hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def actor(proctor: ProctorRecord) -> str:
    """How the audit log names a proctor."""
    return f"proctor:{proctor.name}"


def feed_exam(proctor: ProctorRecord, requested: str | None, live_exams: Sequence[str]) -> str:
    """The exam a proctor's feed follows: a proctor's own exam; for a chief the one asked for
    (`?exam=ID`), or the only live exam. RuleError (not_allowed) otherwise."""
    if proctor.role is ProctorRole.PROCTOR:
        assert proctor.exam_id is not None
        if requested is not None and requested != proctor.exam_id:
            raise RuleError("this exam is not one of yours", code=ErrorCode.NOT_ALLOWED)
        return proctor.exam_id
    if requested is not None:
        return requested
    if len(live_exams) == 1:
        return live_exams[0]
    raise RuleError(
        f"{len(live_exams)} exams are running: choose one with ?exam=ID",
        code=ErrorCode.NOT_ALLOWED,
    )


def require_sees(proctor: ProctorRecord, exam_id: str | None, ref: str | None = None) -> None:
    """RuleError (not_allowed) unless the proctor may act on this exam (None: nothing found)."""
    if exam_id is None or not proctor.sees(exam_id):
        raise RuleError("no such attempt in your exams", code=ErrorCode.NOT_ALLOWED, ref=ref)


def require_open(attempt: AttemptRecord, now: datetime, ref: str | None = None) -> None:
    """RuleError unless the attempt is still going (a finished one takes no warning or time)."""
    if attempt.state.finished:
        raise RuleError(
            f"the attempt is already {attempt.state.value}", code=ErrorCode.EXAM_OVER, ref=ref
        )
    if now >= attempt.ends_at + WRITE_GRACE:
        raise RuleError("the attempt's time is over", code=ErrorCode.DEADLINE_PASSED, ref=ref)


def extended_deadline(
    attempt: AttemptRecord, exam: ExamRecord, minutes: int, now: datetime, ref: str | None = None
) -> datetime:
    """The attempt's new deadline after `minutes` more: counted from its current deadline (a
    second extension adds to the first), at most MAX_EXTENSION past the exam's end."""
    require_open(attempt, now, ref)
    new = attempt.ends_at + timedelta(minutes=minutes)
    if new > exam.window.ends_at + MAX_EXTENSION:
        raise RuleError(
            "an attempt gets at most 24 hours past the exam's end",
            code=ErrorCode.NOT_ALLOWED,
            ref=ref,
        )
    return new


def require_finished(attempt: AttemptRecord, ref: str | None = None) -> None:
    """A verdict on an attempt is given after it finished."""
    if not attempt.state.finished:
        raise RuleError(
            "a verdict is given once the attempt has finished",
            code=ErrorCode.NOT_ALLOWED,
            ref=ref,
        )


def limit_reached(used: int, limit: int | None) -> bool:
    """Whether this warning is the one that reaches the limit (the limit-th: "3 of 3")."""
    return limit is not None and used == limit


def limit_action(exam: ExamRecord, limit: int | None) -> WarningLimitAction | None:
    """What reaching the limit does for this attempt (None: no limit applies)."""
    return exam.on_warning_limit if limit is not None else None


# How the grid's read scores an attempt: (attempt id, its violations, when it finished or
# None) -> (risk 0-100, the reasons). The read orders the rows by it.
GridRisk = Callable[[str, list[ViolationRecord], datetime | None], tuple[float, list[str]]]


class ExamGrid(NamedTuple):
    """Every ticket of an exam as the store reads it for the proctor's grid in one pass, the
    most suspicious first, then in candidate-code order.

    `columns`: the snapshot's columns the store knows (`candidate`, `name`, `state`,
    `attempt`, `mode`, `ends_at`, `warnings`, `admitted`, `verdict`, `score`, `max_score`,
    `passed`), each one JSON array in the wire's words with one value per ticket (written
    by the database; names opened). `attempts`: the attempt each row shows ("" for an
    absentee). `risks`: for the attempts with violations, (how many, risk, reasons)."""

    columns: dict[str, bytes]
    attempts: list[str]
    risks: dict[str, tuple[int, float, list[str]]]
