"""The step-through's matrices: a table with an honest colour scale, and any 64-pixel row or
column as the 8x8 it is."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from digitgui.core.step import COST_FLOOR, LabelledMatrix, format_cost

from .colormaps import contrasting_text, diverging_rgb

__all__ = ["MatrixTable", "PixelGrid", "colour_scale", "number_format", "pixel_values"]

#: Below this spread (as a fraction of the colour scale), values look the same colour: say so.
NEAR_EQUAL = 0.05


def has_bias_column(m: LabelledMatrix) -> bool:
    return m.name.endswith("_bias")


def _is_probability(m: LabelledMatrix) -> bool:
    return m.name == "y_onehot" or (m.stage == "softmax" and not m.name.startswith("sum_"))


def colour_scale(m: LabelledMatrix, limit: float | None = None) -> tuple[float, str]:
    """The colour range ``[-limit, limit]`` for ``m`` and a sentence that says what it is: the
    bias column of ones is left out, probabilities use 0..1, and a matrix whose values are all
    about the same says that its colours cannot tell them apart. ``limit`` imposes a scale
    shared with another matrix (``W`` and ``W_new``)."""
    value = np.atleast_2d(np.asarray(m.value, dtype=np.float64))
    part = value[:, 1:] if has_bias_column(m) and value.shape[1] > 1 else value
    finite = part[np.isfinite(part)]
    notes = []
    if limit is not None:
        notes.append("one scale shared with the matrix beside it")
    elif _is_probability(m):
        limit = 1.0
        notes.append("probabilities on the fixed scale 0..1")
    else:
        limit = float(np.abs(finite).max()) if finite.size else 0.0
    limit = limit if limit > 0 else 1.0
    text = f"Colour: blue -{limit:.3g} … white 0 … red +{limit:.3g}"
    if has_bias_column(m):
        notes.append("the bias column of ones is left out (grey)")
    if finite.size > 1:
        lo, hi = float(finite.min()), float(finite.max())
        if hi - lo < NEAR_EQUAL * limit:
            notes.append(
                f"all values lie within {lo:.4g}..{hi:.4g}: near-equal, the colours cannot "
                "tell them apart; read the numbers"
            )
    return limit, text + (f" ({'; '.join(notes)})" if notes else "")


def number_format(peak: float, decimals: int | None) -> str:
    """One format for a whole matrix, so that its columns line up and compare at a glance."""
    if decimals is not None:
        return f".{decimals}f"
    if peak == 0:
        return ".1f"
    if peak < 1e-3 or peak >= 1e5:
        return ".3e"
    return f".{int(np.clip(3 - np.floor(np.log10(peak)), 1, 8))}f"


def pixel_values(value: np.ndarray, row: int, col: int) -> tuple[np.ndarray, str] | None:
    """A 64-pixel slice of a matrix as an 8x8 and what it is: the row ``row`` of a matrix 64 or
    65 wide (65: the bias column dropped), else the column ``col`` of one 64 or 65 tall (the bias
    row dropped); None when neither fits."""
    value = np.atleast_2d(value)
    rows, cols = value.shape
    if cols in (64, 65) and 0 <= row < rows:
        return value[row, cols - 64 :].reshape(8, 8), f"row {row}"
    if rows in (64, 65) and 0 <= col < cols:
        return value[rows - 64 :, col].reshape(8, 8), f"column {col}"
    return None


class MatrixTable(QTableWidget):
    """A matrix as a table: each cell's number over a diverging colour (blue -, red +), headers
    with NumPy's indices (row 0 of a weight matrix is the bias) or the matrix's own column
    names (``y_onehot``: its classes).

    The arrow keys move from cell to cell; Tab and Shift+Tab leave the table (a weight matrix
    has hundreds of cells to Tab through otherwise) and ``escapePressed`` asks its owner to
    take the focus back. PageDown/PageUp (a presenter remote) ask for the next or previous
    step: ``stepRequested(+1 or -1)``."""

    escapePressed = Signal()
    stepRequested = Signal(int)

    def __init__(self, parent: QWidget | None = None, name: str = "matrixTable") -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setAccessibleName("Matrix")
        self.setTabKeyNavigation(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self._value = np.zeros((0, 0))
        self.scale_note = ""

    def value(self) -> np.ndarray:
        return self._value.copy()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        plain = event.modifiers() == Qt.KeyboardModifier.NoModifier
        if event.key() == Qt.Key.Key_Escape and plain:
            self.escapePressed.emit()
            return
        if plain and event.key() in (Qt.Key.Key_PageDown, Qt.Key.Key_PageUp):
            self.stepRequested.emit(1 if event.key() == Qt.Key.Key_PageDown else -1)
            return
        super().keyPressEvent(event)

    def set_matrix(
        self,
        m: LabelledMatrix,
        decimals: int | None = None,
        limit: float | None = None,
        row_labels: list[str] | None = None,
    ) -> None:
        """Show ``m``; ``decimals`` fixes the number of decimals (default: chosen from the
        largest value so that it shows four significant digits); ``limit`` a colour scale
        shared with another table; ``row_labels`` replaces the row headers."""
        value = np.atleast_2d(np.asarray(m.value, dtype=np.float64))
        self._value = value
        rows, cols = value.shape
        peak = float(np.abs(value).max()) if value.size else 0.0
        fmt = number_format(peak, decimals)
        limit, self.scale_note = colour_scale(m, limit)
        self.setUpdatesEnabled(False)
        self.clear()
        self.setRowCount(rows)
        self.setColumnCount(cols)
        weight_layout = m.name.startswith(("W", "G", "ΔW"))
        bias_column = has_bias_column(m)
        self.setVerticalHeaderLabels(
            row_labels
            or [f"{i} (bias)" if weight_layout and i == 0 else str(i) for i in range(rows)]
        )
        if m.columns is not None and len(m.columns) == cols:
            headers = [f"class {c}" for c in m.columns]
        else:
            headers = [f"{j} (bias)" if bias_column and j == 0 else str(j) for j in range(cols)]
        self.setHorizontalHeaderLabels(headers)
        colors = diverging_rgb(value, limit, self.palette())
        grey = self.palette().color(QPalette.ColorRole.Window)
        text_color = self.palette().color(QPalette.ColorRole.Text)
        costs = m.stage == "cost"
        for i in range(rows):
            for j in range(cols):
                v = float(value[i, j])
                if costs and v < COST_FLOOR:
                    text = format_cost(v).split(" ")[0]  # "~0": never a negative cost
                else:
                    # Exact zeros (a ReLU that was off, a bias input) read "0", sign dropped.
                    text = "0" if v == 0 else format(v, fmt)
                item = QTableWidgetItem(text)
                item.setToolTip(f"{m.name}[{i}, {j}] = {v!r}")
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if bias_column and j == 0:
                    item.setBackground(grey)
                    item.setForeground(text_color)
                else:
                    rgb = colors[i, j]
                    item.setBackground(QColor(int(rgb[0]), int(rgb[1]), int(rgb[2])))
                    item.setForeground(contrasting_text(rgb))
                self.setItem(i, j, item)
        self.resizeColumnsToContents()
        self.setUpdatesEnabled(True)


class PixelGrid(QWidget):
    """64 values as the 8x8 image they are (diverging colours, the same scale as the table)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stepPixelGrid")
        self.setAccessibleName("The selected row as an 8x8 image")
        self.setMinimumSize(96, 96)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self._values = np.zeros((8, 8))
        self._limit = 1.0

    def sizeHint(self) -> QSize:
        return QSize(160, 160)

    def values(self) -> np.ndarray:
        return self._values.copy()

    def set_values(self, values: np.ndarray, limit: float) -> None:
        self._values = np.asarray(values, dtype=np.float64).reshape(8, 8)
        self._limit = limit if limit > 0 else 1.0
        self.update()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        side = min(self.width(), self.height())
        cell = side / 8
        colors = diverging_rgb(self._values, self._limit, self.palette())
        painter.setPen(self.palette().color(QPalette.ColorRole.Mid))
        for i in range(8):
            for j in range(8):
                r, g, b = (int(c) for c in colors[i, j])
                painter.setBrush(QColor(r, g, b))
                painter.drawRect(QRectF(j * cell, i * cell, cell, cell))
        painter.end()
