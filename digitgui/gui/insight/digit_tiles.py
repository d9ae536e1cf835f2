"""Small clickable pictures of 8x8 digits, alone or in a scrolling gallery. In the gallery the
arrow keys, Home and End move a cursor (the focus ring) from tile to tile, and Enter or Space
picks the tile under it, as a click does."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFocusEvent, QKeyEvent, QMouseEvent, QPainter, QPalette, QPen
from PySide6.QtWidgets import QGridLayout, QScrollArea, QSizePolicy, QWidget

from ..accessibility import grid_key_target, is_activation_key, paint_focus_ring
from .colormaps import ink_rgb

__all__ = ["MAX_IMAGE_SIDE", "DigitGallery", "DigitTile", "TileContent"]

#: The largest digit picture a gallery grows its tiles to (px) when the pane has room.
MAX_IMAGE_SIDE = 160


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
        self._focus_mark = False
        self._image_side = self.IMAGE_SIDE
        if content is not None:
            self.set_content(content)

    @property
    def content(self) -> TileContent | None:
        return self._content

    def set_content(self, content: TileContent) -> None:
        self._content = content
        self.setToolTip(content.tooltip)
        self.setAccessibleName(self.spoken_text())
        self.updateGeometry()
        self.update()

    def spoken_text(self) -> str:
        """The tile in words: its title and subtitle."""
        c = self._content
        if c is None:
            return ""
        return f"{c.title}, {c.subtitle}" if c.subtitle else c.title

    def set_selected(self, selected: bool) -> None:
        self._selected = selected
        self.update()

    def set_focus_mark(self, marked: bool) -> None:
        """Draw the focus ring: the gallery has the keyboard focus and its cursor is here."""
        if marked != self._focus_mark:
            self._focus_mark = marked
            self.update()

    def has_focus_mark(self) -> bool:
        return self._focus_mark

    def sizeHint(self) -> QSize:
        line = self.fontMetrics().height()
        bars = self.BARS_HEIGHT if self._has_bars() else 0
        side = self.image_side
        return QSize(side + 16, side + 8 + 2 * line + bars + 6)

    @property
    def image_side(self) -> int:
        """The digit picture's side (px): :attr:`IMAGE_SIDE`, or more in a gallery with room."""
        return self._image_side

    def set_image_side(self, side: int) -> None:
        if side != self.image_side:
            self._image_side = int(side)
            self.updateGeometry()
            self.update()

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
        side = self.image_side
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
        if self._focus_mark:
            paint_focus_ring(p, QRectF(self.rect()), pal)
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
        return QPointF(self.width() / 2, 4 + self.image_side / 2)


class DigitGallery(QScrollArea):
    """A scrolling grid of :class:`DigitTile`; ``digitClicked(index)`` names the clicked tile
    (or the one picked with Enter or Space). A single Tab stop, taken only when it has tiles."""

    digitClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._current: int | None = None
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
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
        self._side = 0

    def tiles(self) -> list[DigitTile]:
        return list(self._tiles)

    def current_index(self) -> int | None:
        """The tile under the keyboard cursor, or None."""
        return self._current

    def set_current_index(self, index: int | None) -> None:
        """Put the keyboard cursor on tile ``index`` (scrolled into view), or nowhere."""
        if index is not None and not 0 <= index < len(self._tiles):
            index = None
        self._current = index
        self._mark_current()
        if index is not None:
            self.ensureWidgetVisible(self._tiles[index])
            self.setAccessibleDescription(self._tiles[index].spoken_text())

    def _mark_current(self) -> None:
        focused = self.hasFocus()
        for i, tile in enumerate(self._tiles):
            tile.set_focus_mark(focused and i == self._current)

    def set_tiles(self, contents: Sequence[TileContent]) -> None:
        """Show these tiles (replacing any before), reusing tile widgets where possible."""
        while len(self._tiles) > len(contents):
            tile = self._tiles.pop()
            self._grid.removeWidget(tile)
            tile.hide()  # at once: it is deleted only when the event loop gets there
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
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus if self._tiles else Qt.FocusPolicy.NoFocus)
        # The cursor stays where it was while there are tiles enough (new contents, same place).
        current = self._current
        if current is not None and current >= len(self._tiles):
            current = len(self._tiles) - 1 if self._tiles else None
        self._current = None
        self.setAccessibleDescription("")
        if current is None and self.hasFocus() and self._tiles:
            current = 0
        if current is not None:
            self.set_current_index(current)
        else:
            self._mark_current()

    def _on_tile_clicked(self) -> None:
        tile = self.sender()
        if tile in self._tiles:
            self._pick(self._tiles.index(tile))

    def _pick(self, index: int) -> None:
        for i, t in enumerate(self._tiles):
            t.set_selected(i == index)
        self.set_current_index(index)
        self.digitClicked.emit(index)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        target = grid_key_target(event, self._current, len(self._tiles), max(1, self._columns))
        if target is not None:
            self.set_current_index(target)
            return
        if is_activation_key(event) and self._current is not None:
            self._pick(self._current)
            return
        super().keyPressEvent(event)

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        if self._current is None and self._tiles:
            selected = [i for i, t in enumerate(self._tiles) if t._selected]
            self.set_current_index(selected[0] if selected else 0)
        else:
            self._mark_current()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self._mark_current()

    def _relayout(self) -> None:
        if not self._tiles:
            return
        side = self._fitting_side()
        for tile in self._tiles:
            tile.set_image_side(side)
        tile_w = self._tiles[0].sizeHint().width() + self._grid.spacing()
        columns = max(1, (self.viewport().width() - 4) // tile_w)
        if (columns, side) == (self._columns, self._side):
            return
        self._columns, self._side = columns, side
        for tile in self._tiles:
            self._grid.removeWidget(tile)
        for i, tile in enumerate(self._tiles):
            self._grid.addWidget(tile, i // columns, i % columns)
            tile.show()

    def _fitting_side(self) -> int:
        """The largest picture side, from :attr:`DigitTile.IMAGE_SIDE` up to
        :data:`MAX_IMAGE_SIDE`, at which every tile fits the visible area: a few tiles in a large
        pane grow instead of sitting small in its corner; many keep the base size and scroll."""
        base = DigitTile.IMAGE_SIDE
        view = self.viewport().size()
        n = len(self._tiles)
        spacing = self._grid.spacing()
        best = base
        for side in range(base, MAX_IMAGE_SIDE + 1, 8):
            self._tiles[0].set_image_side(side)
            hint = self._tiles[0].sizeHint()
            columns = max(1, (view.width() - 4) // (hint.width() + spacing))
            rows = -(-n // columns)
            if rows * (hint.height() + spacing) + 4 > view.height():
                break
            best = side
        return best

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._relayout()
