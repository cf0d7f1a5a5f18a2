"""Clear screens for what stops the candidate: `entry_not_open`, `entry_closed`, `bad_ticket`,
`exam_over`, a server that cannot be reached, and an exam the proctor terminated."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from proctor_client.runtime.model import FinishReason
from proctor_client.ui import texts
from proctor_client.ui.base import FAIL_COLOUR, WARN_COLOUR, Screen, body_label, title_label

# Codes after which trying again can help (the rest end the way in).
RETRYABLE = frozenset({"entry_not_open", "unreachable", "bad_ticket", "internal_error"})


class MessageScreen(Screen):
    retry_requested = Signal()
    back_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._code = ""
        self._detail = ""
        self._icon = QLabel("!")
        self._icon.setFixedSize(56, 56)
        self._title = title_label()
        self._advice = body_label()
        self._detail_label = body_label()
        self._detail_label.setStyleSheet("color: #555555;")
        self.retry_button = QPushButton()
        self.retry_button.clicked.connect(self.retry_requested)
        self.back_button = QPushButton()
        self.back_button.clicked.connect(self.back_requested)
        head = QHBoxLayout()
        head.addWidget(self._icon)
        head.addWidget(self._title, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.back_button)
        buttons.addStretch(1)
        buttons.addWidget(self.retry_button)
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self._advice)
        layout.addWidget(self._detail_label)
        layout.addStretch(1)
        layout.addLayout(buttons)
        self.retranslate()

    @property
    def code(self) -> str:
        return self._code

    def show_error(self, code: str, detail: str = "") -> None:
        """`code` is a wire error code, `unreachable` or FinishReason.TERMINATED; `detail` the
        server's words."""
        self._code = code
        self._detail = detail
        self.retranslate()

    def _detail_text(self, code: str) -> str:
        """The proctor's reason, the connection's technical detail, or (for a code this app
        cannot word itself) the server's own words; a known refusal needs none."""
        if not self._detail:
            return ""
        if code == FinishReason.TERMINATED:
            return self.tr("The proctor's reason: {text}").format(text=self._detail)
        if code == "unreachable":
            return self.tr("Technical detail: {text}").format(text=self._detail)
        if code in texts.KNOWN_CODES:
            return ""
        return self.tr("Server message: {text}").format(text=self._detail)

    def title_text(self) -> str:
        return self._title.text()

    def retranslate(self) -> None:
        code = self._code
        if code == FinishReason.TERMINATED:
            title = self.tr("Your exam was ended by the proctor")
            advice = self.tr(
                "The proctor terminated this attempt. Your answers saved up to now are kept. "
                "Contact the exam staff if you believe this is a mistake."
            )
        else:
            title = texts.error_title(code)
            advice = texts.error_advice(code)
        self._title.setText(title)
        self._advice.setText(advice)
        self._detail_label.setText(self._detail_text(code))
        colour = WARN_COLOUR if code in ("entry_not_open", "unreachable") else FAIL_COLOUR
        self._icon.setStyleSheet(
            f"background: {colour}; color: white; border-radius: 28px;"
            "font-size: 32px; font-weight: bold; qproperty-alignment: AlignCenter;"
        )
        self.retry_button.setText(self.tr("Try again"))
        self.retry_button.setVisible(code in RETRYABLE)
        self.back_button.setText(self.tr("Back to the start"))


class BusyScreen(Screen):
    """Connecting, or waiting for the result after submitting."""

    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._what = "connecting"
        self._title = title_label()
        self._detail = body_label()
        self.cancel_button = QPushButton()
        self.cancel_button.clicked.connect(self.cancel_requested)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self._title)
        layout.addWidget(self._detail)
        layout.addStretch(2)
        layout.addLayout(buttons)
        self.retranslate()

    def show_busy(self, what: str) -> None:
        """`connecting`, or why the paper was handed in (FinishReason SUBMITTED, TIME_UP)."""
        self._what = what
        self.retranslate()

    def retranslate(self) -> None:
        if self._what == FinishReason.SUBMITTED:
            self._title.setText(self.tr("Your answers were handed in"))
            self._detail.setText(self.tr("Waiting for your score…"))
        elif self._what == FinishReason.TIME_UP:
            self._title.setText(self.tr("Time is up"))
            self._detail.setText(
                self.tr("Your saved answers were handed in. Waiting for your score…")
            )
        else:
            self._title.setText(self.tr("Connecting to the exam server…"))
            self._detail.setText(self.tr("This usually takes a few seconds."))
        self.cancel_button.setText(self.tr("Cancel"))
        self.cancel_button.setVisible(self._what == "connecting")
