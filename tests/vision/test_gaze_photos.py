"""Gaze on real photographs of the evaluation set (`bench/data/vision/`, sources and licences in
SOURCES.md there): eyes straight at the camera, eyes turned further than the head, a head turned
with the eyes back on the camera, an eye cut by the frame. The set has no photograph of eyes
turned down with the head level: vertical gaze is tested on synthetic landmarks only
(`test_gaze.py`)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from shared.vision.frame import FrameAnalysis, analyze_image
from tests.shared.vision import frames as F

DATA = Path(__file__).resolve().parents[2] / "bench" / "data" / "vision"


def photo(name: str, crop: tuple[int, int, int, int] | None = None) -> np.ndarray:
    image = cv2.imread(str(DATA / name), cv2.IMREAD_COLOR)
    assert image is not None, name
    if crop is not None:
        x, y, w, h = crop
        image = image[y : y + h, x : x + w]
    return np.ascontiguousarray(image)


def seen(image: np.ndarray) -> FrameAnalysis:
    frame = analyze_image(image, embed=False)
    assert frame.face_count == 1 and frame.pose is not None and frame.gaze is not None
    return frame


@pytest.mark.parametrize(
    "name",
    ["obama.jpg", "biden.jpg", "obama3.jpg", "astronaut"],
)
def test_eyes_on_the_camera_add_little_to_the_head(name: str) -> None:
    image = F.astronaut() if name == "astronaut" else photo(name)
    frame = seen(image)
    assert frame.gaze is not None and frame.gaze.eyes == 2
    assert abs(frame.gaze.eye_yaw) < 6 and abs(frame.gaze.eye_pitch) < 6


def test_eyes_turned_further_than_the_head() -> None:
    # obama2: head turned to the image's left, eyes further left (at the audience)
    frame = seen(photo("obama2.jpg"))
    assert frame.gaze is not None and frame.pose is not None
    assert frame.gaze.eye_yaw < -10
    assert frame.gaze.yaw < frame.pose.yaw - 10
    # the mirror image turns the other way
    mirrored = seen(np.ascontiguousarray(photo("obama2.jpg")[:, ::-1]))
    assert mirrored.gaze is not None and mirrored.gaze.eye_yaw > 10


def test_eyes_turned_hard_aside() -> None:
    # one of the group, looking hard to the image's left
    frame = seen(photo("t1.jpg", (797, 5, 268, 291)))
    assert frame.gaze is not None and frame.gaze.eye_yaw < -15


def test_a_turned_head_whose_eyes_come_back_to_the_camera() -> None:
    frame = seen(photo("tom_hanks_54745.jpg"))
    assert frame.gaze is not None and frame.pose is not None
    assert frame.pose.yaw > 20 and frame.gaze.eye_yaw < -8
    assert abs(frame.gaze.yaw) < abs(frame.pose.yaw) - 8


def test_an_eye_cut_by_the_frame_is_not_measured() -> None:
    frame = seen(photo("obama_partial_face2.jpg"))
    assert frame.gaze is not None and frame.gaze.eyes == 1
    assert abs(frame.gaze.eye_yaw) < 6
