"""Why this guess: which cells of the 8x8 input pushed the network towards its answer."""

from __future__ import annotations

import re

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFocusEvent, QKeyEvent, QMouseEvent, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from digitgui.core.calibration import format_probability
from digitgui.core.insight import Attribution, explain
from digitgui.core.model_io import DigitClassifier

from ..accessibility import grid_key_target, is_activation_key, paint_focus_ring
from .colormaps import NEGATIVE, POSITIVE, ink_rgb
from .network_picker import NetworkPicker
from .scrolling import scroll_inside

__all__ = ["AttributionMap", "AttributionView"]

SHOW_CONTRIBUTION = 0  # gradient x ink: what the drawn ink did
SHOW_GRADIENT = 1  # gradient alone: where more ink would help


class AttributionMap(QWidget):
    """The 8x8 input as the network sees it (ink in the text colour), with a square over each cell
    whose area is the size of a signed value and whose colour its sign (red +, blue -).
    ``cellClicked(row, column)`` on a click, and when the arrow keys, Home or End move the
    selection (Enter or Space confirm it)."""

    cellClicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("attributionMap")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(200, 200)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName("Why this guess: the 8x8 cells, a square over each for its part")
        self._digit = np.zeros((8, 8))
        self._values = np.zeros((8, 8))
        self._clipped = np.zeros((8, 8), dtype=bool)
        self._limit = 1.0
        self._selected: tuple[int, int] | None = None

    def sizeHint(self) -> QSize:
        return QSize(320, 320)

    def set_data(
        self,
        digit: np.ndarray,
        values: np.ndarray,
        clipped: np.ndarray | None = None,
    ) -> None:
        """Show raw ``digit`` (8, 8) with signed ``values`` (8, 8) over it."""
        self._digit = np.asarray(digit, dtype=np.float64).reshape(8, 8)
        self._values = np.asarray(values, dtype=np.float64).reshape(8, 8)
        self._clipped = (
            np.zeros((8, 8), bool) if clipped is None else np.asarray(clipped, bool).reshape(8, 8)
        )
        peak = float(np.abs(self._values).max())
        self._limit = peak if peak > 0 else 1.0
        self.update()

    def clear(self) -> None:
        self.set_data(np.zeros((8, 8)), np.zeros((8, 8)))
        self._selected = None

    def values(self) -> np.ndarray:
        return self._values.copy()

    def set_selected_cell(self, cell: tuple[int, int] | None) -> None:
        self._selected = cell
        self.update()

    def _grid(self) -> tuple[float, float, float]:
        side = min(self.width(), self.height()) - 8
        cell = max(side, 16) / 8
        return (self.width() - 8 * cell) / 2, (self.height() - 8 * cell) / 2, cell

    def cell_rect(self, row: int, col: int) -> QRectF:
        x0, y0, cell = self._grid()
        return QRectF(x0 + col * cell, y0 + row * cell, cell, cell)

    def cell_at(self, pos: QPointF) -> tuple[int, int] | None:
        x0, y0, cell = self._grid()
        col, row = int((pos.x() - x0) // cell), int((pos.y() - y0) // cell)
        if pos.x() >= x0 and pos.y() >= y0 and 0 <= row < 8 and 0 <= col < 8:
            return row, col
        return None

    @property
    def selected_cell(self) -> tuple[int, int] | None:
        return self._selected

    def keyPressEvent(self, event: QKeyEvent) -> None:
        current = None if self._selected is None else 8 * self._selected[0] + self._selected[1]
        target = grid_key_target(event, current, 64, 8)
        if target is None and is_activation_key(event):
            target = 0 if current is None else current
        if target is None:
            super().keyPressEvent(event)
            return
        cell = divmod(target, 8)
        self.set_selected_cell(cell)
        self.cellClicked.emit(*cell)

    def focusInEvent(self, event: QFocusEvent) -> None:
        self.update()  # the focus ring
        super().focusInEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        self.update()
        super().focusOutEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            cell = self.cell_at(event.position())
            if cell is not None:
                self.set_selected_cell(cell)
                self.cellClicked.emit(*cell)
        super().mouseReleaseEvent(event)

    def paintEvent(self, event) -> None:
        pal = self.palette()
        p = QPainter(self)
        ink = ink_rgb(self._digit, pal)
        grid_pen = QPen(pal.color(QPalette.ColorRole.Mid), 1)
        for r in range(8):
            for c in range(8):
                rect = self.cell_rect(r, c)
                p.fillRect(rect, QColor(*(int(v) for v in ink[r, c])))
                v = self._values[r, c]
                if v != 0:
                    # Area, not side, proportional to the value: the eye compares areas.
                    frac = float(np.sqrt(min(abs(v) / self._limit, 1.0)))
                    inset = rect.width() * (1 - 0.9 * frac) / 2
                    color = QColor(*(POSITIVE if v > 0 else NEGATIVE))
                    color.setAlpha(225)
                    p.fillRect(rect.adjusted(inset, inset, -inset, -inset), color)
                p.setPen(grid_pen)
                p.drawRect(rect)
                if self._clipped[r, c]:
                    dashed = QPen(pal.color(QPalette.ColorRole.PlaceholderText), 1)
                    dashed.setStyle(Qt.PenStyle.DashLine)
                    p.setPen(dashed)
                    p.drawLine(rect.topLeft(), rect.bottomRight())
                    p.drawLine(rect.topRight(), rect.bottomLeft())
        if self._selected is not None:
            p.setPen(QPen(pal.color(QPalette.ColorRole.Highlight), 3))
            p.drawRect(self.cell_rect(*self._selected).adjusted(1, 1, -1, -1))
        if self.hasFocus():
            paint_focus_ring(p, QRectF(self.rect()), pal)
        p.end()


def _describe_member(member: int | None, n: int) -> str:
    if member is None:
        return (
            f"This model is the average of {n} networks; the squares show the average of their "
            f"{n} explanations, since together they make the guess. Show:"
        )
    return (
        f"This model is the average of {n} networks; the squares show network {member + 1}'s "
        "explanation alone (the guess above is still the whole model's). Show:"
    )


class AttributionView(QWidget):
    """For the current digit: the guess, the runner-up, and gradient x input over the 8x8 cells.

    Drive it with :meth:`set_model` and :meth:`set_digit` (an (8, 8) array of 0..16, or None).
    For an ensemble, ``picker`` chooses between the mean of its networks' explanations (the
    default) and one network's.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("attributionView")
        self._model: DigitClassifier | None = None
        self._digit: np.ndarray | None = None
        self._attribution: Attribution | None = None

        self.summary = QLabel()
        self.summary.setObjectName("attributionSummary")
        self.summary.setWordWrap(True)
        font = self.summary.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.summary.setFont(font)
        self.picker = NetworkPicker(
            _describe_member, allow_average=True, name="attributionNetworkPicker"
        )
        self.picker.memberChanged.connect(self._on_picker_memberChanged)

        self.class_combo = QComboBox()
        self.class_combo.setObjectName("attributionClassCombo")
        self.class_combo.addItem("its guess", None)
        for d in range(10):
            self.class_combo.addItem(f"class {d}", d)
        self.compare_combo = QComboBox()
        self.compare_combo.setObjectName("attributionCompareCombo")
        self.compare_combo.addItem("on its own", False)
        self.compare_combo.addItem("against the runner-up", True)
        self.show_combo = QComboBox()
        self.show_combo.setObjectName("attributionShowCombo")
        self.show_combo.addItem("what the ink did (gradient × ink)", SHOW_CONTRIBUTION)
        self.show_combo.addItem("where more ink would help (gradient)", SHOW_GRADIENT)
        for combo in (self.class_combo, self.compare_combo, self.show_combo):
            combo.currentIndexChanged.connect(self._on_options_changed)
        form = QFormLayout()
        form.addRow("Explain", self.class_combo)
        form.addRow("Compared", self.compare_combo)
        form.addRow("Show", self.show_combo)

        self.map = AttributionMap()
        self.map.cellClicked.connect(self._on_map_cellClicked)
        self.legend = QLabel()
        self.legend.setObjectName("attributionLegend")
        self.legend.setWordWrap(True)
        self.cell_info = QLabel("Click a cell (or use the arrow keys) to see its numbers.")
        self.cell_info.setObjectName("attributionCellInfo")
        self.cell_info.setWordWrap(True)
        note = QLabel(
            "Computed by backpropagation, like training, but down to the pixels: how the class's "
            "score (its input to the softmax) changes when a cell gets more ink. Crossed cells are "
            "clipped by the model: ink there is so rare in training that its value is capped, so "
            "more ink there changes nothing."
        )
        note.setWordWrap(True)
        note.setForegroundRole(QPalette.ColorRole.PlaceholderText)

        side = QVBoxLayout()
        side.addLayout(form)
        side.addWidget(self.legend)
        side.addWidget(self.cell_info)
        side.addWidget(note)  # the explanation right under the numbers, not far below
        side.addStretch(1)
        body = QHBoxLayout()
        body.addWidget(self.map, 3)
        body.addLayout(side, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.picker)
        layout.addLayout(body, 1)
        scroll_inside(self)  # narrower windows scroll the page, not widen the window
        self._refresh()

    # public ---------------------------------------------------------------------------------------

    def set_model(self, model: DigitClassifier | None) -> None:
        self._model = model
        self.picker.set_model(model)
        self._refresh()

    def set_digit(self, digit: np.ndarray | None) -> None:
        """The digit to explain: raw (8, 8) values 0..16, or None when the canvas is empty."""
        self._digit = None if digit is None else np.array(digit, dtype=np.float64).reshape(8, 8)
        self._refresh()

    def attribution(self) -> Attribution | None:
        """What is shown now (None without a model or digit)."""
        return self._attribution

    def select_cell(self, row: int, col: int) -> None:
        """Select one input cell and show its numbers, as a click on it does."""
        self.map.set_selected_cell((row, col))
        self._on_map_cellClicked(row, col)

    def set_target_class(self, target: int | None) -> None:
        """Explain ``target`` (0..9) instead of the guess; None goes back to the guess."""
        self.class_combo.setCurrentIndex(0 if target is None else int(target) + 1)

    # internals ------------------------------------------------------------------------------------

    def _on_options_changed(self, _index: int) -> None:
        self._refresh()

    def _on_picker_memberChanged(self, _member) -> None:
        self._refresh()

    def _refresh(self) -> None:
        model, digit = self._model, self._digit
        if model is None or digit is None:
            self._attribution = None
            self.map.clear()
            self.summary.setText(
                "No model loaded." if model is None else "Draw a digit to see why it is read so."
            )
            self.legend.setText("")
            self.cell_info.setText("")
            return
        probs = model.predict_proba(digit)
        order = np.argsort(probs, kind="stable")[::-1]
        guess, runner_up = int(order[0]), int(order[1])
        target = self.class_combo.currentData()
        target = guess if target is None else int(target)
        versus = None
        if self.compare_combo.currentData():
            versus = runner_up if runner_up != target else guess
        member = self.picker.member() if model.n_members > 1 else None
        self._attribution = a = explain(model, digit, target, versus, member=member)
        showing_gradient = self.show_combo.currentData() == SHOW_GRADIENT
        self.map.set_data(a.digit, a.gradient if showing_gradient else a.contribution, a.clipped)
        summary = (
            f"Read as <b>{guess}</b> ({_pct(probs[guess])}) · runner-up <b>{runner_up}</b> "
            f"({_pct(probs[runner_up])})"
        )
        if member is not None:
            own = model.member(member).predict_proba(digit)
            best = int(np.argmax(own))
            summary += f" · network {member + 1} alone: <b>{best}</b> ({_pct(own[best])})"
        self.summary.setText(summary)
        what = f"{target}'s score" if versus is None else f"{target}'s score over {versus}'s"
        if showing_gradient:
            self.legend.setText(
                f"<b style='color:{_hex(POSITIVE)}'>red</b>: more ink here would raise {what}; "
                f"<b style='color:{_hex(NEGATIVE)}'>blue</b>: would lower it. "
                "Square area: how much."
            )
        else:
            self.legend.setText(
                f"<b style='color:{_hex(POSITIVE)}'>red</b>: the ink here raised {what}; "
                f"<b style='color:{_hex(NEGATIVE)}'>blue</b>: it lowered it. Square area: how "
                "much. Empty cells add nothing."
            )
        self.cell_info.setText("Click a cell (or use the arrow keys) to see its numbers.")
        self.map.set_selected_cell(None)
        self.map.setAccessibleDescription(re.sub(r"<[^>]+>", "", summary))

    def _on_map_cellClicked(self, row: int, col: int) -> None:
        a = self._attribution
        if a is None:
            return
        text = (
            f"Row {row}, column {col}: ink {a.digit[row, col]:.0f} of 16, "
            f"contribution {a.contribution[row, col]:+.3f}, "
            f"gradient {a.gradient[row, col]:+.4f} per unit of ink"
        )
        if a.clipped[row, col]:
            text += " (clipped: more ink here changes nothing)"
        self.cell_info.setText(text)
        self.map.setAccessibleDescription(text)


def _pct(p: float) -> str:
    return format_probability(float(p))


def _hex(rgb) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)
