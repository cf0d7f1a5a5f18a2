"""A camera preview: BGR numpy frames shown scaled in a label."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QImage, QPixmap, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


def frame_to_qimage(frame: npt.NDArray[np.uint8]) -> QImage:
    """Copy an H×W×3 BGR uint8 frame into a QImage that owns its pixels."""
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError(f"expected an H×W×3 uint8 frame, got {frame.shape} {frame.dtype}")
    frame = np.ascontiguousarray(frame)
    height, width, _ = frame.shape
    image = QImage(frame.data, width, height, 3 * width, QImage.Format.Format_BGR888)
    return image.copy()  # detach from the numpy buffer


class CameraView(QLabel):
    """Shows the last frame given, kept to its aspect ratio."""

    frame_shown = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(QSize(320, 240))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setStyleSheet("background: #202020; color: #dddddd;")
        self._image: QImage | None = None
        self.frames_shown = 0

    def set_frame(self, frame: npt.NDArray[np.uint8]) -> None:
        self._image = frame_to_qimage(frame)
        self.frames_shown += 1
        self._show()
        self.frame_shown.emit()

    def clear_frame(self) -> None:
        self._image = None
        self.clear()

    def current_image(self) -> QImage | None:
        return self._image

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._show()

    def _show(self) -> None:
        if self._image is None:
            return
        pixmap = QPixmap.fromImage(self._image).scaled(
            self.size(),
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        self.setPixmap(pixmap)


class SelfView(CameraView):
    """A small view of the candidate's own camera (what the proctor sees), for the waiting
    room and the exam: a few frames a second, thumbnail-sized."""

    SIZE = QSize(176, 132)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("self-view")
        self.setMinimumSize(self.SIZE)
        self.setFixedSize(self.SIZE)
        self.setStyleSheet("background: #202020; border: 2px solid #ffffff; border-radius: 4px;")
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
