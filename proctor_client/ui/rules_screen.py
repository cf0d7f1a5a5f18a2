"""The rules of conduct and what is recorded (R16), shown before entry; the candidate accepts
them explicitly, and the consent (naming `RULES_VERSION`) goes to the server with the attempt.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from proctor_client.core.conduct import RULES_VERSION
from proctor_client.ui.base import Screen, body_label, title_label

RETENTION_MONTHS = 12  # the server's default retention (`exam create --retention-days`, 365)


class RulesScreen(Screen):
    accepted = Signal(str)  # the version of the rules accepted
    back_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._title = title_label()
        self._sections: list[tuple[QLabel, QLabel]] = [
            (self._heading(), body_label()) for _ in range(4)
        ]
        self._version = body_label()
        self._version.setStyleSheet("color: #555555;")
        body = QWidget()
        column = QVBoxLayout(body)
        for heading, text in self._sections:
            column.addWidget(heading)
            column.addWidget(text)
        column.addWidget(self._version)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        self.agree = QCheckBox()
        self.agree.setObjectName("agree")
        self.agree.toggled.connect(self._update)
        self.accept_button = QPushButton()
        self.accept_button.setDefault(True)
        self.accept_button.clicked.connect(lambda: self.accepted.emit(RULES_VERSION))
        self.back_button = QPushButton()
        self.back_button.clicked.connect(self.back_requested)
        buttons = QHBoxLayout()
        buttons.addWidget(self.back_button)
        buttons.addStretch(1)
        buttons.addWidget(self.accept_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self._title)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.agree)
        layout.addLayout(buttons)
        self.retranslate()
        self._update()

    @staticmethod
    def _heading() -> QLabel:
        label = QLabel()
        font = label.font()
        font.setBold(True)
        label.setFont(font)
        return label

    def reset(self) -> None:
        """Shown again: the candidate ticks the box again."""
        self.agree.setChecked(False)

    def _update(self) -> None:
        self.accept_button.setEnabled(self.agree.isChecked())

    def texts(self) -> list[str]:
        """Every text on the screen (tests, screenshots)."""
        out = [self._title.text()]
        for heading, text in self._sections:
            out += [heading.text(), text.text()]
        return [*out, self._version.text(), self.agree.text()]

    def retranslate(self) -> None:
        self._title.setText(self.tr("Rules of conduct and what is recorded"))
        content = [
            (
                self.tr("Rules of conduct"),
                self.tr(
                    "• Take the exam alone, in a quiet and well-lit room; keep your face in "
                    "the camera's view.\n"
                    "• Keep the exam window on screen until you submit. Leaving it (another "
                    "window, minimising) is recorded automatically and uses one warning.\n"
                    "• Use one screen. Do not use a virtual machine, a virtual camera, "
                    "screen-recording, remote-desktop or screen-sharing software.\n"
                    "• No notes, books, phones or other people; do not talk to anyone.\n"
                    "• Do not copy, photograph or share the questions: the watermark on the "
                    "paper names you."
                ),
            ),
            (
                self.tr("What is recorded"),
                self.tr(
                    "• Your identity photo, and photos from your camera during the exam.\n"
                    "• Your camera and microphone, which the proctors can watch and hear live; "
                    "the video and sound of the seconds around each possible breach of these "
                    "rules are kept as evidence (the whole session too, where the exam body "
                    "records it).\n"
                    "• Screen signals: leaving the exam window, a screen connected, a virtual "
                    "machine or camera, screen-recording or remote-desktop programs running. "
                    "The contents of your screen are not recorded.\n"
                    "• Your answers and the time of each of your actions."
                ),
            ),
            (
                self.tr("How long it is kept"),
                self.tr(
                    "The recordings are kept for the period your exam body has set for the "
                    "exam ({months} months unless it has set another), so that results can be "
                    "checked and appeals decided, and then deleted."
                ).format(months=RETENTION_MONTHS),
            ),
            (
                self.tr("Who sees it"),
                self.tr(
                    "The proctors of your exam, during and after it, and the exam staff who "
                    "check results and decide appeals. It is not given to anyone else."
                ),
            ),
        ]
        for (heading, text), (head, body) in zip(self._sections, content, strict=True):
            heading.setText(head)
            text.setText(body)
        self._version.setText(self.tr("Rules version {version}").format(version=RULES_VERSION))
        self.agree.setText(
            self.tr(
                "I have read the rules of conduct and I agree that my camera, microphone and "
                "screen signals are recorded as described."
            )
        )
        self.accept_button.setText(self.tr("Accept and continue"))
        self.back_button.setText(self.tr("Back"))
