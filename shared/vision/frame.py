"""Everything the analysis sees in one image: faces, head pose, gaze, identity descriptor,
quality, and the change since the previous frame. Pure (no I/O, no clock besides timings)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from shared.vision.faces import (
    IDENTITY_MIN_PIXELS,
    Face,
    Prepared,
    detect_faces,
    embedding,
    landmarks68,
    prepare,
)
from shared.vision.gaze import Gaze, gaze_direction
from shared.vision.image_header import check_image
from shared.vision.models import FaceModels, load_models
from shared.vision.pose import HeadPose, head_pose
from shared.vision.quality import (
    DEFAULT_THRESHOLDS,
    FrameChange,
    Quality,
    QualityThresholds,
    frame_change,
    measure_quality,
    signature,
)


@dataclass(frozen=True, slots=True)
class FrameAnalysis:
    width: int
    height: int
    faces: list[Face]  # counted faces first (the candidate's own first), then noted ones
    pose: HeadPose | None  # of the candidate's face
    quality: Quality
    embedding: list[float] | None  # of the candidate's face, when large and sharp enough
    signature: np.ndarray  # a small grey copy, to compare with the next frame
    change: FrameChange | None  # against the previous frame, when one was given
    gaze: Gaze | None = None  # where the candidate's eyes look (head pose + iris)
    timings: dict[str, float] = field(default_factory=dict)  # milliseconds per step

    @property
    def face_count(self) -> int:
        return sum(1 for f in self.faces if f.counted)

    def as_dict(self) -> dict[str, Any]:
        """Figures for evidence records and the command line (JSON-ready)."""
        return {
            "width": self.width,
            "height": self.height,
            "faces": self.face_count,
            "face_boxes": [
                {
                    "box": list(f.box),
                    "score": round(f.score, 3),
                    "fraction": round(f.fraction, 3),
                    "counted": f.counted,
                    **({"note": f.note} if f.note else {}),
                }
                for f in self.faces
            ],
            "pose": None
            if self.pose is None
            else {"yaw": self.pose.yaw, "pitch": self.pose.pitch, "roll": self.pose.roll},
            "gaze": None if self.gaze is None else self.gaze.as_dict(),
            "quality": self.quality.as_dict(),
            "change": None if self.change is None else self.change.as_dict(),
        }


def decode_image(data: bytes) -> np.ndarray | None:
    """JPEG or PNG bytes to a BGR array; None when they are not a decodable image, or when
    their header declares a size out of bounds (checked before decoding: `image_header`)."""
    if not data or not check_image(data, png=True).ok:
        return None
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    return image if image is not None and image.size else None


def eye_angle(points: np.ndarray) -> float:
    """The slope (radians) of the line through the outer eye corners of 68 landmarks."""
    dx, dy = points[45] - points[36]
    return float(np.arctan2(dy, dx))


def analyze_image(
    image_bgr: np.ndarray,
    models: FaceModels | None = None,
    *,
    thresholds: QualityThresholds = DEFAULT_THRESHOLDS,
    embed: bool | Callable[[list[Face]], bool] = True,
    previous: np.ndarray | None = None,
) -> FrameAnalysis:
    """Analyse one BGR image. `previous` is the signature of the frame before (for freezing);
    `embed=False` skips the identity descriptor, the slowest step; a callable decides from
    the faces found (for example: only when the face moved since the last descriptor)."""
    models = models or load_models()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    image: Prepared = prepare(image_bgr)
    t1 = time.perf_counter()
    faces, rects = detect_faces(models, image)
    t2 = time.perf_counter()
    timings["prepare"] = (t1 - t0) * 1000
    timings["detect"] = (t2 - t1) * 1000
    pose: HeadPose | None = None
    seen: Gaze | None = None
    work_box: tuple[int, int, int, int] | None = None
    descriptor: list[float] | None = None
    if rects:
        rect: Any = rects[0]
        work_box = (rect.left(), rect.top(), rect.width(), rect.height())
        points = landmarks68(models, image, rect)
        pose = head_pose(points, image.gray.shape[1], image.gray.shape[0])
        t3 = time.perf_counter()
        timings["pose"] = (t3 - t2) * 1000
        t2 = t3
        if pose is not None and len(rects) == 1:
            # with two faces, whose gaze it is is unclear: not judged (see rules.conditions)
            eyes = models.mesh.eyes(image.rgb, work_box, eye_angle(points))
            seen = gaze_direction(pose, eyes)
            t3 = time.perf_counter()
            timings["gaze"] = (t3 - t2) * 1000
            t2 = t3
    quality = measure_quality(image.gray, work_box, thresholds)
    sig = signature(image.gray)
    change = frame_change(previous, sig) if previous is not None else None
    t3 = time.perf_counter()
    timings["quality"] = (t3 - t2) * 1000
    if rects and work_box is not None and work_box[2] >= IDENTITY_MIN_PIXELS and quality.ok:
        if embed is True or (callable(embed) and embed(faces)):
            descriptor = [float(v) for v in embedding(models, image, rects[0])]
            timings["embed"] = (time.perf_counter() - t3) * 1000
    return FrameAnalysis(
        width=image.width,
        height=image.height,
        faces=faces,
        pose=pose,
        quality=quality,
        embedding=descriptor,
        signature=sig,
        change=change,
        gaze=seen,
        timings=timings,
    )
