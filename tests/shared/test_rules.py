"""Entry window (R13, R15), one deadline for everyone, trial availability (R12)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.errors import ErrorCode, RuleError
from shared.rules import ExamWindow, check_entry, check_trial, default_pass_score

START = datetime(2026, 7, 25, 6, 0, tzinfo=UTC)  # 14:00 in Beijing
WINDOW = ExamWindow(START, timedelta(minutes=90))
M = timedelta(minutes=1)
S = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("offset", "has_attempt", "finished", "expected"),
    [
        # R13: entry opens 30 minutes before the start (14:00 -> 13:30)
        (-30 * M - S, False, False, ErrorCode.ENTRY_NOT_OPEN),
        (-30 * M, False, False, None),
        (-30 * M + S, False, False, None),
        (-5 * M, False, False, None),
        # R15: first entry closes 30 minutes after the start
        (30 * M - S, False, False, None),
        (30 * M, False, False, None),
        (30 * M + S, False, False, ErrorCode.ENTRY_CLOSED),
        # ...but re-entry to an attempt already started stays open until the end
        (30 * M + S, True, False, None),
        (89 * M, True, False, None),
        (90 * M, True, False, ErrorCode.EXAM_OVER),
        (90 * M, False, False, ErrorCode.EXAM_OVER),
        # a finished attempt never re-enters
        (10 * M, True, True, ErrorCode.EXAM_OVER),
    ],
)
def test_entry_window(
    offset: timedelta, has_attempt: bool, finished: bool, expected: ErrorCode | None
) -> None:
    now = START + offset
    if expected is None:
        check_entry(WINDOW, now, has_attempt=has_attempt, finished=finished)
    else:
        with pytest.raises(RuleError) as info:
            check_entry(WINDOW, now, has_attempt=has_attempt, finished=finished)
        assert info.value.code is expected


def test_first_entry_never_closes_after_the_end() -> None:
    short = ExamWindow(START, timedelta(minutes=20))
    assert short.entry_closes_at == short.ends_at


@pytest.mark.parametrize(
    ("offset", "remaining"),
    [
        (-10 * M, 90 * M),  # before the start: the whole duration
        (0 * M, 90 * M),
        (31 * M, 59 * M),  # a late entrant gets only the time left
        (90 * M, 0 * M),
        (100 * M, 0 * M),  # never negative
    ],
)
def test_one_deadline_for_everyone(offset: timedelta, remaining: timedelta) -> None:
    assert WINDOW.remaining(START + offset) == remaining


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [(89 * M, True), (90 * M, True), (90 * M + S, True), (90 * M + 2 * S, False), (91 * M, False)],
)
def test_writes_count_until_the_deadline_plus_grace(offset: timedelta, accepted: bool) -> None:
    assert WINDOW.accepts_write(START + offset) is accepted


@pytest.mark.parametrize(
    ("offset", "open_"), [(-3 * 24 * 60 * M, True), (-S, True), (0 * M, False), (10 * M, False)]
)
def test_trial_only_before_the_exam(offset: timedelta, open_: bool) -> None:
    if open_:
        check_trial(WINDOW, START + offset)
    else:
        with pytest.raises(RuleError) as info:
            check_trial(WINDOW, START + offset)
        assert info.value.code is ErrorCode.TRIAL_UNAVAILABLE


@pytest.mark.parametrize(("top", "pass_"), [(100, 60), (50, 30), (7, 5), (0, 0), (1, 1)])
def test_default_pass_score_is_60_percent_rounded_up(top: int, pass_: int) -> None:
    assert default_pass_score(top) == pass_
