"""``open_camera`` specs, the looped video file, camera names."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from proctor_client.devices import (
    BlackCamera,
    Camera,
    DeviceError,
    FrozenCamera,
    SyntheticCamera,
    VideoFileCamera,
    check_camera_spec,
    open_camera,
)
from proctor_client.devices.camera_names import (
    parse_macos_names,
    parse_v4l_names,
    parse_windows_names,
    read_v4l_entries,
    v4l_name,
)
from shared.errors import ConfigError


def write_video(path: Path, count: int = 3, size: tuple[int, int] = (64, 48)) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10, size)
    assert writer.isOpened()
    for i in range(count):
        writer.write(np.full((size[1], size[0], 3), 40 + 60 * i, np.uint8))
    writer.release()
    return path


@pytest.mark.parametrize(
    ("spec", "cls"),
    [
        ("synthetic", SyntheticCamera),
        (" Synthetic ", SyntheticCamera),
        ("frozen", FrozenCamera),
        ("BLACK", BlackCamera),
    ],
)
def test_fake_specs(spec: str, cls: type) -> None:
    camera = open_camera(spec, realtime=False)
    assert isinstance(camera, cls)
    assert isinstance(camera, Camera)


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("/no/such/video.mp4", "no such video file"),
        ("missing.avi", "no such video file"),
        ("/dev/video97", "does not exist"),
    ],
)
def test_bad_specs_are_config_errors(spec: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        check_camera_spec(spec)
    with pytest.raises(ConfigError, match=words):
        open_camera(spec)


def test_a_folder_is_not_a_video(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="folder"):
        open_camera(str(tmp_path))


def test_a_file_that_is_not_a_video(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.mp4"
    bogus.write_text("not a video")
    with pytest.raises(ConfigError, match="not a video"):
        open_camera(str(bogus))


def test_a_device_number_that_cannot_be_opened() -> None:
    with pytest.raises(ConfigError, match="cannot be opened"):
        open_camera("97")


def test_video_file_plays_in_a_loop(tmp_path: Path) -> None:
    path = write_video(tmp_path / "clip.avi", count=3)
    camera = open_camera(str(path), realtime=False)
    assert isinstance(camera, VideoFileCamera)
    assert camera.name == "Video file clip.avi"
    assert camera.fps == pytest.approx(10.0)
    levels = [round(float(camera.read().mean()) / 10) for _ in range(7)]
    assert levels[:3] == levels[3:6]  # the fourth frame is the first again
    assert len(set(levels[:3])) == 3
    assert levels[6] == levels[0]


def test_video_file_frames_are_bgr_uint8(tmp_path: Path) -> None:
    camera = VideoFileCamera(write_video(tmp_path / "clip.avi"), realtime=False)
    frame = camera.read()
    assert frame.dtype == np.uint8 and frame.shape == (48, 64, 3)


def test_a_closed_video_file_raises_device_error_and_closes_twice(tmp_path: Path) -> None:
    camera = VideoFileCamera(write_video(tmp_path / "clip.avi"), realtime=False)
    camera.close()
    camera.close()
    with pytest.raises(DeviceError, match="closed"):
        camera.read()


# ------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ({}, []),
        (
            {
                "video0": "Integrated Camera: Integrated C\n",
                "video1": "Integrated Camera: Integrated C\n",
            },
            ["Integrated Camera: Integrated C"],
        ),
        (
            {"video10": "OBS Virtual Camera\n", "video2": "HD Pro Webcam C920\n"},
            ["HD Pro Webcam C920", "OBS Virtual Camera"],
        ),
        ({"video0": "\n"}, []),
    ],
)
def test_parse_v4l_names(entries: dict[str, str], expected: list[str]) -> None:
    assert parse_v4l_names(entries) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        (
            "Integrated Webcam\r\nOBS Virtual Camera\r\n\r\n",
            ["Integrated Webcam", "OBS Virtual Camera"],
        ),
        ("  Logitech BRIO  \nLogitech BRIO\n", ["Logitech BRIO"]),
    ],
)
def test_parse_windows_names(text: str, expected: list[str]) -> None:
    assert parse_windows_names(text) == expected


MACOS_TEXT = """Camera:

    FaceTime HD Camera:

      Model ID: FaceTime HD Camera
      Unique ID: 8020000005AC8514

    OBS Virtual Camera:

      Model ID: OBS Virtual Camera
      Unique ID: 7626645E-4425-469E-9D8B-97E0FA59AC75

"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", []), (MACOS_TEXT, ["FaceTime HD Camera", "OBS Virtual Camera"]), ("Camera:\n\n", [])],
)
def test_parse_macos_names(text: str, expected: list[str]) -> None:
    assert parse_macos_names(text) == expected


def test_v4l_reader_on_a_sysfs_tree(tmp_path: Path) -> None:
    for node, name in [
        ("video0", "USB Camera\n"),
        ("video1", "USB Camera\n"),
        ("video2", "DroidCam\n"),
    ]:
        (tmp_path / node).mkdir()
        (tmp_path / node / "name").write_text(name)
    (tmp_path / "video3").mkdir()  # no name file
    entries = read_v4l_entries(tmp_path)
    assert parse_v4l_names(entries) == ["USB Camera", "DroidCam"]
    assert v4l_name(2, tmp_path) == "DroidCam"
    assert v4l_name(3, tmp_path) is None
    assert read_v4l_entries(tmp_path / "absent") == {}
