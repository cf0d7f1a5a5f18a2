"""Gaze from iris landmarks (`shared.vision.gaze`) and the looking-away rule built on it:
synthetic landmark sets, table-driven."""

from __future__ import annotations

import math
from dataclasses import replace
from functools import cache

import pytest

from proctor_server.vision.calibration import TrialSamples, direction, from_frame
from shared.vision.frame import FrameAnalysis, analyze_image
from shared.vision.gaze import (
    DOWN_BAND,
    REST_H,
    REST_V,
    SIDE_AWAY,
    UP_AWAY,
    EyePoints,
    Gaze,
    away_excess,
    eye_offset,
    eye_rotation,
    gaze_direction,
)
from shared.vision.pose import HeadPose
from shared.vision.rules import Neutral, looking_away
from tests.shared.vision import frames as F


def eye(
    h: float,
    v: float,
    *,
    width: float = 30.0,
    roll: float = 0.0,
    openness: float = 0.3,
    image_right: bool = False,
    at: tuple[float, float] = (100.0, 100.0),
) -> EyePoints:
    """An eye of `width` pixels turned by `roll` degrees whose iris sits where offsets (h, v)
    put it, as the iris model would report it."""
    a = math.radians(roll)
    along, down = (math.cos(a), math.sin(a)), (-math.sin(a), math.cos(a))

    def point(u: float, w: float) -> tuple[float, float]:
        return (at[0] + u * along[0] + w * down[0], at[1] + u * along[1] + w * down[1])

    rest_h = REST_H if image_right else -REST_H
    return EyePoints(
        left=point(-width / 2, 0),
        right=point(width / 2, 0),
        upper=point(0, -openness * width / 2),
        lower=point(0, openness * width / 2),
        iris=point((h + rest_h) * width / 2, (v + REST_V) * width),
        iris_radius=width / 5,
        image_right=image_right,
    )


@pytest.mark.parametrize(
    "h, v, roll, image_right",
    [
        (0.0, 0.0, 0.0, False),
        (0.0, 0.0, 0.0, True),
        (0.4, 0.0, 0.0, False),
        (-0.4, 0.1, 0.0, True),
        (0.3, -0.1, 20.0, False),  # a tilted head: offsets are along and across the eye's axis
        (-0.2, 0.15, -35.0, True),
    ],
)
def test_eye_offsets_are_measured_along_and_across_the_eye(
    h: float, v: float, roll: float, image_right: bool
) -> None:
    offset = eye_offset(eye(h, v, roll=roll, image_right=image_right))
    assert offset.h == pytest.approx(h, abs=1e-9)
    assert offset.v == pytest.approx(v, abs=1e-9)
    assert offset.openness == pytest.approx(0.3)
    assert offset.measurable


@pytest.mark.parametrize(
    "case, points, measurable",
    [
        ("open, 30 px", eye(0, 0), True),
        ("too small to measure", eye(0, 0, width=8), False),
        ("closed (a blink)", eye(0, 0, openness=0.08), False),
        ("nearly closed but open", eye(0, 0, openness=0.15), True),
        ("corners on one point", replace(eye(0, 0), right=eye(0, 0).left), False),
    ],
)
def test_which_eyes_can_be_measured(case: str, points: EyePoints, measurable: bool) -> None:
    assert eye_offset(points).measurable is measurable, case


@pytest.mark.parametrize(
    "case, eyes, expected",
    [
        ("both straight", [eye(0, 0), eye(0, 0, image_right=True)], (0.0, 0.0, 2)),
        # asin(1.25 · 0.4) = 30°, asin(2.5 · 0.2) = 30°
        ("both right and down", [eye(0.4, 0.2), eye(0.4, 0.2, image_right=True)], (30, 30, 2)),
        ("averaged", [eye(0.2, 0), eye(0.6, 0, image_right=True)], (30, 0, 2)),
        ("a closed eye is left out", [eye(0.4, 0), eye(-0.8, 0, openness=0.05)], (30, 0, 1)),
        ("none measurable", [eye(0.4, 0, width=5)], (0, 0, 0)),
        ("no eyes", [], (0, 0, 0)),
        ("beyond the eye's edge: clipped at 90°", [eye(1.2, 0)], (90, 0, 1)),
    ],
)
def test_eye_rotation(case: str, eyes: list[EyePoints], expected: tuple[float, float, int]) -> None:
    yaw, pitch, count = eye_rotation(eyes)
    assert (round(yaw, 6), round(pitch, 6), count) == pytest.approx(expected), case


@pytest.mark.parametrize(
    "case, pose, eyes, expected",
    [
        ("head and eyes straight", HeadPose(0, 0, 0), [eye(0, 0)], (0, 0)),
        ("head turned, eyes back at the screen", HeadPose(30, 0, 0), [eye(-0.4, 0)], (0, 0)),
        ("head straight, eyes right", HeadPose(0, 0, 0), [eye(0.4, 0)], (30, 0)),
        ("head down a little, eyes further", HeadPose(0, 10, 0), [eye(0, 0.2)], (0, 40)),
        (
            "eyes closed: the head's direction",
            HeadPose(12, -5, 0),
            [eye(0.4, 0, openness=0)],
            (12, -5),
        ),
    ],
)
def test_gaze_is_head_pose_plus_eyes(
    case: str, pose: HeadPose, eyes: list[EyePoints], expected: tuple[float, float]
) -> None:
    seen = gaze_direction(pose, eyes)
    assert (seen.yaw, seen.pitch) == pytest.approx(expected, abs=0.11), case


@pytest.mark.parametrize(
    "case, dyaw, dpitch, away",
    [
        ("at the screen", 0, 0, False),
        ("the screen's edge", SIDE_AWAY - 5, 0, False),
        ("beside the screen", SIDE_AWAY + 5, 0, True),
        ("beside it, the other side", -(SIDE_AWAY + 5), 0, True),
        ("the keyboard", 0, DOWN_BAND - 5, False),
        ("the lap, below the desk", 0, DOWN_BAND + 10, True),
        ("the screen's top", 0, -(UP_AWAY - 5), False),
        ("above the screen", 0, -(UP_AWAY + 5), True),
        ("down and a little aside", 20, 30, False),
    ],
)
def test_away_limits(case: str, dyaw: float, dpitch: float, away: bool) -> None:
    assert (away_excess(dyaw, dpitch) > 1.0) is away, case


@cache
def _face_frame() -> FrameAnalysis:
    frame = analyze_image(F.candidate(320, (320, 250)), embed=False)
    assert frame.face_count == 1 and frame.pose is not None
    return frame


def _frame(pose: HeadPose, seen: Gaze | None) -> FrameAnalysis:
    return replace(_face_frame(), pose=pose, gaze=seen)


def _gaze(head: HeadPose, eye_yaw: float, eye_pitch: float, eyes: int = 2) -> Gaze:
    return Gaze(head.yaw + eye_yaw, head.pitch + eye_pitch, eye_yaw, eye_pitch, eyes)


HEAD_DOWN = HeadPose(0, 28, 0)
HEAD_TURNED = HeadPose(35, 0, 0)
STRAIGHT = HeadPose(0, 0, 0)


@pytest.mark.parametrize(
    "case, pose, seen, neutral, away",
    [
        ("looking at the screen", STRAIGHT, _gaze(STRAIGHT, 0, 0), Neutral(), False),
        # the head alone would say away (28° > 25°); the eyes are on the keyboard, in the band
        ("head bent to the keyboard", HEAD_DOWN, _gaze(HEAD_DOWN, 0, 4), Neutral(), False),
        ("head bent, eyes to the lap", HEAD_DOWN, _gaze(HEAD_DOWN, 0, 15), Neutral(), True),
        # the head alone would not (0°); the eyes look well aside
        ("eyes aside, head still", STRAIGHT, _gaze(STRAIGHT, 35, 0), Neutral(), True),
        # the head alone would say away (35° > 30°); the eyes come back to the screen
        (
            "head turned, eyes on the screen",
            HEAD_TURNED,
            _gaze(HEAD_TURNED, -20, 0),
            Neutral(),
            False,
        ),
        (
            "eyes closed: the head decides",
            HEAD_TURNED,
            _gaze(HEAD_TURNED, 0, 0, 0),
            Neutral(),
            True,
        ),
        ("no eyes at all: the head decides", STRAIGHT, None, Neutral(), False),
        # a camera beside the screen: the candidate's neutral direction is 25° aside
        ("camera beside the screen", STRAIGHT, _gaze(STRAIGHT, 28, 0), Neutral(25, 0), False),
        ("…and looking the other way", STRAIGHT, _gaze(STRAIGHT, -12, 0), Neutral(25, 0), True),
        # eyes that rest low: the neutral is 15° down, the keyboard band starts from there
        ("low neutral, keyboard", STRAIGHT, _gaze(STRAIGHT, 0, 45), Neutral(0, 15), False),
        ("low neutral, looking up", STRAIGHT, _gaze(STRAIGHT, 0, -10), Neutral(0, 15), True),
    ],
)
def test_looking_away_is_judged_where_the_eyes_look(
    case: str, pose: HeadPose, seen: Gaze | None, neutral: Neutral, away: bool
) -> None:
    result = looking_away(_frame(pose, seen), neutral)
    assert (result is not None) is away, case
    if result is not None and seen is not None and seen.eyes:
        confidence, figures = result
        assert 0.5 <= confidence <= 1.0 and figures["gaze"] == seen.as_dict()


@pytest.mark.parametrize(
    "case, pose, seen, expected",
    [
        ("eyes measured: the gaze", HeadPose(10, 5, 0), _gaze(HeadPose(10, 5, 0), -4, 6), (6, 11)),
        (
            "eyes not measured: the head",
            HeadPose(10, 5, 0),
            _gaze(HeadPose(10, 5, 0), 0, 0, 0),
            (10, 5),
        ),
        ("no gaze: the head", HeadPose(-3, 2, 0), None, (-3, 2)),
    ],
)
def test_calibration_takes_the_direction_of_gaze(
    case: str, pose: HeadPose, seen: Gaze | None, expected: tuple[float, float]
) -> None:
    frame = _frame(pose, seen)
    assert direction(frame) == pytest.approx(expected), case
    cal = from_frame(frame, "identity")
    assert (cal.yaw, cal.pitch) == pytest.approx(expected)
    samples = TrialSamples()
    for _ in range(3):
        samples.add(frame)
    trial = samples.calibration()
    assert trial is not None and trial.neutral == Neutral(*expected)
