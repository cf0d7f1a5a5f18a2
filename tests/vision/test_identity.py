"""The identity photo on entry: verdicts in words a candidate understands, and calibration."""

from __future__ import annotations

import cv2
import pytest

from proctor_server.vision.identity import TEXTS
from tests.shared.vision import frames as F
from tests.vision.conftest import World

ASTRONAUT = F.jpeg(F.astronaut())
PORTRAIT = F.jpeg(F.candidate(360, (320, 260)))


@pytest.mark.parametrize(
    "name, photo, reasons",
    [
        ("a good portrait", PORTRAIT, []),
        ("not an image", b"\xff\xd8 not really a jpeg", [TEXTS["unreadable"]]),
        (
            "tiny",
            F.jpeg(cv2.resize(F.candidate(), (120, 90))),
            [TEXTS["too_small"].format(width=120, height=90)],
        ),
        ("empty room", F.jpeg(F.empty_room()), [TEXTS["no_face"]]),
        ("two people", F.jpeg(F.two_people()), [TEXTS["several_faces"]]),
        ("far from the camera", F.jpeg(F.candidate(200)), [TEXTS["face_small"]]),
        ("dark", F.jpeg(F.darken(F.candidate(360, (320, 260)), 0.15)), [TEXTS["dark"]]),
        ("blurred", F.jpeg(F.blur(F.candidate(360, (320, 260)), 5.0)), [TEXTS["blurred"]]),
        ("covered", F.jpeg(F.cover(F.candidate())), [TEXTS["covered"]]),
        ("black", F.jpeg(F.black(F.candidate())), [TEXTS["black"]]),
    ],
)
async def test_verdicts(world: World, name: str, photo: bytes, reasons: list[str]) -> None:
    attempt = await world.attempt("ann")
    verdict = await world.identity.check(attempt, photo, None)
    assert verdict.reasons == reasons, name
    assert verdict.accepted is (not reasons)


async def test_matching_reference_is_accepted_with_the_distance(world: World) -> None:
    attempt = await world.attempt("ann", reference=ASTRONAUT)
    verdict = await world.identity.check(attempt, PORTRAIT, ASTRONAUT)
    assert verdict.accepted, verdict.reasons
    assert verdict.details["identity"]["match"] is True
    assert verdict.details["identity"]["distance"] < 0.5


async def test_a_different_person_is_refused(world: World) -> None:
    other = F.jpeg(F.other_person(3, 300))
    attempt = await world.attempt("bob", reference=ASTRONAUT)
    verdict = await world.identity.check(attempt, other, ASTRONAUT)
    assert not verdict.accepted
    assert verdict.reasons == [TEXTS["mismatch"]]
    assert verdict.details["identity"]["distance"] > 0.6


async def test_a_reference_without_a_usable_face_does_not_block_the_candidate(world: World) -> None:
    attempt = await world.attempt("cid")
    verdict = await world.identity.check(attempt, PORTRAIT, F.jpeg(F.empty_room()))
    assert verdict.accepted
    assert verdict.details["reference"] == {"usable": False}
    assert "identity" not in verdict.details


async def test_an_accepted_photo_becomes_the_calibration(world: World) -> None:
    attempt = await world.attempt("dee")
    assert await world.analyzer.calibrations.get(attempt) is None
    refused = await world.identity.check(attempt, F.jpeg(F.empty_room()), None)
    assert not refused.accepted and await world.analyzer.calibrations.get(attempt) is None
    verdict = await world.identity.check(attempt, PORTRAIT, None)
    assert verdict.accepted
    calibration = await world.analyzer.calibrations.get(attempt)
    assert calibration is not None and calibration.source == "identity"
    assert calibration.embedding is not None and len(calibration.embedding) == 128
    # the neutral direction is where the eyes look (head pose plus eyes)
    assert calibration.yaw == pytest.approx(verdict.details["gaze"]["yaw"])
    assert calibration.brightness == pytest.approx(
        verdict.details["quality"]["brightness"], abs=0.1
    )
