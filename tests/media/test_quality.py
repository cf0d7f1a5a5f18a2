"""The live video's quality follows the uplink the environment check measured: a table, the
floor (320x240 at 15 fps, 300 kb/s) when unmeasured or slow, and the app's runtimes publish at
the quality of the last check."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import pytest

from proctor_client.check.model import CheckId, CheckReport, CheckResult, Status
from proctor_client.devices.camera_reader import CameraReader
from proctor_client.devices.fake_cameras import SyntheticCamera
from proctor_client.media.quality import FLOOR, QUALITIES, quality_for
from proctor_client.runtime.model import Mode
from proctor_client.runtime.runtime import ExamRuntime
from proctor_client.ui.app import Uplink, make_runtime_factory


@pytest.mark.parametrize(
    ("uplink", "size", "fps", "bitrate"),
    [
        (None, (320, 240), 15.0, 300_000),  # not measured: the floor
        (math.nan, (320, 240), 15.0, 300_000),
        (0.3, (320, 240), 15.0, 300_000),  # slower than the floor needs: still the floor
        (1.0, (320, 240), 15.0, 300_000),  # the 1 Mb/s line the floor is made for
        (1.99, (320, 240), 15.0, 300_000),
        (2.0, (480, 360), 15.0, 500_000),
        (2.9, (480, 360), 15.0, 500_000),
        (3.0, (640, 480), 15.0, 800_000),
        (5.0, (640, 480), 24.0, 1_200_000),
        (100.0, (640, 480), 24.0, 1_200_000),  # the top row, however fast the line
    ],
)
def test_the_quality_the_uplink_carries(
    uplink: float | None, size: tuple[int, int], fps: float, bitrate: int
) -> None:
    quality = quality_for(uplink)
    assert (quality.video.width, quality.video.height) == size
    assert quality.video.fps == fps and quality.max_bitrate == bitrate


def test_the_table_climbs_and_video_keeps_within_a_third_of_the_line() -> None:
    assert QUALITIES[0] is FLOOR and FLOOR.min_uplink_mbps == 0
    for lower, higher in itertools.pairwise(QUALITIES):
        assert lower.min_uplink_mbps < higher.min_uplink_mbps
        assert lower.max_bitrate < higher.max_bitrate
    for row in QUALITIES[1:]:
        assert row.max_bitrate <= row.min_uplink_mbps * 1e6 / 3


def _report(upload: float | None) -> CheckReport:
    status = Status.PASS if upload is not None else Status.FAIL
    return CheckReport((CheckResult(CheckId.UPLOAD, status, upload, "Mb/s", "upload"),))


def test_the_apps_runtimes_publish_at_the_quality_of_the_last_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROCTOR_CLIENT_HOME", str(tmp_path))
    camera = CameraReader(SyntheticCamera(realtime=False))
    uplink = Uplink()
    factory = make_runtime_factory(camera, uplink=uplink)

    def published() -> tuple[int, int, float, int]:
        runtime = factory("http://127.0.0.1:9", "T", Mode.TRIAL)
        assert isinstance(runtime, ExamRuntime) and runtime.publisher is not None
        sources = runtime.publisher.sources
        return sources.video.width, sources.video.height, sources.video.fps, sources.max_bitrate

    assert published() == (320, 240, 15.0, 300_000)  # no check yet: the floor
    uplink.read(_report(3.4))
    assert published() == (640, 480, 15.0, 800_000)
    uplink.read(_report(None))  # a check that could not measure keeps the last figure
    assert published() == (640, 480, 15.0, 800_000)
    uplink.read(_report(1.2))
    assert published() == (320, 240, 15.0, 300_000)
