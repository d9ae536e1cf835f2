"""Where the network fails: accuracy, precision and recall, and a clickable confusion matrix on
the ``load_digits`` test rows, with a gallery of the digits behind each cell; and how honest its
probabilities are there (the reliability diagram, the calibration error, the accuracy on the
surest 95%). The same for the training or the validation rows at a choice, so that training
digits read at 100% can be set beside test digits read at less: overfitting."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFocusEvent, QKeyEvent, QMouseEvent, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from digitgui.core.calibration import format_probability
from digitgui.core.data import DigitsSplit
from digitgui.core.evaluation import COVERAGE
from digitgui.core.insight import TestSetReport, evaluate_split_rows
from digitgui.core.model_io import DigitClassifier

from ..accessibility import grid_key_target, is_activation_key, paint_focus_ring
from ..reliability_diagram import ReliabilityDiagram
from .colormaps import contrasting_text
from .digit_tiles import DigitGallery, TileContent
from .scrolling import scroll_inside

__all__ = ["ConfusionMatrixWidget", "TestSetView"]

CORRECT = (26, 152, 80)  # green for the diagonal
MISTAKE = (215, 48, 39)  # red for confusions

#: The rows the view can show (names of :data:`digitgui.core.insight.SPLIT_ROWS`), in the order
#: of its choice, with what each is to the network; the test rows come first and are the default.
ROWS = (
    ("test", "never used in training: how it reads digits it has not seen"),
    ("validation", "watched during training (early stopping, calibration), not learned from"),
    (
        "training",
        "the digits it learned from: if it reads these far better than new ones, it overfits",
    ),
)


def _blend(base: QColor, end, t: float) -> tuple[int, int, int]:
    b = np.array([base.red(), base.green(), base.blue()], np.float64)
    return tuple(int(v) for v in np.rint(b + t * (np.asarray(end, np.float64) - b)))


class ConfusionMatrixWidget(QWidget):
    """A 10x10 heat map of counts: rows are the true digits, columns what the network read.

    The diagonal is green, confusions red; the colour strength is the share of the row (the
    square root for confusions, so that a single mistake among 27 digits is still visible).
    ``cellClicked(true_class, predicted_class)`` on a click, and from the keyboard when the
    arrow keys, Home or End move the selection (or Enter/Space confirm it).
    """

    cellClicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("confusionMatrix")
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(260, 260)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName("Confusion matrix: rows are the true digits, columns the readings")
        self._counts = np.zeros((10, 10), dtype=np.int64)
        self._selected: tuple[int, int] | None = None
        self._rows = "test"

    def counts(self) -> np.ndarray:
        return self._counts.copy()

    def set_counts(self, confusion: np.ndarray, rows: str = "test") -> None:
        """Show ``confusion`` (10, 10), counted on the ``rows`` digits (their name in the cells'
        texts)."""
        self._counts = np.asarray(confusion, dtype=np.int64).copy()
        self._rows = rows
        if self._selected is not None:
            self.setAccessibleDescription(self.cell_text(*self._selected))
        self.update()

    @property
    def selected_cell(self) -> tuple[int, int] | None:
        return self._selected

    def set_selected_cell(self, cell: tuple[int, int] | None) -> None:
        self._selected = cell
        self.setAccessibleDescription("" if cell is None else self.cell_text(*cell))
        self.update()

    def cell_text(self, true_class: int, predicted_class: int) -> str:
        """A cell in words: ``"3 test digits of true class 5 read as 9"``."""
        n = int(self._counts[true_class, predicted_class])
        what = "read correctly" if true_class == predicted_class else f"read as {predicted_class}"
        return f"{n} {self._rows} digit{'s' if n != 1 else ''} of true class {true_class} {what}"

    def sizeHint(self) -> QSize:
        return QSize(380, 380)

    # geometry -------------------------------------------------------------------------------------

    def _layout(self) -> tuple[float, float, float]:
        """Left and top of the grid, and the side of one cell."""
        fm = self.fontMetrics()
        margin_left = 2.2 * fm.height() + fm.horizontalAdvance("0") + 6
        margin_top = 2.2 * fm.height() + 4
        side = min(self.width() - margin_left - 4, self.height() - margin_top - 4) / 10
        return margin_left, margin_top, max(side, 4.0)

    def cell_rect(self, true_class: int, predicted_class: int) -> QRectF:
        """Where a cell is drawn, in widget coordinates."""
        left, top, side = self._layout()
        return QRectF(left + predicted_class * side, top + true_class * side, side, side)

    def cell_at(self, pos: QPointF) -> tuple[int, int] | None:
        left, top, side = self._layout()
        col = int((pos.x() - left) // side)
        row = int((pos.y() - top) // side)
        if pos.x() >= left and pos.y() >= top and 0 <= row < 10 and 0 <= col < 10:
            return row, col
        return None

    # events ---------------------------------------------------------------------------------------

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            cell = self.cell_at(event.position())
            if cell is not None:
                self.set_selected_cell(cell)
                self.cellClicked.emit(*cell)
        super().mouseReleaseEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        cell = self.cell_at(event.position())
        self.setToolTip("" if cell is None else self.cell_text(*cell))
        super().mouseMoveEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        current = None if self._selected is None else 10 * self._selected[0] + self._selected[1]
        target = grid_key_target(event, current, 100, 10)
        if target is None and is_activation_key(event):
            target = 0 if current is None else current
        if target is None:
            super().keyPressEvent(event)
            return
        cell = divmod(target, 10)
        self.set_selected_cell(cell)
        self.cellClicked.emit(*cell)

    def focusInEvent(self, event: QFocusEvent) -> None:
        self.update()  # the focus ring
        super().focusInEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        self.update()
        super().focusOutEvent(event)

    def paintEvent(self, event) -> None:
        pal = self.palette()
        p = QPainter(self)
        left, top, side = self._layout()
        fm = self.fontMetrics()
        base = pal.color(QPalette.ColorRole.Base)
        text = pal.color(QPalette.ColorRole.WindowText)
        faint = pal.color(QPalette.ColorRole.PlaceholderText)
        row_totals = self._counts.sum(axis=1)

        p.setPen(text)
        p.drawText(
            QRectF(left, 0, 10 * side, fm.height()),
            Qt.AlignmentFlag.AlignHCenter,
            "what the network read →",
        )
        p.save()
        p.translate(fm.height() * 0.2, top + 10 * side)
        p.rotate(-90)
        p.drawText(
            QRectF(0, 0, 10 * side, fm.height()), Qt.AlignmentFlag.AlignHCenter, "← true digit"
        )
        p.restore()
        for d in range(10):
            p.drawText(
                QRectF(left + d * side, top - fm.height() - 2, side, fm.height()),
                Qt.AlignmentFlag.AlignCenter,
                str(d),
            )
            p.drawText(
                QRectF(left - fm.height() - 4, top + d * side, fm.height(), side),
                Qt.AlignmentFlag.AlignCenter,
                str(d),
            )

        for t in range(10):
            for q in range(10):
                n = int(self._counts[t, q])
                share = n / row_totals[t] if row_totals[t] else 0.0
                if t == q:
                    rgb = _blend(base, CORRECT, 0.25 + 0.75 * share if n else 0.0)
                else:
                    rgb = _blend(base, MISTAKE, 0.45 + 0.55 * np.sqrt(share) if n else 0.0)
                rect = self.cell_rect(t, q)
                p.fillRect(rect, QColor(*rgb))
                p.setPen(QPen(pal.color(QPalette.ColorRole.Mid), 1))
                p.drawRect(rect)
                p.setPen(contrasting_text(rgb) if n else faint)
                p.drawText(rect, Qt.AlignmentFlag.AlignCenter, str(n))
        if self._selected is not None:
            p.setPen(QPen(pal.color(QPalette.ColorRole.Highlight), 3))
            p.drawRect(self.cell_rect(*self._selected).adjusted(1, 1, -1, -1))
        if self.hasFocus():
            paint_focus_ring(p, QRectF(self.rect()), pal)
        p.end()


class TestSetView(QWidget):
    """Accuracy, per-class precision and recall, the confusion matrix, and the digits of a
    clicked cell, on the test rows or, chosen in ``rows_combo``, the validation or training rows.
    ``digitRequested(digit)`` (an (8, 8) array, raw 0..16) when the user clicks one of those
    digits, to load it into the canvas."""

    __test__ = False  # not a pytest test class despite its name

    digitRequested = Signal(object)

    def __init__(self, parent: QWidget | None = None, split: DigitsSplit | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("testSetView")
        self._split = split
        self._model: DigitClassifier | None = None
        self._report: TestSetReport | None = None
        self._gallery_rows = np.zeros(0, dtype=np.int64)

        self.rows_combo = QComboBox()
        self.rows_combo.setObjectName("testSetRowsCombo")
        for rows, _ in ROWS:
            self.rows_combo.addItem(f"{rows} rows", rows)
        self.rows_combo.setAccessibleName("Which digits of load_digits are shown")
        self.rows_combo.setToolTip("\n".join(f"{rows} rows: {what}" for rows, what in ROWS))
        self.rows_combo.currentIndexChanged.connect(self._on_rows_combo_currentIndexChanged)
        rows_label = QLabel("Sho&w")
        rows_label.setBuddy(self.rows_combo)
        self.rows_note = QLabel(ROWS[0][1])
        self.rows_note.setObjectName("testSetRowsNote")
        self.rows_note.setWordWrap(True)
        self.rows_note.setForegroundRole(QPalette.ColorRole.PlaceholderText)

        self.accuracy_label = QLabel("No model yet.")
        self.accuracy_label.setObjectName("testAccuracyLabel")
        self.accuracy_label.setWordWrap(True)
        font = self.accuracy_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setBold(True)
        self.accuracy_label.setFont(font)
        self.calibration_label = QLabel()
        self.calibration_label.setObjectName("testCalibrationLabel")
        self.calibration_label.setWordWrap(True)
        self.calibration_label.setToolTip(
            "Calibration error: the average gap between how sure the network is and how often "
            "it is right (0 = its probabilities are honest). The surest 95%: the digits shown "
            "that it gives the highest probabilities, leaving out the 5% it hesitates most on."
        )
        self.reliability = ReliabilityDiagram()
        self.reliability.setObjectName("testReliabilityDiagram")

        self.matrix = ConfusionMatrixWidget()
        self.matrix.cellClicked.connect(self._on_matrix_cellClicked)

        self.table = QTableWidget(10, 3)
        self.table.setObjectName("precisionRecallTable")
        self.table.setHorizontalHeaderLabels(["digits", "recall", "precision"])
        self.table.setVerticalHeaderLabels([str(d) for d in range(10)])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        # Read with the arrow keys; Tab leaves the table.
        self.table.setTabKeyNavigation(False)
        self.table.setAccessibleName("Recall and precision of each digit")
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setSizeAdjustPolicy(QTableWidget.SizeAdjustPolicy.AdjustToContents)
        self.table.setToolTip(
            "recall: of the digits shown that are d, the share read as d\n"
            "precision: of the digits read as d, the share that really are d"
        )
        table_note = QLabel(
            "<b>recall</b>: share of each digit read correctly<br>"
            "<b>precision</b>: share of the network's answers that were right"
        )
        table_note.setWordWrap(True)

        self.gallery_label = QLabel("Click a cell of the matrix to see its digits.")
        self.gallery_label.setObjectName("testGalleryLabel")
        self.gallery_label.setWordWrap(True)
        self.gallery = DigitGallery()
        self.gallery.setObjectName("testDigitGallery")
        self.gallery.setAccessibleName("Digits of the selected cell")
        self.gallery.setMinimumHeight(150)
        self.gallery.digitClicked.connect(self._on_gallery_digitClicked)

        # Where it fails beside how honest it is; below, the digits of a cell beside the
        # per-digit scores.
        top = QHBoxLayout()
        top.addWidget(self.matrix, 1)
        top.addWidget(self.reliability, 1)
        side = QVBoxLayout()
        side.addWidget(self.table)
        side.addWidget(table_note)
        side.addStretch(1)
        cell = QVBoxLayout()
        cell.addWidget(self.gallery_label)
        cell.addWidget(self.gallery, 1)
        bottom = QHBoxLayout()
        bottom.addLayout(cell, 1)
        bottom.addLayout(side)
        choice = QHBoxLayout()
        choice.addWidget(rows_label)
        choice.addWidget(self.rows_combo)
        choice.addWidget(self.rows_note, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(choice)
        layout.addWidget(self.accuracy_label)
        layout.addWidget(self.calibration_label)
        layout.addLayout(top, 3)
        layout.addLayout(bottom, 2)
        scroll_inside(self)  # narrower windows scroll the page, not widen the window

    # public ---------------------------------------------------------------------------------------

    def report(self) -> TestSetReport | None:
        return self._report

    def rows(self) -> str:
        """The rows shown: ``"test"``, ``"validation"`` or ``"training"``."""
        return self.rows_combo.currentData()

    def set_rows(self, rows: str) -> None:
        """Show the ``rows`` digits (as if chosen in the combo box)."""
        index = self.rows_combo.findData(rows)
        if index < 0:
            raise ValueError(f"rows must be one of {', '.join(r for r, _ in ROWS)}, got {rows!r}")
        self.rows_combo.setCurrentIndex(index)

    def set_model(self, model: DigitClassifier | None) -> None:
        """Evaluate ``model`` on the rows chosen and show it; keeps the selected cell, or selects
        the most frequent confusion."""
        self._model = model
        self._show()

    def select_cell(self, true_class: int, predicted_class: int) -> None:
        """Show the digits of one confusion-matrix cell in the gallery."""
        self.matrix.set_selected_cell((true_class, predicted_class))
        report = self._report
        if report is None:
            return
        rows = report.rows_in_cell(true_class, predicted_class)
        self._gallery_rows = rows
        what = "read correctly" if true_class == predicted_class else f"read as {predicted_class}"
        plural = "digit" if len(rows) == 1 else "digits"
        self.gallery_label.setText(
            f"<b>True {true_class}, {what}: {len(rows)} {self.rows()} {plural}</b>"
            + (" · click one to load it into the canvas" if len(rows) else "")
        )
        tiles = []
        for i in rows:
            probs = report.probabilities[i]
            guess = int(np.argmax(probs))
            tiles.append(
                TileContent(
                    digit=report.digits[i],
                    title=f"true {int(report.y_true[i])} → {guess}",
                    subtitle=f"{format_probability(probs[guess])} sure",
                    probabilities=probs,
                    marked_class=int(report.y_true[i]),
                    tooltip="{} digit #{}\n{}".format(
                        self.rows(),
                        int(i),
                        "\n".join(f"{d}: {format_probability(probs[d])}" for d in range(10)),
                    ),
                )
            )
        self.gallery.set_tiles(tiles)

    def gallery_rows(self) -> np.ndarray:
        """Indices, among the rows shown (``split.X_test`` for the test rows), of the digits in
        the gallery, in order."""
        return self._gallery_rows.copy()

    # private --------------------------------------------------------------------------------------

    def _show(self) -> None:
        """Evaluate the model on the chosen rows and fill every part of the view from that."""
        model, rows = self._model, self.rows()
        self._gallery_rows = np.zeros(0, dtype=np.int64)
        self.gallery_label.setText("Click a cell of the matrix to see its digits.")
        if model is None:
            self._report = None
            self.accuracy_label.setText("No model yet.")
            self.calibration_label.setText("")
            self.reliability.set_table(None)
            self.matrix.set_counts(np.zeros((10, 10), np.int64), rows)
            self.gallery.set_tiles([])
            return
        self._report = report = evaluate_split_rows(model, rows, self._split)
        n_right = int(np.trace(report.confusion))
        self.accuracy_label.setText(
            f"{rows.capitalize()} rows: {n_right} of {report.n} digits read correctly "
            f"({format_probability(report.accuracy)})"
        )
        evaluation = report.report
        self.calibration_label.setText(
            f"How honest its probabilities are on these {rows} digits: calibration error "
            f"{evaluation.ece:.3f} (0 = honest); on the surest {100 * COVERAGE:.0f}% of them it "
            f"reads {format_probability(evaluation.accuracy_at_95)} correctly."
        )
        self.reliability.set_table(evaluation.reliability, f"load_digits {rows} rows ({report.n})")
        self.matrix.set_counts(report.confusion, rows)
        for d in range(10):
            values = (
                str(int(report.confusion[d].sum())),
                _percent(report.recall[d]),
                _percent(report.precision[d]),
            )
            for col, text in enumerate(values):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(d, col, item)
        cell = self.matrix.selected_cell
        if cell is None:
            mistakes = report.confusion.copy()
            np.fill_diagonal(mistakes, 0)
            if mistakes.max() > 0:
                cell = tuple(int(v) for v in np.unravel_index(np.argmax(mistakes), (10, 10)))
        if cell is not None:
            self.select_cell(*cell)
        else:
            self.gallery.set_tiles([])

    # slots ----------------------------------------------------------------------------------------

    def _on_rows_combo_currentIndexChanged(self, index: int) -> None:
        self.rows_note.setText(ROWS[index][1])
        self._show()

    def _on_matrix_cellClicked(self, true_class: int, predicted_class: int) -> None:
        self.select_cell(true_class, predicted_class)

    def _on_gallery_digitClicked(self, index: int) -> None:
        if self._report is not None and 0 <= index < len(self._gallery_rows):
            self.digitRequested.emit(self._report.digits[self._gallery_rows[index]].copy())


def _percent(v: float) -> str:
    return "–" if np.isnan(v) else format_probability(float(v))
