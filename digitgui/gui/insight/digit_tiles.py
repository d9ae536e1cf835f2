"""Small clickable pictures of 8x8 digits, alone or in a scrolling gallery."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPalette, QPen
from PySide6.QtWidgets import QGridLayout, QScrollArea, QSizePolicy, QWidget

from .colormaps import ink_rgb

__all__ = ["DigitGallery", "DigitTile", "TileContent"]


@dataclass(frozen=True, eq=False)
class TileContent:
    """What one tile shows: a raw ``digit`` (8, 8), two lines of text, optionally the model's
    ten ``probabilities`` as bars (``marked_class``'s bar, e.g. the true label, drawn in the
    highlight colour)."""

    digit: np.ndarray
    title: str
    subtitle: str = ""
    probabilities: np.ndarray | None = None
    marked_class: int | None = None
    tooltip: str = ""


class DigitTile(QWidget):
    """One digit as the network sees it (8x8 cells), a caption, and optional probability bars.
    Emits ``clicked`` on a left click."""

    clicked = Signal()

    IMAGE_SIDE = 72
    BARS_HEIGHT = 26

    def __init__(self, content: TileContent | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("digitTile")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self._content: TileContent | None = None
        self._selected = False
        if content is not None:
            self.set_content(content)

    @property
    def content(self) -> TileContent | None:
        return self._content

    def set_content(self, content: TileContent) -> None:
        self._content = content
        self.setToolTip(content.tooltip)
        self.updateGeometry()
        self.update()

    def set_selected(self, selected: bool) -> None:
        self._selected = selected
        self.update()

    def sizeHint(self) -> QSize:
        line = self.fontMetrics().height()
        bars = self.BARS_HEIGHT if self._has_bars() else 0
        return QSize(self.IMAGE_SIDE + 16, self.IMAGE_SIDE + 8 + 2 * line + bars + 6)

    def _has_bars(self) -> bool:
        return self._content is not None and self._content.probabilities is not None

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(
            event.position().toPoint()
        ):
            self.clicked.emit()
        super().mouseReleaseEvent(event)

    def paintEvent(self, event) -> None:
        if self._content is None:
            return
        c = self._content
        pal = self.palette()
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        side = self.IMAGE_SIDE
        x0 = (self.width() - side) / 2
        y0 = 4.0
        cell = side / 8
        rgb = ink_rgb(c.digit, pal)
        for r in range(8):
            for col in range(8):
                p.fillRect(
                    QRectF(x0 + col * cell, y0 + r * cell, cell + 0.5, cell + 0.5),
                    QColor(*(int(v) for v in rgb[r, col])),
                )
        frame = pal.color(
            QPalette.ColorRole.Highlight if self._selected else QPalette.ColorRole.Mid
        )
        p.setPen(QPen(frame, 3 if self._selected else 1))
        p.drawRect(QRectF(x0, y0, side, side))

        p.setPen(pal.color(QPalette.ColorRole.WindowText))
        line = self.fontMetrics().height()
        y = y0 + side + 4
        p.drawText(QRectF(0, y, self.width(), line), Qt.AlignmentFlag.AlignHCenter, c.title)
        y += line
        if c.subtitle:
            p.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
            p.drawText(QRectF(0, y, self.width(), line), Qt.AlignmentFlag.AlignHCenter, c.subtitle)
        y += line + 2
        if c.probabilities is not None:
            self._paint_bars(p, x0, y, side, c.probabilities, c.marked_class)
        p.end()

    def _paint_bars(self, p: QPainter, x0: float, y: float, width: float, probs, marked) -> None:
        pal = self.palette()
        h = self.BARS_HEIGHT - 10
        w = width / 10
        p.setPen(Qt.PenStyle.NoPen)
        p.fillRect(QRectF(x0, y, width, h), pal.color(QPalette.ColorRole.AlternateBase))
        for d in range(10):
            role = QPalette.ColorRole.Highlight if d == marked else QPalette.ColorRole.Mid
            bar = float(np.clip(probs[d], 0, 1)) * h
            p.fillRect(QRectF(x0 + d * w + 1, y + h - bar, w - 2, bar), pal.color(role))
        font = p.font()
        font.setPointSizeF(max(5.0, font.pointSizeF() * 0.6))
        p.setFont(font)
        p.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
        for d in range(10):
            p.drawText(
                QRectF(x0 + d * w, y + h, w, 10),
                Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                str(d),
            )

    def image_center(self) -> QPointF:
        """Centre of the digit picture, in widget coordinates (for clicks in tests)."""
        return QPointF(self.width() / 2, 4 + self.IMAGE_SIDE / 2)


class DigitGallery(QScrollArea):
    """A scrolling grid of :class:`DigitTile`; ``digitClicked(index)`` names the clicked tile."""

    digitClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self._inner = QWidget()
        self._grid = QGridLayout(self._inner)
        self._grid.setContentsMargins(2, 2, 2, 2)
        self._grid.setSpacing(4)
        self._grid.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setWidget(self._inner)
        self._tiles: list[DigitTile] = []
        self._columns = 0

    def tiles(self) -> list[DigitTile]:
        return list(self._tiles)

    def set_tiles(self, contents: Sequence[TileContent]) -> None:
        """Show these tiles (replacing any before), reusing tile widgets where possible."""
        while len(self._tiles) > len(contents):
            tile = self._tiles.pop()
            self._grid.removeWidget(tile)
            tile.deleteLater()
        for i, content in enumerate(contents):
            if i < len(self._tiles):
                self._tiles[i].set_content(content)
                self._tiles[i].set_selected(False)
            else:
                tile = DigitTile(content, self._inner)
                tile.clicked.connect(self._on_tile_clicked)
                self._tiles.append(tile)
        self._columns = 0  # force a new layout
        self._relayout()

    def _on_tile_clicked(self) -> None:
        tile = self.sender()
        if tile in self._tiles:
            for t in self._tiles:
                t.set_selected(t is tile)
            self.digitClicked.emit(self._tiles.index(tile))

    def _relayout(self) -> None:
        if not self._tiles:
            return
        tile_w = self._tiles[0].sizeHint().width() + self._grid.spacing()
        columns = max(1, (self.viewport().width() - 4) // tile_w)
        if columns == self._columns:
            return
        self._columns = columns
        for tile in self._tiles:
            self._grid.removeWidget(tile)
        for i, tile in enumerate(self._tiles):
            self._grid.addWidget(tile, i // columns, i % columns)
            tile.show()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._relayout()
