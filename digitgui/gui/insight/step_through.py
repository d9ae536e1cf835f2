"""Step through one gradient-descent update, matrix by matrix, with the notebook's names."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from digitgui.core.data import DigitsSplit, load_digits_split
from digitgui.core.model_io import DigitClassifier
from digitgui.core.step import (
    UpdateStep,
    cost_cap_note,
    digit_batch,
    format_cost,
    fresh_model,
    model_update_step,
    notebook_worked_example,
    training_batch,
)
from digitgui.core.step_flow import is_row_matrix

from .network_picker import NetworkPicker
from .network_strip import NetworkStrip
from .step_matrix import MatrixTable
from .step_pane import StepMatrixPane

__all__ = ["MatrixTable", "StepThroughView"]

# Which network takes the step.
SOURCE_NOTEBOOK = "notebook"
SOURCE_FRESH = "fresh"
SOURCE_PAUSED = "paused"
SOURCE_MODEL = "model"
# Which rows it steps on (every source but the notebook's).
BATCH_TRAINING = "training"
BATCH_DRAWING = "drawing"

STAGE_COLORS = {  # a tint per stage in the list, readable in light and dark themes
    "given": None,
    "forward": QColor(76, 121, 167),
    "softmax": QColor(118, 183, 178),
    "cost": QColor(176, 122, 161),
    "error": QColor(225, 87, 89),
    "gradient": QColor(237, 145, 33),
    "update": QColor(89, 161, 79),
}
ORDER_TEXT = {
    "notebook": "notebook's order: W updated, then the error sent back through W_new",
    "backprop": "textbook order: the error sent back through the forward pass's W",
}


def _describe_member(member: int | None, n: int) -> str:
    return (
        f"This model is the average of {n} networks, each trained on its own; the step shows "
        f"network {(member or 0) + 1}'s update. Show:"
    )


def _natural_order(model: DigitClassifier | None, default: str = "backprop") -> str:
    order = (model.metadata.get("training", {}) if model is not None else {}).get("update_order")
    return order if order in ORDER_TEXT else default


class StepThroughView(QWidget):
    """One gradient-descent step shown as the notebook computes it: the forward pass (``Z1``,
    ``A1``, ...), softmax one line at a time, each row's cross-entropy, the errors, the
    gradients and the new weights, each a labelled matrix with the notebook line that makes it.

    Sources: notebook cell 29, a fresh network (iteration 0) with the current settings
    (:meth:`set_config_source`), the paused run (its latest snapshot, :meth:`add_progress`) or
    the current model; the last three step on training digits or the drawing. The step follows
    the chosen update order (``order_combo``). PageDown/PageUp and Right/Left step through the
    list. ``stepChanged(name)`` when another matrix is shown. Of an ensemble, one network takes
    the step (``picker``).
    """

    stepChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None, split: DigitsSplit | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stepThroughView")
        self._split = split
        self._model: DigitClassifier | None = None
        self._snapshot: tuple[int, DigitClassifier] | None = None
        self._config_source: Callable[[], object] | None = None
        self._digit: np.ndarray | None = None
        self._step: UpdateStep | None = None
        self._snapshot_timer = QTimer(self)
        self._snapshot_timer.setSingleShot(True)
        self._snapshot_timer.setInterval(500)  # at most two rebuilds a second while a run goes
        self._snapshot_timer.timeout.connect(self._on_snapshot_timer_timeout)

        self.source_combo = QComboBox()
        self.source_combo.setObjectName("stepSourceCombo")
        self.source_combo.addItem("Notebook cell 29: 4 samples, 3 classes", SOURCE_NOTEBOOK)
        self.source_combo.addItem(
            "A fresh network (iteration 0) with the current settings", SOURCE_FRESH
        )
        self.source_combo.addItem("The paused run (its latest snapshot)", SOURCE_PAUSED)
        self.source_combo.addItem("The current model", SOURCE_MODEL)
        self.source_combo.setAccessibleName("Which network takes the update step")
        self.batch_combo = QComboBox()
        self.batch_combo.setObjectName("stepBatchCombo")
        self.batch_combo.addItem("training digits", BATCH_TRAINING)
        self.batch_combo.addItem("your drawing", BATCH_DRAWING)
        self.batch_combo.setAccessibleName("Which digits the step learns from")
        self.order_combo = QComboBox()
        self.order_combo.setObjectName("stepOrderCombo")
        self.order_combo.addItem("notebook's (W_new sends the error back)", "notebook")
        self.order_combo.addItem("textbook (the forward pass's W)", "backprop")
        self.order_combo.setAccessibleName("Update order")
        self.order_combo.setToolTip(
            "Notebook's order: each layer's weights are updated before its error is sent back "
            "through them (cell 30's loop). Textbook order: every error uses the weights of the "
            "forward pass (cell 29)."
        )
        self.order_combo.setCurrentIndex(1)
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
        source_label = QLabel("Step")
        source_label.setBuddy(self.source_combo)
        controls = QHBoxLayout()
        controls.addWidget(source_label)
        controls.addWidget(self.source_combo, 2)
        self._batch_widgets: list[tuple[QLabel, QWidget]] = []
        for text, widget in (
            ("on", self.batch_combo),
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
        order_label = QLabel("order")
        order_label.setBuddy(self.order_combo)
        controls.addWidget(order_label)
        controls.addWidget(self.order_combo, 1)
        self.picker = NetworkPicker(_describe_member, name="stepNetworkPicker")
        self.picker.memberChanged.connect(self._on_inputs_changed)
        self.source_combo.currentIndexChanged.connect(self._on_source_combo_currentIndexChanged)
        for signal in (
            self.batch_combo.currentIndexChanged,
            self.order_combo.currentIndexChanged,
            self.first_row_spin.valueChanged,
            self.batch_size_spin.valueChanged,
            self.label_spin.valueChanged,
            self.lr_spin.valueChanged,
        ):
            signal.connect(self._on_inputs_changed)

        self.title = QLabel()
        self.title.setObjectName("stepTitle")
        self.title.setWordWrap(True)
        self.cost_label = QLabel()
        self.cost_label.setObjectName("stepCostLabel")
        self.cost_label.setWordWrap(True)
        self.order_label = QLabel()
        self.order_label.setObjectName("stepOrderLabel")
        self.order_label.setWordWrap(True)
        self.strip = NetworkStrip()

        self.step_list = QListWidget()
        self.step_list.setObjectName("stepList")
        self.step_list.setAccessibleName("The step's matrices, in the order they are computed")
        self.step_list.currentRowChanged.connect(self._on_step_list_currentRowChanged)
        self.step_list.installEventFilter(self)
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
                f"<span style='color:{c.name()}'>{stage}</span>"
                for stage, c in STAGE_COLORS.items()
                if c is not None
            )
        )
        stage_key.setObjectName("stepStageKey")
        stage_key.setWordWrap(True)
        left_layout.addWidget(stage_key)
        left_layout.addLayout(buttons)

        self.pane = StepMatrixPane()
        self.pane.stepRequested.connect(self._move)
        self.pane.escapePressed.connect(self._on_table_escapePressed)
        self.table = self.pane.table  # the matrix of the step selected
        self.table.currentCellChanged.connect(self._on_table_currentCellChanged)
        right = self.pane

        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 5)
        splitter.setSizes([330, 720])
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.picker)
        layout.addWidget(self.title)
        layout.addWidget(self.strip)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.cost_label)
        layout.addWidget(self.order_label)
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

    def source(self) -> str:
        return self.source_combo.currentData()

    def set_source(self, source: str) -> None:
        """Which network steps: ``"notebook"`` (cell 29), ``"fresh"``, ``"paused"`` or
        ``"model"``; ``"training"`` and ``"drawing"`` mean the current model on training digits
        or on the drawing."""
        if source in (BATCH_TRAINING, BATCH_DRAWING):
            self.batch_combo.setCurrentIndex(self.batch_combo.findData(source))
            source = SOURCE_MODEL
        index = self.source_combo.findData(source)
        if index < 0:
            raise ValueError(f"unknown step source {source!r}")
        self.source_combo.setCurrentIndex(index)

    def order(self) -> str:
        return self.order_combo.currentData()

    def set_order(self, order: str) -> None:
        """``"notebook"`` or ``"backprop"`` (textbook)."""
        self.order_combo.setCurrentIndex(self.order_combo.findData(order))

    def set_config_source(self, config_source: Callable[[], object] | None) -> None:
        """Where the settings of a fresh network come from: a callable returning a
        :class:`~digitgui.core.training.TrainConfig` (the window's training panel's ``config``)."""
        self._config_source = config_source
        if self.source() == SOURCE_FRESH:
            self._rebuild()

    def set_model(self, model: DigitClassifier | None) -> None:
        self._model = model
        self.picker.set_model(model)
        self._show_picker()
        if self.source() == SOURCE_MODEL:
            self._take_lr(model)
            self._rebuild()

    def set_digit(self, digit: np.ndarray | None) -> None:
        self._digit = None if digit is None else np.array(digit, dtype=np.float64).reshape(8, 8)
        model = self._network_model()[0]
        if self._digit is not None and model is not None:
            self.label_spin.blockSignals(True)
            self.label_spin.setValue(int(model.predict(self._digit)))
            self.label_spin.blockSignals(False)
        if self.source() != SOURCE_NOTEBOOK and self.batch_combo.currentData() == BATCH_DRAWING:
            self._rebuild()

    def start_run(self) -> None:
        """A new run starts: the previous run's snapshot is gone."""
        self._snapshot = None
        if self.source() == SOURCE_PAUSED:
            self._rebuild()

    def add_progress(self, records) -> None:
        """Keep the latest snapshot of the run (``Progress`` records with ``snapshot`` or
        ``model``); the paused-run step follows it, at most twice a second."""
        for r in records:
            model = r.snapshot if r.snapshot is not None else r.model
            if model is not None:
                self._snapshot = (int(r.iteration), model)
        if self.source() == SOURCE_PAUSED and not self._snapshot_timer.isActive():
            self._snapshot_timer.start()

    # internals ------------------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # A presenter remote sends PageDown/PageUp; Right/Left step too. Ctrl+PageDown and the
        # other window shortcuts pass through untouched.
        if (
            watched is self.step_list
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.modifiers()
            in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.KeypadModifier)
        ):
            key = event.key()
            if key in (Qt.Key.Key_PageDown, Qt.Key.Key_Right):
                self._move(1)
                return True
            if key in (Qt.Key.Key_PageUp, Qt.Key.Key_Left):
                self._move(-1)
                return True
        return super().eventFilter(watched, event)

    def _move(self, delta: int) -> None:
        row = self.step_list.currentRow() + delta
        self.step_list.setCurrentRow(max(0, min(self.step_list.count() - 1, row)))

    def _show_picker(self) -> None:
        # The notebook's example and a fresh network have one network: no choice to offer there.
        uses_model = self.source() == SOURCE_MODEL
        self.picker.setVisible(uses_model and self.picker.n_networks() > 1)

    def _config(self):
        if self._config_source is None:
            return None, "The settings are not available here."
        try:
            return self._config_source(), ""
        except ValueError as e:
            return None, f"The settings are not valid: {e}"

    def _take_lr(self, model: DigitClassifier | None, config=None) -> None:
        lr = getattr(config, "lr", None)
        if model is not None:
            lr = model.metadata.get("training", {}).get("lr", lr)
        if isinstance(lr, (int, float)) and lr > 0:
            self.lr_spin.blockSignals(True)
            self.lr_spin.setValue(float(lr))
            self.lr_spin.blockSignals(False)

    def _network_model(self) -> tuple[DigitClassifier | None, str]:
        """The model whose network steps, and how to name it (or why there is none)."""
        source = self.source()
        if source == SOURCE_FRESH:
            config, problem = self._config()
            if config is None:
                return None, problem
            split = self._split if self._split is not None else load_digits_split(42)
            return fresh_model(
                config, split
            ), "a fresh network (iteration 0) of the current settings"
        if source == SOURCE_PAUSED:
            if self._snapshot is None:
                return None, "No run to show: start training, then Pause (F6)."
            iteration, model = self._snapshot
            return model, f"the run at iteration {iteration:,} (its latest snapshot)"
        if self._model is None:
            return None, "Load or train a model first."
        if self._model.n_members > 1:
            k = self.picker.member()
            return self._model.member(k), f"network {k + 1} of the current model"
        return self._model, "the current model"

    def _on_source_combo_currentIndexChanged(self, _index: int) -> None:
        # Each source starts in its own order and learning rate; the toggle then compares.
        source = self.source()
        order = "backprop"  # cell 29 sends the error back through the forward pass's W2
        if source == SOURCE_FRESH:
            config, _ = self._config()
            order = getattr(config, "update_order", "backprop")
            self._take_lr(None, config)
        elif source != SOURCE_NOTEBOOK:
            model = self._network_model()[0]
            config = self._config()[0] if source == SOURCE_PAUSED else None
            order = _natural_order(model, getattr(config, "update_order", "backprop"))
            self._take_lr(model, config)
        self.order_combo.blockSignals(True)
        self.set_order(order)
        self.order_combo.blockSignals(False)
        self._rebuild()

    def _on_snapshot_timer_timeout(self) -> None:
        if self.source() == SOURCE_PAUSED:
            self._rebuild()

    def _on_inputs_changed(self, _value) -> None:
        self._rebuild()

    def _make_step(self) -> tuple[UpdateStep | None, str]:
        order = self.order()
        if self.source() == SOURCE_NOTEBOOK:
            return notebook_worked_example(order), ""
        network, through = self._network_model()
        if network is None:
            return None, through
        lr = self.lr_spin.value()
        if self.batch_combo.currentData() == BATCH_TRAINING:
            split = self._split if self._split is not None else load_digits_split(42)
            first = self.first_row_spin.value()
            last = min(first + self.batch_size_spin.value(), len(split.y_train))
            X, y, labels = training_batch(network, np.arange(first, last), split)
            title = (
                f"Training digits {first}..{last - 1} (labels {', '.join(map(str, labels))}) "
                f"through {through}, lr {lr:g}"
            )
            return model_update_step(network, X, y, lr, title, order), ""
        if self._digit is None:
            return None, "Draw a digit first."
        label = self.label_spin.value()
        X, y = digit_batch(network, self._digit, [label])
        title = f"Your drawing, labelled {label}, through {through}, lr {lr:g}"
        return model_update_step(network, X, y, lr, title, order), ""

    def _rebuild(self) -> None:
        source = self.source()
        batch = self.batch_combo.currentData()
        for label, widget in self._batch_widgets:
            visible = (
                source != SOURCE_NOTEBOOK
                and {
                    self.batch_combo: True,
                    self.first_row_spin: batch == BATCH_TRAINING,
                    self.batch_size_spin: batch == BATCH_TRAINING,
                    self.label_spin: batch == BATCH_DRAWING,
                    self.lr_spin: True,
                }[widget]
            )
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
            self.order_label.setText("")
            self.strip.set_step(None)
            self.pane.clear()
            return
        step = self._step
        self.title.setText(f"<b>{step.title}</b>")
        self.strip.set_step(step)  # the sample it drew before, while the step follows a run
        self.cost_label.setText(self._cost_text(step))
        self.order_label.setText(self._order_text(step))
        for m in step.matrices:
            rows, cols = np.atleast_2d(m.value).shape
            item = QListWidgetItem(m.formula)
            tint = STAGE_COLORS[m.stage]
            if tint is not None:  # the others take the list's text colour when painted
                item.setForeground(tint)
            item.setToolTip(f"{m.stage}: {m.meaning} ({rows}×{cols})")
            self.step_list.addItem(item)
        names = step.names
        start = previous if previous in names else "X_with_bias"
        self.step_list.setCurrentRow(names.index(start))

    def _cost_text(self, step: UpdateStep) -> str:
        text = (
            f"Cost (cross-entropy) on this batch: {format_cost(step.cost)} before the step, "
            f"{format_cost(step.cost_after)} after it."
        )
        if step.cost < 1e-6 or step.cost_after < 1e-6:
            text += (
                " The notebook's cost is -log(p + 1e-8): when the network is sure and right "
                "(p ~ 1) it sits at the 1e-8 floor, and a step has almost nothing left to learn."
            )
        note = cost_cap_note(step.row_costs)
        return text + (f" {note}" if note else "")

    def _order_text(self, step: UpdateStep) -> str:
        L = step.n_layers
        if L < 2:
            return ""
        where = "notebook cell 29 does this" if self.source() == SOURCE_NOTEBOOK else ""
        if step.order == "notebook":
            head = (
                f"Notebook's order (cell 30's loop): W{L} is updated first, and "
                f"E{L - 1} = err(A{L - 1}, E{L}, W{L}_new) uses the new weights"
            )
            if where:
                where = "cell 29 itself uses the textbook order"
        else:
            head = f"Textbook order: E{L - 1} uses W{L} of the forward pass"
        diffs = ", ".join(
            f"{name} {step.differences[name]:.3g}"
            for l in range(L - 1, 0, -1)
            for name in (f"E{l}", f"G{l}")
            if name in step.differences
        )
        other = "textbook" if step.order == "notebook" else "notebook's"
        return (
            f"{head}{f' ({where})' if where else ''}. The {other} order's errors and gradients "
            f"differ by (relative norm |this - other| / |other|): {diffs}."
        )

    def _on_step_list_currentRowChanged(self, row: int) -> None:
        if self._step is None or not 0 <= row < len(self._step.matrices):
            return
        m = self._step.matrices[row]
        notebook = self.source() == SOURCE_NOTEBOOK
        # The notebook prints with NumPy's 8 decimals: show its example the same way so the
        # numbers can be compared digit for digit.
        sample = self.strip.row() if is_row_matrix(self._step, m.name) else None
        self.pane.show_matrix(self._step, m, 8 if notebook else None, row=sample or 0)
        self.prev_button.setEnabled(row > 0)
        self.next_button.setEnabled(row < len(self._step.matrices) - 1)
        self.strip.set_current(m.name, STAGE_COLORS[m.stage])
        self.stepChanged.emit(m.name)

    def _on_table_currentCellChanged(self, row: int, _col: int, _r: int, _c: int) -> None:
        self.strip.follow_cell(self.current_name(), row)  # a sample's row: the strip draws it

    def _on_table_escapePressed(self) -> None:
        self.step_list.setFocus(Qt.FocusReason.OtherFocusReason)

    def _on_prev_button_clicked(self) -> None:
        self._move(-1)

    def _on_next_button_clicked(self) -> None:
        self._move(1)
