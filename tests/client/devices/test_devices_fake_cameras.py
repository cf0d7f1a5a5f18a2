"""The shipped fake cameras produce what they claim."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

from proctor_client.check.evaluate import BLACK_BRIGHTNESS, FROZEN_CHANGE
from proctor_client.check.measure import brightness, change
from proctor_client.devices import (
    BlackCamera,
    Camera,
    FrozenCamera,
    SyntheticCamera,
)
from proctor_client.devices.fake_cameras import Pacer, draw_scene


def _skin_centroid(frame: np.ndarray) -> tuple[float, float]:
    b, g, r = (frame[..., i].astype(int) for i in range(3))
    mask = (abs(b - 125) < 20) & (abs(g - 160) < 20) & (abs(r - 205) < 20)
    ys, xs = np.nonzero(mask)
    assert xs.size > 1000, "the face oval is missing"
    return float(xs.mean()), float(ys.mean())


@pytest.mark.parametrize("size", [(640, 480), (320, 240), (1280, 720)])
def test_synthetic_frames_are_bgr_uint8_of_the_asked_size(size: tuple[int, int]) -> None:
    camera = SyntheticCamera(size=size, realtime=False)
    frame = camera.read()
    assert frame.dtype == np.uint8
    assert frame.shape == (size[1], size[0], 3)


def test_synthetic_is_neither_black_nor_frozen_and_the_face_moves() -> None:
    camera = SyntheticCamera(realtime=False, stamp=None)
    frames = [camera.read() for _ in range(30)]
    assert min(brightness(f) for f in frames) > BLACK_BRIGHTNESS * 3
    assert min(change(a, b) for a, b in itertools.pairwise(frames)) > FROZEN_CHANGE * 2
    first, last = _skin_centroid(frames[0]), _skin_centroid(frames[-1])
    assert abs(first[0] - last[0]) + abs(first[1] - last[1]) > 3  # the face drifted


def test_synthetic_face_is_near_the_centre_with_two_dark_pupils() -> None:
    frame = draw_scene(1)  # no noise; frame 0 is a blink
    cx, cy = _skin_centroid(frame)
    assert 260 < cx < 380 and 180 < cy < 300
    eyes = frame[int(cy) - 60 : int(cy), int(cx) - 80 : int(cx) + 80]
    dark = eyes.max(axis=2) < 70
    left, right = dark[:, :80].sum(), dark[:, 80:].sum()
    assert left > 20 and right > 20  # a pupil on each side


def test_synthetic_prints_a_timestamp() -> None:
    plain = SyntheticCamera(realtime=False, stamp=None, seed=3).read()
    stamped = SyntheticCamera(realtime=False, stamp=lambda: "2026-11-26 12:00:00", seed=3).read()
    differs = np.any(plain != stamped, axis=2)
    rows = np.nonzero(differs.any(axis=1))[0]
    assert rows.size and rows.min() > 480 - 40  # only the bottom strip differs


def test_synthetic_is_reproducible_by_seed() -> None:
    a = SyntheticCamera(realtime=False, stamp=None, seed=7)
    b = SyntheticCamera(realtime=False, stamp=None, seed=7)
    c = SyntheticCamera(realtime=False, stamp=None, seed=8)
    fa, fb, fc = a.read(), b.read(), c.read()
    assert np.array_equal(fa, fb)
    assert not np.array_equal(fa, fc)


def test_frozen_camera_repeats_one_picture_that_is_not_black() -> None:
    camera = FrozenCamera(realtime=False)
    frames = [camera.read() for _ in range(5)]
    assert all(np.array_equal(frames[0], f) for f in frames)
    assert change(frames[0], frames[1]) < FROZEN_CHANGE
    assert brightness(frames[0]) > BLACK_BRIGHTNESS


def test_frozen_camera_hands_out_copies() -> None:
    camera = FrozenCamera(realtime=False)
    first = camera.read()
    first[:] = 0
    assert brightness(camera.read()) > BLACK_BRIGHTNESS


def test_black_camera_is_black_but_noisy() -> None:
    camera = BlackCamera(realtime=False)
    a, b = camera.read(), camera.read()
    assert brightness(a) < BLACK_BRIGHTNESS / 4
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("cls", [SyntheticCamera, FrozenCamera, BlackCamera])
def test_fakes_satisfy_the_camera_interface_and_close_twice(
    cls: type[SyntheticCamera | FrozenCamera | BlackCamera],
) -> None:
    camera = cls(realtime=False)
    assert isinstance(camera, Camera)
    assert camera.name
    camera.close()
    camera.close()
    assert camera.closed


def test_pacer_spaces_reads_at_the_rate() -> None:
    pacer = Pacer(50.0)
    started = time.monotonic()
    for _ in range(6):
        pacer.wait()
    assert time.monotonic() - started >= 5 / 50 - 0.005  # the first read is immediate


def test_pacer_without_realtime_does_not_wait() -> None:
    pacer = Pacer(0.5, realtime=False)
    started = time.monotonic()
    for _ in range(3):
        pacer.wait()
    assert time.monotonic() - started < 1.0


def test_pacer_refuses_a_zero_rate() -> None:
    with pytest.raises(ValueError):
        Pacer(0)


def test_a_real_face_detector_finds_one_face_in_the_synthetic_scene() -> None:
    dlib = pytest.importorskip("dlib")
    import cv2

    detector = dlib.get_frontal_face_detector()
    camera = SyntheticCamera(realtime=False)
    lefts = []
    for index in range(40):
        frame = camera.read()
        if index % 8:
            continue
        faces = detector(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), 0)
        assert len(faces) == 1, f"frame {index}: {len(faces)} faces"
        face = faces[0]
        assert 150 < (face.left() + face.right()) / 2 < 490
        lefts.append(face.left())
    assert len(set(lefts)) > 1  # the face moves
