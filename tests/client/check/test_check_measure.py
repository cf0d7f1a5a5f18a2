"""Pure measurements over frames and samples."""

from __future__ import annotations

import numpy as np
import pytest

from proctor_client.check.evaluate import DBFS_FLOOR, evaluate_camera
from proctor_client.check.measure import FrameTally, brightness, change, loudest_window_dbfs
from proctor_client.check.model import Status
from proctor_client.devices import BlackCamera, FrozenCamera, SyntheticCamera


def test_brightness_and_change() -> None:
    black = np.zeros((4, 4, 3), np.uint8)
    grey = np.full((4, 4, 3), 100, np.uint8)
    assert brightness(black) == 0 and brightness(grey) == pytest.approx(100, abs=1)
    assert change(black, black) == 0
    assert change(black, grey) == pytest.approx(100, abs=1)
    assert change(black, np.zeros((2, 2, 3), np.uint8)) == 255.0  # the size changed


def test_tally_frame_rate_counts_intervals() -> None:
    tally = FrameTally()
    frame = np.full((480, 640, 3), 90, np.uint8)
    for i in range(11):
        tally.add(frame, 10.0 + i * 0.1)
    assert tally.fps == pytest.approx(10.0)
    assert (tally.width, tally.height, tally.frames) == (640, 480, 11)


def test_tally_of_one_frame_has_no_rate() -> None:
    tally = FrameTally()
    tally.add(np.zeros((2, 2, 3), np.uint8), 1.0)
    assert tally.fps == 0.0


@pytest.mark.parametrize(
    ("camera", "status", "key"),
    [
        (SyntheticCamera(realtime=False), Status.PASS, ""),
        (FrozenCamera(realtime=False), Status.FAIL, "camera_frozen"),
        (BlackCamera(realtime=False), Status.FAIL, "camera_black"),
    ],
)
def test_fakes_through_the_tally_and_the_evaluation(
    camera: object, status: Status, key: str
) -> None:
    tally = FrameTally()
    for i in range(20):
        tally.add(camera.read(), i / 15)  # type: ignore[attr-defined]
    result = evaluate_camera(tally.figures())
    assert (result.status, result.advice_key) == (status, key)


def test_loudest_window() -> None:
    rate = 16000
    quiet = np.zeros(rate, np.int16)
    assert loudest_window_dbfs(quiet, rate) == DBFS_FLOOR
    loud = quiet.copy()
    loud[8000:9600] = 16384  # one 100 ms window at half scale: -6 dBFS
    assert loudest_window_dbfs(loud, rate) == pytest.approx(-6.02, abs=0.05)
    assert loudest_window_dbfs(np.zeros(0, np.int16), rate) == DBFS_FLOOR
    short = np.full(100, 3277, np.int16)  # shorter than a window: its own level
    assert loudest_window_dbfs(short, rate) == pytest.approx(-20.0, abs=0.05)
