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
    """The stack of banners above the exam; each is hidden until its state applies."""

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
        self._offscreen_left: int | None = None
        self._offscreen_shown = False
        self._warning_text = ""
        self.retranslate()

    def set_online(self, online: bool) -> None:
        self._online = online
        self.offline.setVisible(not online)

    def show_offscreen(self, warnings_left: int | None) -> None:
        """The candidate left the exam screen; `warnings_left` when the exam has a limit."""
        self._offscreen_shown = True
        self._offscreen_left = warnings_left
        self._render_offscreen()
        self.offscreen.show()

    def show_screen_added(self) -> None:
        self._screen_added = True
        self.screens.label.setText(self.screen_added_text())
        self.screens.show()

    def hide_screen_added(self) -> None:
        self._screen_added = False
        self.screens.hide()

    def screen_added_text(self) -> str:
        return self.tr(
            "Another screen was connected. This was recorded. Disconnect it: the exam allows "
            "one screen only."
        )

    def show_warning(self, text: str) -> None:
        self._warning_text = text
        self._render_warning()
        self.warning.show()

    def retranslate(self) -> None:
        self.offline.label.setText(
            self.tr(
                "Connection lost — your answers are kept and will be sent when the "
                "connection returns."
            )
        )
        self._render_offscreen()
        self._render_warning()
        if self._screen_added:
            self.screens.label.setText(self.screen_added_text())

    def offscreen_text(self, warnings_left: int | None) -> str:
        text = self.tr(
            "You left the exam screen. This was recorded and the proctor was told. "
            "Stay in the exam window until you submit."
        )
        if warnings_left is not None:
            if warnings_left > 0:
                text += " " + self.tr("Warnings left before your exam is ended: {n}.").format(
                    n=warnings_left
                )
            else:
                text += " " + self.tr("No warnings are left: the next time ends your exam.")
        return text

    def _render_offscreen(self) -> None:
        if self._offscreen_shown:
            self.offscreen.label.setText(self.offscreen_text(self._offscreen_left))

    def _render_warning(self) -> None:
        if self._warning_text:
            self.warning.label.setText(
                self.tr("Message from the proctor: {text}").format(text=self._warning_text)
            )
