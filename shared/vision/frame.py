"""Everything the analysis sees in one image: faces, head pose, gaze, identity descriptor,
quality, and the change since the previous frame. Pure (no I/O, no clock besides timings)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import cv2
import numpy as np

from shared.vision.faces import (
    IDENTITY_MIN_PIXELS,
    REFLECTION_MIN_PIXELS,
    Face,
    Prepared,
    detect_faces,
    embedding,
    landmarks68,
    prepare,
)
from shared.vision.gaze import Gaze, gaze_direction
from shared.vision.image_header import check_image
from shared.vision.mesh import LEFT_EYE, MESH_PRESENCE, RIGHT_EYE
from shared.vision.models import FaceModels, load_models
from shared.vision.pose import MESH_INDEX, HeadPose, head_pose
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
    # descriptors of the other counted faces (same order), when large enough: a face that is the
    # candidate's own (a reflection) is told apart by it (rules.reflections)
    others: list[list[float] | None] = field(default_factory=list)
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


def _wide(rect: object) -> bool:
    """A face wide enough for its descriptor to tell the candidate's reflection apart."""
    return bool(cast(Any, rect).width() >= REFLECTION_MIN_PIXELS)


TILTED = 0.15  # radians (≈ 9°): a head tilted more gets a second mesh pass, levelled


def face_mesh(
    models: FaceModels, image: Prepared, box: tuple[int, int, int, int]
) -> np.ndarray | None:
    """The face mesh's 468 points for the face in `box`, or None when the mesh does not take
    it for a face. The mesh wants the eyes level: a tilted head is measured again, turned."""
    score, points = models.mesh.run(image.rgb, box)
    if score < MESH_PRESENCE:
        return None
    angle = eye_angle(points)
    if abs(angle) > TILTED:
        score, points = models.mesh.run(image.rgb, box, angle)
        if score < MESH_PRESENCE:
            return None
    return points


def eye_angle(points: np.ndarray) -> float:
    """The slope (radians) of the line through the outer eye corners of the face mesh."""
    dx, dy = points[RIGHT_EYE[1]] - points[LEFT_EYE[0]]
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
    quality = measure_quality(image.gray, work_box, thresholds)
    sig = signature(image.gray)
    change = frame_change(previous, sig) if previous is not None else None
    t3 = time.perf_counter()
    timings["quality"] = (t3 - t2) * 1000
    t2 = t3
    if rects and work_box is not None:
        size = (image.gray.shape[1], image.gray.shape[0])
        mesh = face_mesh(models, image, work_box)
        if mesh is not None:
            pose = head_pose(mesh, *size, index=MESH_INDEX)
        else:  # the mesh does not take it for a face (a mask, a hand): dlib's landmarks
            pose = head_pose(landmarks68(models, image, rects[0]), *size)
        t3 = time.perf_counter()
        timings["pose"] = (t3 - t2) * 1000
        t2 = t3
        # the eyes only where their direction is judged (rules.conditions): one face (with
        # two, whose gaze it is is unclear) in a good picture (a poor one judges no gaze)
        if mesh is not None and pose is not None and len(rects) == 1 and quality.ok:
            seen = gaze_direction(pose, models.mesh.eyes(image.rgb, work_box, mesh=mesh))
            t3 = time.perf_counter()
            timings["gaze"] = (t3 - t2) * 1000
            t2 = t3
    # another face wide enough to be described: the candidate's descriptor is needed too, to
    # tell a reflection apart (rules.reflections); a narrower one is not compared
    mirror = embed is not False and quality.ok and any(_wide(r) for r in rects[1:])
    if rects and work_box is not None and work_box[2] >= IDENTITY_MIN_PIXELS and quality.ok:
        if embed is True or mirror or (callable(embed) and embed(faces)):
            descriptor = [float(v) for v in embedding(models, image, rects[0])]
            timings["embed"] = (time.perf_counter() - t3) * 1000
    others: list[list[float] | None] = []
    if len(rects) >= 2 and embed is not False and quality.ok:
        # rare (two faces in view) and needed on every such frame: a reflection of the
        # candidate must not count as another person on the frames that skip their descriptor
        t4 = time.perf_counter()
        for rect in rects[1:]:
            others.append(
                [float(v) for v in embedding(models, image, rect)] if _wide(rect) else None
            )
        if mirror:
            timings["others"] = (time.perf_counter() - t4) * 1000
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
        others=others,
        timings=timings,
    )
