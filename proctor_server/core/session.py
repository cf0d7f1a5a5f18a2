"""The candidate session's decisions, as plain functions over records and `now`: who may
enter and into which attempt, which writes an attempt still takes, what an event means for
conduct, and why an attempt finished. The socket handler and the store call the same
functions (the store inside its write transaction), so each rule is written once."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from proctor_server.core.records import AttemptRecord, ExamRecord, TicketRecord
from shared.errors import ErrorCode, RuleError
from shared.questions import Question, max_score
from shared.rules import (
    WRITE_GRACE,
    ExamWindow,
    check_entry,
    check_trial,
    default_pass_score,
    trial_window,
)
from shared.shuffle import order_for
from shared.states import AttemptState
from shared.vocabulary import FinishReason, Mode

# ---------------------------------------------------------------- entry


class AttemptFinished(RuleError):
    """Entry to an attempt that is already finished (its result is shown again)."""

    code = ErrorCode.EXAM_OVER

    def __init__(self, attempt: AttemptRecord):
        super().__init__(f"this attempt is already {attempt.state.value}")
        self.attempt = attempt


@dataclass(frozen=True, slots=True)
class Fresh:
    """What a new attempt needs that the shell draws (ids and randomness stay out of here)."""

    attempt_id: str
    seed: str


def decide_entry(
    mode: Mode,
    ticket: TicketRecord,
    exam: ExamRecord,
    found: AttemptRecord | None,
    now: datetime,
    fresh: Fresh,
    admitted: bool = False,
) -> AttemptRecord:
    """The attempt a valid ticket's hello enters (`check_ticket` first): the one found, or a
    new one; RuleError when entry is refused. `admitted`: a proctor let this candidate in
    after the entry window closed (R15's exception), so the first entry passes until the
    exam ends."""
    if mode is Mode.TRIAL:
        check_trial(exam.window, now)
        if found is not None and (found.state.finished or found.ends_at <= now):
            found = None  # that practice run is over: a new one starts
    else:
        if found is not None and found.state.finished:
            raise AttemptFinished(found)
        if found is None:
            late = admitted and now > exam.window.entry_closes_at
            check_entry(exam.window, now, has_attempt=late, finished=False)
        elif now >= found.ends_at:  # re-entry: open until the attempt's own deadline (R15)
            raise RuleError("the exam has ended", code=ErrorCode.EXAM_OVER)
    return found if found is not None else new_attempt(exam, ticket, mode, now, fresh)


def ticket_key(token: str) -> str:
    """What the store keeps of an admission ticket or a trial pass, and looks it up by: the
    token's SHA-256, in hex. Tokens carry 144 random bits, so a plain hash is enough (no salt,
    no slow hash: nothing to guess); the raw token exists only in what was handed out."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_ticket(
    ticket: TicketRecord | None, expected_exam: str | None, mode: Mode = Mode.EXAM
) -> TicketRecord:
    """The ticket when it admits to `expected_exam` (any exam when None) in `mode`; RuleError
    if not. A trial pass (R12) opens the trial only."""
    if ticket is None or ticket.revoked:
        raise RuleError("this admission ticket is not valid", code=ErrorCode.BAD_TICKET)
    if expected_exam is not None and expected_exam != ticket.exam_id:
        raise RuleError("this admission ticket is for another exam", code=ErrorCode.BAD_TICKET)
    if ticket.trial_only and mode is not Mode.TRIAL:
        raise RuleError(
            "this is a trial pass: it opens the trial exam only; the exam needs the admission "
            "ticket, sent before the sitting",
            code=ErrorCode.BAD_TICKET,
        )
    return ticket


def new_attempt(
    exam: ExamRecord, ticket: TicketRecord, mode: Mode, now: datetime, fresh: Fresh
) -> AttemptRecord:
    trial = mode is Mode.TRIAL
    return AttemptRecord(
        id=fresh.attempt_id,
        exam_id=exam.id,
        ticket=ticket.token,
        mode=mode,
        state=AttemptState.WAITING,
        seed=fresh.seed,
        order=order_for(fresh.seed, questions_for(exam, mode)),
        created_at=now,
        ends_at=trial_window(now).ends_at if trial else exam.window.ends_at,
    )


def attempt_id_prefix(mode: Mode) -> str:
    return "t-" if mode is Mode.TRIAL else "a-"


# ---------------------------------------------------------------- the exam's rules per attempt


def questions_for(exam: ExamRecord, mode: Mode) -> list[Question]:
    return exam.trial_questions if mode is Mode.TRIAL else exam.questions


def pass_score_for(exam: ExamRecord, mode: Mode) -> int:
    if mode is Mode.TRIAL:
        return default_pass_score(max_score(exam.trial_questions))
    return exam.pass_score


def warning_limit_for(exam: ExamRecord, mode: Mode) -> int | None:
    """Warnings count toward a limit in the exam only; a trial only shows them."""
    return exam.warning_limit if mode is Mode.EXAM else None


# ---------------------------------------------------------------- writes


def check_write(
    state: AttemptState,
    ends_at: datetime,
    now: datetime,
    *,
    needs_paper: bool,
    ref: str | None = None,
) -> None:
    """Refuse a client write the attempt no longer (or not yet) takes.

    `ends_at` is the attempt's own deadline; writes sent just before it still count
    (`WRITE_GRACE`). `needs_paper`: answers and submit need the paper open; events,
    profiles and photos do not."""
    if needs_paper and state is AttemptState.WAITING:
        raise RuleError(
            "the identity photo must be accepted first", code=ErrorCode.IDENTITY_REQUIRED, ref=ref
        )
    if state is AttemptState.TIMED_OUT:
        raise RuleError("the exam time is over", code=ErrorCode.DEADLINE_PASSED, ref=ref)
    if state.finished:
        raise RuleError(f"the attempt is {state.value}", code=ErrorCode.EXAM_OVER, ref=ref)
    if now >= ends_at + WRITE_GRACE:
        raise RuleError("the exam time is over", code=ErrorCode.DEADLINE_PASSED, ref=ref)
    if needs_paper and state is not AttemptState.IN_PROGRESS:
        raise RuleError("the paper is not open yet", code=ErrorCode.NOT_ALLOWED, ref=ref)


# ---------------------------------------------------------------- finishing

_FINISH_REASONS = {
    AttemptState.SUBMITTED: FinishReason.SUBMITTED,
    AttemptState.TIMED_OUT: FinishReason.TIME_UP,
    AttemptState.TERMINATED: FinishReason.TERMINATED,
}


def finish_reason(state: AttemptState) -> FinishReason:
    """Why a finished attempt ended, as the candidate's result says it."""
    return _FINISH_REASONS[state]


def event_counts(attempt: AttemptRecord) -> bool:
    """Whether conduct events count against this attempt (the exam, with the paper open)."""
    return attempt.mode is Mode.EXAM and attempt.state is AttemptState.IN_PROGRESS


def attempt_window(exam: ExamRecord, attempt: AttemptRecord) -> ExamWindow:
    """The window this attempt's candidate is shown: the exam's, or a trial's own run."""
    if attempt.mode is Mode.TRIAL:
        return ExamWindow(attempt.created_at, attempt.ends_at - attempt.created_at)
    return exam.window


def paper_due(attempt: AttemptRecord, exam: ExamRecord, now: datetime) -> bool:
    """Whether a verified attempt's paper is released now: the exam has started (a trial
    starts when it is entered), the candidate accepted the rules of conduct (R16), and for the
    exam gave the postal address the certificate goes to (R14)."""
    return (
        attempt.state is AttemptState.VERIFIED
        and attempt.consent_version is not None
        and (attempt.profile_saved or attempt.mode is Mode.TRIAL)
        and attempt_window(exam, attempt).started(now)
    )


def missing_before_paper(attempt: AttemptRecord) -> list[str]:
    """What the candidate still owes before the paper: "consent", "address"."""
    missing = [] if attempt.consent_version is not None else ["consent"]
    if attempt.mode is Mode.EXAM and not attempt.profile_saved:
        missing.append("address")
    return missing
