"""Scenes composed from the real evaluation set's faces: another person behind the candidate, a
face on a badge, the candidate's own reflection, and gaze on the real portraits.

Every labelled single-face photograph of a distinct person (`vision_real_set.toml`) gives a head
crop (its face box enlarged 2.2×) and a reference descriptor. Each person in turn is the
candidate (face 170 px wide in a 640×480 room); each other person is placed

- *behind*: at head height beside them, at a third of their face width (and at a half): must
  count as another person;
- *on a badge*: below their chin, at 0.3 of their face width: must not;
- as a *mirrored, dimmer* face where a reflection would be, at 0.35 and 0.5 of their face width:
  must count (a stranger is not a reflection);

and the candidate's own face, mirrored and dimmed ×0.75, is placed there as *their reflection* at
0.25, 0.3, 0.35, 0.5 and 0.7 of their face width (43 to 119 px): must not count. Decisions are `rules.conditions` on one
frame with the candidate's reference descriptor (the identity photo's role).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np
from vision_set import Labelled, load_set

from shared.vision.faces import prepare
from shared.vision.frame import analyze_image
from shared.vision.models import FaceModels, load_models
from shared.vision.rules import Neutral, conditions
from tests.shared.vision import frames as F

FACE = 170  # the candidate's face width in the composed frame (pixels)
CROP = 2.2  # head crop width / face width
OWN_CENTRE = (250, 230)
BEHIND = (500, 130)
BADGE = (290, 420)


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    head: np.ndarray  # BGR, the face about 1/CROP of its width, centred
    reference: list[float]


def people(models: FaceModels, items: list[Labelled] | None = None) -> list[Person]:
    """One head per distinct person of the set (the first usable photograph of each)."""
    out: dict[str, Person] = {}
    for item in items if items is not None else load_set():
        if not item.person or item.faces != 1 or item.person in out:
            continue
        frame = analyze_image(item.image, models)
        if frame.face_count != 1 or frame.embedding is None:
            continue
        x, y, w, h = frame.faces[0].box
        side = round(w * CROP)
        cx, cy = x + w // 2, y + h // 2
        padded = cv2.copyMakeBorder(item.image, side, side, side, side, cv2.BORDER_REPLICATE)
        head = padded[cy + side - side // 2 : cy + side + side // 2, cx + side - side // 2 :]
        head = head[:, :side]
        out[item.person] = Person(item.name, np.ascontiguousarray(head), frame.embedding)
    return list(out.values())


def compose(own: Person, second: np.ndarray, ratio: float, centre: tuple[int, int]) -> np.ndarray:
    frame = F.place(F.room(3), own.head, round(FACE * CROP), OWN_CENTRE)
    return F.place(frame, second, max(8, round(FACE * ratio * CROP)), centre)


def mirrored(head: np.ndarray, light: float = 0.75) -> np.ndarray:
    out: np.ndarray = np.clip(cv2.flip(head, 1).astype(np.float32) * light, 0, 255)
    return out.astype(np.uint8)


def flags_another_person(models: FaceModels, image: np.ndarray, own: Person) -> bool:
    frame = analyze_image(image, models, embed=True)
    active, _ = conditions(frame, Neutral(), {"identity": own.reference})
    return "multiple_faces" in active


def scenes(models: FaceModels | None = None) -> Iterator[str]:
    models = models or load_models()
    cast = people(models)
    yield f"Composed scenes: {len(cast)} people of the real set, each the candidate in turn"
    tally: dict[str, list[int]] = {}

    def note(case: str, flagged: bool) -> None:
        tally.setdefault(case, [0, 0])
        tally[case][0] += int(flagged)
        tally[case][1] += 1

    for own in cast:
        for ratio in (0.25, 0.3, 0.35, 0.5, 0.7):
            image = compose(own, mirrored(own.head), ratio, BEHIND)
            note(
                f"own reflection at {ratio:.2f} of the face",
                flags_another_person(models, image, own),
            )
        for other in cast:
            if other is own:
                continue
            for ratio in (1 / 3, 0.5):
                image = compose(own, other.head, ratio, BEHIND)
                note(f"person behind at {ratio:.2f}", flags_another_person(models, image, own))
            image = compose(own, other.head, 0.3, BADGE)
            note("badge below the chin at 0.30", flags_another_person(models, image, own))
            for ratio in (0.35, 0.5):
                image = compose(own, mirrored(other.head), ratio, BEHIND)
                note(
                    f"stranger, mirrored and dim, at {ratio:.2f}",
                    flags_another_person(models, image, own),
                )
    for case, (flagged, total) in tally.items():
        should = case.startswith(("person", "stranger"))
        rate = flagged / total if total else 0.0
        what = "recall" if should else "false flags"
        yield f"  {case:<38} another person {flagged:3d}/{total:<3d} ({what} {rate:.1%})"


def gaze_on_portraits(
    items: list[Labelled] | None = None, models: FaceModels | None = None
) -> Iterator[str]:
    """The eyes' rotation on each single-face photograph (no gaze labels in the set: this
    lists what is measured, for reading against the pictures)."""
    models = models or load_models()
    yield "Gaze on the real photographs (head yaw/pitch, eyes in the head, eyes measured):"
    for item in items if items is not None else load_set():
        if item.faces != 1:
            continue
        frame = analyze_image(item.image, models, embed=False)
        if frame.pose is None or frame.gaze is None or frame.face_count != 1:
            continue
        g = frame.gaze
        yield (
            f"  {item.name[:36]:<36} head {frame.pose.yaw:+4.0f} {frame.pose.pitch:+4.0f}  "
            f"eyes {g.eye_yaw:+5.1f} {g.eye_pitch:+5.1f} ({g.eyes})  gaze {g.yaw:+4.0f} {g.pitch:+4.0f}"
        )


SIZES = tuple(range(16, 72, 4))  # face widths (px of the 640-px frame) for `smallest_faces`


def smallest_faces(models: FaceModels | None = None) -> Iterator[str]:
    """Each person of the set alone in the room at face widths `SIZES`: where the detector
    finds them (score ≥ 0.5, a box within half of that width), and the width from which on it
    always does. The heads are cut by the product's models, whatever `models` are."""
    models = models or load_models()
    cast = people(load_models())
    yield "Smallest faces found: each person alone in the room, face width " + (
        f"{SIZES[0]}–{SIZES[-1]} px by {SIZES[1] - SIZES[0]} ('#' found)"
    )
    from_on: list[int] = []
    for person in cast:
        row = []
        for width in SIZES:
            image = F.place(F.room(3), person.head, round(width * CROP), (320, 240))
            found = models.blazeface.detect(prepare(image).rgb, 0.5)
            row.append(any(abs(d.box[2] - width) < 0.5 * width for d in found))
        k = len(SIZES)
        while k > 0 and row[k - 1]:
            k -= 1
        from_on.append(SIZES[k] if k < len(SIZES) else SIZES[-1] + SIZES[1] - SIZES[0])
        marks = "".join("#" if hit else "." for hit in row)
        yield f"  {person.name[:30]:<30} {marks}  always from {from_on[-1]} px"
    yield f"  median: always found from {statistics.median(from_on):.0f} px"
