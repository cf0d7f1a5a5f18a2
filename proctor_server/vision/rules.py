"""From one frame's analysis to conditions: what holds, what does not, what cannot be judged.
Pure. Poor evidence (dark, blurred, covered) never turns into a suspicion: the conditions that
need a good image are then "unknown", and only `low_evidence_quality` or `camera_blocked` hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.vision.faces import MATCH_DISTANCE, PERSON_MIN_FRACTION, face_distance
from shared.vision.frame import FrameAnalysis

YAW_AWAY = 30.0  # degrees from the candidate's neutral pose: beyond, the head is turned away
PITCH_AWAY = 25.0  # degrees up or down from neutral
MISMATCH_DISTANCE = MATCH_DISTANCE  # descriptor distance above which it is another person
SURE_MISMATCH = 0.75  # ... and at this distance the frame is as sure as it gets


@dataclass(frozen=True, slots=True)
class Neutral:
    """A candidate's calibrated neutral head pose (degrees, from the generic face model)."""

    yaw: float = 0.0
    pitch: float = 0.0


Conditions = tuple[dict[str, tuple[float, dict[str, Any]]], set[str]]


def conditions(
    frame: FrameAnalysis,
    neutral: Neutral,
    references: dict[str, list[float]],
) -> Conditions:
    """(active, unknown) for `AttemptTracker.observe`. `references` maps a name ("identity",
    "reference") to a descriptor of the registered person."""
    active: dict[str, tuple[float, dict[str, Any]]] = {}
    unknown: set[str] = set()
    quality = frame.quality
    q = quality.as_dict()

    if frame.change is not None and frame.change.frozen and not quality.black:
        active["camera_frozen"] = (0.9, {"change": frame.change.as_dict()})
    elif frame.change is None:
        unknown.add("camera_frozen")

    if quality.covered:
        confidence = 0.9 if quality.black else 0.7
        active["camera_blocked"] = (confidence, {"quality": q})
        unknown.update({"face_absent", "multiple_faces", "identity_mismatch", "looking_away"})
        return active, unknown

    counted = [f for f in frame.faces if f.counted]
    if len(counted) >= 2:
        # two confident, large detections are evidence even in a dim image
        second = counted[1]
        confidence = min(1.0, 0.6 + 0.2 * second.score)
        active["multiple_faces"] = (
            round(confidence, 3),
            {"faces": len(counted), "boxes": [list(f.box) for f in counted]},
        )
    elif not quality.ok:
        unknown.add("multiple_faces")

    if not quality.ok:
        active["low_evidence_quality"] = (1.0, {"quality": q})
        unknown.update({"face_absent", "identity_mismatch", "looking_away"})
        return active, unknown

    if not counted:
        unknown.update({"identity_mismatch", "looking_away"})
        faint = [f for f in frame.faces if f.fraction >= PERSON_MIN_FRACTION]
        if faint:
            # something face-sized is there but faint (a mask, a turned head): not "gone"
            unknown.add("face_absent")
        else:
            active["face_absent"] = (0.8, {"quality": q})
        return active, unknown

    if len(counted) >= 2:
        unknown.add("identity_mismatch")  # whose face is whose is not clear: the flag above says it
    elif frame.embedding is None:
        unknown.add("identity_mismatch")

    if len(counted) == 1 and frame.embedding is not None and references:
        distances = {
            name: round(face_distance(frame.embedding, ref), 3) for name, ref in references.items()
        }
        nearest = min(distances.values())
        if nearest > MISMATCH_DISTANCE:
            confidence = 0.5 + 0.5 * min(
                1.0, (nearest - MISMATCH_DISTANCE) / (SURE_MISMATCH - MISMATCH_DISTANCE)
            )
            active["identity_mismatch"] = (round(confidence, 3), {"distances": distances})

    if frame.pose is not None and len(counted) == 1:
        dyaw = frame.pose.yaw - neutral.yaw
        dpitch = frame.pose.pitch - neutral.pitch
        excess = max(abs(dyaw) / YAW_AWAY, abs(dpitch) / PITCH_AWAY)
        if excess > 1.0:
            confidence = min(1.0, 0.5 + (excess - 1.0))
            active["looking_away"] = (
                round(confidence, 3),
                {
                    "yaw": frame.pose.yaw,
                    "pitch": frame.pose.pitch,
                    "neutral": [neutral.yaw, neutral.pitch],
                },
            )
    else:
        unknown.add("looking_away")
    return active, unknown
