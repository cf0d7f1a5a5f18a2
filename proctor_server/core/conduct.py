"""Rules of conduct (R16): which client events are violations and which earn a warning."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from proctor_server.core.records import ViolationRecord
from shared import proctor_protocol as pp
from shared.timeutil import to_wire
from shared.vocabulary import LEAVING_EVENTS, RETURNING_EVENTS, EventKind, ViolationKind

# Events that are violations, and the violation each one records. Leaving the exam screen and
# connecting a second screen each cost a warning. Device signals (judged by the server from
# their figures, `ClientSignals.assess`) are recorded but are not violations themselves.
VIOLATING_EVENTS: dict[EventKind, ViolationKind] = {
    **{kind: ViolationKind.LEFT_EXAM_WINDOW for kind in LEAVING_EVENTS},
    EventKind.SCREEN_ADDED: ViolationKind.EXTRA_SCREEN,
}

# Events that end a lasting violation the client raised: coming back to the exam screen ends the
# leave (its duration is the leave's own), removing the second screen ends that one. An attempt's
# end closes whatever is still open.
ENDING_EVENTS: dict[EventKind, ViolationKind] = {
    **{kind: ViolationKind.LEFT_EXAM_WINDOW for kind in RETURNING_EVENTS},
    EventKind.SCREEN_REMOVED: ViolationKind.EXTRA_SCREEN,
}


@dataclass(frozen=True, slots=True)
class EventOutcome:
    violation: ViolationKind | None  # violation kind to record, if any
    warn: bool  # whether the candidate gets a warning (and one warning is used)
    ends: ViolationKind | None = None  # the client-raised violation this event ends, if open


def classify(kind: EventKind) -> EventOutcome:
    violation = VIOLATING_EVENTS.get(kind)
    return EventOutcome(violation, warn=violation is not None, ends=ENDING_EVENTS.get(kind))


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


def violation_ended(
    exam: str, at: str, candidate: str, v: ViolationRecord, ended: datetime
) -> pp.ViolationEnded:
    """The proctors' word that violation `v` ended at `ended`, with its duration."""
    return pp.ViolationEnded(
        exam=exam,
        at=at,
        attempt=v.attempt_id,
        candidate=candidate,
        violation=v.id,
        kind=v.kind,
        source=v.source,
        started_at=to_wire(v.server_at),
        ended_at=to_wire(ended),
        duration_s=round((ended - v.server_at).total_seconds(), 3),
    )
