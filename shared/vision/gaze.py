"""Where the eyes look: the iris centre against the eye corners, combined with the head pose.
Pure (numbers in, numbers out); the landmarks come from `mesh.py`.

For each eye, the corner-to-corner line is the eye's axis. The iris centre's offset from the
middle of that line, along it, divided by half the eye's width, is the horizontal offset `h`
(positive towards the image's right, like the head's yaw); across it (towards the image's
bottom), divided by the whole width, the vertical offset `v` (positive down, like the pitch);
each less its value for a person looking straight ahead (`REST_H`, `REST_V`).
An eyeball of radius R ≈ 12 mm turns the iris centre by R·sin θ; an eye is W ≈ 30 mm from corner
to corner, so θ = asin(h · (W/2) / R) = asin(1.25 h) horizontally and φ = asin(v · W / R) =
asin(2.5 v) vertically. Both eyes are averaged; an eye that is closed (lids nearer than 0.12 of
its width: a blink, or a look far down behind the lids) or too small to measure is left out.

The gaze direction is then head pose + eye rotation (degrees, the head pose's conventions), and
"looking away" is judged on it, measured from each candidate's calibrated neutral direction:
sideways beyond 30°, up beyond 20°, down beyond a 35° band (the keyboard and the desk right
in front of the screen are down there: a glance at them is not away).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from shared.vision.pose import HeadPose

EYE_H_GAIN = 1.25  # half an eye's width / the eyeball's radius (15 mm / 12 mm)
EYE_V_GAIN = 2.5  # an eye's width / the eyeball's radius (30 mm / 12 mm)
# Where the iris centre sits when a person looks straight at the camera, measured on the
# evaluation set's frontal portraits (obama, biden, the astronaut, …): 0.11 half-widths outwards
# of the corners' middle (the inner corner reaches further in) and 0.075 widths above the corner
# line. Subtracted so that an uncalibrated candidate starts near 0; calibration does the rest.
REST_H = 0.11
REST_V = -0.075
MIN_OPENNESS = 0.12  # lids nearer than this fraction of the eye's width: closed, not measured
MIN_EYE_PIXELS = 10.0  # an eye narrower than this (corner to corner) is not measured
SIDE_AWAY = 30.0  # degrees from the neutral direction, left or right
UP_AWAY = 20.0  # degrees above it (the top of a screen is 10-15° above its middle)
DOWN_BAND = 35.0  # degrees below it that are still the desk: keyboard, mouse, paper in front


@dataclass(frozen=True, slots=True)
class EyePoints:
    """One eye in image pixels: its corners (image-left, image-right), the middle of its upper
    and lower lids, the iris centre and radius."""

    left: tuple[float, float]
    right: tuple[float, float]
    upper: tuple[float, float]
    lower: tuple[float, float]
    iris: tuple[float, float]
    iris_radius: float
    image_right: bool = False  # the eye on the image's right (the candidate's left eye)


@dataclass(frozen=True, slots=True)
class EyeOffset:
    h: float  # iris along the eye's axis, in half eye widths (+ towards the image's right)
    v: float  # iris across it, in eye widths (+ down)
    openness: float  # lid distance / eye width
    width: float  # corner to corner, pixels

    @property
    def measurable(self) -> bool:
        return self.width >= MIN_EYE_PIXELS and self.openness >= MIN_OPENNESS


def eye_offset(eye: EyePoints) -> EyeOffset:
    left = np.asarray(eye.left, dtype=np.float64)
    right = np.asarray(eye.right, dtype=np.float64)
    axis = right - left
    width = float(np.linalg.norm(axis))
    if width < 1e-6:
        return EyeOffset(0.0, 0.0, 0.0, 0.0)
    along = axis / width
    down = np.array([-along[1], along[0]])  # the axis turned a quarter clockwise: image-down
    rel = np.asarray(eye.iris, dtype=np.float64) - (left + right) / 2
    lids = np.asarray(eye.lower, dtype=np.float64) - np.asarray(eye.upper, dtype=np.float64)
    rest_h = REST_H if eye.image_right else -REST_H
    return EyeOffset(
        h=float(rel @ along) / (width / 2) - rest_h,
        v=float(rel @ down) / width - REST_V,
        openness=abs(float(lids @ down)) / width,
        width=width,
    )


@dataclass(frozen=True, slots=True)
class Gaze:
    """Where the candidate looks (degrees): head pose plus the eyes' rotation in the head."""

    yaw: float
    pitch: float
    eye_yaw: float  # the eyes' own rotation (0, 0 when they could not be measured)
    eye_pitch: float
    eyes: int  # eyes measured (0, 1 or 2); with 0 the direction is the head's alone

    def as_dict(self) -> dict[str, Any]:
        return {
            "yaw": self.yaw,
            "pitch": self.pitch,
            "eye_yaw": self.eye_yaw,
            "eye_pitch": self.eye_pitch,
            "eyes": self.eyes,
        }


def _asin_degrees(value: float) -> float:
    return math.degrees(math.asin(max(-1.0, min(1.0, value))))


def eye_rotation(eyes: list[EyePoints]) -> tuple[float, float, int]:
    """(yaw, pitch, eyes measured) of the eyes in the head, averaged over the measurable eyes."""
    offsets = [o for o in (eye_offset(e) for e in eyes) if o.measurable]
    if not offsets:
        return 0.0, 0.0, 0
    h = sum(o.h for o in offsets) / len(offsets)
    v = sum(o.v for o in offsets) / len(offsets)
    return _asin_degrees(EYE_H_GAIN * h), _asin_degrees(EYE_V_GAIN * v), len(offsets)


def gaze_direction(pose: HeadPose, eyes: list[EyePoints]) -> Gaze:
    eye_yaw, eye_pitch, measured = eye_rotation(eyes)
    return Gaze(
        yaw=round(pose.yaw + eye_yaw, 1),
        pitch=round(pose.pitch + eye_pitch, 1),
        eye_yaw=round(eye_yaw, 1),
        eye_pitch=round(eye_pitch, 1),
        eyes=measured,
    )


def away_excess(
    dyaw: float,
    dpitch: float,
    side: float = SIDE_AWAY,
    up: float = UP_AWAY,
    down: float = DOWN_BAND,
) -> float:
    """How far beyond its limit the direction is (> 1: away), from the neutral direction:
    `dyaw` sideways, `dpitch` positive down."""
    vertical = dpitch / down if dpitch > 0 else -dpitch / up
    return max(abs(dyaw) / side, vertical)
