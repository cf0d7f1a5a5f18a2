"""Faces in one image: detection with scores, landmarks, 128-d embeddings, distances.

Images are first brought to a working width of 640 pixels (`prepare`). MediaPipe's BlazeFace
(full range and short range, `blazeface.py`) finds faces from about 1/20 of the frame's width
up to a face filling it, so a second person further back in the room is seen. Faces are then
sorted into those that count (score and size above the thresholds below) and those that are
only noted (`ignored`), so that evidence shows what was set aside and why. dlib's landmark and
descriptor models then work on the candidate's face.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import cv2
import numpy as np

from shared.vision.models import FaceModels, rectangle

WORK_WIDTH = 640  # pixels: every image is scaled to this width before detection
SCAN_THRESHOLD = 0.3  # BlazeFace probability: faint candidates are reported too (noted only)
PRESENCE_SCORE = 0.5  # a face this confident shows that the candidate is there
PERSON_SCORE = 0.5  # an additional face must be this confident to count as another person
PERSON_RELATIVE = 0.25  # ... at least this wide relative to the candidate's face (a person a
# metre or two behind them shows at about a third of their face width; a badge photo or a
# photo on a card held at the chest is a fifth or less)
PERSON_MIN_FRACTION = 0.035  # ... and at least this wide relative to the frame (≈ 22 px)
# ... or, scoring SCAN_THRESHOLD to PERSON_SCORE (a real face at 50-60 px often scores 0.4-0.5),
# confirmed by the face mesh's own face score: real faces 0.97-1.0, textures 0-0.42
MESH_CONFIRM = 0.9
ON_BODY_RELATIVE = 0.6  # a face below the candidate's chin narrower than this: on their body
FAINT_MIN_FRACTION = 0.14  # a faint candidate this wide stops "face absent" (a mask, a turn)
IDENTITY_MIN_PIXELS = 90  # face width (working pixels) below which an embedding is not trusted
MATCH_DISTANCE = 0.6  # dlib's usual threshold: below it, the same person
# a second face this wide is described, to tell the candidate's reflection apart: on the
# composed scenes, reflections of 43-60 px are then all set aside, and no stranger mirrored at
# 60 px is taken for one (docs/detection.md, "Reflections under 60 px")
REFLECTION_MIN_PIXELS = 40


@dataclass(frozen=True, slots=True)
class Face:
    """A detected face. Box in the original image's pixels: x, y, width, height."""

    box: tuple[int, int, int, int]
    score: float  # dlib's detection score (higher is surer; 0 is dlib's default cut)
    fraction: float  # face width / frame width
    counted: bool  # True when it counts as a person; False: noted only (too small or weak)
    note: str = ""  # why it was set aside


@dataclass(frozen=True, slots=True)
class Prepared:
    """An image at working size: colour (RGB, for embeddings) and grey (for the rest)."""

    rgb: np.ndarray
    gray: np.ndarray
    scale: float  # working pixels per original pixel
    width: int  # original size
    height: int


def prepare(image_bgr: np.ndarray) -> Prepared:
    """Scale a BGR (or grey) image to the working width."""
    if image_bgr.ndim == 2:
        image_bgr = cv2.cvtColor(image_bgr, cv2.COLOR_GRAY2BGR)
    height, width = image_bgr.shape[:2]
    scale = WORK_WIDTH / width
    if abs(scale - 1.0) > 1e-3:
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        size = (WORK_WIDTH, max(1, round(height * scale)))
        image_bgr = cv2.resize(image_bgr, size, interpolation=interpolation)
    rgb = np.ascontiguousarray(cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB))
    gray = np.ascontiguousarray(cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY))
    return Prepared(rgb, gray, scale, width, height)


def detect_faces(models: FaceModels, image: Prepared) -> tuple[list[Face], list[object]]:
    """Every face candidate (counted ones first, the candidate's own face first, then noted
    ones), and the dlib rectangles (working pixels) of the counted ones, in the same order.

    The candidate's own face is the largest confident one (they sit nearest the camera; a sharp
    poster behind them must not take their place). Any further face counts as another person
    only when it is confident (`PERSON_SCORE`) and large enough: at least `PERSON_RELATIVE` of
    the candidate's face width and `PERSON_MIN_FRACTION` of the frame's. Badges, photos on
    cards and faint textures fall below one or the other and are noted with the reason.
    """
    found = models.blazeface.detect(image.rgb, SCAN_THRESHOLD)
    height, width = image.gray.shape[:2]
    work: list[tuple[tuple[int, int, int, int], float]] = []
    for detection in found:
        x, y, w, h = detection.box
        left, top = max(0, round(x)), max(0, round(y))
        right, bottom = min(width, round(x + w)), min(height, round(y + h))
        if right - left < 4 or bottom - top < 4:
            continue
        work.append(((left, top, right - left, bottom - top), detection.score))
    boxes, scores = [box for box, _ in work], [score for _, score in work]
    order = classify(boxes, scores)
    # a faint face of a person's size gets a second opinion: the face mesh's own face score
    doubtful = [
        i
        for i, note in order
        if note == WEAK_NOTE
        and _person_sized(i, boxes, order)
        and not _centre_inside(boxes[i], boxes[order[0][0]])
    ]
    confirmed = {i for i in doubtful if models.mesh.run(image.rgb, boxes[i])[0] >= MESH_CONFIRM}
    if confirmed:
        order = classify(boxes, scores, confirmed)
    counted: list[Face] = []
    noted: list[Face] = []
    kept: list[object] = []
    for i, note in order:
        box, score = work[i]
        fraction = box[2] / WORK_WIDTH
        original = (
            round(box[0] / image.scale),
            round(box[1] / image.scale),
            round(box[2] / image.scale),
            round(box[3] / image.scale),
        )
        if note:
            noted.append(Face(original, score, fraction, False, note))
        else:
            counted.append(Face(original, score, fraction, True))
            kept.append(rectangle(box))
    return counted + noted, kept


Box = tuple[int, int, int, int]


def _person_sized(i: int, boxes: list[Box], order: list[tuple[int, str]]) -> bool:
    if not order or order[0][0] == i or order[0][1]:
        return False  # no candidate's face (nothing confident), or it is the first
    own = boxes[order[0][0]][2]
    width = boxes[i][2]
    return width >= PERSON_RELATIVE * own and width >= PERSON_MIN_FRACTION * WORK_WIDTH


def classify(
    boxes: list[Box], scores: list[float], confirmed: Collection[int] = ()
) -> list[tuple[int, str]]:
    """Pure: (index, note) of every face, the candidate's own first; an empty note means the
    face counts as a person. Boxes in working pixels (the frame is `WORK_WIDTH` wide);
    `confirmed`: faint faces (below `PERSON_SCORE`) that the face mesh confirmed."""
    confident = [i for i, score in enumerate(scores) if score >= PRESENCE_SCORE]
    first = max(confident, key=lambda i: boxes[i][2]) if confident else -1
    own_width = boxes[first][2] if first >= 0 else 0
    order = ([first] if first >= 0 else []) + [i for i in range(len(boxes)) if i != first]
    out: list[tuple[int, str]] = []
    for i in order:
        box, score = boxes[i], scores[i]
        note = ""
        if i != first:
            if first < 0 or (score < PERSON_SCORE and i not in confirmed):
                note = WEAK_NOTE
            elif _centre_inside(box, boxes[first]):
                note = SAME_FACE_NOTE
            elif box[2] < PERSON_RELATIVE * own_width or box[2] < PERSON_MIN_FRACTION * WORK_WIDTH:
                note = "too small to be a person"
            elif _on_body(box, boxes[first]):
                note = ON_BODY_NOTE
        out.append((i, note))
    return out


ON_BODY_NOTE = "on the candidate (a badge or a photo held up)"
WEAK_NOTE = "weak detection"
SAME_FACE_NOTE = "a second box on the candidate's face"


def _centre_inside(box: Box, own: Box) -> bool:
    """A box centred within the candidate's face box is that face again (a looser box the
    merging left: a person behind would be hidden by the candidate's head)."""
    x, y, w, h = box
    ox, oy, ow, oh = own
    return ox <= x + w / 2 <= ox + ow and oy <= y + h / 2 <= oy + oh


def _on_body(box: tuple[int, int, int, int], own: tuple[int, int, int, int]) -> bool:
    """A face much smaller than the candidate's, below their chin and within their shoulders:
    a badge on the chest or a photo held in front of them, not a person behind them (whose head
    is at or above the candidate's shoulders)."""
    x, y, w, h = box
    ox, oy, ow, oh = own
    below_chin = y + h / 2 > oy + oh * 1.2
    within_shoulders = abs((x + w / 2) - (ox + ow / 2)) < 1.6 * ow
    return w < ON_BODY_RELATIVE * ow and below_chin and within_shoulders


def landmarks68(models: FaceModels, image: Prepared, rect: object) -> np.ndarray:
    """68 landmark points (x, y) in working pixels."""
    shape = models.landmarks68(image.gray, rect)
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)


def embedding(models: FaceModels, image: Prepared, rect: object) -> np.ndarray:
    """The 128-d descriptor of one face (aligned on the 5-point landmarks)."""
    shape = models.landmarks5(image.rgb, rect)
    return np.array(models.encoder.compute_face_descriptor(image.rgb, shape), dtype=np.float64)


def box_overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


def face_distance(a: np.ndarray | list[float], b: np.ndarray | list[float]) -> float:
    """Euclidean distance between descriptors: below `MATCH_DISTANCE`, the same person."""
    return float(np.linalg.norm(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)))
