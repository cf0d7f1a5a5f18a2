"""The dlib models, loaded once per process on first use (thread-safe).

Everything ships inside installed packages: the face detectors, face mesh and iris models are
MediaPipe's, shipped in this package (`shared/vision/data/`, run by LiteRT or OpenCV:
`runtime.py`), the landmark and embedding networks come from the `face-recognition-models`
package (run by dlib), and dlib's HOG detector stays available for comparison
(`bench/vision_speed.py`). Nothing is downloaded at run time.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Any

import cv2

from shared.errors import ProctorError
from shared.vision.blazeface import BlazeFace
from shared.vision.mesh import FaceMesh
from shared.vision.runtime import Runtime


class ModelsUnavailable(ProctorError):
    """dlib or the model files are missing: install the `server` or `client` extra."""


@dataclass(frozen=True, slots=True)
class FaceModels:
    detector: Any  # dlib.fhog_object_detector (for comparison only)
    blazeface: BlazeFace
    landmarks5: Any  # dlib.shape_predictor
    landmarks68: Any  # dlib.shape_predictor
    encoder: Any  # dlib.face_recognition_model_v1
    mesh: FaceMesh  # MediaPipe's face mesh and iris models (gaze)


_lock = threading.Lock()
_models: FaceModels | None = None


def load_models() -> FaceModels:
    """The process's models; the first call loads them (about two seconds)."""
    global _models
    models = _models
    if models is not None:
        return models
    with _lock:
        if _models is None:
            _models = _load()
        return _models


def _load() -> FaceModels:
    try:
        import dlib
        import face_recognition_models as frm
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ModelsUnavailable(
            f"face analysis needs dlib and face-recognition-models ({exc.name} is missing)"
        ) from exc
    try:
        return FaceModels(
            detector=dlib.get_frontal_face_detector(),
            blazeface=BlazeFace(),
            landmarks5=dlib.shape_predictor(frm.pose_predictor_five_point_model_location()),
            landmarks68=dlib.shape_predictor(frm.pose_predictor_model_location()),
            encoder=dlib.face_recognition_model_v1(frm.face_recognition_model_location()),
            mesh=FaceMesh(),
        )
    except (RuntimeError, cv2.error) as exc:  # pragma: no cover - a damaged installation
        raise ModelsUnavailable(f"the face model files could not be loaded: {exc}") from exc


def with_runtime(models: FaceModels, runtime: Runtime) -> FaceModels:
    """The same models with the TFLite ones (BlazeFace, mesh, iris) run by `runtime` (to
    compare the runtimes: `bench/vision_speed.py`, `bench/vision_eval.py`)."""
    return replace(models, blazeface=BlazeFace(runtime=runtime), mesh=FaceMesh(runtime=runtime))


def rectangle(box: tuple[int, int, int, int]) -> Any:
    """A dlib rectangle (for the landmark and descriptor models) from an (x, y, w, h) box."""
    import dlib

    x, y, w, h = box
    return dlib.rectangle(int(x), int(y), int(x + w - 1), int(y + h - 1))
