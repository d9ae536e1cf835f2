"""The network drawn as a strip, 64 -> 32 -> 32 -> 10, with where a step's matrix sits."""

from __future__ import annotations

import re

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

__all__ = ["NetworkStrip", "place_of"]


def place_of(name: str, n_layers: int) -> tuple[str, int] | None:
    """Where the matrix ``name`` lives in a network of ``n_layers`` weight layers:
    ``("layer", l)`` (0: the inputs, ``n_layers``: the outputs) or ``("weights", l)`` for what
    sits between layer ``l - 1`` and layer ``l``; None when it is nowhere in particular."""
    if name in ("X", "X_with_bias"):
        return ("layer", 0)
    if name in ("y", "y_onehot"):
        return ("layer", n_layers)
    m = re.fullmatch(r"(?:Z|A|E|e|sum_e|cost_rows)(\d+)(?:_bias)?", name)
    if m:
        return ("layer", int(m.group(1)))
    m = re.fullmatch(r"[WG](\d+)(?:_new)?", name)
    if m:
        return ("weights", int(m.group(1)))
    return None


class NetworkStrip(QWidget):
    """Layers as boxes with their sizes, weights as the bands between them (``W1``, ``W2``,
    ...); :meth:`set_current` highlights where a matrix of the step sits, in ``color``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("networkStrip")
        self.setAccessibleName("The network, layer by layer")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._sizes: tuple[int, ...] = ()
        self._place: tuple[str, int] | None = None
        self._color = QColor(76, 121, 167)
        self.setFixedHeight(self.fontMetrics().height() * 3 + 12)

    def sizeHint(self) -> QSize:
        return QSize(420, self.height())

    def sizes(self) -> tuple[int, ...]:
        return self._sizes

    def highlighted(self) -> tuple[str, int] | None:
        return self._place

    def set_sizes(self, sizes) -> None:
        self._sizes = tuple(int(s) for s in sizes)
        self.setAccessibleDescription(" -> ".join(map(str, self._sizes)))
        self.update()

    def set_current(self, name: str | None, color: QColor | None = None) -> None:
        n = len(self._sizes) - 1
        self._place = None if name is None or n < 1 else place_of(name, n)
        if color is not None:
            self._color = QColor(color)
        self.update()

    def _boxes(self) -> list[QRectF]:
        n = len(self._sizes)
        if not n:
            return []
        fm = self.fontMetrics()
        box_w = max(fm.horizontalAdvance("outputs 000") + 10, 60)
        gap = (self.width() - 8 - n * box_w) / max(n - 1, 1)
        top, h = 4.0, self.height() - 8.0
        return [QRectF(4 + k * (box_w + gap), top, box_w, h) for k in range(n)]

    def paintEvent(self, event) -> None:
        boxes = self._boxes()
        if not boxes:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        text = pal.color(QPalette.ColorRole.Text)
        mid = pal.color(QPalette.ColorRole.Mid)
        fill = QColor(self._color)
        fill.setAlpha(70)
        last = len(boxes) - 1
        for l in range(1, len(boxes)):
            a, b = boxes[l - 1], boxes[l]
            band = QRectF(
                a.right(), a.top() + a.height() * 0.3, b.left() - a.right(), a.height() * 0.4
            )
            on = self._place == ("weights", l)
            painter.setPen(QPen(self._color if on else mid, 3 if on else 1))
            painter.setBrush(fill if on else Qt.BrushStyle.NoBrush)
            painter.drawRect(band)
            painter.setPen(text)
            painter.drawText(band, Qt.AlignmentFlag.AlignCenter, f"W{l}")
            painter.drawLine(
                QPointF(band.right() - 6, band.top()), QPointF(band.right(), band.center().y())
            )
        for k, box in enumerate(boxes):
            on = self._place == ("layer", k)
            painter.setPen(QPen(self._color if on else mid, 3 if on else 1))
            painter.setBrush(fill if on else Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(box, 6, 6)
            painter.setPen(text)
            what = "inputs" if k == 0 else "outputs" if k == last else f"layer {k}"
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, f"{what}\n{self._sizes[k]}")
        painter.end()
