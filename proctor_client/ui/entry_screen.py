"""The first screen: the server address and the admission ticket, and the ways on from here
(check the computer, run the trial exam, enter the exam)."""

from __future__ import annotations

from PySide6.QtCore import Signal, SignalInstance
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from proctor_client.ui.base import FAIL_COLOUR, Screen, body_label, title_label


class EntryScreen(Screen):
    check_requested = Signal()
    trial_requested = Signal(str, str)  # server URL, ticket
    enter_requested = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._title = title_label()
        self._intro = body_label()
        self.server = QLineEdit()
        self.server.setObjectName("server")
        self.server.setPlaceholderText("https://exam.example.com")
        self.ticket = QLineEdit()
        self.ticket.setObjectName("ticket")
        self._server_label = QLabel()
        self._ticket_label = QLabel()
        self._problem = body_label()
        self._problem.setStyleSheet(f"color: {FAIL_COLOUR};")
        form = QFormLayout()
        form.addRow(self._server_label, self.server)
        form.addRow(self._ticket_label, self.ticket)
        self.check_button = QPushButton()
        self.check_button.clicked.connect(self.check_requested)
        self.trial_button = QPushButton()
        self.trial_button.clicked.connect(lambda: self._go(self.trial_requested))
        self.enter_button = QPushButton()
        self.enter_button.setDefault(True)
        self.enter_button.clicked.connect(lambda: self._go(self.enter_requested))
        self.ticket.returnPressed.connect(self.enter_button.click)
        buttons = QHBoxLayout()
        buttons.addWidget(self.check_button)
        buttons.addWidget(self.trial_button)
        buttons.addStretch(1)
        buttons.addWidget(self.enter_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self._title)
        layout.addWidget(self._intro)
        layout.addSpacing(12)
        layout.addLayout(form)
        layout.addWidget(self._problem)
        layout.addStretch(1)
        layout.addLayout(buttons)
        self._missing: str | None = None
        self.retranslate()

    def set_values(self, server: str, ticket: str) -> None:
        self.server.setText(server)
        self.ticket.setText(ticket)

    def set_busy(self, busy: bool) -> None:
        for button in (self.check_button, self.trial_button, self.enter_button):
            button.setEnabled(not busy)

    def _go(self, signal: SignalInstance) -> None:
        server, ticket = self.server.text().strip(), "".join(self.ticket.text().split())
        if not server:
            self._missing = "server"
        elif not ticket:
            self._missing = "ticket"
        else:
            self._missing = None
        self._show_problem()
        if self._missing is None:
            signal.emit(server, ticket)

    def _show_problem(self) -> None:
        texts = {
            "server": self.tr("Enter the server address from your exam notice."),
            "ticket": self.tr("Enter the admission ticket from your exam notice."),
        }
        self._problem.setText(texts.get(self._missing or "", ""))

    def retranslate(self) -> None:
        self._title.setText(self.tr("Online exam"))
        self._intro.setText(
            self.tr(
                "Enter the server address and the admission ticket from your exam notice. "
                "Check your computer and run the trial exam before the exam day."
            )
        )
        self._server_label.setText(self.tr("Server address"))
        self._ticket_label.setText(self.tr("Admission ticket"))
        self.ticket.setPlaceholderText(self.tr("Paste the ticket here"))
        self.check_button.setText(self.tr("Check my computer"))
        self.trial_button.setText(self.tr("Trial exam"))
        self.enter_button.setText(self.tr("Enter the exam"))
        self._show_problem()
