"""What the network sees: the 8x8 reduction of the drawing as grey cells with their values."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QRectF, QSize, Qt
from PySide6.QtGui import QFont, QHelpEvent, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from .palette import blend

__all__ = ["DigitView"]


class DigitView(QWidget):
    """Shows a raw digit ``(8, 8)`` (values 0..16, load_digits' scale) as 64 grey cells, each
    labelled with its value; hovering a cell names its row, column and value. Empty: a hint."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("digitView")
        self._digit: np.ndarray | None = None
        self.setMinimumSize(136, 136)
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setToolTip(
            "The drawing reduced the way load_digits was made: 64 cells, each counting ink "
            "pixels in a 4x4 block of a 32x32 frame (0 = empty, 16 = full)."
        )
        self.setAccessibleName("What the network sees: the drawing as 8x8 cells of 0 to 16")
        self.setAccessibleDescription("Empty: nothing drawn.")

    def sizeHint(self) -> QSize:
        return QSize(184, 184)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return width

    def digit(self) -> np.ndarray | None:
        return None if self._digit is None else self._digit.copy()

    def set_digit(self, digit: np.ndarray | None) -> None:
        """Show ``digit`` (anything reshaping to ``(8, 8)``, values 0..16), or the hint if None."""
        self._digit = None if digit is None else np.asarray(digit, dtype=np.float64).reshape(8, 8)
        self.setAccessibleDescription(self.spoken_text())
        self.update()

    def spoken_text(self) -> str:
        """The 64 values row by row, as a screen reader gets them (the accessible
        description)."""
        if self._digit is None:
            return "Empty: nothing drawn."
        return " ".join(
            f"Row {r}: {', '.join(f'{v:g}' for v in row)}." for r, row in enumerate(self._digit)
        )

    def _grid_rect(self) -> QRectF:
        side = float(min(self.width(), self.height()))
        return QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)

    def cell_at(self, pos: QPoint) -> tuple[int, int] | None:
        """(row, col) of the cell under widget position ``pos``, or None."""
        rect = self._grid_rect()
        if not rect.contains(pos.toPointF()):
            return None
        cell = rect.width() / 8
        col = min(7, int((pos.x() - rect.left()) / cell))
        row = min(7, int((pos.y() - rect.top()) / cell))
        return row, col

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and self._digit is not None:
            assert isinstance(event, QHelpEvent)
            cell = self.cell_at(event.pos())
            if cell is not None:
                r, c = cell
                QToolTip.showText(
                    event.globalPos(), f"row {r}, column {c}: {self._digit[r, c]:g} of 16", self
                )
                return True
        return super().event(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        pal = self.palette()
        paper = pal.color(QPalette.ColorRole.Base)
        ink = pal.color(QPalette.ColorRole.Text)
        painter = QPainter(self)
        rect = self._grid_rect()
        painter.fillRect(rect, paper)
        if self._digit is None:
            painter.setPen(blend(paper, ink, 0.5))
            painter.drawText(
                rect.adjusted(8, 8, -8, -8),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                "The 8x8 image the network reads appears here",
            )
        else:
            cell = rect.width() / 8
            font = QFont(self.font())
            font.setPixelSize(max(7, int(cell * 0.36)))
            painter.setFont(font)
            for r in range(8):
                for c in range(8):
                    v = float(self._digit[r, c])
                    box = QRectF(rect.left() + c * cell, rect.top() + r * cell, cell, cell)
                    painter.fillRect(box, blend(paper, ink, v / 16))
                    if cell >= 14:
                        # Full contrast against the cell; empty cells' zeros stay faint.
                        if v == 0:
                            painter.setPen(blend(paper, ink, 0.4))
                        else:
                            painter.setPen(paper if v > 8 else ink)
                        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, f"{v:g}")
        painter.setPen(QPen(pal.color(QPalette.ColorRole.Mid), 1))
        painter.drawRect(rect.adjusted(0.5, 0.5, -0.5, -0.5))
        painter.end()
