"""From one frame (and the one before) to conditions (pure)."""

from __future__ import annotations

import numpy as np
import pytest

from shared.vision.frame import FrameAnalysis, analyze_image, decode_image
from shared.vision.models import FaceModels
from shared.vision.rules import Before, Neutral, conditions, static_faces
from tests.shared.vision import frames as F


def shot(image: np.ndarray, seed: int, previous: FrameAnalysis | None = None) -> FrameAnalysis:
    decoded = decode_image(F.camera(image, np.random.default_rng(seed)))
    assert decoded is not None
    return analyze_image(decoded, previous=None if previous is None else previous.signature)


def with_poster(candidate_x: int) -> np.ndarray:
    wall = F.place(F.room(2), F.lfw_face(5, 115), 115, (520, 160))
    return F.place(wall, F.astronaut_head(), 300, (candidate_x, 270))


def test_a_poster_is_static_and_the_moving_candidate_is_not(models: FaceModels) -> None:
    first = shot(with_poster(220), 1)
    second = shot(with_poster(236), 2, first)
    assert first.face_count == 2 and second.face_count == 2
    assert [f.fraction > 0.18 for f in second.faces[:2]] == [True, False]  # candidate first
    assert static_faces(second, Before.of(first)) == {1}
    active, _ = conditions(second, Neutral(), {}, Before.of(first))
    assert "multiple_faces" not in active
    alone, _ = conditions(second, Neutral(), {}, None)  # without the frame before: two faces
    assert "multiple_faces" in alone


def test_a_frozen_feed_has_no_static_faces(models: FaceModels) -> None:
    image = F.two_people()
    first = analyze_image(image)
    second = analyze_image(image, previous=first.signature)
    assert second.change is not None and second.change.frozen
    assert static_faces(second, Before.of(first)) == set()
    active, _ = conditions(second, Neutral(), {}, Before.of(first))
    assert {"camera_frozen", "multiple_faces"} <= set(active)


@pytest.mark.parametrize(
    "name, make, active, unknown",
    [
        ("candidate", lambda: F.candidate(), set(), {"camera_frozen"}),
        (
            "empty room",
            lambda: F.empty_room(1),
            {"face_absent"},
            {"camera_frozen", "identity_mismatch", "looking_away"},
        ),
        (
            "dark",
            lambda: F.darken(F.candidate(), 0.15),
            {"low_evidence_quality"},
            {"camera_frozen", "face_absent", "identity_mismatch", "looking_away", "multiple_faces"},
        ),
        (
            "black",
            lambda: F.black(F.candidate()),
            {"camera_blocked"},
            {"camera_frozen", "face_absent", "identity_mismatch", "looking_away", "multiple_faces"},
        ),
        ("stranger", lambda: F.other_person(3, 300), {"identity_mismatch"}, {"camera_frozen"}),
        (
            "two people",
            lambda: F.two_people(),
            {"multiple_faces"},
            {"camera_frozen", "identity_mismatch", "looking_away"},
        ),
    ],
)
def test_conditions(
    models: FaceModels, name: str, make: object, active: set[str], unknown: set[str]
) -> None:
    assert callable(make)
    reference = analyze_image(F.astronaut()).embedding
    assert reference is not None
    got_active, got_unknown = conditions(
        analyze_image(make()), Neutral(3.0, 12.0), {"identity": reference}
    )
    assert set(got_active) == active, name
    assert got_unknown == unknown, name
    for confidence, figures in got_active.values():
        assert 0.5 <= confidence <= 1.0 and isinstance(figures, dict)
