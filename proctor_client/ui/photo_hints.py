"""Cheap local hints on an identity photo before it is sent (no Qt, numpy only).

The server decides whether the photo is accepted; these hints only help the candidate take a
better one: too dark, too bright, blurred. Thresholds are on 8-bit grey levels.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import numpy.typing as npt

DARK_MEAN = 60.0  # mean grey level below which the face is hard to see
BRIGHT_MEAN = 215.0  # mean grey level above which the picture is washed out
BLUR_VARIANCE = 60.0  # variance of the Laplacian below which the picture is blurred


class PhotoHint(StrEnum):
    TOO_DARK = "too_dark"
    TOO_BRIGHT = "too_bright"
    BLURRED = "blurred"


def grey(frame: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """An H×W float image from H×W grey or H×W×3 (BGR or RGB: the weights differ little)."""
    if frame.ndim == 2:
        return frame.astype(np.float32)
    if frame.ndim == 3 and frame.shape[2] in (3, 4):
        rgb = frame[:, :, :3].astype(np.float32)
        return rgb.mean(axis=2)
    raise ValueError(f"expected an H×W or H×W×3 image, got shape {frame.shape}")


def laplacian_variance(image: npt.NDArray[np.float32]) -> float:
    """Variance of the 4-neighbour Laplacian: low when the picture has no sharp edges."""
    if image.shape[0] < 3 or image.shape[1] < 3:
        return 0.0
    centre = image[1:-1, 1:-1]
    lap = image[:-2, 1:-1] + image[2:, 1:-1] + image[1:-1, :-2] + image[1:-1, 2:] - 4.0 * centre
    return float(lap.var())


def photo_hints(frame: npt.NDArray[np.uint8]) -> list[PhotoHint]:
    """What is wrong with this frame as an identity photo; empty when nothing obvious is."""
    image = grey(frame)
    if image.size == 0:
        raise ValueError("empty image")
    # Downscale large frames by striding: the checks need only a coarse picture.
    step = max(1, min(image.shape[0], image.shape[1]) // 240)
    small = image[::step, ::step]
    hints: list[PhotoHint] = []
    mean = float(small.mean())
    if mean < DARK_MEAN:
        hints.append(PhotoHint.TOO_DARK)
    elif mean > BRIGHT_MEAN:
        hints.append(PhotoHint.TOO_BRIGHT)
    if laplacian_variance(small) < BLUR_VARIANCE:
        hints.append(PhotoHint.BLURRED)
    return hints


def encode_jpeg(frame: npt.NDArray[np.uint8], quality: int = 90) -> bytes:
    """A BGR frame as JPEG bytes (what the identity photo is sent as)."""
    import cv2

    ok, buffer = cv2.imencode(".jpg", frame, [int(cv2.IMWRITE_JPEG_QUALITY), quality])
    if not ok:
        raise ValueError("the frame could not be encoded as JPEG")
    return bytes(buffer.tobytes())
