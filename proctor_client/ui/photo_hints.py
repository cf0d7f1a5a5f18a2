"""Cheap local hints on an identity photo before it is sent (no Qt, no face detection).

The server decides whether the photo is accepted; these hints only help the candidate take a
better one. They use the same image-quality measure as the server (`shared.vision.quality`),
on the same working width, so a hint here foretells a refusal there.
"""

from __future__ import annotations

from enum import StrEnum

import cv2
import numpy as np
import numpy.typing as npt

from shared.vision.faces import WORK_WIDTH
from shared.vision.quality import measure_quality


class PhotoHint(StrEnum):
    COVERED = "covered"  # black or flat: the lens is covered or the camera shows nothing
    TOO_DARK = "too_dark"
    TOO_BRIGHT = "too_bright"
    BLURRED = "blurred"


_FROM_QUALITY = {
    "black": PhotoHint.COVERED,
    "covered": PhotoHint.COVERED,
    "dark": PhotoHint.TOO_DARK,
    "bright": PhotoHint.TOO_BRIGHT,
    "blurred": PhotoHint.BLURRED,
}


def working_grey(frame: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """H×W grey or H×W×3 BGR -> grey at the analysis' working width."""
    if frame.ndim == 3 and frame.shape[2] == 3 and frame.size:
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    elif frame.ndim == 2 and frame.size:
        grey = frame
    else:
        raise ValueError(f"expected an H×W or H×W×3 image, got shape {frame.shape}")
    height, width = grey.shape
    if width != WORK_WIDTH:
        size = (WORK_WIDTH, max(1, round(height * WORK_WIDTH / width)))
        interpolation = cv2.INTER_AREA if width > WORK_WIDTH else cv2.INTER_LINEAR
        grey = cv2.resize(grey, size, interpolation=interpolation)
    return np.ascontiguousarray(grey, dtype=np.uint8)


def photo_hints(frame: npt.NDArray[np.uint8]) -> list[PhotoHint]:
    """What is wrong with this frame as an identity photo; empty when nothing obvious is."""
    quality = measure_quality(working_grey(frame))
    hints: list[PhotoHint] = []
    for reason in quality.reasons:
        hint = _FROM_QUALITY.get(reason)
        if hint is not None and hint not in hints:
            hints.append(hint)
    return hints


def encode_jpeg(frame: npt.NDArray[np.uint8], quality: int = 90) -> bytes:
    """A BGR frame as JPEG bytes (what the identity photo is sent as)."""
    ok, buffer = cv2.imencode(".jpg", frame, [int(cv2.IMWRITE_JPEG_QUALITY), quality])
    if not ok:
        raise ValueError("the frame could not be encoded as JPEG")
    return bytes(buffer.tobytes())
