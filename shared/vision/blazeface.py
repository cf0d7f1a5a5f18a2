"""MediaPipe's BlazeFace detectors (full range and short range) run by OpenCV's DNN module.

The full-range model (192×192 input, one 48×48 grid of anchors) finds faces down to about 1/20 of
the frame's width: a second person further back in the room, a face across a group. The
short-range model (128×128, 896 anchors) is better at a face that fills most of the frame
(someone leaning into the camera). Both run on a square, letterboxed copy of the working image;
their boxes are merged (non-maximum suppression). Scores are probabilities (0–1).

The model files ship inside this package (`shared/vision/data/`, Apache-2.0, see
LICENSE-MODELS.txt). OpenCV's classic DNN engine runs them (the new engine of OpenCV 5 returns
only the first output); a net is not safe to share between threads, hence the lock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

DATA = Path(__file__).resolve().parent / "data"
NMS_OVERLAP = 0.3  # boxes overlapping more than this (IoU) are one face
# The short-range model only adds faces that fill much of the frame, which the full range misses:
# it is not run when the full range already found a sure face at least this wide (of the square)
SURE = 0.5
SHORT_SKIP_FRACTION = 0.1


@dataclass(frozen=True, slots=True)
class Detection:
    box: tuple[float, float, float, float]  # x, y, w, h in the input image's pixels
    score: float  # probability 0-1


def _anchors(size: int, strides: tuple[int, ...], per_cell: tuple[int, ...]) -> np.ndarray:
    """Anchor centres (x, y) in 0-1, in the order the model's outputs use."""
    out: list[tuple[float, float]] = []
    for stride, count in zip(strides, per_cell, strict=True):
        cells = size // stride
        for y in range(cells):
            for x in range(cells):
                out.extend([((x + 0.5) / cells, (y + 0.5) / cells)] * count)
    return np.array(out, dtype=np.float32)


@dataclass(frozen=True, slots=True)
class _Model:
    net: cv2.dnn.Net
    size: int
    anchors: np.ndarray
    outputs: tuple[str, str]  # regressors, classifiers


def _load(name: str, size: int, anchors: np.ndarray, outputs: tuple[str, str]) -> _Model:
    net = cv2.dnn.readNetFromTFLite(str(DATA / name), engine=cv2.dnn.ENGINE_CLASSIC)
    return _Model(net, size, anchors, outputs)


class BlazeFace:
    """Both BlazeFace models, loaded once (`shared.vision.models.load_models`)."""

    def __init__(self, skip_short: bool = True) -> None:
        self.skip_short = skip_short
        self._lock = threading.Lock()
        self._full = _load(
            "face_detection_full_range.tflite",
            192,
            _anchors(192, (4,), (1,)),
            ("reshaped_regressor_face_4", "reshaped_classifier_face_4"),
        )
        self._short = _load(
            "face_detection_short_range.tflite",
            128,
            _anchors(128, (8, 16), (2, 6)),
            ("regressors", "classificators"),
        )

    def detect(self, image_rgb: np.ndarray, threshold: float) -> list[Detection]:
        """Faces scoring at least `threshold`, strongest first."""
        height, width = image_rgb.shape[:2]
        side = max(height, width)
        square = np.zeros((side, side, 3), dtype=np.uint8)
        square[:height, :width] = image_rgb
        boxes, scores = self._run(self._full, square, threshold)
        seen = any(
            score >= SURE and box[2] >= SHORT_SKIP_FRACTION * side
            for box, score in zip(boxes, scores, strict=True)
        )
        if not (self.skip_short and seen):
            found_boxes, found_scores = self._run(self._short, square, threshold)
            boxes.extend(found_boxes)
            scores.extend(found_scores)
        if not boxes:
            return []
        keep = np.array(cv2.dnn.NMSBoxes(boxes, scores, threshold, NMS_OVERLAP)).ravel()
        found = [Detection((b[0], b[1], b[2], b[3]), scores[i]) for i in keep for b in [boxes[i]]]
        return sorted(found, key=lambda d: -d.score)

    def _run(
        self, model: _Model, square: np.ndarray, threshold: float
    ) -> tuple[list[list[float]], list[float]]:
        side = square.shape[0]
        interpolation = cv2.INTER_AREA if side > model.size else cv2.INTER_LINEAR
        small = cv2.resize(square, (model.size, model.size), interpolation=interpolation)
        rgb = small.astype(np.float32) / 127.5 - 1.0
        blob = np.ascontiguousarray(rgb.transpose(2, 0, 1)[None])
        with self._lock:
            model.net.setInput(blob)
            regressors, classifiers = model.net.forward(list(model.outputs))
        logits = np.clip(classifiers.reshape(-1), -80.0, 80.0)
        probability = 1.0 / (1.0 + np.exp(-logits))
        chosen = np.nonzero(probability >= threshold)[0]
        raw = regressors.reshape(len(model.anchors), -1)[chosen, :4] / model.size
        centre = raw[:, :2] + model.anchors[chosen]
        size = raw[:, 2:4]
        corner = (centre - size / 2) * side
        boxes = [
            [float(x), float(y), float(w), float(h)]
            for (x, y), (w, h) in zip(corner, size * side, strict=True)
        ]
        return boxes, [float(p) for p in probability[chosen]]
