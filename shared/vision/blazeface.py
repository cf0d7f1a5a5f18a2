"""MediaPipe's BlazeFace detectors (full range and short range) run by OpenCV's DNN module.

The full-range model (192×192 input, one 48×48 grid of anchors) finds faces down to about 1/20 of
the frame's width: a second person further back in the room, a face across a group. The
short-range model (128×128, 896 anchors) is better at a face that fills most of the frame
(someone leaning into the camera). Both run on a letterboxed copy of the working image; their
boxes are merged (non-maximum suppression). Scores are probabilities (0–1).

The full-range model is fully convolutional but for the sizes of its three upsampling steps,
which its file holds as constants: with those set for fewer rows (`full_range_rows`), it runs
on 192 × 160 for a 4:3 frame (144 rows of picture) instead of 192 × 192 with 48 rows of black,
17 % less work (a 16:9 frame: 192 × 128, a third less). Its anchors are then the square's first
rows. A portrait image still gets the square, and so does every image on OpenCV's DNN module
(the fallback runtime reads only model files as shipped).

The model files ship inside this package (`shared/vision/data/`, Apache-2.0, see
LICENSE-MODELS.txt); `runtime.py` runs them (LiteRT when installed, else OpenCV's DNN module).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import cv2
import numpy as np

from shared.vision.runtime import Runtime, TFLiteModel, model_bytes, model_path

NMS_OVERLAP = 0.3  # boxes overlapping more than this (IoU) are one face
# The short-range model only adds faces that fill much of the frame, which the full range misses:
# it is not run when the full range already found a sure face at least this wide (of the square)
SURE = 0.5
SHORT_SKIP_FRACTION = 0.1
FULL_RANGE = "face_detection_full_range.tflite"
FULL_SIZE = 192
FULL_OUTPUTS = ("reshaped_regressor_face_4", "reshaped_classifier_face_4")
STRIDE = 32  # the full-range model's coarsest stride: its input's rows are a multiple of it
SNAPSHOT = (480, 640)  # height, width of the client's snapshots (4:3)
UPSAMPLED = (12, 24, 48)  # the rows (and columns) of its upsampling steps' outputs at 192 rows


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
    net: TFLiteModel  # outputs: regressors, classifiers
    size: int
    anchors: np.ndarray
    rows: int  # of its input (`size` but for the full-range model set for fewer rows)


def _load(
    name: str, size: int, anchors: np.ndarray, outputs: tuple[str, str], runtime: Runtime | None
) -> _Model:
    return _Model(TFLiteModel(model_path(name), outputs, runtime), size, anchors, size)


def full_range_rows(content: bytes, rows: int) -> bytes | None:
    """The full-range model's file `content` set for an input of `rows` × 192 (`rows` a
    multiple of `STRIDE`): each upsampling step's output size, a constant int32 pair (n, n)
    stored as an 8-byte buffer, becomes (n · rows / 192, n). None when the file does not hold
    each of them exactly once (another model file)."""
    out = bytearray(content)
    for n in UPSAMPLED:
        pattern = struct.pack("<3i", 8, n, n)  # the buffer's length, then its two values
        at = content.find(pattern)
        if at < 0 or content.find(pattern, at + 1) >= 0:
            return None
        out[at + 4 : at + 12] = struct.pack("<2i", n * rows // FULL_SIZE, n)
    return bytes(out)


def input_rows(height: int, width: int, size: int = FULL_SIZE) -> int:
    """The full-range model's input rows for an image of this size: its picture's rows once
    scaled to `size` on its longer side, rounded up to a multiple of `STRIDE`."""
    picture = max(1, round(height * size / max(height, width)))
    return min(size, -(-picture // STRIDE) * STRIDE)


class BlazeFace:
    """Both BlazeFace models, loaded once (`shared.vision.models.load_models`). `fit_rows`:
    the full-range model runs on as many rows as the picture needs, on LiteRT (False: always
    the square, for comparison in `bench/vision_speed.py`)."""

    def __init__(
        self, skip_short: bool = True, runtime: Runtime | None = None, fit_rows: bool = True
    ) -> None:
        self.skip_short = skip_short
        self.fit_rows = fit_rows
        self._runtime = runtime
        self._anchors_full = _anchors(FULL_SIZE, (4,), (1,))
        self._full = _load(FULL_RANGE, FULL_SIZE, self._anchors_full, FULL_OUTPUTS, runtime)
        self._by_rows: dict[int, _Model] = {FULL_SIZE: self._full}
        self._content: bytes | None = None
        self._short = _load(
            "face_detection_short_range.tflite",
            128,
            _anchors(128, (8, 16), (2, 6)),
            ("regressors", "classificators"),
            runtime,
        )
        self.runtime = self._full.net.runtime
        if fit_rows:
            self._full_for(*SNAPSHOT)  # made now: the first snapshot does not wait for it

    def detect(self, image_rgb: np.ndarray, threshold: float) -> list[Detection]:
        """Faces scoring at least `threshold`, strongest first."""
        side = max(image_rgb.shape[:2])
        boxes, scores = self._run(self._full_for(*image_rgb.shape[:2]), image_rgb, threshold)
        seen = any(
            score >= SURE and box[2] >= SHORT_SKIP_FRACTION * side
            for box, score in zip(boxes, scores, strict=True)
        )
        if not (self.skip_short and seen):
            found_boxes, found_scores = self._run(self._short, image_rgb, threshold)
            boxes.extend(found_boxes)
            scores.extend(found_scores)
        if not boxes:
            return []
        keep = np.array(cv2.dnn.NMSBoxes(boxes, scores, threshold, NMS_OVERLAP)).ravel()
        found = [Detection((b[0], b[1], b[2], b[3]), scores[i]) for i in keep for b in [boxes[i]]]
        return sorted(found, key=lambda d: -d.score)

    def _full_for(self, height: int, width: int) -> _Model:
        """The full-range model for an image of this size (made on first use, then kept; two
        threads making it at once make two, and one is kept)."""
        fit = self.fit_rows and self.runtime == "litert"
        rows = input_rows(height, width) if fit else FULL_SIZE
        model = self._by_rows.get(rows)
        if model is not None:
            return model
        if self._content is None:
            self._content = model_bytes(FULL_RANGE)
        content = full_range_rows(self._content, rows)
        if content is None:  # another model file: the square
            return self._by_rows.setdefault(rows, self._full)
        net = TFLiteModel(
            model_path(FULL_RANGE),
            FULL_OUTPUTS,
            self._runtime,
            content=content,
            shape=(1, rows, FULL_SIZE, 3),
        )
        anchors = self._anchors_full[: (rows // 4) * (FULL_SIZE // 4)]
        return self._by_rows.setdefault(rows, _Model(net, FULL_SIZE, anchors, rows))

    def _run(
        self, model: _Model, image_rgb: np.ndarray, threshold: float
    ) -> tuple[list[list[float]], list[float]]:
        regressors, classifiers = model.net.run(_square(image_rgb, model.size, model.rows))
        side = max(image_rgb.shape[:2])
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


def _square(image_rgb: np.ndarray, size: int, rows: int | None = None) -> np.ndarray:
    """The model's input (1 × rows × size × 3, values -1 to 1; `rows` = `size` by default): the
    image scaled so that its longer side is `size`, at the top left of a black square, or of its
    first `rows` (the boxes then scale back by one factor). Scaled before it is padded: the
    padding is never resampled."""
    height, width = image_rgb.shape[:2]
    side = max(height, width)
    scaled = (max(1, round(width * size / side)), max(1, round(height * size / side)))
    interpolation = cv2.INTER_AREA if side > size else cv2.INTER_LINEAR
    small = cv2.resize(image_rgb, scaled, interpolation=interpolation)
    out = np.full((1, rows or size, size, 3), -1.0, dtype=np.float32)
    out[0, : scaled[1], : scaled[0]] = small.astype(np.float32) / 127.5 - 1.0
    return out
