"""JPEG snapshots: a camera frame scaled to fit 640×480 and encoded at quality ~80."""

from __future__ import annotations

import cv2
import numpy as np

from proctor_client.devices.base import Frame

SNAPSHOT_SIZE = (640, 480)
SNAPSHOT_QUALITY = 80


def fit_within(frame: Frame, size: tuple[int, int] = SNAPSHOT_SIZE) -> Frame:
    """Scale down (never up) keeping the aspect ratio so the frame fits inside ``size``."""
    height, width = frame.shape[:2]
    scale = min(size[0] / width, size[1] / height, 1.0)
    if scale >= 1.0:
        return frame
    target = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(frame, target, interpolation=cv2.INTER_AREA)


def encode_jpeg(
    frame: Frame, *, quality: int = SNAPSHOT_QUALITY, size: tuple[int, int] | None = SNAPSHOT_SIZE
) -> bytes:
    """Encode a BGR frame as JPEG bytes (scaled to fit ``size`` first unless it is None)."""
    if frame.dtype != np.uint8 or frame.ndim not in (2, 3) or frame.size == 0:
        raise ValueError("a frame must be a non-empty uint8 image")
    image = fit_within(frame, size) if size else frame
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError("the frame could not be encoded as JPEG")
    return bytes(data.tobytes())
