"""The `Screens` protocol of `proctor_client.devices` on top of Qt's screen list."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication

from proctor_client.devices.base import ScreenGeometry


class QtScreens:
    """Every screen Qt knows of, the primary first; needs a QGuiApplication."""

    def geometries(self) -> list[ScreenGeometry]:
        if QGuiApplication.instance() is None:
            raise RuntimeError("QtScreens needs a QGuiApplication")
        primary = QGuiApplication.primaryScreen()
        screens = list(QGuiApplication.screens())
        if primary is not None and primary in screens:
            screens.remove(primary)
            screens.insert(0, primary)
        result = []
        for screen in screens:
            rect = screen.geometry()
            result.append(
                ScreenGeometry(
                    x=rect.x(),
                    y=rect.y(),
                    width=rect.width(),
                    height=rect.height(),
                    name=screen.name(),
                )
            )
        return result

    def count(self) -> int:
        return len(QGuiApplication.screens())
