"""MediaPipe's Face Mesh (468 landmarks) and Iris (eye contour and iris) models, run on the
candidate's face only, for gaze (`gaze.py`).

The pipeline is MediaPipe's: the face's box, enlarged 1.5× into a square turned so that the eyes
are level, goes to the mesh (192×192, values 0–1); each eye's corners from the mesh, enlarged
2.3× into a level square, go to the iris model (64×64; the image-right eye mirrored, the model
knows one eye). The iris model returns its own eye contour (corners, lids) and the iris, which
is what `gaze.eye_offset` measures.

The mesh's points also give the head pose (`pose.MESH_INDEX`): one pass serves both.

The model files ship in `shared/vision/data/` (Apache-2.0, see LICENSE-MODELS.txt); `runtime.py`
runs them (LiteRT when installed, else OpenCV's DNN module).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from shared.vision.gaze import MIN_EYE_PIXELS, EyePoints
from shared.vision.runtime import Runtime, TFLiteModel, model_path

MESH_SIZE = 192
IRIS_SIZE = 64
FACE_SCALE = 1.5  # the face box, enlarged, is the mesh's input (MediaPipe's ROI)
EYE_SCALE = 2.3  # an eye's corner-to-corner span, enlarged, is the iris model's input
MESH_PRESENCE = 0.5  # the mesh's own face score below which its landmarks are not used
# mesh landmark indexes of the eyes' corners: image-left eye (outer, inner), image-right eye
LEFT_EYE = (33, 133)
RIGHT_EYE = (362, 263)

Point = tuple[float, float]


def _crop_matrix(centre: Point, side: float, angle: float, size: int) -> np.ndarray:
    """The affine map from output pixels (size × size) to image pixels for a square of `side`
    pixels around `centre`, turned by `angle` radians (the eye line's slope)."""
    k = side / size
    c, s = math.cos(angle) * k, math.sin(angle) * k
    half = size / 2
    return np.array(
        [
            [c, -s, centre[0] - half * c + half * s],
            [s, c, centre[1] - half * s - half * c],
        ],
        dtype=np.float64,
    )


def _crop(image: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    return cv2.warpAffine(
        image,
        matrix,
        (size, size),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
    )


def _to_image(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Output-pixel points (n × 2) back to image pixels."""
    out: np.ndarray = points @ matrix[:, :2].T + matrix[:, 2]
    return out


def _batch(crop: np.ndarray) -> np.ndarray:
    """A crop as the models' input: 1 × size × size × 3, values 0–1."""
    return (crop.astype(np.float32) * (1 / 255.0))[None]


class FaceMesh:
    """The two models, loaded once (`shared.vision.models.load_models`)."""

    def __init__(self, runtime: Runtime | None = None) -> None:
        self._mesh = TFLiteModel(
            model_path("face_landmark.tflite"), ("conv2d_30", "conv2d_20"), runtime
        )
        self._iris = TFLiteModel(
            model_path("iris_landmark.tflite"),
            ("output_eyes_contours_and_brows", "output_iris"),
            runtime,
        )
        self.runtime = self._mesh.runtime

    def run(
        self, image_rgb: np.ndarray, box: tuple[int, int, int, int], angle: float = 0.0
    ) -> tuple[float, np.ndarray]:
        """The mesh's own face score (0–1) for the face in `box` (x, y, w, h), with the eyes'
        slope `angle` (radians), and its 468 points (x, y) in image pixels."""
        x, y, w, h = box
        matrix = _crop_matrix((x + w / 2, y + h / 2), FACE_SCALE * max(w, h), angle, MESH_SIZE)
        flag, points = self._mesh.run(_batch(_crop(image_rgb, matrix, MESH_SIZE)))
        score = 1.0 / (1.0 + math.exp(-max(-80.0, min(80.0, float(flag.ravel()[-1])))))
        return score, _to_image(points.reshape(-1, 3)[:, :2].astype(np.float64), matrix)

    def landmarks(
        self, image_rgb: np.ndarray, box: tuple[int, int, int, int], angle: float = 0.0
    ) -> np.ndarray | None:
        """The mesh's 468 points, or None when the mesh does not see a face there."""
        score, points = self.run(image_rgb, box, angle)
        return points if score >= MESH_PRESENCE else None

    def eye(
        self, image_rgb: np.ndarray, left: Point, right: Point, mirrored: bool = False
    ) -> EyePoints:
        """The eye whose corners are `left` and `right` (image pixels, image-left first);
        `mirrored` for the image-right eye (the model knows the image-left one: the other is
        mirrored in and out)."""
        centre = ((left[0] + right[0]) / 2, (left[1] + right[1]) / 2)
        span = math.hypot(right[0] - left[0], right[1] - left[1])
        angle = math.atan2(right[1] - left[1], right[0] - left[0])
        matrix = _crop_matrix(centre, EYE_SCALE * max(span, 1.0), angle, IRIS_SIZE)
        crop = _crop(image_rgb, matrix, IRIS_SIZE)
        if mirrored:
            crop = np.ascontiguousarray(crop[:, ::-1])
        contour, iris = self._iris.run(_batch(crop))
        contour = contour.reshape(-1, 3)[:, :2].astype(np.float64)
        iris = iris.reshape(-1, 3)[:, :2].astype(np.float64)
        if mirrored:
            contour[:, 0] = IRIS_SIZE - contour[:, 0]
            iris[:, 0] = IRIS_SIZE - iris[:, 0]
        contour = _to_image(contour, matrix)
        iris = _to_image(iris, matrix)
        corners = sorted((tuple(contour[0]), tuple(contour[8])))
        radius = float(np.mean(np.linalg.norm(iris[1:] - iris[0], axis=1)))
        return EyePoints(
            image_right=mirrored,
            left=(float(corners[0][0]), float(corners[0][1])),
            right=(float(corners[1][0]), float(corners[1][1])),
            upper=(float(contour[12][0]), float(contour[12][1])),
            lower=(float(contour[4][0]), float(contour[4][1])),
            iris=(float(iris[0][0]), float(iris[0][1])),
            iris_radius=radius,
        )

    def eye_corners(
        self,
        image_rgb: np.ndarray,
        box: tuple[int, int, int, int],
        angle: float = 0.0,
        mesh: np.ndarray | None = None,
    ) -> list[tuple[int, Point, Point]]:
        """The corners (left, right) of each eye of the face in `box` that can be measured,
        with its index (0: the image-left eye), from the face mesh (`mesh`, when the caller
        already ran it); an eye cut by the frame's edge is left out, and so is an eye too
        small to measure."""
        points = mesh if mesh is not None else self.landmarks(image_rgb, box, angle)
        if points is None:
            return []
        corners = (
            _ordered(points[LEFT_EYE[0]], points[LEFT_EYE[1]]),
            _ordered(points[RIGHT_EYE[0]], points[RIGHT_EYE[1]]),
        )
        height, width = image_rgb.shape[:2]
        return [
            (index, left, right)
            for index, (left, right) in enumerate(corners)
            if _inside(left, right, width, height)
            and math.hypot(right[0] - left[0], right[1] - left[1]) >= MIN_EYE_PIXELS
        ]

    def eyes(
        self,
        image_rgb: np.ndarray,
        box: tuple[int, int, int, int],
        angle: float = 0.0,
        mesh: np.ndarray | None = None,
    ) -> list[EyePoints]:
        """Both eyes of the face in `box` (the image-left one first) that `eye_corners` finds
        measurable (the iris model is not run for the others)."""
        return [
            self.eye(image_rgb, left, right, mirrored=index == 1)
            for index, left, right in self.eye_corners(image_rgb, box, angle, mesh)
        ]


def _inside(left: Point, right: Point, width: int, height: int) -> bool:
    """Both corners, and half the eye's width around them, inside the image (an eye cut by
    the frame's edge gives no iris position)."""
    margin = math.hypot(right[0] - left[0], right[1] - left[1]) / 2
    return all(
        margin <= x <= width - margin and margin <= y <= height - margin for x, y in (left, right)
    )


def _ordered(a: np.ndarray, b: np.ndarray) -> tuple[Point, Point]:
    pa, pb = (float(a[0]), float(a[1])), (float(b[0]), float(b[1]))
    return (pa, pb) if pa[0] <= pb[0] else (pb, pa)
