"""Who counts as another person: the size and place rules (`faces.classify`, pure, on synthetic
boxes), the reflection rule (`rules.reflections`, on synthetic descriptors), and both on scenes
composed from real photographs of the evaluation set."""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from pathlib import Path

import cv2
import numpy as np
import pytest

from shared.vision import frame as frame_module
from shared.vision.faces import ON_BODY_NOTE, SAME_FACE_NOTE, WEAK_NOTE, Face, classify
from shared.vision.frame import FrameAnalysis, analyze_image
from shared.vision.rules import REFLECTION_DISTANCE, Neutral, conditions, reflections
from tests.shared.vision import frames as F

OWN = (220, 100, 180, 180)  # the candidate's face: 180 px wide, its chin at y = 280
SMALL = "too small to be a person"
SAME_FACE = SAME_FACE_NOTE


def beside(width: int, x: int = 480, y: int = 60) -> tuple[int, int, int, int]:
    return (x, y, width, width)


def below_chin(width: int, dx: int = 0) -> tuple[int, int, int, int]:
    cx = OWN[0] + OWN[2] // 2 + dx
    return (cx - width // 2, 340, width, width)


@pytest.mark.parametrize(
    "case, second, score, confirmed, note",
    [
        ("a person behind, a third of the face", beside(60), 0.8, (), ""),
        ("a person behind, a quarter of the face", beside(46), 0.8, (), ""),
        ("a face a fifth as wide: a photo, a screen", beside(36), 0.8, (), SMALL),
        ("under 22 px: too small whatever the candidate", beside(20), 0.9, (), SMALL),
        ("a faint person behind", beside(60), 0.42, (), WEAK_NOTE),
        ("a faint person behind, confirmed by the mesh", beside(60), 0.42, (1,), ""),
        ("a badge below the chin", below_chin(60), 0.8, (), ON_BODY_NOTE),
        ("a photo held up at the chest", below_chin(100), 0.8, (), ON_BODY_NOTE),
        ("a face below the chin, as large as a head near by", below_chin(120), 0.8, (), ""),
        ("low but beyond the shoulders: someone sitting beside", below_chin(60, 320), 0.8, (), ""),
        ("at head height beside the candidate, large", beside(150, 420, 110), 0.9, (), ""),
        ("a second box on the candidate's own face", (270, 130, 140, 140), 0.4, (1,), SAME_FACE),
    ],
)
def test_who_counts_as_another_person(
    case: str,
    second: tuple[int, int, int, int],
    score: float,
    confirmed: tuple[int, ...],
    note: str,
) -> None:
    order = classify([OWN, second], [0.95, score], confirmed)
    assert order == [(0, ""), (1, note)], case


@pytest.mark.parametrize(
    "case, boxes, scores, first",
    [
        # the candidate is the largest confident face, not the strongest
        ("a sharp small poster behind", [beside(70), OWN], [0.97, 0.8], 1),
        ("a larger but faint texture", [(0, 0, 300, 300), OWN], [0.4, 0.8], 1),
        ("nothing confident", [OWN], [0.45], -1),
    ],
)
def test_the_candidates_face_is_the_largest_confident_one(
    case: str, boxes: list[tuple[int, int, int, int]], scores: list[float], first: int
) -> None:
    order = classify(boxes, scores)
    if first < 0:
        assert all(note == WEAK_NOTE for _, note in order), case
    else:
        assert order[0] == (first, ""), case


def _unit(seed: int) -> list[float]:
    v = np.random.default_rng(seed).normal(size=128)
    return list(v / np.linalg.norm(v) * 0.5)


def _near(base: list[float], distance: float, seed: int) -> list[float]:
    d = np.random.default_rng(seed).normal(size=128)
    return list(np.asarray(base) + d / np.linalg.norm(d) * distance)


@cache
def _two_faces() -> FrameAnalysis:
    frame = analyze_image(F.two_people(), embed=False)
    assert frame.face_count == 2
    return frame


ME = _unit(1)


@pytest.mark.parametrize(
    "case, own, others, expected",
    [
        ("the candidate's reflection", ME, [_near(ME, 0.3, 2)], {1}),
        ("just inside", ME, [_near(ME, REFLECTION_DISTANCE - 0.01, 3)], {1}),
        # same person by dlib's usual 0.6, but not sure enough to hide a face
        ("unsure: still counted", ME, [_near(ME, 0.5, 4)], set()),
        ("another person", ME, [_unit(5)], set()),
        ("too small to be described", ME, [None], set()),
        ("the second of three faces", ME, [_unit(6), _near(ME, 0.2, 7)], {2}),
        # the registered person as the second face, behind a larger stranger: not a reflection
        ("nothing of the main face to compare with", None, [_near(ME, 0.1, 8)], set()),
    ],
)
def test_reflections(
    case: str, own: list[float] | None, others: list[list[float] | None], expected: set[int]
) -> None:
    frame = replace(_two_faces(), embedding=own, others=others[:1])
    if len(others) > 1:  # a third face beside the two
        third = replace(frame.faces[1], box=(0, 0, 90, 90))
        frame = replace(frame, faces=[*frame.faces[:2], third], others=others)
    assert reflections(frame) == expected, case
    active, _ = conditions(frame, Neutral(), {"identity": ME})
    assert ("multiple_faces" in active) is (len(others) - len(expected) >= 1), case


# --- scenes composed from real photographs (bench/data/vision, SOURCES.md there) -------------

DATA = Path(__file__).resolve().parents[2] / "bench" / "data" / "vision"
FACE = 170  # the candidate's face width in the scene


@cache
def head(name: str) -> np.ndarray:
    """A head crop (the face about 1/2.2 of its width) from a photograph of the set."""
    image = F.astronaut() if name == "astronaut" else cv2.imread(str(DATA / name))
    assert image is not None
    frame = analyze_image(image, embed=False)
    x, y, w, h = frame.faces[0].box
    side = round(w * 2.2)
    padded = cv2.copyMakeBorder(image, side, side, side, side, cv2.BORDER_REPLICATE)
    cx, cy = x + w // 2 + side, y + h // 2 + side
    return np.ascontiguousarray(padded[cy - side // 2 : cy + side // 2, cx - side // 2 :][:, :side])


def scene(second: np.ndarray, ratio: float, centre: tuple[int, int]) -> np.ndarray:
    frame = F.place(F.room(3), head("astronaut"), round(FACE * 2.2), (250, 230))
    return F.place(frame, second, round(FACE * ratio * 2.2), centre)


def mirrored(image: np.ndarray, light: float = 0.75) -> np.ndarray:
    flipped = cv2.flip(image, 1).astype(np.float32) * light
    out: np.ndarray = np.clip(flipped, 0, 255).astype(np.uint8)
    return out


@cache
def registered() -> dict[str, list[float]]:
    own = analyze_image(F.astronaut()).embedding
    assert own is not None
    return {"identity": own}


def judged(image: np.ndarray) -> tuple[FrameAnalysis, set[str]]:
    frame = analyze_image(image)
    active, _ = conditions(frame, Neutral(), registered())
    return frame, set(active)


@pytest.mark.parametrize(
    "case, second, ratio, centre, another",
    [
        ("obama behind, a third of her face", lambda: head("obama.jpg"), 1 / 3, (500, 130), True),
        ("biden behind, a third of her face", lambda: head("biden.jpg"), 1 / 3, (500, 130), True),
        ("obama on a badge", lambda: head("obama.jpg"), 0.3, (290, 420), False),
        ("biden on a photo held up", lambda: head("biden.jpg"), 0.45, (280, 430), False),
        ("her own reflection", lambda: mirrored(head("astronaut")), 0.6, (500, 130), False),
        ("obama, mirrored and dim", lambda: mirrored(head("obama.jpg")), 0.6, (500, 130), True),
    ],
)
def test_composed_scenes(
    case: str, second: object, ratio: float, centre: tuple[int, int], another: bool
) -> None:
    assert callable(second)
    frame, active = judged(scene(second(), ratio, centre))
    faces: list[Face] = frame.faces
    assert ("multiple_faces" in active) is another, (case, frame.as_dict()["face_boxes"])
    if not another:
        assert "identity_mismatch" not in active, case
    assert len(faces) >= 2, case  # the second face was seen, and then counted or set aside


def test_descriptors_on_two_faces_only_where_a_reflection_can_be_told(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With two faces identity is not judged: the candidate's descriptor (the slowest step) is
    computed only when the other face is wide enough to be compared with it, whatever the
    identity policy says (here: no descriptor this snapshot)."""
    reflection = scene(mirrored(head("astronaut")), 0.32, (500, 130))  # 51 px: under 60
    never = analyze_image(reflection, embed=lambda _: False)
    assert never.face_count == 2
    assert never.embedding is not None and len(never.others) == 1 and never.others[0] is not None
    active, _ = conditions(never, Neutral(), registered())
    assert "multiple_faces" not in active  # her reflection, told apart
    # were the second face narrower than the descriptor's limit, nothing would be described
    monkeypatch.setattr(frame_module, "REFLECTION_MIN_PIXELS", 1000)
    small = analyze_image(reflection, embed=lambda _: False)
    assert small.face_count == 2 and small.others == [None]
    assert small.embedding is None and "others" not in small.timings
