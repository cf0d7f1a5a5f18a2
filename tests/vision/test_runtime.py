"""The TFLite models give the same answers whichever runtime runs them (LiteRT when installed,
OpenCV's DNN module otherwise: `shared/vision/runtime.py`), on real photographs of the
evaluation set."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from shared.vision.blazeface import BlazeFace
from shared.vision.faces import prepare
from shared.vision.frame import analyze_image
from shared.vision.models import FaceModels, with_runtime
from shared.vision.runtime import available_runtimes, default_runtime
from tests.shared.vision import frames as F
from tests.vision.test_gaze_photos import photo

needs_both = pytest.mark.skipif(
    available_runtimes() != ["litert", "opencv"], reason="ai-edge-litert is not installed"
)


def test_the_default_is_litert_when_installed(models: FaceModels) -> None:
    assert default_runtime() == available_runtimes()[0]
    assert models.blazeface.runtime == models.mesh.runtime == default_runtime()


@pytest.fixture(scope="module")
def both(models: FaceModels) -> list[FaceModels]:
    # the same model files on both: the full-range detector on the square (OpenCV runs model
    # files only as shipped; LiteRT's 192×160 input is tested in test_detector_input.py)
    litert = with_runtime(models, "litert")
    litert = replace(litert, blazeface=BlazeFace(runtime="litert", fit_rows=False))
    return [litert, with_runtime(models, "opencv")]


@needs_both
@pytest.mark.parametrize(
    ("name", "crop"),
    [("obama2.jpg", None), ("astronaut", None), ("t1.jpg", None), ("t1.jpg", (797, 5, 268, 291))],
)
def test_both_runtimes_see_the_same(
    both: list[FaceModels], name: str, crop: tuple[int, int, int, int] | None
) -> None:
    image = F.astronaut() if name == "astronaut" else photo(name, crop)
    litert, opencv = (analyze_image(image, m, embed=False) for m in both)
    assert [f.box for f in litert.faces] == [f.box for f in opencv.faces]
    assert [f.counted for f in litert.faces] == [f.counted for f in opencv.faces]
    assert [f.score for f in litert.faces] == pytest.approx(
        [f.score for f in opencv.faces], abs=1e-3
    )
    assert (litert.pose is None) == (opencv.pose is None)
    if litert.pose is not None and opencv.pose is not None:
        for a, b in [(litert.pose.yaw, opencv.pose.yaw), (litert.pose.pitch, opencv.pose.pitch)]:
            assert a == pytest.approx(b, abs=0.5)
    assert (litert.gaze is None) == (opencv.gaze is None)
    if litert.gaze is not None and opencv.gaze is not None:
        assert litert.gaze.eyes == opencv.gaze.eyes
        assert litert.gaze.eye_yaw == pytest.approx(opencv.gaze.eye_yaw, abs=0.5)
        assert litert.gaze.eye_pitch == pytest.approx(opencv.gaze.eye_pitch, abs=0.5)


@needs_both
def test_both_runtimes_give_the_same_landmarks(both: list[FaceModels]) -> None:
    image = prepare(photo("obama2.jpg"))
    found = [m.blazeface.detect(image.rgb, 0.3) for m in both]
    assert len(found[0]) == len(found[1]) >= 1
    x, y, w, h = (round(v) for v in found[0][0].box)
    meshes = [m.mesh.run(image.rgb, (x, y, w, h)) for m in both]
    assert meshes[0][0] == pytest.approx(meshes[1][0], abs=1e-3)
    assert np.abs(meshes[0][1] - meshes[1][1]).max() < 0.05  # pixels
