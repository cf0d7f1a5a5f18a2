"""Face counting and identity on real photographs and generated frames."""

from __future__ import annotations

import numpy as np
import pytest

from shared.vision.faces import MATCH_DISTANCE, face_distance
from shared.vision.frame import analyze_image, decode_image
from shared.vision.models import FaceModels, load_models
from tests.shared.vision import frames as F


def test_models_load_once_per_process(models: FaceModels) -> None:
    assert load_models() is models


def test_the_astronaut_photograph_has_one_face(models: FaceModels) -> None:
    result = analyze_image(F.astronaut(), models)
    assert result.face_count == 1
    x, y, w, _ = result.faces[0].box
    # her face is around (174..275, 74..175) in the 512×512 photograph
    assert 150 < x < 200 and 50 < y < 100 and 80 < w < 120
    assert result.embedding is not None and len(result.embedding) == 128


@pytest.mark.parametrize(
    "name, make, count",
    [
        ("centred", lambda: F.candidate(), 1),
        ("flipped", lambda: F.candidate(flip=True), 1),
        ("shifted left", lambda: F.candidate(center=(200, 260)), 1),
        ("shifted right", lambda: F.candidate(center=(460, 230)), 1),
        ("cropped at the edge", lambda: F.candidate(300, (560, 250)), 1),
        ("empty room", lambda: F.empty_room(3), 0),
        ("two people side by side", lambda: F.two_people(), 2),
        ("a badge with a face photo", lambda: F.with_badge(badge_width=120), 1),
        ("a small photo held up", lambda: F.with_badge(badge_width=160), 1),
    ],
)
def test_face_count(models: FaceModels, name: str, make: object, count: int) -> None:
    assert callable(make)
    result = analyze_image(make(), models, embed=False)
    assert result.face_count == count, (name, result.as_dict()["face_boxes"])


@pytest.mark.parametrize("index", [0, 10, 20, 30])
def test_lfw_non_face_patches_are_not_faces(models: FaceModels, index: int) -> None:
    frame = F.place(F.room(1), F.lfw_patch(index), 220, (320, 240))
    assert analyze_image(frame, models, embed=False).face_count == 0


def test_same_person_across_shift_flip_and_jpeg(models: FaceModels) -> None:
    reference = analyze_image(F.astronaut(), models).embedding
    assert reference is not None
    rng = np.random.default_rng(0)
    for frame in (F.candidate(), F.candidate(flip=True), F.candidate(center=(220, 260))):
        image = decode_image(F.camera(frame, rng))
        assert image is not None
        result = analyze_image(image, models)
        assert result.embedding is not None
        assert face_distance(result.embedding, reference) < MATCH_DISTANCE - 0.1


def test_a_different_person_is_far(models: FaceModels) -> None:
    astronaut = analyze_image(F.astronaut(), models).embedding
    other = analyze_image(F.other_person(3), models).embedding
    assert astronaut is not None and other is not None
    assert face_distance(astronaut, other) > MATCH_DISTANCE


def test_small_faces_get_no_identity_descriptor(models: FaceModels) -> None:
    result = analyze_image(F.candidate(160), models)
    assert result.embedding is None


def test_decode_refuses_non_images() -> None:
    assert decode_image(b"") is None
    assert decode_image(b"not an image at all") is None
    assert decode_image(F.jpeg(F.room())[:200]) is None
