"""Faces in one image: detection with scores, landmarks, 128-d embeddings, distances.

Images are first brought to a working width of 640 pixels (`prepare`). dlib's HOG detector
scans an 80×80 window, so at that width the smallest face it can report is 1/8 of the frame's
width: a badge, a photo on a card or a face far across the room is too small to count. Faces
are then sorted into those that count (score and size above the thresholds below) and those that
are only noted (`ignored`), so that evidence shows what was set aside and why.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from shared.vision.models import FaceModels

WORK_WIDTH = 640  # pixels: every image is scaled to this width before detection
SCAN_THRESHOLD = (
    -1.0
)  # dlib's adjust_threshold: report faint candidates too (masked faces score -0.5 to -0.9)
PRESENCE_SCORE = -0.2  # a face this confident shows that the candidate is there
PERSON_SCORE = 0.25  # an additional face must be this confident to count as another person
PERSON_MIN_FRACTION = 0.14  # ... and at least this wide, relative to the frame's width
IDENTITY_MIN_PIXELS = 90  # face width (working pixels) below which an embedding is not trusted
MATCH_DISTANCE = 0.6  # dlib's usual threshold: below it, the same person


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
    """Every face candidate (counted ones first, each group strongest first), and the dlib
    rectangles (working pixels) of the counted ones, the candidate's own face first.

    The strongest candidate above `PRESENCE_SCORE` shows that someone is there; any further
    face counts as another person only when it is both confident (`PERSON_SCORE`) and large
    (`PERSON_MIN_FRACTION`): badges, photos on cards and textures fall below one or the other.
    The candidate's own face (listed first) is the largest confident one.
    """
    rects, scores, _ = models.detector.run(image.gray, 0, SCAN_THRESHOLD)
    found = sorted(zip(rects, scores, strict=True), key=lambda rs: -float(rs[1]))
    counted: list[Face] = []
    noted: list[Face] = []
    kept: list[object] = []
    for rect, raw_score in found:
        score = float(raw_score)
        fraction = rect.width() / WORK_WIDTH
        box = (
            round(rect.left() / image.scale),
            round(rect.top() / image.scale),
            round(rect.width() / image.scale),
            round(rect.height() / image.scale),
        )
        note = ""
        if score < PRESENCE_SCORE:
            note = "weak detection"
        elif kept and score < PERSON_SCORE:
            note = "weak detection"
        elif kept and fraction < PERSON_MIN_FRACTION:
            note = "too small to be a person"
        if note:
            noted.append(Face(box, score, fraction, False, note))
        else:
            counted.append(Face(box, score, fraction, True))
            kept.append(rect)
    # the candidate sits nearest the camera: of the confident faces, the largest is theirs (a
    # sharper face on a poster behind them must not take their place)
    confident = [i for i, f in enumerate(counted) if f.score >= PERSON_SCORE]
    if confident:
        first = max(confident, key=lambda i: counted[i].fraction)
        order = [first] + [i for i in range(len(counted)) if i != first]
        counted = [counted[i] for i in order]
        kept = [kept[i] for i in order]
    return counted + noted, kept


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
