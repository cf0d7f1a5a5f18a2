"""The waiting room: the exam's start in server time, a countdown, and what is done already."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from proctor_client.ui.base import PASS_COLOUR, Screen, body_label, title_label
from proctor_client.ui.timefmt import format_countdown


@dataclass(frozen=True)
class WaitingView:
    exam_title: str
    starts_at_local: str  # the start, formatted in the candidate's time zone
    seconds_to_start: float | None
    identity_accepted: bool
    profile_saved: bool


class WaitingScreen(Screen):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._view: WaitingView | None = None
        self._title = title_label()
        self._exam = body_label()
        self._starts = body_label()
        self.countdown = QLabel()
        self.countdown.setObjectName("countdown")
        self.countdown.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.countdown.setStyleSheet("font-size: 48px; font-weight: bold; color: #1565c0;")
        self._countdown_caption = body_label()
        self._countdown_caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._steps = body_label()
        self._note = body_label()
        layout = QVBoxLayout(self)
        layout.addWidget(self._title)
        layout.addWidget(self._exam)
        layout.addWidget(self._starts)
        layout.addSpacing(24)
        layout.addWidget(self._countdown_caption)
        layout.addWidget(self.countdown)
        layout.addSpacing(24)
        layout.addWidget(self._steps)
        layout.addWidget(self._note)
        layout.addStretch(1)
        self.retranslate()

    def set_view(self, view: WaitingView) -> None:
        self._view = view
        self._render()

    def set_seconds_to_start(self, seconds: float | None) -> None:
        self.countdown.setText(format_countdown(seconds))

    def retranslate(self) -> None:
        self._title.setText(self.tr("Waiting room"))
        self._countdown_caption.setText(self.tr("The exam starts in"))
        self._note.setText(
            self.tr(
                "Stay in front of the camera. The questions appear by themselves when the "
                "exam starts; the time shown is the exam server's."
            )
        )
        self._render()

    def _render(self) -> None:
        view = self._view
        if view is None:
            return
        self._exam.setText(view.exam_title)
        self._starts.setText(self.tr("Start: {time}").format(time=view.starts_at_local))
        self.set_seconds_to_start(view.seconds_to_start)
        done, todo = "✔", "○"
        self._steps.setText(
            "\n".join(
                [
                    f"{done if view.identity_accepted else todo} "
                    + self.tr("Identity photo accepted"),
                    f"{done if view.profile_saved else todo} "
                    + self.tr("Postal address for the certificate saved"),
                ]
            )
        )
        self._steps.setStyleSheet(
            f"color: {PASS_COLOUR};" if view.identity_accepted and view.profile_saved else ""
        )
