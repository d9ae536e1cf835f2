"""Step through one gradient-descent update, matrix by matrix, with the notebook's names."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from digitgui.core.data import DigitsSplit, load_digits_split
from digitgui.core.insight import (
    LabelledMatrix,
    UpdateStep,
    digit_batch,
    model_update_step,
    notebook_worked_example,
    training_batch,
)
from digitgui.core.model_io import DigitClassifier

from .colormaps import contrasting_text, diverging_rgb
from .network_picker import NetworkPicker

__all__ = ["MatrixTable", "StepThroughView"]

SOURCE_NOTEBOOK = "notebook"
SOURCE_TRAINING = "training"
SOURCE_DRAWING = "drawing"

STAGE_LABELS = {
    "given": "given",
    "forward": "forward",
    "error": "error",
    "gradient": "gradient",
    "update": "update",
}
STAGE_COLORS = {  # a tint per stage in the list, readable in light and dark themes
    "given": None,
    "forward": QColor(76, 121, 167),
    "error": QColor(225, 87, 89),
    "gradient": QColor(237, 145, 33),
    "update": QColor(89, 161, 79),
}


class MatrixTable(QTableWidget):
    """A matrix as a table: each cell's number over a diverging colour (blue -, red +), headers
    with NumPy's indices (row 0 of a weight matrix is the bias).

    The arrow keys move from cell to cell; Tab and Shift+Tab leave the table (a weight matrix
    has hundreds of cells to Tab through otherwise) and ``escapePressed`` asks its owner to
    take the focus back."""

    escapePressed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("matrixTable")
        self.setAccessibleName("Matrix")
        self.setTabKeyNavigation(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self._value = np.zeros((0, 0))

    def value(self) -> np.ndarray:
        return self._value.copy()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape and event.modifiers() == Qt.KeyboardModifier.NoModifier:
            self.escapePressed.emit()
            return
        super().keyPressEvent(event)

    def set_matrix(self, m: LabelledMatrix, decimals: int | None = None) -> None:
        """Show ``m``; ``decimals`` fixes the number of decimals (default: chosen from the
        largest value so that it shows four significant digits)."""
        value = np.atleast_2d(np.asarray(m.value, dtype=np.float64))
        self._value = value
        rows, cols = value.shape
        peak = float(np.abs(value).max()) if value.size else 0.0
        fmt = _number_format(peak, decimals)
        self.setUpdatesEnabled(False)
        self.clear()
        self.setRowCount(rows)
        self.setColumnCount(cols)
        weight_layout = m.name.startswith(("W", "G"))
        bias_column = m.name.endswith("_bias")
        self.setVerticalHeaderLabels(
            [f"{i} (bias)" if weight_layout and i == 0 else str(i) for i in range(rows)]
        )
        self.setHorizontalHeaderLabels(
            [f"{j} (bias)" if bias_column and j == 0 else str(j) for j in range(cols)]
        )
        colors = diverging_rgb(value, peak if peak > 0 else 1.0, self.palette())
        for i in range(rows):
            for j in range(cols):
                v = float(value[i, j])
                # Exact zeros (a ReLU that was off, a bias input) read as "0", sign dropped.
                item = QTableWidgetItem("0" if v == 0 else format(v, fmt))
                item.setToolTip(f"{m.name}[{i}, {j}] = {v!r}")
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                rgb = colors[i, j]
                item.setBackground(QColor(int(rgb[0]), int(rgb[1]), int(rgb[2])))
                item.setForeground(contrasting_text(rgb))
                self.setItem(i, j, item)
        self.resizeColumnsToContents()
        self.setUpdatesEnabled(True)


def _describe_member(member: int | None, n: int) -> str:
    return (
        f"This model is the average of {n} networks, each trained on its own; the step shows "
        f"network {(member or 0) + 1}'s update. Show:"
    )


def _number_format(peak: float, decimals: int | None) -> str:
    """One format for a whole matrix, so that its columns line up and compare at a glance."""
    if decimals is not None:
        return f".{decimals}f"
    if peak == 0:
        return ".1f"
    if peak < 1e-3 or peak >= 1e5:
        return ".3e"
    return f".{int(np.clip(3 - np.floor(np.log10(peak)), 1, 8))}f"


class StepThroughView(QWidget):
    """One gradient-descent step shown as the notebook computes it: the forward pass (``Z1``,
    ``A1``, ...), the errors (``E2``, ``E1``), the gradients (``G2``, ``G1``) and the new weights
    (``W2_new``, ``W1_new``), each a labelled matrix with the notebook line that makes it.

    Sources: the notebook's worked example (cell 29), a batch of training digits through the
    current model, or the current drawing with a label the user picks. ``stepChanged(name)`` when
    another matrix is shown. Of an ensemble, one network takes the step (``picker``).
    """

    stepChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None, split: DigitsSplit | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stepThroughView")
        self._split = split
        self._model: DigitClassifier | None = None
        self._digit: np.ndarray | None = None
        self._step: UpdateStep | None = None

        self.source_combo = QComboBox()
        self.source_combo.setObjectName("stepSourceCombo")
        self.source_combo.addItem("Notebook cell 29: 4 samples, 3 classes", SOURCE_NOTEBOOK)
        self.source_combo.addItem("Training digits through the current model", SOURCE_TRAINING)
        self.source_combo.addItem("Your drawing through the current model", SOURCE_DRAWING)
        self.first_row_spin = QSpinBox()
        self.first_row_spin.setObjectName("stepFirstRowSpin")
        self.first_row_spin.setRange(0, 1256)
        self.batch_size_spin = QSpinBox()
        self.batch_size_spin.setObjectName("stepBatchSizeSpin")
        self.batch_size_spin.setRange(1, 64)
        self.batch_size_spin.setValue(4)
        self.label_spin = QSpinBox()
        self.label_spin.setObjectName("stepLabelSpin")
        self.label_spin.setRange(0, 9)
        self.label_spin.setToolTip("The digit your drawing should be: the wanted output y")
        self.lr_spin = QDoubleSpinBox()
        self.lr_spin.setObjectName("stepLrSpin")
        self.lr_spin.setDecimals(4)
        self.lr_spin.setRange(0.0001, 10.0)
        self.lr_spin.setSingleStep(0.01)
        self.lr_spin.setValue(0.01)
        self.lr_spin.setToolTip("Learning rate of this one step")
        self._batch_widgets = []
        self.source_combo.setAccessibleName("Which update step to show")
        source_label = QLabel("Step on")
        source_label.setBuddy(self.source_combo)
        controls = QHBoxLayout()
        controls.addWidget(source_label)
        controls.addWidget(self.source_combo, 1)
        for text, widget in (
            ("first row", self.first_row_spin),
            ("rows", self.batch_size_spin),
            ("label", self.label_spin),
            ("lr", self.lr_spin),
        ):
            label = QLabel(text)
            label.setBuddy(widget)
            controls.addWidget(label)
            controls.addWidget(widget)
            self._batch_widgets.append((label, widget))
        self.picker = NetworkPicker(_describe_member, name="stepNetworkPicker")
        self.picker.memberChanged.connect(self._on_inputs_changed)
        self.source_combo.currentIndexChanged.connect(self._on_inputs_changed)
        self.first_row_spin.valueChanged.connect(self._on_inputs_changed)
        self.batch_size_spin.valueChanged.connect(self._on_inputs_changed)
        self.label_spin.valueChanged.connect(self._on_inputs_changed)
        self.lr_spin.valueChanged.connect(self._on_inputs_changed)

        self.title = QLabel()
        self.title.setObjectName("stepTitle")
        self.title.setWordWrap(True)
        self.cost_label = QLabel()
        self.cost_label.setObjectName("stepCostLabel")
        self.cost_label.setWordWrap(True)

        self.step_list = QListWidget()
        self.step_list.setObjectName("stepList")
        self.step_list.setAccessibleName("The step's matrices, in the order they are computed")
        self.step_list.currentRowChanged.connect(self._on_step_list_currentRowChanged)
        self.prev_button = QPushButton("◀ Back")
        self.prev_button.setObjectName("stepPrevButton")
        self.prev_button.clicked.connect(self._on_prev_button_clicked)
        self.next_button = QPushButton("Next ▶")
        self.next_button.setObjectName("stepNextButton")
        self.next_button.clicked.connect(self._on_next_button_clicked)
        buttons = QHBoxLayout()
        buttons.addWidget(self.prev_button)
        buttons.addWidget(self.next_button)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.step_list, 1)
        stage_key = QLabel(
            " · ".join(
                f"<span style='color:{c.name()}'>{STAGE_LABELS[stage]}</span>"
                for stage, c in STAGE_COLORS.items()
                if c is not None
            )
        )
        stage_key.setObjectName("stepStageKey")
        left_layout.addWidget(stage_key)
        left_layout.addLayout(buttons)

        self.matrix_title = QLabel()
        self.matrix_title.setObjectName("stepMatrixTitle")
        self.matrix_title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.matrix_title.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.matrix_title.setFont(font)
        self.meaning = QLabel()
        self.meaning.setObjectName("stepMeaning")
        self.meaning.setWordWrap(True)
        self.table = MatrixTable()
        self.table.escapePressed.connect(self._on_table_escapePressed)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.matrix_title)
        right_layout.addWidget(self.meaning)
        right_layout.addWidget(self.table, 1)

        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([320, 580])
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.picker)
        layout.addWidget(self.title)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.cost_label)
        self._rebuild()

    # public ---------------------------------------------------------------------------------------

    def step(self) -> UpdateStep | None:
        """The update shown now."""
        return self._step

    def current_name(self) -> str | None:
        row = self.step_list.currentRow()
        return None if self._step is None or row < 0 else self._step.matrices[row].name

    def show_matrix(self, name: str) -> None:
        """Show the matrix called ``name`` (e.g. ``"W1_new"``)."""
        if self._step is not None:
            self.step_list.setCurrentRow(self._step.names.index(name))

    def set_source(self, source: str) -> None:
        """``"notebook"``, ``"training"`` or ``"drawing"``."""
        self.source_combo.setCurrentIndex(self.source_combo.findData(source))

    def set_model(self, model: DigitClassifier | None) -> None:
        self._model = model
        self.picker.set_model(model)
        self._show_picker()
        if model is not None:
            lr = model.metadata.get("training", {}).get("lr")
            if isinstance(lr, (int, float)) and lr > 0:
                self.lr_spin.blockSignals(True)
                self.lr_spin.setValue(float(lr))
                self.lr_spin.blockSignals(False)
        if self.source_combo.currentData() != SOURCE_NOTEBOOK:
            self._rebuild()

    def set_digit(self, digit: np.ndarray | None) -> None:
        self._digit = None if digit is None else np.array(digit, dtype=np.float64).reshape(8, 8)
        if self._digit is not None and self._model is not None:
            self.label_spin.blockSignals(True)
            self.label_spin.setValue(int(self._model.predict(self._digit)))
            self.label_spin.blockSignals(False)
        if self.source_combo.currentData() == SOURCE_DRAWING:
            self._rebuild()

    # internals ------------------------------------------------------------------------------------

    def _show_picker(self) -> None:
        # The notebook's example has its own tiny network: no choice to offer there.
        uses_model = self.source_combo.currentData() != SOURCE_NOTEBOOK
        self.picker.setVisible(uses_model and self.picker.n_networks() > 1)

    def _on_inputs_changed(self, _value) -> None:
        self._rebuild()

    def _make_step(self) -> tuple[UpdateStep | None, str]:
        source = self.source_combo.currentData()
        lr = self.lr_spin.value()
        if source == SOURCE_NOTEBOOK:
            return notebook_worked_example(), ""
        if self._model is None:
            return None, "Load or train a model first."
        network = self._model.member(self.picker.member())
        through = (
            f"network {self.picker.member() + 1} of the current model"
            if self._model.n_members > 1
            else "the current model"
        )
        if source == SOURCE_TRAINING:
            split = self._split if self._split is not None else load_digits_split(42)
            first = self.first_row_spin.value()
            last = min(first + self.batch_size_spin.value(), len(split.y_train))
            X, y, labels = training_batch(network, np.arange(first, last), split)
            title = (
                f"Training digits {first}..{last - 1} (labels {', '.join(map(str, labels))}) "
                f"through {through}, lr {lr:g}"
            )
            return model_update_step(network, X, y, lr, title), ""
        if self._digit is None:
            return None, "Draw a digit first."
        label = self.label_spin.value()
        X, y = digit_batch(network, self._digit, [label])
        title = f"Your drawing, labelled {label}, through {through}, lr {lr:g}"
        return model_update_step(network, X, y, lr, title), ""

    def _rebuild(self) -> None:
        source = self.source_combo.currentData()
        for label, widget in self._batch_widgets:
            visible = {
                self.first_row_spin: source == SOURCE_TRAINING,
                self.batch_size_spin: source == SOURCE_TRAINING,
                self.label_spin: source == SOURCE_DRAWING,
                self.lr_spin: source != SOURCE_NOTEBOOK,
            }[widget]
            label.setVisible(visible)
            widget.setVisible(visible)
        self._show_picker()
        previous = self.current_name()
        self._step, problem = self._make_step()
        self.step_list.blockSignals(True)
        self.step_list.clear()
        self.step_list.blockSignals(False)
        if self._step is None:
            self.title.setText(problem)
            self.cost_label.setText("")
            self.matrix_title.setText("")
            self.meaning.setText("")
            self.table.setRowCount(0)
            self.table.setColumnCount(0)
            return
        step = self._step
        self.title.setText(f"<b>{step.title}</b>")
        self.cost_label.setText(
            f"Cost (cross-entropy) on this batch: {step.cost:.6g} before the step, "
            f"{step.cost_after:.6g} after it."
            + (
                " The errors are computed from the weights of the forward pass (textbook "
                "backprop), as in this cell of the notebook."
                if source == SOURCE_NOTEBOOK
                else " One plain gradient-descent step, whatever optimizer trained the model."
            )
        )
        text_color = self.palette().color(QPalette.ColorRole.Text)
        for m in step.matrices:
            rows, cols = np.atleast_2d(m.value).shape
            item = QListWidgetItem(m.formula)
            tint = STAGE_COLORS[m.stage]
            item.setForeground(tint if tint is not None else text_color)
            item.setToolTip(f"{STAGE_LABELS[m.stage]}: {m.meaning} ({rows}×{cols})")
            self.step_list.addItem(item)
        names = step.names
        start = previous if previous in names else "X_with_bias"
        self.step_list.setCurrentRow(names.index(start))

    def _on_step_list_currentRowChanged(self, row: int) -> None:
        if self._step is None or not 0 <= row < len(self._step.matrices):
            return
        m = self._step.matrices[row]
        rows, cols = np.atleast_2d(m.value).shape
        self.matrix_title.setText(
            f"<b>{m.name}</b> &nbsp; <code>{m.formula}</code> ({rows}×{cols})"
        )
        self.meaning.setText(f"{STAGE_LABELS[m.stage].capitalize()}: {m.meaning}.")
        # The notebook prints with NumPy's 8 decimals: show its example the same way so the
        # numbers can be compared digit for digit.
        notebook = self.source_combo.currentData() == SOURCE_NOTEBOOK
        self.table.set_matrix(m, 8 if notebook else None)
        self.table.setAccessibleName(f"Matrix {m.name}, {rows} by {cols}")
        self.table.setAccessibleDescription(f"{m.formula}: {m.meaning}")
        self.prev_button.setEnabled(row > 0)
        self.next_button.setEnabled(row < len(self._step.matrices) - 1)
        self.stepChanged.emit(m.name)

    def _on_table_escapePressed(self) -> None:
        self.step_list.setFocus(Qt.FocusReason.OtherFocusReason)

    def _on_prev_button_clicked(self) -> None:
        self.step_list.setCurrentRow(max(0, self.step_list.currentRow() - 1))

    def _on_next_button_clicked(self) -> None:
        last = self.step_list.count() - 1
        self.step_list.setCurrentRow(min(last, self.step_list.currentRow() + 1))
