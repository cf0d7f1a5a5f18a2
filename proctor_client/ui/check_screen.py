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

from proctor_client.check.model import CheckResult
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
    """One line of the check list, as plain data (see `row_from_result`)."""

    check_id: str
    status: str  # one of STATUSES
    figure: float | int | str | None = None  # what was measured, in `unit`
    unit: str = ""  # formatted (and translated) when shown: "screens" -> "个屏幕"
    advice_key: str = ""  # translated by `check_advice`
    advice: str = ""  # the English advice, shown when the key is unknown
    required: bool = True

    @property
    def figure_text(self) -> str:
        return figure_text(self.figure, self.unit)


def row_from_result(result: CheckResult) -> CheckRow:
    return CheckRow(
        check_id=str(result.id),
        status=str(result.status),
        figure=result.figure,
        unit=result.unit,
        advice_key=result.advice_key,
        advice=result.advice,
        required=result.required,
    )


def pending_row(check_id: str, *, running: bool = False) -> CheckRow:
    return CheckRow(check_id=check_id, status="running" if running else "pending")


def figure_text(figure: float | int | str | None, unit: str) -> str:
    if figure is None:
        return ""
    if isinstance(figure, float):
        figure = f"{figure:.1f}".rstrip("0").rstrip(".")
    words = {
        "screens": QCoreApplication.translate("CheckTexts", "screen(s)"),
        "cameras": QCoreApplication.translate("CheckTexts", "virtual camera(s)"),
        "signals": QCoreApplication.translate("CheckTexts", "sign(s)"),
    }
    unit = words.get(unit, unit)
    return f"{figure} {unit}".strip()


def check_title(check_id: str) -> str:
    titles = {
        "os": QCoreApplication.translate("CheckTexts", "Operating system"),
        "camera": QCoreApplication.translate("CheckTexts", "Camera"),
        "virtual_camera": QCoreApplication.translate("CheckTexts", "Virtual cameras"),
        "microphone": QCoreApplication.translate("CheckTexts", "Microphone"),
        "screens": QCoreApplication.translate("CheckTexts", "Screens"),
        "virtual_machine": QCoreApplication.translate("CheckTexts", "Virtual machine"),
        "latency": QCoreApplication.translate("CheckTexts", "Connection to the exam server"),
        "download": QCoreApplication.translate("CheckTexts", "Download speed (at least 1 Mb/s)"),
        "upload": QCoreApplication.translate("CheckTexts", "Upload speed"),
        "clock": QCoreApplication.translate("CheckTexts", "Computer clock"),
    }
    return titles.get(check_id, check_id)


def check_advice(key: str, fallback: str = "") -> str:
    """What to do, in the current language; the English `fallback` for an unknown key."""
    advice = {
        "retry": QCoreApplication.translate(
            "CheckTexts", "Run the check again. If this repeats, contact the exam support team."
        ),
        "camera_connect": QCoreApplication.translate(
            "CheckTexts",
            "Connect a camera, close other programs that use it, and allow this app to use it.",
        ),
        "camera_black": QCoreApplication.translate(
            "CheckTexts", "Uncover the camera lens and turn on a light in front of you."
        ),
        "camera_frozen": QCoreApplication.translate(
            "CheckTexts", "Close other programs that use the camera, then unplug and reconnect it."
        ),
        "camera_too_weak": QCoreApplication.translate(
            "CheckTexts", "Use a camera with at least 320×240 pixels and 5 frames a second."
        ),
        "camera_low_quality": QCoreApplication.translate(
            "CheckTexts",
            "Better light and a 640×480 camera at 10 frames a second or more help the proctor.",
        ),
        "mic_connect": QCoreApplication.translate(
            "CheckTexts",
            "Connect a microphone, allow this app to use it, and choose it as the input device.",
        ),
        "mic_silent": QCoreApplication.translate(
            "CheckTexts",
            "Check that the microphone is not muted, then say a few words during the check.",
        ),
        "os_upgrade": QCoreApplication.translate(
            "CheckTexts", "Use a computer with Windows 7 or later, or macOS."
        ),
        "os_linux_unofficial": QCoreApplication.translate(
            "CheckTexts", "For the real exam, use Windows 7 or later, or macOS."
        ),
        "net_unreachable": QCoreApplication.translate(
            "CheckTexts",
            "Check your internet connection and that the exam server address is right.",
        ),
        "net_too_slow": QCoreApplication.translate(
            "CheckTexts",
            "Move closer to the Wi-Fi router or use a cable, and stop other downloads and videos.",
        ),
        "net_upload_low": QCoreApplication.translate(
            "CheckTexts", "Stop uploads, backups and video calls during the exam."
        ),
        "net_high_latency": QCoreApplication.translate(
            "CheckTexts",
            "Use a cable or a better network; a mobile hotspot far from the mast is too slow.",
        ),
        "net_unstable": QCoreApplication.translate(
            "CheckTexts", "Use a cable or move closer to the Wi-Fi router."
        ),
        "net_slow_latency": QCoreApplication.translate(
            "CheckTexts", "Use a cable or move closer to the Wi-Fi router."
        ),
        "clock_sync": QCoreApplication.translate(
            "CheckTexts", "Set the computer clock to update automatically."
        ),
        "screens_unknown": QCoreApplication.translate(
            "CheckTexts", "During the exam, use exactly one screen."
        ),
        "screens_disconnect_extra": QCoreApplication.translate(
            "CheckTexts",
            "Disconnect the extra screen (and turn off screen mirroring), then check again.",
        ),
        "vcam_in_use": QCoreApplication.translate(
            "CheckTexts",
            "Choose your real camera and close programs such as OBS, ManyCam or DroidCam.",
        ),
        "vcam_installed": QCoreApplication.translate(
            "CheckTexts", "Close it before the exam; using it during the exam is a violation."
        ),
        "vm_detected": QCoreApplication.translate(
            "CheckTexts", "Take the exam on a real computer, not inside a virtual machine."
        ),
        "vm_possible": QCoreApplication.translate(
            "CheckTexts",
            "If you run the exam inside a virtual machine, move to the real computer.",
        ),
    }
    return advice.get(key, fallback or key)


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
                widget.hide()  # at once: deletion waits for the event loop
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
            figure = QLabel(row.figure_text)
            advice_text = (
                check_advice(row.advice_key, row.advice) if row.status in ("warn", "fail") else ""
            )
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
        return [
            check_advice(r.advice_key, r.advice) for r in self._rows if r.status in ("warn", "fail")
        ]
