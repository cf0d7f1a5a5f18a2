"""Head pose from 68 facial landmarks: `cv2.solvePnP` against a generic 3D face.

Angles in degrees. Yaw is positive when the nose turns towards the image's right (the
candidate's left), pitch positive when the nose turns down, roll positive clockwise in the
image. The generic model fits no one exactly: absolute pitch is off by some degrees per person,
which is why the looking-away rule measures from each candidate's calibrated neutral pose.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

# A generic face in millimetres (x right, y up, z towards the camera), nose tip at the origin;
# points: nose tip, chin, left eye outer corner, right eye outer corner, mouth left, mouth right
# ("left" is the image's left).
MODEL_POINTS = np.array(
    [
        (0.0, 0.0, 0.0),
        (0.0, -63.6, -12.5),
        (-43.3, 32.7, -26.0),
        (43.3, 32.7, -26.0),
        (-28.9, -28.9, -24.1),
        (28.9, -28.9, -24.1),
    ],
    dtype=np.float64,
)
LANDMARK_INDEX = (30, 8, 36, 45, 48, 54)  # in dlib's 68 landmarks
MESH_INDEX = (1, 152, 33, 263, 61, 291)  # the same points in MediaPipe's 468-point face mesh


@dataclass(frozen=True, slots=True)
class HeadPose:
    yaw: float
    pitch: float
    roll: float


def head_pose(
    points: np.ndarray, width: int, height: int, index: tuple[int, ...] = LANDMARK_INDEX
) -> HeadPose | None:
    """The head pose from 68 landmarks (or the face mesh's 468 with `index=MESH_INDEX`) in an
    image of the given size; None when it fails."""
    image_points = np.ascontiguousarray(points[list(index)], dtype=np.float64)
    focal = float(width)  # a typical webcam's field of view (about 53° across)
    camera = np.array([[focal, 0, width / 2], [0, focal, height / 2], [0, 0, 1]], dtype=np.float64)
    ok, rvec, _ = cv2.solvePnP(
        MODEL_POINTS, image_points, camera, np.zeros(4), flags=cv2.SOLVEPNP_ITERATIVE
    )
    if not ok:
        return None
    rotation, _ = cv2.Rodrigues(rvec)
    # the model's axes have y up; the camera's have y down: flip to read angles naturally
    r = np.diag([1.0, -1.0, -1.0]) @ rotation
    yaw = math.degrees(math.asin(max(-1.0, min(1.0, -r[2, 0]))))
    pitch = math.degrees(math.atan2(r[2, 1], r[2, 2]))
    roll = math.degrees(math.atan2(r[1, 0], r[0, 0]))
    return HeadPose(round(yaw, 1), round(_wrap(pitch), 1), round(roll, 1))


def _wrap(angle: float) -> float:
    """Angles near ±180° mean "facing the camera" for a model whose z points at it."""
    if angle > 90:
        return angle - 180
    if angle < -90:
        return angle + 180
    return angle
