"""The per-attempt violation tracker (pure): lasting conditions become one violation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.vision.tracker import AttemptTracker, Close, Open, Rule

T0 = datetime(2026, 7, 25, 6, 0, tzinfo=UTC)
RULES = {"face_absent": Rule(min_duration_s=10, min_samples=2, max_gap_s=150)}


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def feed(tracker: AttemptTracker, frames: list[tuple[float, str]]) -> list[object]:
    """frames: (seconds, "A" active | "-" not | "?" unknown)."""
    out: list[object] = []
    for i, (seconds, state) in enumerate(frames):
        active = {"face_absent": (0.8, {"i": i})} if state == "A" else {}
        unknown = {"face_absent"} if state == "?" else set()
        out += tracker.observe(at(seconds), f"s{i}", active, unknown)
    return out


@pytest.mark.parametrize(
    "frames, kinds",
    [
        ([(0, "A")], []),  # one frame is never a flag
        ([(0, "A"), (5, "A")], []),  # two frames, but only 5 s
        ([(0, "A"), (30, "A")], ["open"]),
        ([(0, "A"), (30, "A"), (60, "A"), (90, "-")], ["open", "close"]),
        ([(0, "A"), (30, "?"), (60, "A")], ["open"]),  # unknown neither extends nor ends
        ([(0, "A"), (30, "-"), (60, "A")], []),  # interrupted: no lasting condition
        ([(0, "A"), (400, "A")], []),  # too far apart to be one span
        ([(0, "-"), (30, "-")], []),
    ],
)
def test_open_and_close(frames: list[tuple[float, str]], kinds: list[str]) -> None:
    actions = feed(AttemptTracker(RULES), frames)
    assert [("open" if isinstance(a, Open) else "close") for a in actions] == kinds


def test_a_lasting_condition_is_one_violation_with_its_span_and_evidence() -> None:
    tracker = AttemptTracker(RULES)
    frames = [(i * 30.0, "A") for i in range(30)] + [(900.0, "-")]
    actions = feed(tracker, frames)
    assert len(actions) == 2
    opened, closed = actions
    assert isinstance(opened, Open) and isinstance(closed, Close)
    assert opened.started_at == at(0) and opened.evidence["snapshots"] == ["s0", "s1"]
    assert closed.ended_at == at(29 * 30)
    assert closed.evidence["frames"] == 30
    assert closed.evidence["duration_s"] == 870.0
    snapshots = closed.evidence["snapshots"]
    assert len(snapshots) == 20 and snapshots[0] == "s0" and snapshots[-1] == "s29"
    assert closed.confidence == pytest.approx(0.8)


def test_finish_all_closes_open_violations_only() -> None:
    tracker = AttemptTracker(RULES)
    feed(tracker, [(0, "A"), (30, "A")])
    assert tracker.open_kinds() == ["face_absent"]
    closes = tracker.finish_all()
    assert [type(c) for c in closes] == [Close] and tracker.open_kinds() == []
    quiet = AttemptTracker(RULES)
    feed(quiet, [(0, "A")])
    assert quiet.finish_all() == []


def test_a_gap_closes_the_old_violation_at_its_last_frame() -> None:
    tracker = AttemptTracker(RULES)
    actions = feed(tracker, [(0, "A"), (30, "A"), (400, "A"), (430, "A")])
    kinds = [(type(a).__name__, getattr(a, "ended_at", None) or a.started_at) for a in actions]  # type: ignore[attr-defined]
    assert kinds == [("Open", at(0)), ("Close", at(30)), ("Open", at(400))]
