"""What every screen shares: its name, retranslation on a language change, and a few styled
labels."""

from __future__ import annotations

from enum import StrEnum

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QLabel, QWidget

PASS_COLOUR = "#1b7f3b"
WARN_COLOUR = "#b26a00"
FAIL_COLOUR = "#c62828"


class ScreenName(StrEnum):
    """The screens of the main window (`current_screen`, `screen_shown`)."""

    ENTRY = "entry"
    CHECK = "check"
    TRIAL = "trial"
    RULES = "rules"
    BUSY = "busy"
    MESSAGE = "message"
    PHOTO = "photo"
    ADDRESS = "address"
    WAITING = "waiting"
    EXAM = "exam"
    RESULT = "result"


class Screen(QWidget):
    """A screen sets its texts in `retranslate`, called once built and on every language switch.

    Screens that show data keep the last data they were given and re-render it there too, so
    a switch changes every visible text at once.
    """

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        raise NotImplementedError


def title_label(parent: QWidget | None = None) -> QLabel:
    label = QLabel(parent)
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 1.6)
    font.setBold(True)
    label.setFont(font)
    label.setWordWrap(True)
    return label


def body_label(parent: QWidget | None = None) -> QLabel:
    label = QLabel(parent)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label
