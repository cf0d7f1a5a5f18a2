"""What analysis at 10× the JPEG decode would cost: the two ways of running less model work
per snapshot, measured by `vision_speed.py` (time) and `vision_eval.py --variant` (accuracy),
kept out of the product (docs/detection.md, "What 10× would cost").

- `small-detector`: the full-range detector on a picture 160 px on its longer side (a 4:3
  frame: 160 × 120 in a 160 × 128 input, against 192 × 144 in 192 × 160): the model file's
  upsampling sizes set for both the rows and the columns, the square's anchors cut to that
  grid; faces are 5/6 as large to the model, and the 640 → 160 resize is a whole factor.
- `one-eye`: the iris model on the nearer eye only (the wider one, corner to corner; the
  other one too when the nearer one is shut).
- `both`: the two together.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, replace
from typing import Literal

import cv2
import numpy as np

from shared.vision.blazeface import (
    FULL_OUTPUTS,
    FULL_RANGE,
    FULL_SIZE,
    STRIDE,
    UPSAMPLED,
    BlazeFace,
)
from shared.vision.gaze import EyePoints, eye_offset
from shared.vision.mesh import FaceMesh
from shared.vision.models import FaceModels
from shared.vision.runtime import TFLiteModel, model_bytes, model_path

Variant = Literal["small-detector", "one-eye", "both"]
VARIANTS: tuple[Variant, ...] = ("small-detector", "one-eye", "both")
PICTURE = 160  # the small detector's picture: its longer side, in the model's pixels


def with_variant(models: FaceModels, variant: Variant) -> FaceModels:
    """`models` with the variant's detector and face mesh (LiteRT only for the detector)."""
    out = models
    if variant in ("small-detector", "both"):
        out = replace(out, blazeface=SmallDetector(runtime=models.blazeface.runtime))
    if variant in ("one-eye", "both"):
        out = replace(out, mesh=OneEyeMesh(runtime=models.mesh.runtime))
    return out


def resized(content: bytes, rows: int, cols: int) -> bytes:
    """The full-range model set for an input of rows × cols (multiples of `STRIDE`)."""
    out = bytearray(content)
    for n in UPSAMPLED:
        at = content.find(struct.pack("<3i", 8, n, n))
        if at < 0:
            raise ValueError("not the full-range model file")
        out[at + 4 : at + 12] = struct.pack("<2i", n * rows // FULL_SIZE, n * cols // FULL_SIZE)
    return bytes(out)


@dataclass(frozen=True, slots=True)
class _Small:
    net: TFLiteModel
    anchors: np.ndarray
    rows: int
    cols: int
    size: int = FULL_SIZE  # the regressors' unit, as the square's


class SmallDetector(BlazeFace):
    """BlazeFace with the full-range model on a picture `PICTURE` px on its longer side."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(fit_rows=False, **kwargs)  # type: ignore[arg-type]
        self._small: dict[tuple[int, int], _Small] = {}

    def _full_for(self, height: int, width: int) -> _Small:  # type: ignore[override]
        found = self._small.get((height, width))
        if found is not None:
            return found
        side = max(height, width)
        pw, ph = round(width * PICTURE / side), round(height * PICTURE / side)
        cols, rows = -(-pw // STRIDE) * STRIDE, -(-ph // STRIDE) * STRIDE
        net = TFLiteModel(
            model_path(FULL_RANGE),
            FULL_OUTPUTS,
            content=resized(model_bytes(FULL_RANGE), rows, cols),
            shape=(1, rows, cols, 3),
        )
        cells = FULL_SIZE // 4
        grid = self._anchors_full.reshape(cells, cells, 2)[: rows // 4, : cols // 4]
        model = _Small(net, np.ascontiguousarray(grid.reshape(-1, 2)), rows, cols)
        self._small[(height, width)] = model
        return model

    def _run(  # type: ignore[override]
        self, model: _Small, image_rgb: np.ndarray, threshold: float
    ) -> tuple[list[list[float]], list[float]]:
        if not isinstance(model, _Small):  # the short-range model
            return super()._run(model, image_rgb, threshold)
        height, width = image_rgb.shape[:2]
        side = max(height, width)
        pw, ph = round(width * PICTURE / side), round(height * PICTURE / side)
        small = cv2.resize(image_rgb, (pw, ph), interpolation=cv2.INTER_AREA)
        batch = np.full((1, model.rows, model.cols, 3), -1.0, dtype=np.float32)
        batch[0, :ph, :pw] = small.astype(np.float32) / 127.5 - 1.0
        regressors, classifiers = model.net.run(batch)
        probability = 1.0 / (1.0 + np.exp(-np.clip(classifiers.reshape(-1), -80.0, 80.0)))
        chosen = np.nonzero(probability >= threshold)[0]
        raw = regressors.reshape(len(model.anchors), -1)[chosen, :4] / FULL_SIZE
        centre = raw[:, :2] + model.anchors[chosen]
        scale = side * FULL_SIZE / PICTURE  # anchors and regressors are in 192ths
        corner = (centre - raw[:, 2:4] / 2) * scale
        boxes = [
            [float(x), float(y), float(w), float(h)]
            for (x, y), (w, h) in zip(corner, raw[:, 2:4] * scale, strict=True)
        ]
        return boxes, [float(p) for p in probability[chosen]]


class OneEyeMesh(FaceMesh):
    """The face mesh, and the iris model on the nearer eye only (the wider one, corner to
    corner, of those `FaceMesh.eyes` would measure)."""

    def eyes(
        self,
        image_rgb: np.ndarray,
        box: tuple[int, int, int, int],
        angle: float = 0.0,
        mesh: np.ndarray | None = None,
    ) -> list[EyePoints]:
        corners = self.eye_corners(image_rgb, box, angle, mesh)
        if not corners:
            return []
        corners.sort(key=lambda c: -math.hypot(c[2][0] - c[1][0], c[2][1] - c[1][1]))
        for index, left, right in corners:  # the other eye only when the nearer one is shut
            eye = self.eye(image_rgb, left, right, mirrored=index == 1)
            if eye_offset(eye).measurable:
                return [eye]
        return [eye]
