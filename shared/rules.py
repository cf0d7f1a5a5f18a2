"""Exam-day rules (R13, R15, R17) as pure functions of the exam and the server's `now`.

- Entry opens 30 minutes before the start (R13).
- First entry closes 30 minutes after the start (R15); re-entry to an attempt that was
  already started stays open until the end.
- One deadline for everyone: start + duration. A late entrant gets only the time left.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.errors import ErrorCode, RuleError

ENTRY_OPENS_BEFORE = timedelta(minutes=30)  # R13
FIRST_ENTRY_CLOSES_AFTER = timedelta(minutes=30)  # R15
WRITE_GRACE = timedelta(seconds=2)  # a write sent just before the deadline still counts
TRIAL_DURATION = timedelta(minutes=15)
DEFAULT_PASS_RATIO = 0.6


@dataclass(frozen=True, slots=True)
class ExamWindow:
    starts_at: datetime
    duration: timedelta

    @property
    def entry_opens_at(self) -> datetime:
        return self.starts_at - ENTRY_OPENS_BEFORE

    @property
    def entry_closes_at(self) -> datetime:
        """The end of first entry; never after the end of the exam."""
        return min(self.starts_at + FIRST_ENTRY_CLOSES_AFTER, self.ends_at)

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + self.duration

    def started(self, now: datetime) -> bool:
        return now >= self.starts_at

    def over(self, now: datetime) -> bool:
        return now >= self.ends_at

    def remaining(self, now: datetime) -> timedelta:
        """Time left for everyone, late entrants included; never negative."""
        if now <= self.starts_at:
            return self.duration
        return max(self.ends_at - now, timedelta(0))

    def accepts_write(self, now: datetime) -> bool:
        """Answers and events count until the deadline plus a short transit grace."""
        return now < self.ends_at + WRITE_GRACE


def check_entry(window: ExamWindow, now: datetime, *, has_attempt: bool, finished: bool) -> None:
    """Raise RuleError with the wire code when this entry to the exam is refused."""
    if finished:
        raise RuleError("this attempt is already finished", code=ErrorCode.EXAM_OVER)
    if window.over(now):
        raise RuleError("the exam has ended", code=ErrorCode.EXAM_OVER)
    if has_attempt:
        return  # re-entry to an attempt already started: open until the end (R15)
    if now < window.entry_opens_at:
        raise RuleError(
            f"entry opens 30 minutes before the start, at {window.entry_opens_at.isoformat()}",
            code=ErrorCode.ENTRY_NOT_OPEN,
        )
    if now > window.entry_closes_at:
        raise RuleError(
            f"entry closed 30 minutes after the start, at {window.entry_closes_at.isoformat()}",
            code=ErrorCode.ENTRY_CLOSED,
        )


def check_trial(window: ExamWindow, now: datetime) -> None:
    """The trial exam (R12) is open at any time before the real exam starts."""
    if window.started(now):
        raise RuleError(
            "the trial exam is available only before the exam starts",
            code=ErrorCode.TRIAL_UNAVAILABLE,
        )


def trial_window(now: datetime) -> ExamWindow:
    """A trial starts when the candidate asks for it and lasts TRIAL_DURATION."""
    return ExamWindow(starts_at=now, duration=TRIAL_DURATION)


def default_pass_score(max_score: int) -> int:
    """60% of the maximum, rounded up."""
    return math.ceil(max_score * DEFAULT_PASS_RATIO)
