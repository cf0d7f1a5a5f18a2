"""The screen watermark (R16): the candidate's code, masked name, exam title and the rotating
nonce, tiled diagonally and semi-transparent over the whole exam window. It lets every mouse
event through to the widgets under it.

The tiles are drawn once per text and size into a picture kept by the overlay; a repaint (the
countdown below it ticks every second) copies the part that changed from that picture instead
of laying out and drawing the text again (about 30 ms of a core a second otherwise)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPaintEvent, QPixmap
from PySide6.QtWidgets import QWidget

ANGLE_DEG = -24.0
ALPHA = 38  # of 255: visible on a photo of the screen, quiet while reading


class WatermarkOverlay(QWidget):
    """A child that covers its parent and follows its size; raise it after adding siblings."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._text = ""
        self._nonce = ""
        self.paint_count = 0
        self.painted_lines: list[str] = []  # the text of the tiles on screen
        self.tiles_drawn = 0  # how many times the tiles were laid out and drawn
        self._tiles: QPixmap | None = None
        self._tiles_key: tuple[str, QSize, float] | None = None
        parent.installEventFilter(self)
        self.setGeometry(parent.rect())
        self.raise_()

    def set_watermark(self, text: str, nonce: str) -> None:
        if (text, nonce) != (self._text, self._nonce):
            self._text, self._nonce = text, nonce
            self.update()

    def line(self) -> str:
        return f"{self._text}  {self._nonce}".strip()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parent() and event.type() in (QEvent.Type.Resize, QEvent.Type.Show):
            parent = self.parentWidget()
            if parent is not None:
                self.setGeometry(parent.rect())
                self.raise_()
        return False

    def paintEvent(self, event: QPaintEvent) -> None:
        line = self.line()
        self.paint_count += 1
        self.painted_lines = []
        if not line:
            return
        tiles = self._tiles_for(line)
        painter = QPainter(self)
        try:
            rect = event.rect()  # only what changed is copied
            ratio = tiles.devicePixelRatio()
            source = QRectF(
                rect.x() * ratio, rect.y() * ratio, rect.width() * ratio, rect.height() * ratio
            )
            painter.drawPixmap(QRectF(rect), tiles, source)
            self.painted_lines.append(line)
        finally:
            painter.end()

    def _tiles_for(self, line: str) -> QPixmap:
        ratio = self.devicePixelRatioF()
        key = (line, self.size(), ratio)
        if self._tiles is None or key != self._tiles_key:
            self._tiles = self._draw_tiles(line, ratio)
            self._tiles_key = key
        return self._tiles

    def _draw_tiles(self, line: str, ratio: float) -> QPixmap:
        width, height = self.width(), self.height()
        tiles = QPixmap(max(1, round(width * ratio)), max(1, round(height * ratio)))
        tiles.setDevicePixelRatio(ratio)
        tiles.fill(Qt.GlobalColor.transparent)
        self.tiles_drawn += 1
        painter = QPainter(tiles)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            font = QFont(self.font())
            font.setPointSizeF(13)
            painter.setFont(font)
            painter.setPen(QColor(90, 90, 90, ALPHA))
            metrics = QFontMetricsF(font)
            step_x = metrics.horizontalAdvance(line) + 80
            step_y = metrics.height() * 5
            painter.translate(width / 2, height / 2)
            painter.rotate(ANGLE_DEG)
            reach = (width**2 + height**2) ** 0.5 / 2 + step_x
            row = 0
            y = -reach
            while y < reach:
                offset = (step_x / 2) * (row % 2)
                x = -reach - offset
                while x < reach:
                    painter.drawText(QPointF(x, y), line)
                    x += step_x
                y += step_y
                row += 1
        finally:
            painter.end()
        return tiles
