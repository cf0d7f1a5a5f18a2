"""The trial exam's entry (R12): what it is for, and a button to run it (as often as wanted)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from proctor_client.ui.base import Screen, body_label, title_label


class TrialScreen(Screen):
    start_requested = Signal()
    back_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runs = 0
        self._title = title_label()
        self._intro = body_label()
        self._steps = body_label()
        self._runs_label = body_label()
        self.start_button = QPushButton()
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.start_requested)
        self.back_button = QPushButton()
        self.back_button.clicked.connect(self.back_requested)
        buttons = QHBoxLayout()
        buttons.addWidget(self.back_button)
        buttons.addStretch(1)
        buttons.addWidget(self.start_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self._title)
        layout.addWidget(self._intro)
        layout.addWidget(self._steps)
        layout.addWidget(self._runs_label)
        layout.addStretch(1)
        layout.addLayout(buttons)
        self.retranslate()

    def set_runs(self, runs: int) -> None:
        """How many trials were completed in this session (shown so a rerun is obvious)."""
        self._runs = runs
        self.retranslate()

    def retranslate(self) -> None:
        self._title.setText(self.tr("Trial exam"))
        self._intro.setText(
            self.tr(
                "The trial exam checks that you can log in, take the identity photo and "
                "answer questions. Its questions have nothing to do with the real exam and "
                "nothing in it counts. You may run it as often as you like before the exam."
            )
        )
        self._steps.setText(
            self.tr(
                "1. Take the identity photo.\n2. Answer a few practice questions.\n"
                "3. Submit and see a practice score."
            )
        )
        self._runs_label.setText(
            self.tr("Trials completed so far: {n}").format(n=self._runs) if self._runs else ""
        )
        self.start_button.setText(
            self.tr("Run the trial again") if self._runs else self.tr("Start the trial")
        )
        self.back_button.setText(self.tr("Back"))
