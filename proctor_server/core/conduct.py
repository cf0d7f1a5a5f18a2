"""Rules of conduct (R16): which client events are violations and which earn a warning."""

from __future__ import annotations

from dataclasses import dataclass

from shared.vocabulary import LEAVING_EVENTS, EventKind, ViolationKind

# Events that are violations, and the violation each one records. Leaving the exam screen and
# connecting a second screen each cost a warning. The events that close a leave
# (`RETURNING_EVENTS`) and device signals (judged by the server from their figures,
# `ClientSignals.assess`) are recorded but are not violations themselves.
VIOLATING_EVENTS: dict[EventKind, ViolationKind] = {
    **{kind: ViolationKind.LEFT_EXAM_WINDOW for kind in LEAVING_EVENTS},
    EventKind.SCREEN_ADDED: ViolationKind.EXTRA_SCREEN,
}


@dataclass(frozen=True, slots=True)
class EventOutcome:
    violation: ViolationKind | None  # violation kind to record, if any
    warn: bool  # whether the candidate gets a warning (and one warning is used)


def classify(kind: EventKind) -> EventOutcome:
    violation = VIOLATING_EVENTS.get(kind)
    return EventOutcome(violation, warn=violation is not None)


def warning_text(kind: EventKind, used: int, limit: int | None) -> str:
    what = (
        "A second screen was connected"
        if kind is EventKind.SCREEN_ADDED
        else "You left the exam screen"
    )
    if limit is None:
        return f"{what}. This has been recorded for the proctor. Stay on the exam screen."
    left = max(limit - used, 0)
    return (
        f"{what}. This has been recorded for the proctor: warning {used} of {limit}, "
        f"{left} left. Stay on the exam screen."
    )
