"""The full-range detector runs on as many rows as the picture needs (192 × 160 for a 4:3
frame): the model file's upsampling sizes are set for those rows, and it finds the same faces
as on the 192 × 192 square."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np
import pytest

from shared.vision.blazeface import (
    FULL_RANGE,
    UPSAMPLED,
    BlazeFace,
    _square,
    full_range_rows,
    input_rows,
)
from shared.vision.faces import prepare
from shared.vision.runtime import available_runtimes, model_bytes
from tests.shared.vision import frames as F
from tests.vision.test_gaze_photos import photo


@pytest.mark.parametrize(
    ("height", "width", "rows"),
    [
        (480, 640, 160),  # 4:3: 144 rows of picture
        (360, 640, 128),  # 16:9: 108
        (640, 640, 192),  # square
        (800, 600, 192),  # portrait: the square
        (100, 640, 32),  # a strip: one stride
        (1, 640, 32),
    ],
)
def test_input_rows(height: int, width: int, rows: int) -> None:
    assert input_rows(height, width) == rows


def test_the_model_file_is_set_for_fewer_rows() -> None:
    content = model_bytes(FULL_RANGE)
    fitted = full_range_rows(content, 160)
    assert fitted is not None and len(fitted) == len(content)
    changed = [i for i, (a, b) in enumerate(zip(content, fitted, strict=True)) if a != b]
    assert len(changed) <= 2 * len(UPSAMPLED)  # only the first value of each size pair
    assert full_range_rows(b"not a model", 160) is None


def test_the_letterbox_keeps_only_the_rows_asked() -> None:
    image = np.full((480, 640, 3), 255, np.uint8)
    batch = _square(image, 192, 160)
    assert batch.shape == (1, 160, 192, 3)
    assert np.all(batch[0, :144] == 1.0) and np.all(batch[0, 144:] == -1.0)


needs_litert = pytest.mark.skipif(
    "litert" not in available_runtimes(), reason="ai-edge-litert is not installed"
)


@needs_litert
@pytest.mark.parametrize(
    "name", ["obama2.jpg", "t1.jpg", "astronaut", "candidate", "two people", "empty room"]
)
def test_fitted_rows_find_the_faces_of_the_square(name: str) -> None:
    scenes: dict[str, Callable[[], np.ndarray]] = {
        "candidate": F.candidate,
        "two people": F.two_people,
        "astronaut": F.astronaut,
    }
    if name == "empty room":
        image = prepare(F.empty_room(1))
    else:
        image = prepare(scenes[name]() if name in scenes else photo(name))
    fitted, square = fitted_and_square()
    a, b = (sorted(m.detect(image.rgb, 0.5), key=lambda d: d.box) for m in (fitted, square))
    assert len(a) == len(b), name
    for x, y in zip(a, b, strict=True):
        assert x.score == pytest.approx(y.score, abs=0.05), name
        assert np.abs(np.subtract(x.box, y.box)).max() < 0.06 * max(y.box[2], 20), name


@cache
def fitted_and_square() -> tuple[BlazeFace, BlazeFace]:
    return BlazeFace(runtime="litert"), BlazeFace(runtime="litert", fit_rows=False)


def test_opencv_runs_the_square() -> None:
    """OpenCV's DNN module reads only model files as shipped: the fallback keeps the square."""
    detector = BlazeFace(runtime="opencv")
    assert detector._full_for(480, 640) is detector._full
    if "litert" in available_runtimes():
        assert fitted_and_square()[0]._full_for(480, 640).rows == 160
