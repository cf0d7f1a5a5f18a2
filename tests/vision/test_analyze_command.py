"""`proctor-server analyze IMAGE [--reference IMAGE] [--json]`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from proctor_server.cli import main
from tests.shared.vision import frames as F


@pytest.fixture
def photos(tmp_path: Path) -> dict[str, Path]:
    paths = {
        "astronaut": tmp_path / "astronaut.jpg",
        "portrait": tmp_path / "portrait.png",
        "stranger": tmp_path / "stranger.jpg",
        "room": tmp_path / "room.jpg",
        "garbage": tmp_path / "garbage.jpg",
    }
    paths["astronaut"].write_bytes(F.jpeg(F.astronaut()))
    import cv2

    cv2.imwrite(str(paths["portrait"]), F.candidate(360, (320, 260)))
    paths["stranger"].write_bytes(F.jpeg(F.other_person(3, 300)))
    paths["room"].write_bytes(F.jpeg(F.empty_room()))
    paths["garbage"].write_bytes(b"\xff\xd8 this is not a JPEG")
    return paths


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, object]:
    assert main(["analyze", *argv, "--json"]) == 0
    return dict(json.loads(capsys.readouterr().out))


def test_json_for_one_face_and_the_same_person(
    photos: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    data = run_json(capsys, str(photos["portrait"]), "--reference", str(photos["astronaut"]))
    assert data["faces"] == 1
    identity = data["identity"]
    assert isinstance(identity, dict)
    assert identity == {"distance": pytest.approx(identity["distance"]), "match": True}
    assert identity["distance"] < 0.6
    pose = data["pose"]
    assert isinstance(pose, dict) and set(pose) >= {"yaw", "pitch"}
    quality = data["quality"]
    assert isinstance(quality, dict) and quality["ok"] is True
    assert {"brightness", "contrast", "sharpness"} <= set(quality)
    seen = data["gaze"]
    assert isinstance(seen, dict) and seen["eyes"] == 2
    assert set(seen) == {"yaw", "pitch", "eye_yaw", "eye_pitch", "eyes"}
    assert abs(seen["eye_yaw"]) < 10  # the astronaut looks at the camera


def test_json_for_a_different_person(
    photos: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    data = run_json(capsys, str(photos["stranger"]), "--reference", str(photos["astronaut"]))
    identity = data["identity"]
    assert isinstance(identity, dict)
    assert identity["match"] is False and identity["distance"] > 0.6


def test_json_without_a_face(photos: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, str(photos["room"]))
    assert data["faces"] == 0 and data["pose"] is None and "identity" not in data
    assert data["gaze"] is None


def test_text_output(photos: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(photos["portrait"]), "--reference", str(photos["stranger"])]) == 0
    out = capsys.readouterr().out
    assert "faces: 1" in out and "different person" in out and "quality: ok" in out
    assert "gaze: yaw" in out and "2 eye(s) measured" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["{garbage}"], "image is not a readable image"),
        (["{missing}"], "image not found"),
        (["{dir}"], "image is a directory"),
        (["{astronaut}", "--reference", "{garbage}"], "reference image is not a readable image"),
    ],
)
def test_bad_files_are_one_line_errors(
    photos: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    names = {k: str(v) for k, v in photos.items()} | {
        "missing": str(tmp_path / "nope.jpg"),
        "dir": str(tmp_path),
    }
    assert main(["analyze", *(a.format(**names) for a in argv)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in captured.err
