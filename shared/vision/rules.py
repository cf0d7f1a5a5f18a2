"""From one frame's analysis to conditions: what holds, what does not, what cannot be judged.
Pure. Poor evidence (dark, blurred, covered) never turns into a suspicion: the conditions that
need a good image are then "unknown", and only `low_evidence_quality` or `camera_blocked` hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from shared.vision.faces import (
    FAINT_MIN_FRACTION,
    MATCH_DISTANCE,
    Face,
    box_overlap,
    face_distance,
)
from shared.vision.frame import FrameAnalysis
from shared.vision.gaze import away_excess

# head pose alone (when the eyes cannot be measured): degrees from the candidate's neutral pose;
# with the eyes measured, gaze.SIDE_AWAY, UP_AWAY and DOWN_BAND apply to where they look
YAW_AWAY = 30.0
PITCH_AWAY = 25.0
MISMATCH_DISTANCE = MATCH_DISTANCE  # descriptor distance above which it is another person
SURE_MISMATCH = 0.75  # ... and at this distance the frame is as sure as it gets
STATIC_OVERLAP = 0.85  # a face whose box overlaps the previous frame's this much did not move...
STATIC_CHANGE = 1.0  # ... and whose 24×24 thumbnail changed by less than this (mean grey levels)
# a second face whose descriptor is this near the candidate's own in the same frame is their
# reflection: stricter than MATCH_DISTANCE, since taking another person for a reflection would
# hide them (see docs/detection.md)
REFLECTION_DISTANCE = 0.45


@dataclass(frozen=True, slots=True)
class Neutral:
    """A candidate's calibrated neutral direction (degrees, from the generic face model): where
    they look when they look at the screen (head pose plus eyes, `gaze.Gaze`; the head pose
    alone when the eyes were not measured)."""

    yaw: float = 0.0
    pitch: float = 0.0


Conditions = tuple[dict[str, tuple[float, dict[str, Any]]], set[str]]


@dataclass(frozen=True, slots=True)
class Before:
    """What the previous frame showed: its counted face boxes and its grey signature."""

    boxes: list[tuple[int, int, int, int]]
    signature: np.ndarray
    width: int

    @classmethod
    def of(cls, frame: FrameAnalysis) -> Before:
        return cls([f.box for f in frame.faces if f.counted], frame.signature, frame.width)


def _thumb(signature: np.ndarray, box: tuple[int, int, int, int], scale: float) -> np.ndarray:
    x, y, w, h = (round(v * scale) for v in box)
    height, width = signature.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(width, x + w), min(height, y + h)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return np.zeros((24, 24), np.float32)
    crop = signature[y0:y1, x0:x1]
    return cv2.resize(crop, (24, 24), interpolation=cv2.INTER_AREA).astype(np.float32)


def static_faces(frame: FrameAnalysis, before: Before | None) -> set[int]:
    """Indexes (among counted faces) of faces that neither moved nor changed since the frame
    before: a poster, a photo on the wall. A living face always changes in 30 s (breathing,
    blinking, small moves of a pixel change the thumbnail by 1.8 grey levels and more); the
    thumbnail averages sensor noise away (σ 3 noise: 0.3)."""
    if before is None or frame.change is None or frame.change.frozen:
        return set()
    if before.signature.shape != frame.signature.shape:
        return set()
    scale = frame.signature.shape[1] / frame.width
    static: set[int] = set()
    counted = [f for f in frame.faces if f.counted]
    for i, face in enumerate(counted):
        for box in before.boxes:
            if box_overlap(face.box, box) < STATIC_OVERLAP:
                continue
            # the same place in both frames: a face that moved at all changes there
            a = _thumb(before.signature, box, scale)
            b = _thumb(frame.signature, box, scale)
            if float(np.abs(a - b).mean()) < STATIC_CHANGE:
                static.add(i)
                break
    return static


def reflections(frame: FrameAnalysis) -> set[int]:
    """Indexes (among counted faces, never the first: the candidate's own) of faces that are
    the candidate's own reflection (a mirror, a window, a glass door at an angle): the same
    face as the candidate's in this frame, by their descriptors. Faces too small to be
    described (`REFLECTION_MIN_PIXELS`) cannot be told apart this way and stay counted; so do
    all when the candidate's own descriptor is missing (face under 90 px, poor picture)."""
    if frame.embedding is None:
        return set()
    own = frame.embedding
    return {
        i
        for i, descriptor in enumerate(frame.others, start=1)
        if descriptor is not None and face_distance(descriptor, own) < REFLECTION_DISTANCE
    }


def conditions(
    frame: FrameAnalysis,
    neutral: Neutral,
    references: dict[str, list[float]],
    before: Before | None = None,
) -> Conditions:
    """(active, unknown) for `AttemptTracker.observe`. `references` maps a name ("identity",
    "reference") to a descriptor of the registered person; `before` is the previous frame (to
    set pictures of faces aside: see `static_faces`)."""
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

    counted: list[Face] = [f for f in frame.faces if f.counted]
    static = static_faces(frame, before) if len(counted) >= 2 else set()
    # the largest face is the candidate's, however still they sit: never set it aside
    largest = max(range(len(counted)), key=lambda i: counted[i].fraction) if counted else -1
    static.discard(largest)
    pictures: list[list[int]] = []
    if static and len(static) < len(counted):
        pictures = [list(counted[i].box) for i in sorted(static)]
        if 0 in static:  # the descriptor and pose are the picture's, not the candidate's
            unknown.update({"identity_mismatch", "looking_away"})
    mirrored = reflections(frame) - static if len(counted) >= 2 else set()
    own_reflections = [list(counted[i].box) for i in sorted(mirrored)]
    removed = (static if pictures else set()) | mirrored
    counted = [f for i, f in enumerate(counted) if i not in removed]
    if len(counted) >= 2:
        # two confident, large detections are evidence even in a dim image
        second = counted[1]
        confidence = min(1.0, 0.5 + 0.4 * second.score)
        active["multiple_faces"] = (
            round(confidence, 3),
            {
                "faces": len(counted),
                "boxes": [list(f.box) for f in counted],
                **({"pictures": pictures} if pictures else {}),
                **({"reflections": own_reflections} if own_reflections else {}),
            },
        )
    elif not quality.ok:
        unknown.add("multiple_faces")

    if not quality.ok:
        active["low_evidence_quality"] = (1.0, {"quality": q})
        unknown.update({"face_absent", "identity_mismatch", "looking_away"})
        return active, unknown

    if not counted:
        unknown.update({"identity_mismatch", "looking_away"})
        faint = [f for f in frame.faces if f.fraction >= FAINT_MIN_FRACTION]
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

    judge_face = "identity_mismatch" not in unknown
    if judge_face and len(counted) == 1 and frame.embedding is not None and references:
        distances = {
            name: round(face_distance(frame.embedding, ref), 3) for name, ref in references.items()
        }
        nearest = min(distances.values())
        if nearest > MISMATCH_DISTANCE:
            confidence = 0.5 + 0.5 * min(
                1.0, (nearest - MISMATCH_DISTANCE) / (SURE_MISMATCH - MISMATCH_DISTANCE)
            )
            active["identity_mismatch"] = (round(confidence, 3), {"distances": distances})

    if "looking_away" not in unknown:
        if frame.pose is not None and len(counted) == 1:
            away = looking_away(frame, neutral)
            if away is not None:
                active["looking_away"] = away
        else:
            unknown.add("looking_away")
    return active, unknown


def looking_away(frame: FrameAnalysis, neutral: Neutral) -> tuple[float, dict[str, Any]] | None:
    """(confidence, figures) when the candidate looks away from the screen, else None. With the
    eyes measured (`frame.gaze`), where they look is judged: sideways beyond `SIDE_AWAY`, up
    beyond `UP_AWAY`, down beyond the desk's band `DOWN_BAND`, from the calibrated neutral
    direction. Without (eyes closed, too small, cut by the frame), the head pose alone, with the
    head's limits."""
    assert frame.pose is not None
    seen = frame.gaze
    if seen is not None and seen.eyes > 0:
        dyaw, dpitch = seen.yaw - neutral.yaw, seen.pitch - neutral.pitch
        excess = away_excess(dyaw, dpitch)
        figures: dict[str, Any] = {"gaze": seen.as_dict()}
    else:
        dyaw, dpitch = frame.pose.yaw - neutral.yaw, frame.pose.pitch - neutral.pitch
        excess = max(abs(dyaw) / YAW_AWAY, abs(dpitch) / PITCH_AWAY)
        figures = {}
    if excess <= 1.0:
        return None
    return (
        round(min(1.0, 0.5 + (excess - 1.0)), 3),
        {
            "yaw": frame.pose.yaw,
            "pitch": frame.pose.pitch,
            **figures,
            "neutral": [neutral.yaw, neutral.pitch],
        },
    )
