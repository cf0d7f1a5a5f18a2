"""The environment check (R10, R11): each check with a pass/warn/fail mark, the measured
figure, and what to do; a progress bar while the checks run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from proctor_client.ui.base import (
    FAIL_COLOUR,
    PASS_COLOUR,
    WARN_COLOUR,
    Screen,
    body_label,
    title_label,
)

STATUSES = ("pending", "running", "pass", "warn", "fail")
_MARKS = {
    "pending": ("○", "#888888"),
    "running": ("…", "#1565c0"),
    "pass": ("✔", PASS_COLOUR),
    "warn": ("▲", WARN_COLOUR),
    "fail": ("✘", FAIL_COLOUR),
}


@dataclass(frozen=True)
class CheckRow:
    """One line of the check list, as plain data (built from the check runner's results)."""

    check_id: str
    status: str  # one of STATUSES
    figure: str = ""  # the measured value, already formatted ("12.4 Mb/s", "1280×720")
    advice: str = ""  # an advice key; translated by `check_advice`, shown as is when unknown
    required: bool = True


def check_title(check_id: str) -> str:
    titles = {
        "os": QCoreApplication.translate("CheckTexts", "Operating system"),
        "camera": QCoreApplication.translate("CheckTexts", "Camera"),
        "microphone": QCoreApplication.translate("CheckTexts", "Microphone"),
        "bandwidth": QCoreApplication.translate("CheckTexts", "Download speed (at least 1 Mb/s)"),
        "server": QCoreApplication.translate("CheckTexts", "Connection to the exam server"),
        "latency": QCoreApplication.translate("CheckTexts", "Connection stability"),
        "screens": QCoreApplication.translate("CheckTexts", "Screens"),
        "virtual_machine": QCoreApplication.translate("CheckTexts", "Virtual machine"),
    }
    return titles.get(check_id, check_id)


def check_advice(key: str) -> str:
    advice = {
        "ok": "",
        "camera_missing": QCoreApplication.translate(
            "CheckTexts", "Connect a camera and close other programs that use it."
        ),
        "camera_virtual": QCoreApplication.translate(
            "CheckTexts", "Use a real camera; virtual cameras are not allowed."
        ),
        "camera_dark": QCoreApplication.translate(
            "CheckTexts", "The picture is very dark: turn on a light or open the lens cover."
        ),
        "microphone_missing": QCoreApplication.translate(
            "CheckTexts", "Connect a microphone and allow this app to use it."
        ),
        "microphone_silent": QCoreApplication.translate(
            "CheckTexts", "The microphone hears nothing: unmute it or raise its volume."
        ),
        "os_unsupported": QCoreApplication.translate(
            "CheckTexts", "Use Windows 7 or later, or macOS, on a laptop or desktop."
        ),
        "bandwidth_low": QCoreApplication.translate(
            "CheckTexts", "Use a faster network, or stop downloads and videos on it."
        ),
        "server_unreachable": QCoreApplication.translate(
            "CheckTexts", "Check the server address and your network connection."
        ),
        "unstable": QCoreApplication.translate(
            "CheckTexts", "Your connection is unstable: use a wired network if you can."
        ),
        "extra_screen": QCoreApplication.translate(
            "CheckTexts", "Disconnect every screen but one before the exam."
        ),
        "virtual_machine": QCoreApplication.translate(
            "CheckTexts", "Run the app on the computer itself, not in a virtual machine."
        ),
    }
    return advice.get(key, key)


class CheckScreen(Screen):
    rerun_requested = Signal()
    continue_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[CheckRow] = []
        self._running = False
        self._title = title_label()
        self._intro = body_label()
        self._progress = QProgressBar()
        self._progress.setTextVisible(False)
        self._grid_host = QWidget()
        self._grid = QGridLayout(self._grid_host)
        self._grid.setColumnStretch(2, 1)
        self._grid.setHorizontalSpacing(16)
        self._summary = body_label()
        self._rerun = QPushButton()
        self._rerun.clicked.connect(self.rerun_requested)
        self._continue = QPushButton()
        self._continue.clicked.connect(self.continue_requested)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self._rerun)
        buttons.addWidget(self._continue)
        layout = QVBoxLayout(self)
        layout.addWidget(self._title)
        layout.addWidget(self._intro)
        layout.addWidget(self._progress)
        layout.addWidget(self._grid_host)
        layout.addWidget(self._summary)
        layout.addStretch(1)
        layout.addLayout(buttons)
        self.retranslate()

    def set_rows(self, rows: Sequence[CheckRow], *, running: bool) -> None:
        for row in rows:
            if row.status not in STATUSES:
                raise ValueError(f"unknown check status {row.status!r}")
        self._rows = list(rows)
        self._running = running
        self._render()

    def retranslate(self) -> None:
        self._title.setText(self.tr("Check your computer"))
        self._intro.setText(
            self.tr(
                "The exam needs a laptop or desktop with a camera and a microphone, "
                "and a stable network of at least 1 Mb/s."
            )
        )
        self._rerun.setText(self.tr("Check again"))
        self._continue.setText(self.tr("Continue"))
        self._render()

    def status_text(self, status: str) -> str:
        return {
            "pending": self.tr("Waiting"),
            "running": self.tr("Checking…"),
            "pass": self.tr("Passed"),
            "warn": self.tr("Warning"),
            "fail": self.tr("Failed"),
        }[status]

    def _render(self) -> None:
        while self._grid.count():
            item = self._grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        done = sum(1 for r in self._rows if r.status in ("pass", "warn", "fail"))
        total = len(self._rows)
        self._progress.setVisible(self._running)
        if self._running:
            self._progress.setRange(0, total or 0)
            self._progress.setValue(done)
        for i, row in enumerate(self._rows):
            mark, colour = _MARKS[row.status]
            icon = QLabel(mark)
            icon.setObjectName(f"mark-{row.check_id}")
            icon.setStyleSheet(f"color: {colour}; font-size: 18px; font-weight: bold;")
            icon.setToolTip(self.status_text(row.status))
            name = QLabel(check_title(row.check_id))
            name.setStyleSheet("font-weight: bold;")
            figure = QLabel(row.figure)
            advice_text = check_advice(row.advice) if row.status in ("warn", "fail") else ""
            advice = QLabel(advice_text or self.status_text(row.status))
            advice.setWordWrap(True)
            if row.status in ("warn", "fail"):
                advice.setStyleSheet(f"color: {colour};")
            self._grid.addWidget(icon, i, 0, Qt.AlignmentFlag.AlignTop)
            self._grid.addWidget(name, i, 1, Qt.AlignmentFlag.AlignTop)
            self._grid.addWidget(advice, i, 2, Qt.AlignmentFlag.AlignTop)
            self._grid.addWidget(
                figure, i, 3, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignRight
            )
        failed = [r for r in self._rows if r.status == "fail" and r.required]
        if self._running:
            self._summary.setText(
                self.tr("Checked {done} of {total}…").format(done=done, total=total)
            )
        elif not self._rows:
            self._summary.setText("")
        elif failed:
            self._summary.setText(self.tr("Fix the failed checks, then check again."))
            self._summary.setStyleSheet(f"color: {FAIL_COLOUR}; font-weight: bold;")
        else:
            self._summary.setText(self.tr("Your computer is ready for the exam."))
            self._summary.setStyleSheet(f"color: {PASS_COLOUR}; font-weight: bold;")
        if self._running:
            self._summary.setStyleSheet("")
        self._rerun.setEnabled(not self._running)
        self._continue.setEnabled(not self._running)

    def advice_texts(self) -> list[str]:
        """The visible advice, in row order (for tests and accessibility)."""
        return [check_advice(r.advice) for r in self._rows if r.status in ("warn", "fail")]
