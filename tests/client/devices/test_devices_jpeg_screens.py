"""Snapshot JPEG encoding and the screens fake."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from proctor_client.devices import (
    FixedScreens,
    ScreenGeometry,
    Screens,
    SyntheticCamera,
    encode_jpeg,
)
from shared.errors import ConfigError


def decode(data: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((1280, 720), (640, 360)),
        ((1920, 1080), (640, 360)),
        ((640, 480), (640, 480)),
        ((320, 240), (320, 240)),
        ((480, 960), (240, 480)),
    ],
)
def test_snapshot_fits_640_by_480_keeping_the_aspect(
    size: tuple[int, int], expected: tuple[int, int]
) -> None:
    frame = SyntheticCamera(size=size, realtime=False).read()
    data = encode_jpeg(frame)
    assert data[:2] == b"\xff\xd8"
    image = decode(data)
    assert (image.shape[1], image.shape[0]) == expected


def test_quality_trades_size() -> None:
    frame = SyntheticCamera(realtime=False).read()
    assert (
        len(encode_jpeg(frame, quality=30))
        < len(encode_jpeg(frame))
        < len(encode_jpeg(frame, quality=95))
    )


def test_a_snapshot_looks_like_its_frame() -> None:
    frame = SyntheticCamera(realtime=False).read()
    image = decode(encode_jpeg(frame))
    assert float(cv2.absdiff(image, frame).mean()) < 6


@pytest.mark.parametrize(
    "frame",
    [np.zeros((0, 0, 3), np.uint8), np.zeros((10, 10, 3), np.float32)],
)
def test_bad_frames_are_refused(frame: np.ndarray) -> None:
    with pytest.raises(ValueError):
        encode_jpeg(frame)


def test_fixed_screens() -> None:
    two = FixedScreens.count(2)
    assert isinstance(two, Screens)
    assert two.geometries() == [
        ScreenGeometry(0, 0, 1920, 1080, "Screen 1"),
        ScreenGeometry(1920, 0, 1920, 1080, "Screen 2"),
    ]
    assert FixedScreens.count(0).geometries() == []
    custom = FixedScreens([ScreenGeometry(0, 0, 1366, 768)])
    assert custom.geometries()[0].width == 1366


def test_a_negative_screen_count_is_refused() -> None:
    with pytest.raises(ConfigError):
        FixedScreens.count(-1)
