"""Violations that last: a pure, per-attempt tracker. Each analysed frame says which
conditions hold (with a confidence), which do not, and which cannot be judged from it (poor
evidence). A condition that holds for long enough opens ONE violation; it closes when the
condition is seen not to hold. No I/O, no clock: times come in with each observation."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

EVIDENCE_KEEP = 10  # snapshot ids kept at each end of a long violation


@dataclass(frozen=True, slots=True)
class Rule:
    min_duration_s: float  # seen from the first to the latest frame at least this long
    min_samples: int  # ... in at least this many frames
    clear_samples: int = 1  # frames without the condition that end it
    max_gap_s: float = 150.0  # frames further apart than this do not make one span


# Why these numbers: snapshots arrive every 30 s by default, so two frames in a row span 30 s.
# One frame alone never raises a flag: a candidate bending down for a pencil, a passer-by, a
# glance away are not cheating. Video frames sampled faster make the durations finer.
RULES: dict[str, Rule] = {
    "face_absent": Rule(min_duration_s=10, min_samples=2),
    "multiple_faces": Rule(min_duration_s=0, min_samples=2),
    "identity_mismatch": Rule(min_duration_s=0, min_samples=2),
    "looking_away": Rule(min_duration_s=5, min_samples=2),
    "camera_blocked": Rule(min_duration_s=10, min_samples=2),
    "camera_frozen": Rule(min_duration_s=10, min_samples=2),
    "low_evidence_quality": Rule(min_duration_s=30, min_samples=2),
}


@dataclass(frozen=True, slots=True)
class Open:
    kind: str
    started_at: datetime
    confidence: float
    evidence: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Close:
    kind: str
    ended_at: datetime
    confidence: float
    evidence: dict[str, Any]


Action = Open | Close


@dataclass(slots=True)
class _Run:
    first: datetime
    last: datetime
    samples: int = 0
    confidence_sum: float = 0.0
    head: list[str] = field(default_factory=list)
    tail: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    opened: bool = False
    misses: int = 0

    def add(self, at: datetime, snapshot: str, confidence: float, figures: dict[str, Any]) -> None:
        self.last = at
        self.samples += 1
        self.confidence_sum += confidence
        self.misses = 0
        if len(self.head) < EVIDENCE_KEEP:
            self.head.append(snapshot)
        else:
            self.tail = [*self.tail, snapshot][-EVIDENCE_KEEP:]
        self.figures = figures

    @property
    def confidence(self) -> float:
        return round(self.confidence_sum / max(1, self.samples), 3)

    def evidence(self) -> dict[str, Any]:
        return {
            "snapshots": self.head + self.tail,
            "frames": self.samples,
            "duration_s": round((self.last - self.first).total_seconds(), 1),
            "last": self.figures,
        }


class AttemptTracker:
    """The conditions of one attempt over time."""

    def __init__(self, rules: dict[str, Rule] | None = None):
        self.rules = RULES if rules is None else rules
        self._runs: dict[str, _Run] = {}

    def running(self, kind: str) -> bool:
        """The condition was seen in the latest frames (opened as a violation or not yet)."""
        return kind in self._runs

    def open_kinds(self) -> list[str]:
        return [kind for kind, run in self._runs.items() if run.opened]

    def observe(
        self,
        at: datetime,
        snapshot: str,
        active: dict[str, tuple[float, dict[str, Any]]],
        unknown: Collection[str] = (),
    ) -> list[Action]:
        """One frame: `active` maps each condition seen to (confidence, figures); conditions
        in `unknown` could not be judged; every other known condition was seen not to hold."""
        actions: list[Action] = []
        for kind, rule in self.rules.items():
            run = self._runs.get(kind)
            if run is not None and at - run.last > timedelta(seconds=rule.max_gap_s):
                actions.extend(self._finish(kind, run))
                run = None
            if kind in active:
                confidence, figures = active[kind]
                if run is None:
                    run = self._runs[kind] = _Run(first=at, last=at)
                run.add(at, snapshot, confidence, figures)
                long_enough = (run.last - run.first).total_seconds() >= rule.min_duration_s
                if not run.opened and run.samples >= rule.min_samples and long_enough:
                    run.opened = True
                    actions.append(Open(kind, run.first, run.confidence, run.evidence()))
            elif kind in unknown or run is None:
                continue
            else:
                run.misses += 1
                if run.misses >= rule.clear_samples:
                    actions.extend(self._finish(kind, run))
        return actions

    def finish_all(self) -> list[Action]:
        """The attempt's frames ended: close what is open."""
        actions: list[Action] = []
        for kind, run in list(self._runs.items()):
            actions.extend(self._finish(kind, run))
        return actions

    def _finish(self, kind: str, run: _Run) -> list[Action]:
        del self._runs[kind]
        if not run.opened:
            return []
        return [Close(kind, run.last, run.confidence, run.evidence())]
