"""The training settings form: a preset, and every field of it the user may change.

Values that cannot make sense are impossible to enter (spin boxes with ranges); the hidden layer
sizes are read by :func:`~digitgui.core.training.parse_hidden`, whose sentence is shown under
the field; what remains is checked by :class:`~digitgui.core.training.TrainConfig` itself,
whose message is shown under the form and keeps the Train button disabled. Fields the form does not
show (momentum, L2, clipping, evaluation interval...) come from the chosen preset.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from digitgui.core.mlp import ACTIVATIONS, INITS
from digitgui.core.optim import OPTIMIZERS
from digitgui.core.training import NOTEBOOK_ORDER_EXPLANATION, PRESETS, TrainConfig, parse_hidden

from .palette import warning_color

__all__ = ["CUSTOM", "TrainingPanel", "parse_hidden"]

CUSTOM = "custom"

PRESET_TEXT = {
    "notebook": "notebook: the notebook's run, number for number",
    "default": "default: He init, Adam, mini-batches",
    "handwriting": "handwriting: 5 networks, real pen trajectories (the shipped model, ~1 min)",
    CUSTOM: "custom",
}
OPTIMIZER_TEXT = {"gd": "gradient descent", "momentum": "momentum", "adam": "Adam"}
UPDATE_ORDER_TEXT = {
    "backprop": "textbook",
    "notebook": "notebook's",
}


class TrainingPanel(QWidget):
    """The form. :meth:`config` returns the ``TrainConfig`` it describes or raises ValueError;
    ``configChanged()`` fires after every edit; :meth:`problems` lists what is wrong now."""

    configChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trainingPanel")
        self._base: TrainConfig = PRESETS["default"]
        self._updating = False

        self.preset_combo = QComboBox()
        self.preset_combo.setObjectName("presetCombo")
        # Long item texts must not set the window's minimum width.
        self.preset_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.preset_combo.setMinimumContentsLength(12)
        for name in [*PRESETS, CUSTOM]:
            self.preset_combo.addItem(PRESET_TEXT.get(name, name), name)
        self.preset_combo.setToolTip(
            "Start from a preset: 'notebook' repeats the notebook's run exactly (slow, 20,000 "
            "full-batch steps); 'default' trains a good model in about a second. Changing any "
            "field below makes the settings 'custom'."
        )

        self.hidden_edit = QLineEdit()
        self.hidden_edit.setObjectName("hiddenEdit")
        # Read by the core's parse_hidden (as the command line reads --hidden): what it refuses
        # is said under the field rather than blocked while typing.
        self.hidden_edit.setMaxLength(200)
        self.hidden_edit.setToolTip(
            "Units in each hidden layer, separated by commas (or '-' or 'x'): 32,32 is the "
            "notebook's 64-32-32-10 network."
        )
        self.hidden_error = QLabel()
        self.hidden_error.setObjectName("hiddenError")
        self.hidden_error.setWordWrap(True)

        self.activation_combo = QComboBox()
        self.activation_combo.setObjectName("activationCombo")
        self.activation_combo.addItems(list(ACTIVATIONS))
        self.activation_combo.setToolTip("The hidden layers' activation function")

        self.init_combo = QComboBox()
        self.init_combo.setObjectName("initCombo")
        self.init_combo.addItems(list(INITS))
        self.init_combo.setToolTip(
            "Initial weights: 'he' (scaled for ReLU), 'glorot' (for sigmoid), or 'notebook' "
            "(plain randn, exactly as the notebook draws them)"
        )

        self.optimizer_combo = QComboBox()
        self.optimizer_combo.setObjectName("optimizerCombo")
        for name in OPTIMIZERS:
            self.optimizer_combo.addItem(OPTIMIZER_TEXT.get(name, name), name)
        self.optimizer_combo.setToolTip(
            "How each gradient changes the weights: plain gradient descent (the notebook), "
            "momentum, or Adam"
        )

        self.lr_spin = QDoubleSpinBox()
        self.lr_spin.setObjectName("lrSpin")
        self.lr_spin.setDecimals(5)
        self.lr_spin.setRange(0.00001, 10.0)
        self.lr_spin.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        self.lr_spin.setToolTip("Learning rate: the size of each step (0.00001 to 10)")

        self.iterations_spin = QSpinBox()
        self.iterations_spin.setObjectName("iterationsSpin")
        self.iterations_spin.setRange(1, 1_000_000)
        self.iterations_spin.setGroupSeparatorShown(True)
        self.iterations_spin.setToolTip(
            "Number of weight updates (one per batch; with the whole training set as the batch, "
            "one per epoch)"
        )

        self.batch_spin = QSpinBox()
        self.batch_spin.setObjectName("batchSpin")
        self.batch_spin.setRange(0, 100_000)
        self.batch_spin.setSpecialValueText("full batch")
        self.batch_spin.setToolTip(
            "Digits per update. 'full batch' (0): the whole training set at every update, as in "
            "the notebook"
        )

        self.seed_spin = QSpinBox()
        self.seed_spin.setObjectName("seedSpin")
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setToolTip("Random seed for the initial weights and the batch order")

        self.order_combo = QComboBox()
        self.order_combo.setObjectName("updateOrderCombo")
        for name, text in UPDATE_ORDER_TEXT.items():
            self.order_combo.addItem(text, name)
        self.order_combo.setToolTip(
            "Textbook backprop computes every layer's error before any update; the notebook "
            "updates each layer before sending the error through it"
        )

        # The notebook's overfitting (training 100%, validation 86%) and its two cures.
        self.l2_spin = QDoubleSpinBox()
        self.l2_spin.setObjectName("l2Spin")
        self.l2_spin.setDecimals(5)
        self.l2_spin.setRange(0.0, 1.0)
        self.l2_spin.setSingleStep(0.001)
        self.l2_spin.setSpecialValueText("none")
        self.l2_spin.setToolTip(
            "L2 penalty (weight decay): every update also pulls each weight toward zero by this "
            "fraction, so only weights that help on many digits grow (less overfitting)"
        )
        self.patience_spin = QSpinBox()
        self.patience_spin.setObjectName("patienceSpin")
        self.patience_spin.setRange(0, 1000)
        self.patience_spin.setSpecialValueText("off")
        self.patience_spin.setSuffix(" checks")
        self.patience_spin.setToolTip(
            "Early stopping: end the run when the validation cost has not improved for this many "
            "validation checks, and keep the network from its best check ('off': train to the "
            "end)"
        )

        self.augment_spin = QSpinBox()
        self.augment_spin.setObjectName("augmentSpin")
        self.augment_spin.setRange(0, 20)
        self.augment_spin.setSpecialValueText("none")
        self.augment_spin.setToolTip(
            "Distorted copies of each training digit added to the training set, so that "
            "drawings (which differ from the scanned training digits) are read better"
        )

        # Folded to one line by default: the full paragraph (9 lines at 1280x800) would take
        # the plot's height. The link unfolds it; the tooltip always has it.
        self.explanation = QLabel()
        self.explanation.setObjectName("notebookExplanation")
        self.explanation.setWordWrap(True)
        self.explanation.setTextFormat(Qt.TextFormat.RichText)
        self.explanation.setToolTip(NOTEBOOK_ORDER_EXPLANATION)
        self.explanation.linkActivated.connect(self._on_explanation_linkActivated)
        self.show_explanation(False)
        self.explanation.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)

        self.error_label = QLabel()
        self.error_label.setObjectName("configError")
        self.error_label.setWordWrap(True)

        # Two columns of label/field pairs: the form stays short and the plot below gets the
        # height.
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(2)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        grid.setColumnMinimumWidth(2, 0)

        def pair(row: int, col: int, text: str, field: QWidget) -> None:
            label = QLabel(text)
            label.setBuddy(field)
            label.setToolTip(field.toolTip())
            grid.addWidget(label, row, 2 * col)
            grid.addWidget(field, row, 2 * col + 1)

        preset_label = QLabel("&Preset")
        preset_label.setBuddy(self.preset_combo)
        preset_label.setToolTip(self.preset_combo.toolTip())
        grid.addWidget(preset_label, 0, 0)
        grid.addWidget(self.preset_combo, 0, 1, 1, 3)
        pair(1, 0, "Hi&dden layers", self.hidden_edit)
        pair(1, 1, "&Activation", self.activation_combo)
        grid.addWidget(self.hidden_error, 2, 1, 1, 3)
        pair(3, 0, "&Initialisation", self.init_combo)
        pair(3, 1, "&Optimizer", self.optimizer_combo)
        pair(4, 0, "&Learning rate", self.lr_spin)
        pair(4, 1, "Ite&rations", self.iterations_spin)
        pair(5, 0, "&Batch size", self.batch_spin)
        pair(5, 1, "Seed", self.seed_spin)
        pair(6, 0, "&Update order", self.order_combo)
        pair(6, 1, "Au&gmentation", self.augment_spin)
        pair(7, 0, "L2 pe&nalty", self.l2_spin)
        pair(7, 1, "Earl&y stop", self.patience_spin)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(grid)
        layout.addWidget(self.error_label)
        layout.addWidget(self.explanation)
        for label in (self.hidden_error, self.error_label):
            pal = label.palette()
            pal.setColor(QPalette.ColorRole.WindowText, warning_color(pal))
            label.setPalette(pal)

        self.preset_combo.currentIndexChanged.connect(self._on_preset_changed)
        self.hidden_edit.textChanged.connect(self._on_field_edited)
        for combo in (
            self.activation_combo,
            self.init_combo,
            self.optimizer_combo,
            self.order_combo,
        ):
            combo.currentIndexChanged.connect(self._on_field_edited)
        for spin in (
            self.lr_spin,
            self.iterations_spin,
            self.batch_spin,
            self.seed_spin,
            self.augment_spin,
            self.l2_spin,
            self.patience_spin,
        ):
            spin.valueChanged.connect(self._on_field_edited)

        self.set_config(PRESETS["default"], "default")

    # public API -----------------------------------------------------------------------------------

    def preset_name(self) -> str:
        return self.preset_combo.currentData()

    def set_config(self, config: TrainConfig, preset: str | None = None) -> None:
        """Show ``config``; ``preset`` selects the combo entry (default: the config's name if it
        is a preset and equal to it, else custom). Emits ``configChanged`` once (the fields'
        own edit handling, which turns a changed preset into "custom", stays silent)."""
        if preset is None:
            preset = config.name if PRESETS.get(config.name) == config else CUSTOM
        self._base = config
        self._updating = True
        try:
            self.preset_combo.setCurrentIndex(max(0, self.preset_combo.findData(preset)))
            self.hidden_edit.setText(",".join(str(h) for h in config.hidden))
            self.activation_combo.setCurrentText(config.activation)
            self.init_combo.setCurrentText(config.init)
            self.optimizer_combo.setCurrentIndex(self.optimizer_combo.findData(config.optimizer))
            self.lr_spin.setValue(config.lr)
            self.iterations_spin.setValue(config.iterations)
            self.batch_spin.setValue(config.batch_size or 0)
            self.seed_spin.setValue(config.seed)
            self.order_combo.setCurrentIndex(self.order_combo.findData(config.update_order))
            self.augment_spin.setValue(config.augment)
            self.l2_spin.setValue(config.l2)
            self.patience_spin.setValue(config.patience if config.early_stopping else 0)
        finally:
            self._updating = False
        self._refresh()
        self.configChanged.emit()

    def config(self) -> TrainConfig:
        """The configuration the form describes; ValueError with the problems if it is invalid."""
        hidden = parse_hidden(self.hidden_edit.text())
        values = dict(
            hidden=hidden,
            activation=self.activation_combo.currentText(),
            init=self.init_combo.currentText(),
            optimizer=self.optimizer_combo.currentData(),
            lr=float(self.lr_spin.value()),
            iterations=int(self.iterations_spin.value()),
            batch_size=int(self.batch_spin.value()) or None,
            seed=int(self.seed_spin.value()),
            update_order=self.order_combo.currentData(),
            augment=int(self.augment_spin.value()),
            l2=float(self.l2_spin.value()),
            early_stopping=self.patience_spin.value() > 0,
        )
        if self.patience_spin.value() > 0:
            values["patience"] = int(self.patience_spin.value())
        return dataclasses.replace(self._base, name=self.preset_name(), **values)

    def problems(self) -> list[str]:
        """What is wrong with the current values (empty when :meth:`config` succeeds)."""
        try:
            self.config()
        except ValueError as e:
            return [str(e)]
        return []

    def set_editable(self, editable: bool) -> None:
        """Lock the form while a run trains (its settings are fixed once it starts)."""
        for w in self._fields():
            w.setEnabled(editable)
        self.preset_combo.setEnabled(editable)

    # internals ------------------------------------------------------------------------------------

    def _fields(self) -> list[QWidget]:
        return [
            self.hidden_edit,
            self.activation_combo,
            self.init_combo,
            self.optimizer_combo,
            self.lr_spin,
            self.iterations_spin,
            self.batch_spin,
            self.seed_spin,
            self.order_combo,
            self.augment_spin,
            self.l2_spin,
            self.patience_spin,
        ]

    def _on_preset_changed(self, index: int) -> None:
        if self._updating:
            return
        name = self.preset_combo.itemData(index)
        if name in PRESETS:
            self.set_config(PRESETS[name], name)  # emits configChanged
        else:
            self._refresh()
            self.configChanged.emit()

    def _on_field_edited(self, *_args) -> None:
        if self._updating:
            return
        preset = self.preset_name()
        if preset in PRESETS:
            try:
                same = self.config() == PRESETS[preset]
            except ValueError:
                same = False
            if not same:
                self._updating = True
                self.preset_combo.setCurrentIndex(self.preset_combo.findData(CUSTOM))
                self._updating = False
        self._refresh()
        self.configChanged.emit()

    def show_explanation(self, full: bool) -> None:
        """The note on the notebook's update order: one line with a link, or the paragraph."""
        self.explanation_unfolded = full
        if full:
            text = (
                f"<b>About the notebook's order.</b> {NOTEBOOK_ORDER_EXPLANATION} "
                "<a href='fold'>Less</a>"
            )
        else:
            text = (
                "<b>Notebook order:</b> W3 is updated before the error goes back through it, "
                "which is not quite the gradient. <a href='unfold'>Why it matters…</a>"
            )
        self.explanation.setText(text)

    def _on_explanation_linkActivated(self, link: str) -> None:
        self.show_explanation(link == "unfold")

    def _refresh(self) -> None:
        try:
            parse_hidden(self.hidden_edit.text())
            self.hidden_error.clear()
            self.hidden_error.hide()
        except ValueError as e:
            self.hidden_error.setText(str(e))
            self.hidden_error.show()
        problems = self.problems()
        self.error_label.setText("" if not problems else f"Cannot train: {problems[0]}")
        self.error_label.setVisible(bool(problems))
        self.explanation.setVisible(self.order_combo.currentData() == "notebook")
