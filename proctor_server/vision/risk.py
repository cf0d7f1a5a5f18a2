"""A risk score per attempt, for sorting a dashboard, with the reasons behind it. Pure: a
function over the attempt's violation records.

Each kind has a weight (how much it suggests cheating when sure); each violation adds
weight × confidence × a duration factor (a condition that lasted ten minutes says more than
one that lasted thirty seconds, with diminishing returns); repeats of a kind add with
diminishing returns too. The total maps to 0–100. Low evidence quality carries no weight: a poor
camera is not cheating; it is listed as a note so that staff know the other figures are thin.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from proctor_server.store.base import ViolationRecord
from shared.vocabulary import ViolationKind

K = ViolationKind
# Every kind has its weight and its words (a test checks that none is missing).
WEIGHTS: dict[ViolationKind, float] = {
    K.IDENTITY_MISMATCH: 40.0,
    K.MULTIPLE_FACES: 30.0,
    K.VIRTUAL_CAMERA: 25.0,
    K.CAMERA_FROZEN: 25.0,
    K.VIRTUAL_MACHINE: 20.0,
    K.FACE_ABSENT: 15.0,
    K.CAMERA_BLOCKED: 12.0,
    K.EXTRA_SCREEN: 10.0,
    K.SPEAKING: 10.0,
    K.LOOKING_AWAY: 8.0,
    K.LEFT_EXAM_WINDOW: 5.0,
    K.LOW_EVIDENCE_QUALITY: 0.0,
}
LABELS: dict[ViolationKind, str] = {
    K.IDENTITY_MISMATCH: "not the registered person",
    K.MULTIPLE_FACES: "another person in view",
    K.VIRTUAL_CAMERA: "virtual camera",
    K.CAMERA_FROZEN: "camera picture frozen",
    K.VIRTUAL_MACHINE: "virtual machine",
    K.FACE_ABSENT: "candidate not in view",
    K.CAMERA_BLOCKED: "camera covered or black",
    K.EXTRA_SCREEN: "a second screen connected",
    K.SPEAKING: "talking",
    K.LOOKING_AWAY: "looking away",
    K.LEFT_EXAM_WINDOW: "left the exam screen",
    K.LOW_EVIDENCE_QUALITY: "poor camera picture (not counted)",
}
SCALE = 60.0  # a total of SCALE gives a score of 63; 2×SCALE gives 86


@dataclass(frozen=True, slots=True)
class Risk:
    score: float  # 0–100, higher is more suspicious
    reasons: list[str]  # strongest first, in words staff read at a glance
    by_kind: dict[str, float]  # the points each kind contributed


def _duration_s(v: ViolationRecord) -> float:
    if v.ended_at is None:
        return 0.0
    return max(0.0, (v.ended_at - v.server_at).total_seconds())


def _span(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs} s" if secs else f"{minutes} min"


def risk_score(violations: Sequence[ViolationRecord], now: datetime | None = None) -> Risk:
    """`now` lets a still-open violation count for the time it has lasted so far."""
    grouped: dict[ViolationKind, list[tuple[float, float]]] = {}
    for v in violations:
        seconds = _duration_s(v)
        if v.ended_at is None and now is not None:
            seconds = max(0.0, (now - v.server_at).total_seconds())
        grouped.setdefault(v.kind, []).append((max(0.0, min(1.0, v.confidence)), seconds))
    by_kind: dict[str, float] = {}
    reasons: list[tuple[float, str]] = []
    for kind, items in grouped.items():
        weight = WEIGHTS[kind]
        units = sum(c * (1.0 + math.log2(1.0 + s / 60.0)) for c, s in items)
        points = weight * (1.0 + math.log2(units)) if units >= 1.0 else weight * units
        by_kind[kind] = round(points, 2)
        total_s = sum(s for _, s in items)
        label = LABELS[kind]
        times = f"{len(items)} time" + ("s" if len(items) != 1 else "")
        lasting = f", {_span(total_s)} in all" if total_s > 0 else ""
        best = max(c for c, _ in items)
        reasons.append((points, f"{label}: {times}{lasting} (confidence up to {best:.0%})"))
    total = sum(by_kind.values())
    score = round(100.0 * (1.0 - math.exp(-total / SCALE)), 1)
    reasons.sort(key=lambda pr: (-pr[0], pr[1]))
    return Risk(score, [text for _, text in reasons], by_kind)
