"""The server's pure session core, table-driven: entry, write eligibility, finishing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from proctor_server.core.records import AttemptRecord, ExamRecord, TicketRecord
from proctor_server.core.session import (
    AttemptFinished,
    Fresh,
    attempt_window,
    check_ticket,
    check_write,
    decide_entry,
    event_counts,
    finish_reason,
    missing_before_paper,
    paper_due,
    pass_score_for,
    ticket_key,
    warning_limit_for,
)
from shared.errors import RuleError
from shared.questions import Question
from shared.rules import TRIAL_DURATION, WRITE_GRACE
from shared.shuffle import order_for
from shared.states import AttemptState
from shared.vocabulary import FinishReason, Mode

START = datetime(2026, 7, 25, 6, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
QUESTIONS = [
    Question(id=f"q{i}", text=f"Q{i}", options=["a", "b", "c"], answer=[i % 3], points=2)
    for i in range(5)
]
TRIAL_QUESTIONS = QUESTIONS[:2]
EXAM = ExamRecord(
    id="e1",
    title="Cloud",
    starts_at=START,
    duration=HOUR,
    questions=QUESTIONS,
    trial_questions=TRIAL_QUESTIONS,
    pass_score=6,
    warning_limit=3,
)
TICKET = TicketRecord(token="tok", exam_id="e1", candidate_code="C1", name="张三")
FRESH = Fresh("a-new", "5eed01")


def attempt(
    state: AttemptState = AttemptState.WAITING,
    mode: Mode = Mode.EXAM,
    ends_at: datetime = START + HOUR,
    created_at: datetime = START - timedelta(minutes=10),
) -> AttemptRecord:
    return AttemptRecord(
        id="a-old",
        exam_id="e1",
        ticket="tok",
        mode=mode,
        state=state,
        seed="0a",
        order=order_for("0a", QUESTIONS),
        created_at=created_at,
        ends_at=ends_at,
    )


# ---------------------------------------------------------------- tickets


PASS = replace(TICKET, trial_only=True)


@pytest.mark.parametrize(
    ("ticket", "expected_exam", "mode", "refused"),
    [
        (TICKET, None, Mode.EXAM, None),
        (TICKET, "e1", Mode.EXAM, None),
        (TICKET, None, Mode.TRIAL, None),
        (TICKET, "e2", Mode.EXAM, "bad_ticket"),
        (None, None, Mode.EXAM, "bad_ticket"),
        (replace(TICKET, revoked=True), None, Mode.EXAM, "bad_ticket"),
        (replace(TICKET, revoked=True), None, Mode.TRIAL, "bad_ticket"),
        # a trial pass (R12) opens the trial, never the exam
        (PASS, None, Mode.TRIAL, None),
        (PASS, "e1", Mode.TRIAL, None),
        (PASS, None, Mode.EXAM, "bad_ticket"),
        (replace(PASS, revoked=True), None, Mode.TRIAL, "bad_ticket"),
    ],
)
def test_check_ticket(
    ticket: TicketRecord | None, expected_exam: str | None, mode: Mode, refused: str | None
) -> None:
    if refused is None:
        assert check_ticket(ticket, expected_exam, mode) is ticket
    else:
        with pytest.raises(RuleError) as err:
            check_ticket(ticket, expected_exam, mode)
        assert err.value.code.value == refused


@pytest.mark.parametrize(
    ("token", "key"),
    [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    ],
)
def test_a_ticket_is_kept_as_its_sha256(token: str, key: str) -> None:
    assert ticket_key(token) == key


# ---------------------------------------------------------------- entry

M = timedelta(minutes=1)


@pytest.mark.parametrize(
    ("now", "found", "outcome"),
    [
        # first entry: opens 30 min before the start (R13), closes 30 min after (R15)
        (START - 31 * M, None, "entry_not_open"),
        (START - 30 * M, None, "new"),
        (START + 30 * M, None, "new"),
        (START + 31 * M, None, "entry_closed"),
        # re-entry to an attempt already begun: open until the end
        (START + 50 * M, attempt(AttemptState.IN_PROGRESS), "found"),
        (START + HOUR, attempt(AttemptState.IN_PROGRESS), "exam_over"),
        # an attempt with extra time: re-entry until its own deadline
        (
            START + HOUR + M,
            attempt(AttemptState.IN_PROGRESS, ends_at=START + HOUR + 10 * M),
            "found",
        ),
        (
            START + HOUR + 10 * M,
            attempt(AttemptState.IN_PROGRESS, ends_at=START + HOUR + 10 * M),
            "exam_over",
        ),
        # a finished attempt: refused with its result (AttemptFinished)
        (START + 5 * M, attempt(AttemptState.SUBMITTED), "finished"),
        (START + 5 * M, attempt(AttemptState.TERMINATED), "finished"),
    ],
)
def test_exam_entry(now: datetime, found: AttemptRecord | None, outcome: str) -> None:
    if outcome in ("new", "found"):
        entered = decide_entry(Mode.EXAM, TICKET, EXAM, found, now, FRESH)
        assert entered.id == ("a-new" if outcome == "new" else "a-old")
        assert entered.ends_at == (START + HOUR if found is None else found.ends_at)
        return
    with pytest.raises(RuleError) as err:
        decide_entry(Mode.EXAM, TICKET, EXAM, found, now, FRESH)
    if outcome == "finished":
        assert isinstance(err.value, AttemptFinished) and err.value.attempt is found
    else:
        assert err.value.code.value == outcome


def test_a_new_attempt_is_drawn_from_the_fresh_seed_and_waits_for_identity() -> None:
    now = START - 5 * M
    new = decide_entry(Mode.EXAM, TICKET, EXAM, None, now, FRESH)
    assert (new.state, new.seed, new.created_at, new.mode) == (
        AttemptState.WAITING,
        "5eed01",
        now,
        Mode.EXAM,
    )
    assert new.order == order_for("5eed01", QUESTIONS)


@pytest.mark.parametrize(
    ("now", "found", "outcome"),
    [
        (START - 3 * HOUR, None, "new"),
        (START + M, None, "entry_closed"),  # the trial is for before the exam (R12)
        # an open practice run is resumed; a finished or expired one is replaced
        (START - 2 * HOUR, attempt(AttemptState.IN_PROGRESS, Mode.TRIAL, START - HOUR), "found"),
        (START - 2 * HOUR, attempt(AttemptState.SUBMITTED, Mode.TRIAL, START - HOUR), "new"),
        (START - 2 * HOUR, attempt(AttemptState.IN_PROGRESS, Mode.TRIAL, START - 3 * HOUR), "new"),
    ],
)
def test_trial_entry(now: datetime, found: AttemptRecord | None, outcome: str) -> None:
    if outcome == "entry_closed":
        with pytest.raises(RuleError):
            decide_entry(Mode.TRIAL, TICKET, EXAM, found, now, FRESH)
        return
    entered = decide_entry(Mode.TRIAL, TICKET, EXAM, found, now, FRESH)
    assert entered.id == ("a-new" if outcome == "new" else "a-old")
    if outcome == "new":
        assert entered.ends_at == now + TRIAL_DURATION
        assert entered.order == order_for("5eed01", TRIAL_QUESTIONS)


# ---------------------------------------------------------------- writes

S = AttemptState
END = START + HOUR


@pytest.mark.parametrize(
    ("state", "now", "needs_paper", "refused"),
    [
        (S.IN_PROGRESS, END - M, True, None),
        (S.IN_PROGRESS, END + WRITE_GRACE - timedelta(milliseconds=1), True, None),
        (S.IN_PROGRESS, END + WRITE_GRACE, True, "deadline_passed"),
        (S.WAITING, START, True, "identity_required"),
        (S.WAITING, START, False, None),  # events and photos before the identity check
        (S.VERIFIED, START - M, True, "not_allowed"),
        (S.VERIFIED, START - M, False, None),
        (S.TIMED_OUT, END - M, False, "deadline_passed"),
        (S.SUBMITTED, END - M, False, "exam_over"),
        (S.SUBMITTED, END - M, True, "exam_over"),
        (S.TERMINATED, END - M, False, "exam_over"),
        (S.VERIFIED, END + WRITE_GRACE, False, "deadline_passed"),
    ],
)
def test_check_write(state: S, now: datetime, needs_paper: bool, refused: str | None) -> None:
    if refused is None:
        check_write(state, END, now, needs_paper=needs_paper, ref="r1")
        return
    with pytest.raises(RuleError) as err:
        check_write(state, END, now, needs_paper=needs_paper, ref="r1")
    assert (err.value.code.value, err.value.ref) == (refused, "r1")


def test_writes_follow_the_attempts_own_deadline() -> None:
    extended = END + 10 * M
    check_write(S.IN_PROGRESS, extended, END + 5 * M, needs_paper=True)
    with pytest.raises(RuleError):
        check_write(S.IN_PROGRESS, END, END + 5 * M, needs_paper=True)


# ---------------------------------------------------------------- rules per attempt


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        (S.SUBMITTED, FinishReason.SUBMITTED),
        (S.TIMED_OUT, FinishReason.TIME_UP),
        (S.TERMINATED, FinishReason.TERMINATED),
    ],
)
def test_finish_reason(state: S, reason: FinishReason) -> None:
    assert finish_reason(state) is reason


@pytest.mark.parametrize(
    ("mode", "state", "counts"),
    [
        (Mode.EXAM, S.IN_PROGRESS, True),
        (Mode.EXAM, S.VERIFIED, False),
        (Mode.EXAM, S.WAITING, False),
        (Mode.TRIAL, S.IN_PROGRESS, False),
    ],
)
def test_event_counts(mode: Mode, state: S, counts: bool) -> None:
    assert event_counts(attempt(state, mode)) is counts


def test_the_trial_has_its_own_window_pass_mark_and_no_warning_limit() -> None:
    created = START - 2 * HOUR
    trial = attempt(S.VERIFIED, Mode.TRIAL, created + TRIAL_DURATION, created)
    assert attempt_window(EXAM, trial).starts_at == created
    assert attempt_window(EXAM, trial).ends_at == created + TRIAL_DURATION
    assert attempt_window(EXAM, attempt()) == EXAM.window
    assert pass_score_for(EXAM, Mode.EXAM) == 6
    assert pass_score_for(EXAM, Mode.TRIAL) == 3  # 60% of the trial's 4 points, rounded up
    assert warning_limit_for(EXAM, Mode.EXAM) == 3
    assert warning_limit_for(EXAM, Mode.TRIAL) is None
    assert not paper_due(trial, EXAM, created)  # the rules not yet accepted
    assert paper_due(replace(trial, consent_version="2026-11"), EXAM, created)  # no address owed


@pytest.mark.parametrize(
    ("state", "now", "consent", "address", "due"),
    [
        (S.VERIFIED, START - M, "v1", True, False),
        (S.VERIFIED, START, "v1", True, True),
        (S.VERIFIED, START, None, True, False),  # the rules of conduct not accepted (R16)
        (S.VERIFIED, START, "v1", False, False),  # no postal address for the certificate (R14)
        (S.WAITING, START, "v1", True, False),
        (S.IN_PROGRESS, START, "v1", True, False),  # already released
    ],
)
def test_paper_due(state: S, now: datetime, consent: str | None, address: bool, due: bool) -> None:
    ready = replace(attempt(state), consent_version=consent, profile_saved=address)
    assert paper_due(ready, EXAM, now) is due
    owed = missing_before_paper(ready)
    assert owed == ([] if consent else ["consent"]) + ([] if address else ["address"])
