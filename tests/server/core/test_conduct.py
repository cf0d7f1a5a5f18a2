"""Rules of conduct (R16), table-driven: which events are violations and cost a warning."""

from __future__ import annotations

import pytest

from proctor_server.core.conduct import classify, warning_text
from shared.vocabulary import EventKind, ViolationKind

E, V = EventKind, ViolationKind


@pytest.mark.parametrize(
    ("kind", "violation"),
    [
        (E.FOCUS_LOST, V.LEFT_EXAM_WINDOW),
        (E.WINDOW_MINIMIZED, V.LEFT_EXAM_WINDOW),
        (E.APP_INACTIVE, V.LEFT_EXAM_WINDOW),
        (E.SCREEN_ADDED, V.EXTRA_SCREEN),
        (E.FOCUS_BACK, None),
        (E.WINDOW_RESTORED, None),
        (E.APP_ACTIVE, None),
        (E.SCREEN_REMOVED, None),
        (E.DEVICE_SIGNAL, None),  # judged from its figures, not a violation in itself
    ],
)
def test_classify(kind: EventKind, violation: ViolationKind | None) -> None:
    outcome = classify(kind)
    assert outcome.violation is violation
    assert outcome.warn is (violation is not None)


@pytest.mark.parametrize(
    ("kind", "ends"),
    [
        (E.FOCUS_BACK, V.LEFT_EXAM_WINDOW),
        (E.WINDOW_RESTORED, V.LEFT_EXAM_WINDOW),
        (E.APP_ACTIVE, V.LEFT_EXAM_WINDOW),
        (E.SCREEN_REMOVED, V.EXTRA_SCREEN),
        (E.FOCUS_LOST, None),
        (E.SCREEN_ADDED, None),
        (E.DEVICE_SIGNAL, None),
    ],
)
def test_the_events_that_end_a_lasting_violation(
    kind: EventKind, ends: ViolationKind | None
) -> None:
    outcome = classify(kind)
    assert outcome.ends is ends
    assert not (outcome.warn and outcome.ends)  # an ending never costs a warning


def test_every_event_kind_is_classified() -> None:
    for kind in EventKind:
        classify(kind)  # no KeyError: the table and the vocabulary agree


@pytest.mark.parametrize(
    ("kind", "used", "limit", "expected"),
    [
        (
            E.FOCUS_LOST,
            1,
            3,
            "You left the exam screen. This has been recorded for the proctor: "
            "warning 1 of 3, 2 left. Stay on the exam screen.",
        ),
        (
            E.SCREEN_ADDED,
            3,
            3,
            "A second screen was connected. This has been recorded for the "
            "proctor: warning 3 of 3, 0 left. Stay on the exam screen.",
        ),
        (
            E.APP_INACTIVE,
            0,
            None,
            "You left the exam screen. This has been recorded for the "
            "proctor. Stay on the exam screen.",
        ),
    ],
)
def test_warning_text(kind: EventKind, used: int, limit: int | None, expected: str) -> None:
    assert warning_text(kind, used, limit) == expected
