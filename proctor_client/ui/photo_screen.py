"""The identity photo (R14): a live preview, capture, local hints (too dark, blurred), retake,
send; then the server's verdict. The verdict comes from the server only."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from proctor_client.ui import texts
from proctor_client.ui.base import FAIL_COLOUR, WARN_COLOUR, Screen, body_label, title_label
from proctor_client.ui.camera_view import CameraView
from proctor_client.ui.photo_hints import PhotoHint, encode_jpeg, photo_hints

LIVE, CAPTURED, SENDING, REFUSED = "live", "captured", "sending", "refused"


class PhotoScreen(Screen):
    photo_confirmed = Signal(bytes)  # the JPEG to send

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.phase = LIVE
        self._captured: npt.NDArray[np.uint8] | None = None
        self._hints: list[PhotoHint] = []
        self._reasons: list[str] = []
        self._codes: list[str] = []
        self._camera_problem = ""
        self._title = title_label()
        self._intro = body_label()
        self.preview = CameraView()
        self._status = body_label()
        self.capture_button = QPushButton()
        self.capture_button.clicked.connect(self.capture)
        self.retake_button = QPushButton()
        self.retake_button.clicked.connect(self.retake)
        self.send_button = QPushButton()
        self.send_button.clicked.connect(self._send)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.retake_button)
        buttons.addWidget(self.capture_button)
        buttons.addWidget(self.send_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self._title)
        layout.addWidget(self._intro)
        layout.addWidget(self.preview, 1)
        layout.addWidget(self._status)
        layout.addLayout(buttons)
        self.retranslate()

    # ------------------------------------------------------------ data in

    def set_frame(self, frame: npt.NDArray[np.uint8]) -> None:
        """A live frame from the camera; ignored once a photo is captured."""
        if self.phase == LIVE:
            self._last = frame
            self.preview.set_frame(frame)

    def set_camera_problem(self, text: str) -> None:
        self._camera_problem = text
        self._render()

    def set_sending(self) -> None:
        self.phase = SENDING
        self._render()

    def set_refused(self, reasons: Sequence[str], codes: Sequence[str] = ()) -> None:
        """The server refused the photo; show why (worded from `codes` where they are known,
        in the candidate's language) and offer a retake."""
        self.phase = REFUSED
        self._reasons = list(reasons)
        self._codes = list(codes) if len(codes) == len(reasons) else [""] * len(reasons)
        self._render()

    def reset(self) -> None:
        self.retake()

    # ------------------------------------------------------------ actions

    def capture(self) -> None:
        frame = getattr(self, "_last", None)
        if frame is None or self.phase != LIVE:
            return
        self._captured = frame.copy()
        self._hints = photo_hints(self._captured)
        self.phase = CAPTURED
        self._render()

    def retake(self) -> None:
        self._captured = None
        self._hints = []
        self._reasons = []
        self._codes = []
        self.phase = LIVE
        self._render()

    def _send(self) -> None:
        if self._captured is None or self.phase != CAPTURED:
            return
        jpeg = encode_jpeg(self._captured)
        self.set_sending()
        self.photo_confirmed.emit(jpeg)

    @property
    def hints(self) -> list[PhotoHint]:
        return list(self._hints)

    # ------------------------------------------------------------ texts

    def retranslate(self) -> None:
        self._title.setText(self.tr("Identity photo"))
        self._intro.setText(
            self.tr(
                "Look straight into the camera with your whole face visible and nobody else "
                "in the picture. The photo is compared with your registration."
            )
        )
        self.capture_button.setText(self.tr("Take the photo"))
        self.retake_button.setText(self.tr("Retake"))
        self.send_button.setText(self.tr("Use this photo"))
        self._render()

    def status_text(self) -> str:
        return self._status.text()

    def _render(self) -> None:
        lines: list[str] = []
        colour = ""
        if self._camera_problem:
            lines.append(self._camera_problem)
            colour = FAIL_COLOUR
        if self.phase == LIVE:
            lines.append(self.tr("When you are ready, take the photo."))
        elif self.phase == CAPTURED:
            if self._hints:
                lines.extend(texts.photo_hint(h) for h in self._hints)
                lines.append(self.tr("You may retake the photo, or use it anyway."))
                colour = WARN_COLOUR
            else:
                lines.append(self.tr("The photo looks good. Use it, or retake it."))
        elif self.phase == SENDING:
            lines.append(self.tr("Checking your photo…"))
        elif self.phase == REFUSED:
            lines.append(self.tr("The photo was not accepted:"))
            lines.extend(
                texts.identity_reason(r, c) for r, c in zip(self._reasons, self._codes, strict=True)
            )
            lines.append(self.tr("Please retake it."))
            colour = FAIL_COLOUR
        self._status.setText("\n".join(lines))
        self._status.setStyleSheet(f"color: {colour};" if colour else "")
        self.capture_button.setVisible(self.phase == LIVE)
        self.capture_button.setEnabled(not self._camera_problem)
        self.retake_button.setVisible(self.phase in (CAPTURED, REFUSED))
        self.send_button.setVisible(self.phase == CAPTURED)
