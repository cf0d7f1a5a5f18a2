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

WEIGHTS: dict[str, float] = {
    "identity_mismatch": 40.0,
    "multiple_faces": 30.0,
    "virtual_camera": 25.0,
    "camera_frozen": 25.0,
    "virtual_machine": 20.0,
    "face_absent": 15.0,
    "camera_blocked": 12.0,
    "speaking": 10.0,
    "looking_away": 8.0,
    "focus_lost": 5.0,
    "low_evidence_quality": 0.0,
}
DEFAULT_WEIGHT = 5.0  # kinds not listed (client events, proctor flags)
LABELS: dict[str, str] = {
    "identity_mismatch": "not the registered person",
    "multiple_faces": "another person in view",
    "virtual_camera": "virtual camera",
    "camera_frozen": "camera picture frozen",
    "virtual_machine": "virtual machine",
    "face_absent": "candidate not in view",
    "camera_blocked": "camera covered or black",
    "speaking": "talking",
    "looking_away": "looking away",
    "focus_lost": "left the exam screen",
    "low_evidence_quality": "poor camera picture (not counted)",
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
    grouped: dict[str, list[tuple[float, float]]] = {}
    for v in violations:
        seconds = _duration_s(v)
        if v.ended_at is None and now is not None:
            seconds = max(0.0, (now - v.server_at).total_seconds())
        grouped.setdefault(v.kind, []).append((max(0.0, min(1.0, v.confidence)), seconds))
    by_kind: dict[str, float] = {}
    reasons: list[tuple[float, str]] = []
    for kind, items in grouped.items():
        weight = WEIGHTS.get(kind, DEFAULT_WEIGHT)
        units = sum(c * (1.0 + math.log2(1.0 + s / 60.0)) for c, s in items)
        points = weight * (1.0 + math.log2(units)) if units >= 1.0 else weight * units
        by_kind[kind] = round(points, 2)
        total_s = sum(s for _, s in items)
        label = LABELS.get(kind, kind.replace("_", " "))
        times = f"{len(items)} time" + ("s" if len(items) != 1 else "")
        lasting = f", {_span(total_s)} in all" if total_s > 0 else ""
        best = max(c for c, _ in items)
        reasons.append((points, f"{label}: {times}{lasting} (confidence up to {best:.0%})"))
    total = sum(by_kind.values())
    score = round(100.0 * (1.0 - math.exp(-total / SCALE)), 1)
    reasons.sort(key=lambda pr: (-pr[0], pr[1]))
    return Risk(score, [text for _, text in reasons], by_kind)
