"""The score as soon as the exam ends (R17): score, maximum, pass or fail; for a trial, a
practice score that counts for nothing and a way to run it again."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from proctor_client.runtime.model import FinishReason
from proctor_client.ui import texts
from proctor_client.ui.base import FAIL_COLOUR, PASS_COLOUR, Screen, body_label, title_label


@dataclass(frozen=True)
class ResultView:
    score: int
    max_score: int
    passed: bool
    reason: FinishReason = FinishReason.SUBMITTED
    trial: bool = False


class ResultScreen(Screen):
    again_requested = Signal()  # run the trial again
    close_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._view: ResultView | None = None
        self._title = title_label()
        self.score_label = QLabel()
        self.score_label.setObjectName("score")
        self.score_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.verdict = QLabel()
        self.verdict.setObjectName("verdict")
        self.verdict.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._reason = body_label()
        self._reason.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._note = body_label()
        self.again_button = QPushButton()
        self.again_button.clicked.connect(self.again_requested)
        self.close_button = QPushButton()
        self.close_button.clicked.connect(self.close_requested)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.again_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self._title)
        layout.addSpacing(24)
        layout.addWidget(self.score_label)
        layout.addWidget(self.verdict)
        layout.addWidget(self._reason)
        layout.addSpacing(24)
        layout.addWidget(self._note)
        layout.addStretch(1)
        layout.addLayout(buttons)
        self.retranslate()

    def set_view(self, view: ResultView) -> None:
        self._view = view
        self.retranslate()

    def retranslate(self) -> None:
        view = self._view
        self.close_button.setText(self.tr("Close"))
        self.again_button.setText(self.tr("Run the trial again"))
        if view is None:
            self._title.setText(self.tr("Result"))
            return
        self._title.setText(self.tr("Trial result") if view.trial else self.tr("Your result"))
        self.score_label.setText(
            self.tr("{score} of {max} points").format(score=view.score, max=view.max_score)
        )
        self.score_label.setStyleSheet("font-size: 40px; font-weight: bold;")
        colour = PASS_COLOUR if view.passed else FAIL_COLOUR
        self.verdict.setText(self.tr("Passed") if view.passed else self.tr("Not passed"))
        self.verdict.setStyleSheet(f"font-size: 28px; font-weight: bold; color: {colour};")
        self._reason.setText(texts.result_reason(view.reason))
        if view.trial:
            note = self.tr(
                "This was the trial exam: nothing in it counts. "
                "You may run it again as often as you like."
            )
        elif view.passed:
            note = self.tr(
                "The result notice follows within 7 working days. The e-certificate can be "
                "looked up 3 working days after the exam; the paper certificate is mailed "
                "within 30 days."
            )
        else:
            note = self.tr(
                "The result notice follows within 7 working days. After a first attempt you "
                "may take one free retake within 3 months."
            )
        self._note.setText(note)
        self.again_button.setVisible(view.trial)
