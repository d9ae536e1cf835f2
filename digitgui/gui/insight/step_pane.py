"""The step-through's right-hand pane: the selected matrix (beside ``W`` and ``ΔW`` for a new
weight matrix), its colour scale, a 64-pixel row as an 8x8, and a clicked cell's arithmetic."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from digitgui.core.step import LabelledMatrix, UpdateStep, cell_arithmetic

from .step_matrix import MatrixTable, PixelGrid, colour_scale, pixel_values

__all__ = ["StepMatrixPane"]

CLICK_HINT = "Click a cell to see how it is computed."


def _titled(widget: QWidget, label: QLabel) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(label)
    layout.addWidget(widget, 1)
    return box


class StepMatrixPane(QWidget):
    """Shows one matrix of an :class:`UpdateStep`. ``stepRequested(+1/-1)`` and
    ``escapePressed`` come from its tables (PageDown/PageUp, Escape)."""

    stepRequested = Signal(int)
    escapePressed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._step: UpdateStep | None = None
        self._m: LabelledMatrix | None = None
        self.matrix_title = QLabel()
        self.matrix_title.setObjectName("stepMatrixTitle")
        self.matrix_title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.matrix_title.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.matrix_title.setFont(font)
        self.meaning = QLabel()
        self.meaning.setObjectName("stepMeaning")
        self.meaning.setWordWrap(True)
        self.scale_label = QLabel()
        self.scale_label.setObjectName("stepScaleLabel")
        self.scale_label.setWordWrap(True)
        self.table = MatrixTable()
        self.before_table = MatrixTable(name="stepBeforeTable")
        self.delta_table = MatrixTable(name="stepDeltaTable")
        self.before_caption = QLabel()
        self.table_caption = QLabel()
        self.delta_caption = QLabel()
        for caption in (self.before_caption, self.table_caption, self.delta_caption):
            caption.setWordWrap(True)  # long captions must not widen the window
        for table in (self.table, self.before_table, self.delta_table):
            table.escapePressed.connect(self.escapePressed)
            table.stepRequested.connect(self.stepRequested)
            table.currentCellChanged.connect(self._on_table_currentCellChanged)
        self.pixels = PixelGrid()
        self.pixels_caption = QLabel()
        self.pixels_caption.setObjectName("stepPixelCaption")
        self.pixels_caption.setWordWrap(True)
        self.pixels_box = QWidget()
        pixels_layout = QVBoxLayout(self.pixels_box)
        pixels_layout.setContentsMargins(0, 0, 0, 0)
        pixels_layout.addWidget(self.pixels_caption)
        pixels_layout.addWidget(self.pixels, 1)
        self.pixels_box.setMaximumWidth(200)
        self.before_box = _titled(self.before_table, self.before_caption)
        self.delta_box = _titled(self.delta_table, self.delta_caption)
        self.tables = tables = QSplitter()
        tables.setObjectName("stepTables")
        tables.addWidget(self.before_box)
        tables.addWidget(_titled(self.table, self.table_caption))
        tables.addWidget(self.delta_box)
        tables.addWidget(self.pixels_box)
        self.arithmetic = QLabel(CLICK_HINT)
        self.arithmetic.setObjectName("stepArithmetic")
        self.arithmetic.setWordWrap(True)
        self.arithmetic.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.matrix_title)
        layout.addWidget(self.meaning)
        layout.addWidget(tables, 1)
        layout.addWidget(self.scale_label)
        layout.addWidget(self.arithmetic)

    def clear(self) -> None:
        self._step = self._m = None
        for label in (self.matrix_title, self.meaning, self.scale_label, self.arithmetic):
            label.setText("")
        for table in (self.table, self.before_table, self.delta_table):
            table.setRowCount(0)
            table.setColumnCount(0)
        self.pixels_box.hide()

    def show_matrix(
        self, step: UpdateStep, m: LabelledMatrix, decimals: int | None = None, row: int = 0
    ) -> None:
        """Show ``m``, a matrix of ``step``; ``decimals`` fixes its numbers' decimals; ``row`` is
        the row the 8x8 panel shows until a cell is clicked (the sample picked before)."""
        self._step, self._m = step, m
        rows, cols = m.value.shape if m.value.ndim == 2 else (1, m.value.size)
        self.matrix_title.setText(
            f"<b>{m.name}</b> &nbsp; <code>{m.formula}</code> ({rows}×{cols})"
        )
        diff = step.differences.get(m.name)
        other = "textbook" if step.order == "notebook" else "notebook's"
        self.meaning.setText(
            f"{m.stage.capitalize()}: {m.meaning}."
            + (f" In the {other} order it differs by {diff:.3g} (relative norm)." if diff else "")
        )
        self._show_tables(step, m, decimals)
        self.table.setAccessibleName(f"Matrix {m.name}, {rows} by {cols}")
        self.table.setAccessibleDescription(f"{m.formula}: {m.meaning}")
        self.arithmetic.setText(CLICK_HINT)
        self._show_pixels(row if 0 <= row < rows else 0, 0)

    def _show_tables(self, step: UpdateStep, m: LabelledMatrix, decimals: int | None) -> None:
        rows = None
        if m.name == "y_onehot":  # raw y beside each one-hot row
            rows = [f"{i} (y={int(v)})" for i, v in enumerate(step["y"].ravel())]
        update = m.stage == "update"
        self.before_box.setVisible(update)
        self.delta_box.setVisible(update)
        if not update:
            self.table.set_matrix(m, decimals, row_labels=rows)
            self.table_caption.setText(m.name)
            self.scale_label.setText(self.table.scale_note)
            return
        before = step.matrix(m.inputs[0])
        third = max(self.tables.width() // 3, 60)
        self.tables.setSizes([third, third, third, 0])  # W, W_new and ΔW side by side
        limit = max(colour_scale(before)[0], colour_scale(m)[0])  # one scale for W and W_new
        self.before_table.set_matrix(before, decimals, limit)
        self.table.set_matrix(m, decimals, limit)
        delta = LabelledMatrix(f"ΔW{m.name[1:-4]}", m.value - before.value, "", "", "update")
        self.delta_table.set_matrix(delta, None)
        self.before_caption.setText(f"{before.name} (before)")
        self.table_caption.setText(f"{m.name} (after; colours as {before.name})")
        self.delta_caption.setText(f"{delta.name} = {m.name} - {before.name} (its own scale)")
        self.scale_label.setText(
            f"{before.name} and {m.name}: {self.table.scale_note}. "
            f"{delta.name}: {self.delta_table.scale_note}."
        )

    def _show_pixels(self, row: int, col: int) -> None:
        m = self._m
        found = None if m is None else pixel_values(m.value, row, col)
        self.pixels_box.setVisible(found is not None)
        if found is not None:
            values, what = found
            self.pixels.set_values(values, colour_scale(m)[0])
            self.pixels_caption.setText(f"{m.name} {what} as the 8x8 it is")

    def _on_table_currentCellChanged(self, row: int, col: int, _r: int, _c: int) -> None:
        step, m = self._step, self._m
        if step is None or m is None or row < 0 or col < 0:
            return
        table = self.sender()
        if table is self.delta_table:
            W, W_new = step[m.inputs[0]], m.value
            self.arithmetic.setText(
                f"ΔW[{row}, {col}] = {m.name}[{row}, {col}] - {m.inputs[0]}[{row}, {col}] = "
                f"{W_new[row, col]:.6g} - {W[row, col]:.6g} = {W_new[row, col] - W[row, col]:.3g}"
            )
            return
        name = m.inputs[0] if table is self.before_table else m.name
        self.arithmetic.setText(cell_arithmetic(step, name, row, col))
        if table is self.table:
            self._show_pixels(row, col)
