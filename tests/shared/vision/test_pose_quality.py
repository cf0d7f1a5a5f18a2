"""Head pose, image quality, frozen feeds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from shared.vision.frame import analyze_image, decode_image
from shared.vision.models import FaceModels
from shared.vision.pose import LANDMARK_INDEX, MODEL_POINTS, head_pose
from shared.vision.quality import (
    DEFAULT_THRESHOLDS,
    QualityThresholds,
    frame_change,
    measure_quality,
    signature,
)
from tests.shared.vision import frames as F


def _project(yaw: float, pitch: float) -> np.ndarray:
    """68 landmarks (only the six used filled in) of the generic face turned by yaw, pitch."""
    y, p = math.radians(yaw), math.radians(pitch)
    ry = np.array([[math.cos(y), 0, -math.sin(y)], [0, 1, 0], [math.sin(y), 0, math.cos(y)]])
    rx = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
    rotation = rx @ ry @ np.diag([1.0, -1.0, -1.0])
    points = (rotation @ MODEL_POINTS.T).T + np.array([0.0, 0.0, 600.0])
    uv = points[:, :2] / points[:, 2:3] * 640 + np.array([320.0, 240.0])
    full = np.zeros((68, 2))
    for i, k in enumerate(LANDMARK_INDEX):
        full[k] = uv[i]
    return full


@pytest.mark.parametrize(
    "yaw, pitch", [(0, 0), (20, 0), (-20, 0), (0, 15), (0, -15), (35, 0), (-25, 10)]
)
def test_head_pose_recovers_known_angles(yaw: float, pitch: float) -> None:
    pose = head_pose(_project(yaw, pitch), 640, 480)
    assert pose is not None
    assert pose.yaw == pytest.approx(yaw, abs=2.0)
    assert pose.pitch == pytest.approx(pitch, abs=2.5)


def test_mirror_image_mirrors_yaw(models: FaceModels) -> None:
    a = analyze_image(F.candidate(), models, embed=False).pose
    b = analyze_image(F.candidate(flip=True), models, embed=False).pose
    assert a is not None and b is not None
    # the face mesh's points (the pose's source) are mirror-consistent within a few degrees
    assert a.yaw == pytest.approx(-b.yaw, abs=5.0)
    assert a.pitch == pytest.approx(b.pitch, abs=4.0)


@pytest.mark.parametrize(
    "name, make, reasons",
    [
        ("clean", lambda: F.candidate(), []),
        ("slightly dim", lambda: F.darken(F.candidate(), 0.5), []),
        ("dark", lambda: F.darken(F.candidate(), 0.15), ["dark"]),
        ("slightly soft", lambda: F.blur(F.candidate(), 1.0), []),
        ("blurred", lambda: F.blur(F.candidate(), 3.0), ["blurred"]),
        ("blurred, noisy camera", lambda: F.noisy(F.blur(F.candidate(), 3.0), 3.0), ["blurred"]),
        ("sharp, noisy camera", lambda: F.noisy(F.candidate(), 3.0), []),
        ("covered lens", lambda: F.cover(F.candidate()), ["covered"]),
        ("black frame", lambda: F.black(F.candidate()), ["black"]),
    ],
)
def test_quality(models: FaceModels, name: str, make: object, reasons: list[str]) -> None:
    assert callable(make)
    quality = analyze_image(make(), models, embed=False).quality
    assert quality.reasons == reasons, (name, quality.as_dict())
    assert quality.ok is (not reasons)


def test_calibration_relaxes_limits_for_a_dim_soft_camera() -> None:
    gray = F.darken(F.candidate(), 0.25)[:, :, 1]
    assert measure_quality(gray).reasons == ["dark"]
    calibrated = DEFAULT_THRESHOLDS.calibrated(brightness=30.0, sharpness=1.0)
    assert calibrated.dark == 20.0 and calibrated.sharpness == 1.0
    assert measure_quality(gray, thresholds=calibrated).ok
    assert DEFAULT_THRESHOLDS.calibrated(brightness=200.0, sharpness=40.0) == DEFAULT_THRESHOLDS


def test_live_camera_frames_are_not_frozen_but_repeats_are() -> None:
    rng = np.random.default_rng(1)
    scene = F.candidate()
    first = decode_image(F.camera(scene, rng, sigma=0.8))
    second = decode_image(F.camera(scene, rng, sigma=0.8))
    assert first is not None and second is not None
    a, b = signature(first[:, :, 1]), signature(second[:, :, 1])
    live = frame_change(a, b)
    assert live is not None and not live.frozen
    repeat = frame_change(a, a.copy())
    assert repeat is not None and repeat.frozen
    reencoded = decode_image(F.jpeg(first))
    assert reencoded is not None
    again = frame_change(a, signature(reencoded[:, :, 1]))
    assert again is not None and again.frozen
    assert frame_change(a, a[:100]) is None  # different sizes cannot be compared


def test_analysis_reports_freezing_against_the_previous_frame(models: FaceModels) -> None:
    image = F.candidate()
    first = analyze_image(image, models, embed=False)
    second = analyze_image(image, models, embed=False, previous=first.signature)
    assert first.change is None
    assert second.change is not None and second.change.frozen


def _percentile_99(gray: np.ndarray) -> float:
    """The 99th-percentile grey level, the way the black test used to compute it."""
    counts = np.cumsum(np.bincount(gray.ravel(), minlength=256))
    return float(np.searchsorted(counts, 0.99 * counts[-1]))


@pytest.mark.parametrize(
    ("dark_level", "bright_rows", "black"),
    [
        (0, 0, 8.0),  # all black
        (7, 0, 8.0),  # at most level 7 everywhere: below 8
        (8, 0, 8.0),  # level 8 appears: may reach the percentile
        (7, 4, 8.0),  # 1 % of bright rows (4 of 480 rows is 0.8 %): still black
        (7, 6, 8.0),  # 1.25 % bright: not black
        (3, 0, 3.5),  # fractional limits
        (4, 0, 3.5),
        (30, 0, 40.0),
    ],
)
def test_black_is_the_99th_percentile_below_the_limit(
    dark_level: int, bright_rows: int, black: float
) -> None:
    rng = np.random.default_rng(dark_level)
    gray = rng.integers(0, dark_level + 1, (480, 640)).astype(np.uint8)
    gray[:bright_rows] = 200
    expected = _percentile_99(gray) < black
    assert measure_quality(gray, None, QualityThresholds(black=black)).black is expected
