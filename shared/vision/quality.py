"""Is this image good enough to judge from? Brightness, contrast, sharpness, a covered lens,
a black frame, and a frozen feed (two frames identical beyond sensor noise).

A poor image is "low evidence quality": it is never read as cheating. Face absence, identity
and gaze are only judged on images that pass (see `shared.vision.frame`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import cv2
import numpy as np

FACE_PATCH = 128  # the face is measured at this width, so sharpness compares across sizes
SIGNATURE_WIDTH = 320  # frames are compared for freezing at this width
FRAME_SHARPNESS = 0.125  # a whole frame's sharpness limit, relative to a face's


@dataclass(frozen=True, slots=True)
class QualityThresholds:
    """Limits for one candidate; `calibrated` moves them towards that candidate's own camera."""

    dark: float = 40.0  # mean grey level (0–255) of the face, or the frame without a face
    bright: float = 235.0  # ... above which the face is washed out
    sharpness: float = 2.0  # `measure_sharpness` of the face patch (frame: x FRAME_SHARPNESS)
    covered_std: float = 7.0  # a frame flatter than this (grey-level spread) shows nothing
    black: float = 8.0  # a frame whose 99th-percentile grey level is below this is black

    def calibrated(self, brightness: float | None, sharpness: float | None) -> QualityThresholds:
        """Thresholds for a candidate whose identity photo measured these figures: a dim or
        soft camera that was good enough to recognise the face on entry stays good enough."""
        out = self
        if brightness is not None:
            out = replace(out, dark=max(20.0, min(self.dark, 0.5 * brightness)))
        if sharpness is not None:
            out = replace(out, sharpness=max(1.0, min(self.sharpness, 0.5 * sharpness)))
        return out


DEFAULT_THRESHOLDS = QualityThresholds()


@dataclass(frozen=True, slots=True)
class Quality:
    ok: bool
    brightness: float  # mean grey level of the face (or frame)
    contrast: float  # grey-level standard deviation of the frame
    sharpness: float  # `sharpness()` of the face patch (or frame)
    reasons: list[str] = field(default_factory=list)  # dark | bright | blurred | covered | black

    @property
    def black(self) -> bool:
        return "black" in self.reasons

    @property
    def covered(self) -> bool:
        return "covered" in self.reasons or "black" in self.reasons

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "brightness": round(self.brightness, 1),
            "contrast": round(self.contrast, 1),
            "sharpness": round(self.sharpness, 1),
            "reasons": list(self.reasons),
        }


def measure_quality(
    gray: np.ndarray,
    face_box: tuple[int, int, int, int] | None = None,
    thresholds: QualityThresholds = DEFAULT_THRESHOLDS,
) -> Quality:
    """Quality of a grey image (working size); `face_box` (x, y, w, h, same pixels) narrows
    brightness and sharpness to the face when there is one."""
    mean, deviation = cv2.meanStdDev(gray)
    contrast = float(deviation[0, 0])
    if face_box is not None:
        patch = _patch(gray, face_box)
        brightness = float(cv2.mean(patch)[0])
        sharpness = measure_sharpness(patch)
        limit = thresholds.sharpness
    else:
        brightness = float(mean[0, 0])
        sharpness = measure_sharpness(gray)
        # a frame holds flat walls as well as edges: only a blur that would hide a face (a
        # 4-pixel Gaussian and more, where the detector stops finding faces) counts
        limit = thresholds.sharpness * FRAME_SHARPNESS
    reasons: list[str] = []
    if _black(gray, thresholds.black):
        reasons.append("black")
    elif contrast < thresholds.covered_std and face_box is None:
        reasons.append("covered")
    else:
        if brightness < thresholds.dark:
            reasons.append("dark")
        elif brightness > thresholds.bright:
            reasons.append("bright")
        if sharpness < limit:
            reasons.append("blurred")
    return Quality(not reasons, brightness, contrast, sharpness, reasons)


def _black(gray: np.ndarray, level: float) -> bool:
    """The frame's 99th-percentile grey level is below `level`: at least 99 % of its pixels
    are (the same test as the percentile, without sorting or a histogram)."""
    return bool(np.count_nonzero(gray < level) >= 0.99 * gray.size)


def measure_sharpness(gray: np.ndarray) -> float:
    """Fine detail relative to the image's own contrast: the variance of the Laplacian of the
    image smoothed by a 1-pixel Gaussian (which removes sensor noise, that would otherwise look
    like detail), over the image's variance, x1000. Dividing by the variance keeps a dim image
    from passing for a blurred one. A sharp face patch measures about 12, the same face blurred
    by a 1.5-pixel Gaussian 4, by a 3-pixel one 1.3."""
    variance = float(cv2.meanStdDev(gray)[1][0, 0]) ** 2
    if variance < 1.0:
        return 0.0
    smooth = cv2.GaussianBlur(gray.astype(np.float32), (0, 0), 1.0)
    detail = float(cv2.meanStdDev(cv2.Laplacian(smooth, cv2.CV_32F))[1][0, 0]) ** 2
    return 1000.0 * detail / variance


def _patch(gray: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    x, y, w, h = box
    height, width = gray.shape[:2]
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(width, x + w), min(height, y + h)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return gray
    crop = gray[y0:y1, x0:x1]
    size = (FACE_PATCH, max(1, round(FACE_PATCH * (y1 - y0) / (x1 - x0))))
    return cv2.resize(crop, size, interpolation=cv2.INTER_AREA)


# ------------------------------------------------------------------ frozen feed


FROZEN_MEAN = 0.25  # mean absolute grey-level change below which two frames are the same
FROZEN_CHANGED = 0.0005  # ... and at most this fraction of pixels changed by more than 3 levels


def signature(gray: np.ndarray) -> np.ndarray:
    """A small copy of a frame, kept to compare with the next one."""
    height, width = gray.shape[:2]
    size = (SIGNATURE_WIDTH, max(1, round(height * SIGNATURE_WIDTH / width)))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA)


@dataclass(frozen=True, slots=True)
class FrameChange:
    mean: float  # mean absolute grey-level difference
    changed: float  # fraction of pixels that changed by more than 3 grey levels
    frozen: bool

    def as_dict(self) -> dict[str, object]:
        return {
            "mean": round(self.mean, 3),
            "changed": round(self.changed, 5),
            "frozen": self.frozen,
        }


def frame_change(previous: np.ndarray, current: np.ndarray) -> FrameChange | None:
    """How much a frame differs from the one before; None when they cannot be compared.

    A live camera never sends two identical frames: sensor noise alone changes many pixels by
    a few levels. A feed that repeats one picture (a frozen driver, a virtual camera showing a
    still) changes nothing, or only by JPEG rounding.
    """
    if previous.shape != current.shape:
        return None
    diff = cv2.absdiff(previous, current)
    mean = float(diff.mean())
    changed = float(np.count_nonzero(diff > 3)) / diff.size
    frozen = mean < FROZEN_MEAN and changed < FROZEN_CHANGED
    return FrameChange(mean, changed, frozen)
