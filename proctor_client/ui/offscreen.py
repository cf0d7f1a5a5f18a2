"""Leaving the exam screen (R16), Qt side: focus lost and back, minimised and restored, the app
inactive and active again, a screen added or removed. Each becomes one `occurred(kind, detail)`
(`kind` an `EventKind`);
the main window forwards it to `runtime.report_event` and shows the warning. The watcher only
reports while it is armed (during the exam), and reports each change once."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication, QScreen, QWindow
from PySide6.QtWidgets import QWidget

from proctor_client.runtime.model import EventKind


class OffscreenWatcher(QObject):
    occurred = Signal(str, dict)  # an EventKind, its detail

    def __init__(self, window: QWidget, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._window = window
        self._armed = False
        self._focused = True
        self._minimized = False
        self._app_active = True
        self.emitted: list[EventKind] = []
        window.installEventFilter(self)
        app = QGuiApplication.instance()
        if not isinstance(app, QGuiApplication):
            raise RuntimeError("OffscreenWatcher needs a QGuiApplication")
        app.applicationStateChanged.connect(self.on_application_state)
        app.focusWindowChanged.connect(self.on_focus_window)
        app.screenAdded.connect(self.on_screen_added)
        app.screenRemoved.connect(self.on_screen_removed)

    @property
    def armed(self) -> bool:
        return self._armed

    def arm(self) -> None:
        """Start reporting (the exam is on screen); the current state is the baseline."""
        self._armed = True
        self._focused = True
        self._minimized = bool(self._window.windowState() & Qt.WindowState.WindowMinimized)
        self._app_active = True

    def disarm(self) -> None:
        self._armed = False

    def close(self) -> None:
        self._armed = False
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            for signal, slot in (
                (app.applicationStateChanged, self.on_application_state),
                (app.focusWindowChanged, self.on_focus_window),
                (app.screenAdded, self.on_screen_added),
                (app.screenRemoved, self.on_screen_removed),
            ):
                try:
                    signal.disconnect(slot)
                except (RuntimeError, TypeError):
                    pass
        self._window.removeEventFilter(self)

    # ------------------------------------------------------------ handlers

    def _emit(self, kind: EventKind, detail: dict[str, Any]) -> None:
        if self._armed:
            self.emitted.append(kind)
            self.occurred.emit(kind, detail)

    def on_application_state(self, state: Qt.ApplicationState) -> None:
        active = state == Qt.ApplicationState.ApplicationActive
        if active == self._app_active:
            return
        self._app_active = active
        self._emit(
            EventKind.APP_ACTIVE if active else EventKind.APP_INACTIVE, {"state": state.name}
        )

    def on_focus_window(self, window: QWindow | None) -> None:
        ours = window is not None and self._is_ours(window)
        if ours == self._focused:
            return
        self._focused = ours
        detail: dict[str, Any] = {}
        if window is not None and not ours:
            detail["window"] = window.title()
        self._emit(EventKind.FOCUS_BACK if ours else EventKind.FOCUS_LOST, detail)

    def on_minimized(self, minimized: bool) -> None:
        if minimized == self._minimized:
            return
        self._minimized = minimized
        self._emit(EventKind.WINDOW_MINIMIZED if minimized else EventKind.WINDOW_RESTORED, {})

    def on_screen_added(self, screen: QScreen) -> None:
        self._emit(EventKind.SCREEN_ADDED, _screen_detail(screen))

    def on_screen_removed(self, screen: QScreen) -> None:
        self._emit(EventKind.SCREEN_REMOVED, _screen_detail(screen))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._window:
            kind = event.type()
            if kind == QEvent.Type.WindowStateChange:
                self.on_minimized(bool(self._window.windowState() & Qt.WindowState.WindowMinimized))
            elif kind == QEvent.Type.Hide and event.spontaneous():
                self.on_minimized(True)  # the system hid the window (minimised, another space)
            elif kind == QEvent.Type.Show and event.spontaneous():
                self.on_minimized(False)
        return False

    def _is_ours(self, window: QWindow) -> bool:
        """A window of this app that belongs to the exam window (itself, a dialog over it)."""
        handle = self._window.windowHandle()
        current: QWindow | None = window
        while current is not None:
            if current is handle:
                return True
            current = current.transientParent()
        return False


def _screen_detail(screen: QScreen) -> dict[str, Any]:
    rect = screen.geometry()
    return {
        "name": screen.name(),
        "geometry": [rect.x(), rect.y(), rect.width(), rect.height()],
        "screens": len(QGuiApplication.screens()),
    }
