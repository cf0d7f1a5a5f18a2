"""Rules of conduct (R16): which client events are violations and which earn a warning."""

from __future__ import annotations

from dataclasses import dataclass

# Events that mean the candidate left the exam screen: each one is a violation and a warning.
LEAVING_EVENTS: dict[str, str] = {
    "focus_lost": "left_exam_window",
    "window_minimized": "left_exam_window",
    "window_hidden": "left_exam_window",
    "app_inactive": "left_exam_window",
    "screen_added": "extra_screen",
}
# Events that close a leave (recorded, not violations).
RETURN_EVENTS = frozenset(
    {"focus_back", "window_restored", "window_shown", "app_active", "screen_removed"}
)
# Device findings the client reports (cameras, virtual machine probes): the server judges
# the raw figures itself (`ClientSignals.assess`); the client's own verdict is not a violation.
DEVICE_SIGNAL = "device_signal"


@dataclass(frozen=True, slots=True)
class EventOutcome:
    violation: str | None  # violation kind to record, if any
    warn: bool  # whether the candidate gets a warning (and one warning is used)


def classify(kind: str) -> EventOutcome:
    if kind in LEAVING_EVENTS:
        return EventOutcome(LEAVING_EVENTS[kind], warn=True)
    return EventOutcome(None, warn=False)


def warning_text(kind: str, used: int, limit: int | None) -> str:
    what = "A second screen was connected" if kind == "screen_added" else "You left the exam screen"
    if limit is None:
        return f"{what}. This has been recorded for the proctor. Stay on the exam screen."
    left = max(limit - used, 0)
    return (
        f"{what}. This has been recorded for the proctor: warning {used} of {limit}, "
        f"{left} left. Stay on the exam screen."
    )
