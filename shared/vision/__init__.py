"""Pure image and audio analysis that the client and the server both use: faces (dlib HOG
detection, landmarks, embeddings), head pose, image quality, frozen feeds, voice activity.

No I/O and no downloads: the models ship in installed packages and load once per process.
"""

from shared.vision.faces import MATCH_DISTANCE, Face, face_distance
from shared.vision.frame import FrameAnalysis, analyze_image, decode_image
from shared.vision.models import FaceModels, ModelsUnavailable, load_models
from shared.vision.pose import HeadPose, head_pose
from shared.vision.quality import (
    DEFAULT_THRESHOLDS,
    FrameChange,
    Quality,
    QualityThresholds,
    frame_change,
    measure_quality,
)

__all__ = [
    "DEFAULT_THRESHOLDS",
    "MATCH_DISTANCE",
    "Face",
    "FaceModels",
    "FrameAnalysis",
    "FrameChange",
    "HeadPose",
    "ModelsUnavailable",
    "Quality",
    "QualityThresholds",
    "analyze_image",
    "decode_image",
    "face_distance",
    "frame_change",
    "head_pose",
    "load_models",
    "measure_quality",
]
