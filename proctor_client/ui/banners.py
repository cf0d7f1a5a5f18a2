"""Banners over the exam: connection lost, left the exam screen (with the warnings left), and
messages from the proctor. They show state; the runtime decides when each one applies."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from proctor_client.ui.base import Screen

_STYLES = {
    "offline": "background: #fff3cd; color: #5c4400; border: 1px solid #e0c060;",
    "offscreen": "background: #fdecea; color: #8a1c1c; border: 1px solid #e57373;",
    "warning": "background: #c62828; color: white; border: 1px solid #8e0000;",
}


class Banner(QWidget):
    dismissed = Signal()

    def __init__(self, kind: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = kind
        self.setObjectName(f"banner-{kind}")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setStyleSheet("font-weight: bold; border: none; background: transparent;")
        self.close_button = QPushButton("×")
        self.close_button.setFixedWidth(28)
        self.close_button.clicked.connect(self._dismiss)
        # Two lines at least: a squeezed banner must never clip its message.
        self.label.setMinimumHeight(self.label.fontMetrics().lineSpacing() * 2 + 4)
        self.label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.close_button)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setStyleSheet(f"#banner-{kind} {{ {_STYLES[kind]} border-radius: 4px; }}")
        self.hide()

    def _dismiss(self) -> None:
        self.hide()
        self.dismissed.emit()


class BannerArea(Screen):
    """The stack of banners above the exam; each is hidden until its state applies.

    `offscreen` (pink) is the automatic warning: the candidate left the exam screen.
    `warning` (red) is what a proctor wrote: a warning or a message. Both give the same count
    of warnings left, from the one count in the state (`set_count`).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.offline = Banner("offline")
        self.offline.close_button.hide()  # it goes away when the connection is back
        self.offscreen = Banner("offscreen")
        self.warning = Banner("warning")
        self.screens = Banner("offscreen")
        self.screens.setObjectName("banner-screens")
        self.screens.setStyleSheet(
            f"#banner-screens {{ {_STYLES['offscreen']} border-radius: 4px; }}"
        )
        self.screens.close_button.hide()  # it goes when the screen is disconnected
        self._screen_added = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        for banner in (self.warning, self.offscreen, self.screens, self.offline):
            layout.addWidget(banner)
        self._online = True
        self._offscreen_shown = False
        self._proctor_text = ""
        self._proctor_warning = False  # a warning (uses one) rather than a message
        self._used = 0
        self._limit: int | None = None
        self._action: str | None = None
        self.retranslate()

    def set_online(self, online: bool) -> None:
        self._online = online
        self.offline.setVisible(not online)

    def set_count(self, used: int, limit: int | None, action: str | None) -> None:
        """The warnings used, the exam's limit and what reaching it does (from the state)."""
        if (used, limit, action) == (self._used, self._limit, self._action):
            return
        self._used, self._limit, self._action = used, limit, action
        self._render()

    def show_offscreen(self) -> None:
        """The candidate left the exam screen (recorded automatically)."""
        self._offscreen_shown = True
        self._render()
        self.offscreen.show()

    def show_screen_added(self) -> None:
        self._screen_added = True
        self.screens.label.setText(self.screen_added_text())
        self.screens.show()

    def hide_screen_added(self) -> None:
        self._screen_added = False
        self.screens.hide()

    def show_proctor(self, text: str, *, warning: bool) -> None:
        """A proctor's words: a warning (`warning`) or a message that uses none."""
        self._proctor_text = text
        self._proctor_warning = warning
        self._render()
        self.warning.show()

    def clear_exam(self) -> None:
        """Leave the exam: the exam's banners go (the connection banner stays)."""
        self._offscreen_shown = False
        self._proctor_text = ""
        self._screen_added = False
        for banner in (self.offscreen, self.warning, self.screens):
            banner.hide()

    def screen_added_text(self) -> str:
        text = self.tr(
            "Another screen was connected. This was recorded automatically. Disconnect it: "
            "the exam allows one screen only."
        )
        return _join(text, self.count_text())

    def count_text(self) -> str:
        """How many warnings are left and what happens when none are; empty without a limit."""
        if self._limit is None:
            return ""
        left = max(self._limit - self._used, 0)
        text = self.tr("Warnings left: {left} of {limit}.").format(left=left, limit=self._limit)
        if self._action == "terminate":
            text = _join(text, self.tr("When none are left, your exam is ended."))
        elif self._action == "alert":
            text = _join(
                text, self.tr("When none are left, the proctors are alerted; your exam goes on.")
            )
        return text

    def offscreen_text(self) -> str:
        text = self.tr(
            "You left the exam screen. This was recorded automatically for the proctors. "
            "Stay in the exam window until you submit."
        )
        return _join(text, self.count_text())

    def proctor_text(self) -> str:
        if not self._proctor_text:
            return ""
        if self._proctor_warning:
            head = self.tr("Warning from the proctor: {text}").format(text=self._proctor_text)
            return _join(head, self.count_text())
        return self.tr("Message from the proctor: {text}").format(text=self._proctor_text)

    def retranslate(self) -> None:
        self.offline.label.setText(
            self.tr(
                "Connection lost — your answers are kept and will be sent when the "
                "connection returns."
            )
        )
        self._render()

    def _render(self) -> None:
        if self._offscreen_shown:
            self.offscreen.label.setText(self.offscreen_text())
        if self._proctor_text:
            self.warning.label.setText(self.proctor_text())
        if self._screen_added:
            self.screens.label.setText(self.screen_added_text())


def _join(text: str, more: str) -> str:
    if not more:
        return text
    return text + more if text.endswith(("。", "！", "？")) else f"{text} {more}"  # zh: no space
