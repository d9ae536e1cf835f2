"""The main window: draw a digit, see what the network reads, train a network live.

Left: the drawing canvas, what the network sees (the 8x8 reduction) and its guess. Right: the
``insightTabs`` tab widget; its first tab holds the training settings, the live cost plot and the
training controls, the second describes the current model, then come the insight views (why this
guess, nearest examples, test set, hidden units, guess history, one update step) and the user's
own digits. The views follow the window through its signals:

- ``modelChanged(object)``: the current :class:`DigitClassifier` was replaced (opened, trained,
  reset);
- ``digitChanged(object)``: the current 8x8 digit ``(8, 8)`` (0..16), or None for an empty canvas;
- ``trainingStarted()``, ``trainingProgress(object)`` (a list of ``Progress`` records, batched),
  ``trainingFinished(object)`` (the final ``Progress``, with ``.model``).
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import Future
from pathlib import Path

import numpy as np
from PySide6.QtCore import QByteArray, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from digitgui.core.calibration import format_probability
from digitgui.core.lessons import lesson
from digitgui.core.model_io import DigitClassifier, ModelFileError, load_default
from digitgui.core.my_digits import default_collection_path
from digitgui.core.novelty import Novelty, NoveltyReference, assess, load_digits_reference
from digitgui.core.reading import read_digit
from digitgui.core.runs import Run, RunStore, default_runs_dir, write_curves_csv
from digitgui.core.training import TrainConfig

from .canvas import MAX_PEN_WIDTH, MIN_PEN_WIDTH, DrawingCanvas
from .digit_view import DigitView
from .insight import InsightPanel
from .model_text import model_details_html, networks_phrase, reader_tip
from .my_digits_view import MyDigitsView
from .probability_chart import ProbabilityChart
from .settings import open_settings
from .training_controller import TrainingController
from .training_tab import REFRESH_MS, TRAIN_HINT, TrainingTab
from .window_actions import build_actions, build_menus
from .worker import TrainingRunner

__all__ = ["MainWindow"]

PEN_STEP = 2.0
GUESS_TITLE = "The network's guess"
GUESS_TITLE_LIVE = "The network's guess (live, while it trains)"
#: How often a window checks whether the load_digits reference has been built (ms).
REFERENCE_POLL_MS = 50

_reference_lock = threading.Lock()
_reference_future: Future | None = None


def novelty_reference_future() -> Future:
    """The load_digits novelty reference, built once per process in a background thread (it
    imports scikit-learn and loads the data: about a second). The thread touches no Qt object
    and holds no reference to a window: a window whose last reference died in another thread
    would be destroyed there, and Qt objects must die in their own thread."""
    global _reference_future
    with _reference_lock:
        if _reference_future is None:
            future: Future = Future()

            def build() -> None:
                try:
                    future.set_result(load_digits_reference())
                except BaseException as e:
                    future.set_exception(e)

            threading.Thread(target=build, name="digitgui-novelty-reference", daemon=True).start()
            _reference_future = future
        return _reference_future


OUTCOME_TEXT = {
    "completed": "Training finished",
    "stopped": "Training stopped",
    "early_stopped": "Training stopped early",
    "diverged": "Training diverged",
}


def _preparing_message(config: TrainConfig) -> str:
    """What the run does before its first update, in words (drawing pendigits.tra the first time
    takes seconds)."""
    from digitgui.core.handwriting import is_cached

    if config.handwriting and not is_cached(config.handwriting - 1):
        return (
            f"Drawing the 7,494 pen trajectories of pendigits.tra {config.handwriting} times each "
            "as training digits, with the canvas's pen (first run only, about 10-30 s)…"
        )
    return f"Preparing the data for '{config.name}'…"


class MainWindow(QMainWindow):
    """The app's window. ``model``: the classifier to start with (default: the shipped model).

    Public surface (shared/DESIGN.md): ``canvas`` (the :class:`DrawingCanvas`) and
    :meth:`probabilities`.
    """

    modelChanged = Signal(object)
    digitChanged = Signal(object)
    trainingStarted = Signal()
    trainingProgress = Signal(object)
    trainingFinished = Signal(object)

    def __init__(
        self,
        model: DigitClassifier | None = None,
        *,
        load_reference: bool = True,
        data_dir: str | Path | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowTitle("digitgui")
        self._settings = open_settings()
        self.last_error = ""
        self._startup_notes: list[str] = []
        self._progress_seen = False
        startup_error = ""
        if model is None:
            try:
                model = load_default()
            except ModelFileError as e:
                startup_error = str(e)
        self._model: DigitClassifier | None = model
        self._model_source = "the shipped model" if model is not None else ""
        self._base_model = model
        self._base_source = self._model_source
        # What the probabilities come from: the model, or during training the latest snapshot.
        self._display_model = model
        self._digit: np.ndarray | None = None
        self._reference: NoveltyReference | None = None
        self._reference_poll = QTimer(self)
        self._reference_poll.setInterval(REFERENCE_POLL_MS)
        self._reference_poll.timeout.connect(self._on_reference_poll_timeout)
        self._dialogs: list[QDialog] = []
        self._extra_training_source = None
        self._pending_snapshot: DigitClassifier | None = None
        # A stopped run, whose network the user may choose to use ("Use this network").
        self._stopped_run: Run | None = None
        self._refresh = QTimer(self)
        self._refresh.setInterval(REFRESH_MS)
        self._refresh.timeout.connect(self._on_refresh_timeout)
        self.controller = TrainingController(self._open_run_store(data_dir), self)
        self._build_ui()
        build_actions(self)
        build_menus(self)
        self._connect()
        self._build_insight_views(load_reference)
        self._restore_settings()
        self._update_model_views()
        self.training_tab.show_idle_run()
        self._set_training_message(TRAIN_HINT)
        self._update_buttons()
        if startup_error:
            self._startup_notes.insert(0, f"No model loaded: {startup_error}")
        if self._startup_notes:
            self.statusBar().showMessage(" ".join(self._startup_notes))
        if load_reference:
            self._reference_poll.start()

    # public API -----------------------------------------------------------------------------------

    def probabilities(self) -> np.ndarray | None:
        """The softmax now shown ``(10,)``, or None (empty canvas, no model)."""
        return self.probability_chart.probabilities()

    def model(self) -> DigitClassifier | None:
        """The current model (the one a finished training run or File > Open installed)."""
        return self._model

    def novelty(self) -> Novelty | None:
        """How the current drawing compares with load_digits (None: empty, or not yet known).
        Measured on request only: the window's warning comes from the model's reading
        (:mod:`digitgui.core.reading`), which tells a misread drawing from a clean one better
        than the distance to the nearest training digit did."""
        if self._digit is None or self._reference is None:
            return None
        return assess(self._digit, self._reference)

    def novelty_reference(self) -> NoveltyReference | None:
        return self._reference

    def training_runner(self) -> TrainingRunner:
        return self.controller.runner

    @property
    def insightTabs(self) -> QTabWidget:  # the objectName, as the later views' docs spell it
        return self.insight_tabs

    def set_extra_training_source(self, source) -> None:
        """``source()`` returns extra raw training digits and labels ``((n, 64), (n,))`` or None;
        it is called when a run starts (e.g. the user's own digits)."""
        self._extra_training_source = source

    def _on_my_digits_digitAdded(self, entry) -> None:
        where = "held out for testing" if entry.held_out else "for training"
        self.statusBar().showMessage(
            f"Kept your drawing as a {entry.label} in My digits ({where}); Ctrl+Z there undoes it.",
            6000,
        )

    def add_insight_view(self, widget: QWidget, title: str) -> int:
        """Add a view as a tab of ``insightTabs``; returns its index."""
        return self.insight_tabs.addTab(widget, title)

    def set_model(self, model: DigitClassifier | None, source: str = "") -> None:
        """Make ``model`` the current model (and the one Reset returns to)."""
        self._base_model, self._base_source = model, source
        self._install_model(model, source)

    def open_model(self, path: str | Path) -> bool:
        """Load a model file; on failure a dialog says why and the current model stays."""
        path = Path(path)
        if self.controller.is_busy():
            self._show_error("Cannot open a model", "Stop training before opening a model.")
            return False
        try:
            model = DigitClassifier.load(path)
        except ModelFileError as e:
            self._show_error("Cannot open the model", str(e))
            return False
        self.set_model(model, path.name)
        self.statusBar().showMessage(f"Opened {path}", 5000)
        return True

    def save_model(self, path: str | Path) -> bool:
        """Write the current model to ``path`` (atomically); a dialog reports failures."""
        path = Path(path)
        if self._model is None:
            self._show_error("Nothing to save", "There is no model yet: train one first.")
            return False
        try:
            self._model.save(path)
        except OSError as e:
            self._show_error("Cannot save the model", f"{path}: {e.strerror or e}")
            return False
        self.statusBar().showMessage(f"Saved the model to {path}", 5000)
        return True

    def export_drawing(self, path: str | Path) -> bool:
        """Save the drawing as a 256x256 PNG (dark ink on white)."""
        path = Path(path)
        if self.canvas.is_empty():
            self._show_error("Nothing to export", "The canvas is empty: draw a digit first.")
            return False
        if not self.canvas.to_image().save(str(path), "PNG"):
            self._show_error("Cannot export the drawing", f"{path}: the file cannot be written.")
            return False
        self.statusBar().showMessage(f"Saved the drawing to {path}", 5000)
        return True

    def start_training(self, config: TrainConfig | None = None) -> bool:
        """Start training ``config`` (default: the training panel's settings); the run becomes
        a row of ``runsTable`` and a curve of ``costPlot``. False if a run is going."""
        if self.controller.is_busy():
            return False
        if config is None:
            try:
                config = self.training_panel.config()
            except ValueError as e:
                self._set_training_message(f"Cannot train: {e}", warning=True)
                return False
        self._save_training_settings()
        self._forget_stopped_run()
        extra = self._extra_training_source() if self._extra_training_source else None
        self._set_training_message(_preparing_message(config))
        return self.controller.start(config, extra) is not None

    def start_lesson(self, key: str) -> bool:
        """Run the lesson ``key`` (:mod:`digitgui.core.lessons`): its runs one after another,
        alone on the plot. False if a run is going."""
        if self.controller.is_busy():
            self.statusBar().showMessage("Stop the run in progress before starting a lesson.", 6000)
            return False
        item = lesson(key)
        self._forget_stopped_run()
        self.training_tab.start_lesson_view(item)
        return self.controller.start_lesson(item, self._extra_training_source)

    def change_learning_rate(self, lr: float) -> bool:
        """Change the learning rate of the run in progress from its next update on."""
        try:
            self.controller.set_learning_rate(lr)
        except ValueError as e:
            self.statusBar().showMessage(f"Cannot change the learning rate: {e}", 8000)
            return False
        self.statusBar().showMessage(
            f"Learning rate {lr:g} from the next update on (marked on the plot)", 6000
        )
        return True

    def use_run(self, run: Run) -> bool:
        """Read the drawing with ``run``'s network (it becomes the current model)."""
        if self.controller.is_busy():
            self._show_error("Cannot switch networks", "Stop training before switching networks.")
            return False
        try:
            model = self.controller.model(run)
        except ModelFileError as e:
            self._show_error("Cannot use this run's network", str(e))
            return False
        self._stopped_run = None
        self._install_model(model, f"run “{run.name}”")
        self._update_use_run()
        self._set_training_message(
            f"Now reading with the network of “{run.name}”. Reset goes back to the model from "
            "before training."
        )
        self.statusBar().showMessage(f"Using the network of “{run.name}”: {model.description}")
        return True

    # UI construction ------------------------------------------------------------------------------

    def _build_insight_views(self, deferred: bool) -> None:
        """The insight views and "My digits" as tabs. Their data (load_digits, ~1 s with the
        scikit-learn import) is loaded by the novelty reference's background thread; with
        ``deferred`` they are connected once that is done, so the window appears at once."""
        self.insight = InsightPanel(self)
        self.insight.add_tabs(self.insight_tabs)
        self.insight.digitRequested.connect(self._on_insight_digitRequested)
        try:
            collection_path = default_collection_path()
        except RuntimeError as e:  # the test suite without a data folder
            self.my_digits = MyDigitsView(None, unavailable_reason=str(e))
        else:
            self.my_digits = MyDigitsView.open(collection_path)
        self.my_digits.set_canvas(self.canvas)
        self.my_digits.set_model(self._model)
        self.modelChanged.connect(self.my_digits.set_model)
        self.set_extra_training_source(self.my_digits.extra_training_data)
        # Keeping a drawing with a digit key works from any tab: say so where it is seen.
        self.my_digits.digitAdded.connect(self._on_my_digits_digitAdded)
        self.insight_tabs.addTab(self.my_digits, "My digits")
        self.insight_tabs.setTabToolTip(
            self.insight_tabs.count() - 1,
            "Your own labelled digits: add the drawing with keys 0-9, train and test on them",
        )
        self._insight_connected = False
        if not deferred:
            self._connect_insight_views()

    def _connect_insight_views(self) -> None:
        if self._insight_connected:
            return
        self._insight_connected = True
        self.insight.connect_window(self)
        self.insight.set_model(self._model)
        self.insight.set_digit(self._digit)

    def insight_views_ready(self) -> bool:
        """Whether the insight views follow the window yet (they wait for load_digits)."""
        return self._insight_connected

    def _on_insight_digitRequested(self, digit: np.ndarray) -> None:
        self.canvas.load_digit(digit)
        self.statusBar().showMessage(
            "Showing a load_digits digit on the canvas; draw, Clear or Undo to start your own.",
            6000,
        )

    def _build_ui(self) -> None:
        self.canvas = DrawingCanvas()
        self.pen_slider = QSlider(Qt.Orientation.Horizontal)
        self.pen_slider.setObjectName("penWidthSlider")
        self.pen_slider.setRange(int(MIN_PEN_WIDTH), int(MAX_PEN_WIDTH))
        self.pen_slider.setValue(int(self.canvas.pen_width()))
        self.pen_slider.setToolTip("Pen width in canvas pixels ([ and ] change it)")
        self.pen_label = QLabel()
        self.pen_label.setMinimumWidth(40)
        self.pen_label.setToolTip("Pen width in pixels of the 256x256 canvas")
        self.undo_button = QToolButton()
        self.undo_button.setObjectName("undoButton")
        self.clear_button = QToolButton()
        self.clear_button.setObjectName("clearButton")

        pen_row = QHBoxLayout()
        pen_label = QLabel("Pen")
        pen_label.setToolTip(self.pen_slider.toolTip())
        pen_row.addWidget(pen_label)
        pen_row.addWidget(self.pen_slider, 1)
        pen_row.addWidget(self.pen_label)
        pen_row.addWidget(self.undo_button)
        pen_row.addWidget(self.clear_button)

        draw_box = QGroupBox("Draw a digit")
        draw_layout = QVBoxLayout(draw_box)
        draw_layout.addWidget(self.canvas, 1)
        draw_layout.addLayout(pen_row)

        self.digit_view = DigitView()
        self.digit_view.setFixedSize(184, 184)
        sees_box = QGroupBox("What the network sees")
        sees_box.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        sees_layout = QVBoxLayout(sees_box)
        sees_layout.addWidget(self.digit_view, 0, Qt.AlignmentFlag.AlignHCenter)

        self.probability_chart = ProbabilityChart()
        # The warning sits in the chart, right under the headline it qualifies.
        self.novelty_label = self.probability_chart.warning_label
        self.reader_label = QLabel()
        self.reader_label.setObjectName("readerLabel")
        self.reader_label.setWordWrap(True)
        small = self.reader_label.font()
        small.setPointSizeF(small.pointSizeF() * 0.9)
        self.reader_label.setFont(small)
        guess_box = QGroupBox(GUESS_TITLE)
        self.guess_box = guess_box
        guess_layout = QVBoxLayout(guess_box)
        guess_layout.addWidget(self.probability_chart)
        guess_layout.addWidget(self.reader_label)
        guess_layout.addStretch(1)

        # Drawing above what the network sees, the guess beside them: the eye goes from the pen
        # to the 8x8 to the answer.
        draw_column = QVBoxLayout()
        draw_column.addWidget(draw_box, 1)
        draw_column.addWidget(sees_box)
        guess_box.setMinimumWidth(210)
        guess_box.setMaximumWidth(260)

        drawing_area = QWidget()
        drawing_area.setObjectName("drawingArea")
        drawing_layout = QHBoxLayout(drawing_area)
        drawing_layout.setContentsMargins(6, 6, 6, 6)
        drawing_layout.addLayout(draw_column, 1)
        drawing_layout.addWidget(guess_box)

        self.insight_tabs = QTabWidget()
        self.insight_tabs.setObjectName("insightTabs")
        self.insight_tabs.setDocumentMode(True)
        self.insight_tabs.addTab(self._build_training_tab(), "Training")
        self.insight_tabs.addTab(self._build_model_tab(), "Model")
        self.insight_tabs.setTabToolTip(0, "Train a network and watch its cost fall")
        self.insight_tabs.setTabToolTip(1, "What the current model is and how well it reads")

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(drawing_area)
        self.splitter.addWidget(self.insight_tabs)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.setCentralWidget(self.splitter)

        self.model_label = QLabel()
        self.model_label.setObjectName("modelLabel")
        self.model_label.setToolTip("The model that reads your drawing: layers and accuracies")
        self.statusBar().addPermanentWidget(self.model_label)
        self.resize(1280, 800)
        self.splitter.setSizes([690, 590])

    def _build_training_tab(self) -> QWidget:
        tab = self.training_tab = TrainingTab(self.controller)
        # The window's names for the tab's widgets (tests and scripts use them).
        for name in (
            "training_panel",
            "cost_plot",
            "runs_table",
            "runs_panel",
            "train_button",
            "pause_button",
            "stop_button",
            "reset_button",
            "log_button",
            "use_run_button",
            "progress_bar",
            "rate_label",
            "training_message",
        ):
            setattr(self, name, getattr(tab, name))
        return tab

    def _build_model_tab(self) -> QWidget:
        self.model_details = QLabel()
        self.model_details.setObjectName("modelDetails")
        self.model_details.setMargin(10)
        self.model_details.setWordWrap(True)
        self.model_details.setTextFormat(Qt.TextFormat.RichText)
        self.model_details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.model_details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        scroll = QScrollArea()
        scroll.setWidget(self.model_details)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        return scroll

    def _connect(self) -> None:
        self.canvas.drawingChanged.connect(self._on_canvas_drawingChanged)
        self.canvas.strokesChanged.connect(self._update_buttons)
        self.canvas.penWidthChanged.connect(self._on_canvas_penWidthChanged)
        self.pen_slider.valueChanged.connect(self._on_pen_slider_valueChanged)
        self.training_panel.configChanged.connect(self._on_training_panel_configChanged)
        c = self.controller
        c.runStarted.connect(self._on_controller_runStarted)
        c.runProgressed.connect(self._on_controller_runProgressed)
        c.runFailed.connect(self._on_controller_runFailed)
        c.runFinished.connect(self._on_controller_runFinished)
        c.stateChanged.connect(self._update_buttons)
        c.runsChanged.connect(self._update_buttons)
        rp = self.runs_panel
        rp.useRequested.connect(self.use_run)
        rp.deleteRequested.connect(self._on_runs_deleteRequested)
        rp.renameRequested.connect(self._on_runs_renameRequested)
        rp.exportCurvesRequested.connect(self._on_runs_exportCurvesRequested)
        rp.exportPlotRequested.connect(self._on_export_plot_triggered)
        self._on_canvas_penWidthChanged(self.canvas.pen_width())

    # settings -------------------------------------------------------------------------------------

    def _restore_settings(self) -> None:
        s = self._settings
        geometry = s.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        splitter = s.value("window/splitter")
        if isinstance(splitter, QByteArray) and not splitter.isEmpty():
            self.splitter.restoreState(splitter)
        try:
            pen = float(s.value("canvas/pen_width", self.canvas.pen_width()))
            self.canvas.set_pen_width(pen)
        except (TypeError, ValueError):
            pass
        self.log_action.setChecked(str(s.value("plot/log_y", "false")).lower() == "true")
        raw = s.value("training/config")
        if isinstance(raw, str) and raw:
            try:
                config = TrainConfig.from_dict(json.loads(raw))
                preset = s.value("training/preset")
                self.training_panel.set_config(config, preset if isinstance(preset, str) else None)
            except (ValueError, TypeError, KeyError):
                pass  # settings from another version or edited by hand: keep the defaults

    def _save_training_settings(self) -> None:
        try:
            config = self.training_panel.config()
        except ValueError:
            return
        self._settings.setValue("training/config", json.dumps(config.to_dict()))
        self._settings.setValue("training/preset", self.training_panel.preset_name())

    def _save_settings(self) -> None:
        s = self._settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/splitter", self.splitter.saveState())
        s.setValue("canvas/pen_width", self.canvas.pen_width())
        s.setValue("plot/log_y", "true" if self.log_action.isChecked() else "false")
        self._save_training_settings()
        s.sync()

    # models ---------------------------------------------------------------------------------------

    def _install_model(self, model: DigitClassifier | None, source: str) -> None:
        self._model, self._model_source = model, source
        self._display_model = model
        self._update_prediction()
        self._update_model_views()
        self._update_buttons()
        self.modelChanged.emit(model)

    def _update_model_views(self) -> None:
        model = self._model
        if model is None:
            self.model_label.setText("No model: train one or open a file")
            self.model_details.setText("<p>No model is loaded.</p>")
            self.probability_chart.set_hint("No model yet: train one or open a model file")
            self._update_reader()
            return
        self.probability_chart.set_hint("Draw a digit to see what the network thinks it is")
        source = f" ({self._model_source})" if self._model_source else ""
        self.model_label.setText(f"{model.description}{source}")
        self.model_details.setText(model_details_html(model, self._model_source))
        self._update_reader()

    # prediction -----------------------------------------------------------------------------------

    def _on_canvas_drawingChanged(self, digit: np.ndarray | None) -> None:
        self._digit = digit
        self.digit_view.set_digit(digit)
        self._update_prediction()
        self.digitChanged.emit(None if digit is None else digit.copy())

    def _update_prediction(self) -> None:
        model = self._display_model
        if self._digit is None or model is None:
            self.probability_chart.set_reading(None)
            return
        self.probability_chart.set_reading(read_digit(model, self._digit))

    def _update_reader(self) -> None:
        """Say which model reads the drawing, and for an ensemble that its answer is the average
        of its networks (the label under the bars, with the details in its tooltip)."""
        model = self._display_model
        if model is None:
            self.reader_label.setText("")
            self.reader_label.setToolTip("")
            self.guess_box.setToolTip("")
            return
        if model is self._model:
            who = self._model_source or "this model"
            if who.startswith("trained just now"):
                who = f"the network {who}"
            text = f"Read by {who}: {networks_phrase(model)}."
        else:
            text = f"Read by the network being trained, as it is now: {networks_phrase(model)}."
        tip = reader_tip(model)
        self.reader_label.setText(text)
        self.reader_label.setToolTip(tip)
        self.guess_box.setToolTip(tip)

    def _on_reference_poll_timeout(self) -> None:
        future = novelty_reference_future()
        if not future.done():
            return
        self._reference_poll.stop()
        try:
            self._reference = future.result()
        except Exception as e:  # the app works without it; say why
            self.statusBar().showMessage(
                f"The comparison with load_digits is unavailable: {e}", 10000
            )
            return
        self._connect_insight_views()

    # training -------------------------------------------------------------------------------------

    def _open_run_store(self, data_dir: str | Path | None) -> RunStore | None:
        """The kept runs in the data folder; None (runs kept for this session only) when there
        is no usable folder, which the status bar says."""
        try:
            store = RunStore(default_runs_dir(data_dir))
        except (RuntimeError, OSError) as e:
            self._startup_notes.append(f"Runs are not kept after you quit: {e}")
            return None
        self._startup_notes.extend(store.problems)
        return store

    def _on_controller_runStarted(self, run: Run) -> None:
        self.guess_box.setTitle(GUESS_TITLE_LIVE)
        self._progress_seen = False
        self._update_buttons()
        self.trainingStarted.emit()

    def _on_controller_runProgressed(self, run: Run, records: list) -> None:
        if not self._progress_seen and not run.lesson:
            self._set_training_message("")  # the data is ready: "Preparing…" is over
        self._progress_seen = True
        snapshot = next((r.snapshot for r in reversed(records) if r.snapshot is not None), None)
        if snapshot is not None:
            self._pending_snapshot = snapshot
            if not self._refresh.isActive():
                self._refresh.start()
        self.trainingProgress.emit(records)

    def _on_refresh_timeout(self) -> None:
        """The probabilities follow the network being trained, at most 10 times a second."""
        if self._pending_snapshot is None:
            self._refresh.stop()
            return
        first = self._display_model is self._model
        self._display_model, self._pending_snapshot = self._pending_snapshot, None
        self._update_prediction()
        if first:
            self._update_reader()

    def _on_controller_runFailed(self, run: Run, failure) -> None:
        self.statusBar().showMessage(f"Training failed: {failure.message}", 10000)

    def _back_to_model(self) -> None:
        """The probabilities go back to the model from before the run."""
        self._display_model = self._model
        self._update_prediction()
        self._update_reader()

    def _on_controller_runFinished(self, run: Run, final) -> None:
        self.guess_box.setTitle(GUESS_TITLE)
        self._refresh.stop()
        self._pending_snapshot = None
        self._update_buttons()
        if final is None:
            self._back_to_model()
            return
        title = OUTCOME_TEXT.get(final.outcome, "Training ended")
        text = final.message
        if None not in (final.train_acc, final.val_acc, final.test_acc):
            text += (
                f" Accuracy: training {format_probability(final.train_acc)}, validation "
                f"{format_probability(final.val_acc)}, test {format_probability(final.test_acc)}."
            )
        who = self._model_source or "the network in use"
        if run.lesson:
            # A lesson compares runs: none replaces the network that reads the drawing.
            self._back_to_model()
            left = self.controller.queue_left()
            text = f"“{run.name}”: {text}" + (f" Next: {left} more run(s)." if left else "")
        elif final.outcome in ("completed", "early_stopped"):
            source = "trained just now"
            if final.outcome != "completed":
                source += f", {final.outcome.replace('_', ' ')}"
            self._install_model(final.model, source)
            self.statusBar().showMessage(f"{title}: {final.model.description}", 10000)
        else:
            # A stopped or diverged run leaves the network in use as it was. A stopped run's
            # network can be chosen with "Use this network".
            self._back_to_model()
            if final.outcome == "stopped" and final.model is not None:
                self._stopped_run = run
                text += (
                    f" Your drawing is still read by {who}; “Use this network” reads it with "
                    "the network as it was when it stopped."
                )
            else:
                text += f" Your drawing is still read by {who}."
            self.statusBar().showMessage(f"{title}: still reading with {who}", 10000)
        self._update_use_run()
        if self.controller.keep_error:
            text += f" Note: {self.controller.keep_error}."
        self._set_training_message(text, warning=final.outcome == "diverged")
        self.trainingFinished.emit(final)

    def _on_training_panel_configChanged(self) -> None:
        self.training_tab.show_idle_run()
        self._update_buttons()

    def _forget_stopped_run(self) -> None:
        self._stopped_run = None
        self._update_use_run()

    def _update_use_run(self) -> None:
        run = self._stopped_run
        available = run is not None and not self.controller.is_busy()
        self.use_run_action.setEnabled(available)
        self.use_run_button.setVisible(available)
        if run is not None:
            self.use_run_action.setToolTip(
                f"Read your drawing with the network of the stopped run (iteration "
                f"{run.iterations_done:,}) instead of {self._model_source or 'the one in use'}"
            )

    def _on_use_run_triggered(self) -> None:
        run = self._stopped_run
        if run is None or self.controller.is_busy():
            return
        self._stopped_run = None
        self._install_model(
            run.model, f"trained just now, stopped at iteration {run.iterations_done:,}"
        )
        self._update_use_run()
        self._set_training_message(
            f"Now reading with the network of the stopped run (iteration "
            f"{run.iterations_done:,}). Reset goes back to the model from before training."
        )
        self.statusBar().showMessage(f"Using the stopped run's network: {run.model.description}")

    def _set_training_message(self, text: str, warning: bool = False) -> None:
        self.training_tab.set_message(text, warning)

    def _update_buttons(self, *_args) -> None:
        busy = self.controller.is_busy()
        state = self.controller.state
        valid = not self.training_panel.problems()
        self.train_action.setEnabled(not busy and valid)
        self.pause_action.setEnabled(state in ("running", "paused"))
        self.pause_action.setText("&Resume" if state == "paused" else "&Pause")
        self.stop_action.setEnabled(state in ("running", "paused"))
        self.lr_action.setEnabled(state in ("running", "paused"))
        for action in self.lesson_actions:
            action.setEnabled(not busy)
        has_plot = self.training_tab.has_curves()
        self.reset_action.setEnabled(busy or has_plot or self._model is not self._base_model)
        self.training_panel.set_editable(not busy)
        self.open_action.setEnabled(not busy)
        self.save_action.setEnabled(self._model is not None)
        self.undo_action.setEnabled(not self.canvas.is_empty())
        self.clear_action.setEnabled(not self.canvas.is_empty())
        self.export_action.setEnabled(not self.canvas.is_empty())
        self._update_use_run()

    # action slots ---------------------------------------------------------------------------------

    def _on_train_triggered(self) -> None:
        self.start_training()

    def _on_lesson_triggered(self) -> None:
        self.start_lesson(self.sender().data())

    def _on_pause_triggered(self) -> None:
        if self.controller.state == "paused":
            self.controller.resume()
            self._set_training_message("")
        else:
            self.controller.pause()
            self._set_training_message("Paused. Resume with F6 or the Resume button.")

    def _on_stop_triggered(self) -> None:
        lesson_left = self.controller.queue_left()
        self.controller.stop()
        text = "Stopping after the current iteration…"
        if lesson_left:
            text += f" The lesson ends here ({lesson_left} run(s) not started); finished runs stay."
        self._set_training_message(text)

    def _on_reset_triggered(self) -> None:
        self.controller.abandon()
        self.guess_box.setTitle(GUESS_TITLE)
        self._refresh.stop()
        self._pending_snapshot = None
        self._stopped_run = None
        self.training_tab.hide_all_runs()
        self._set_training_message(TRAIN_HINT)
        self._install_model(self._base_model, self._base_source)
        self._update_use_run()
        self.statusBar().showMessage(
            "Reset: back to the model from before training; the runs stay in the table", 5000
        )

    def _on_lr_triggered(self) -> None:
        run = self.controller.live
        if run is None:
            return
        current = run.lr_changes[-1][1] if run.lr_changes else run.config.lr
        lr, ok = QInputDialog.getDouble(
            self, "Learning rate", "Learning rate from the next update on:", current, 1e-6, 10.0, 6
        )
        if ok:
            self.change_learning_rate(lr)

    def _on_runs_deleteRequested(self, runs: list) -> None:
        n = self.controller.delete(runs)
        self.statusBar().showMessage(f"Deleted {n} run(s) and their files", 5000)

    def _on_runs_renameRequested(self, run: Run, name: str) -> None:
        try:
            self.controller.rename(run, name)
        except (ValueError, OSError) as e:
            self.statusBar().showMessage(f"Cannot rename the run: {e}", 8000)
            self.training_tab.update_runs()

    def _on_runs_exportCurvesRequested(self, runs: list) -> None:
        start = str(Path(self._last_folder()) / "runs.csv")
        path, _ = QFileDialog.getSaveFileName(self, "Export curves", start, "CSV files (*.csv)")
        if path:
            self._remember_folder(path)
            self.export_curves(runs, path)

    def export_curves(self, runs: list, path: str | Path) -> bool:
        """Write the curves of ``runs`` to a CSV file; a dialog reports failures."""
        try:
            write_curves_csv(runs, path)
        except OSError as e:
            self._show_error("Cannot export the curves", f"{path}: {e.strerror or e}")
            return False
        self.statusBar().showMessage(f"Saved the curves of {len(runs)} run(s) to {path}", 5000)
        return True

    def _on_export_plot_triggered(self) -> None:
        start = str(Path(self._last_folder()) / "runs.png")
        path, _ = QFileDialog.getSaveFileName(
            self, "Export plot", start, "PNG images (*.png);;SVG images (*.svg)"
        )
        if path:
            if not path.lower().endswith((".png", ".svg")):
                path += ".png"
            self._remember_folder(path)
            self.export_plot(path)

    def export_plot(self, path: str | Path) -> bool:
        """Save the runs plot as a PNG or SVG image (by the suffix)."""
        try:
            self.cost_plot.export(path)
        except (OSError, ValueError) as e:
            self._show_error("Cannot export the plot", str(e))
            return False
        self.statusBar().showMessage(f"Saved the plot to {path}", 5000)
        return True

    def _on_log_toggled(self, on: bool) -> None:
        self.cost_plot.set_log_y(on)

    def _on_undo_triggered(self) -> None:
        self.canvas.undo()

    def _on_wider_triggered(self) -> None:
        self.canvas.set_pen_width(self.canvas.pen_width() + PEN_STEP)

    def _on_thinner_triggered(self) -> None:
        self.canvas.set_pen_width(self.canvas.pen_width() - PEN_STEP)

    def _on_pen_slider_valueChanged(self, value: int) -> None:
        self.canvas.set_pen_width(float(value))

    def _on_canvas_penWidthChanged(self, width: float) -> None:
        self.pen_slider.blockSignals(True)
        self.pen_slider.setValue(round(width))
        self.pen_slider.blockSignals(False)
        self.pen_label.setText(f"{width:g} px")

    def _last_folder(self) -> str:
        folder = self._settings.value("files/last_folder", "")
        return folder if isinstance(folder, str) else ""

    def _remember_folder(self, path: str) -> None:
        self._settings.setValue("files/last_folder", str(Path(path).parent))

    def _on_open_triggered(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open model", self._last_folder(), "digitgui models (*.npz);;All files (*)"
        )
        if path:
            self._remember_folder(path)
            self.open_model(path)

    def _on_save_triggered(self) -> None:
        start = str(Path(self._last_folder()) / "model.npz")
        path, _ = QFileDialog.getSaveFileName(self, "Save model", start, "digitgui models (*.npz)")
        if path:
            if not path.endswith(".npz"):
                path += ".npz"
            self._remember_folder(path)
            self.save_model(path)

    def _on_export_triggered(self) -> None:
        start = str(Path(self._last_folder()) / "drawing.png")
        path, _ = QFileDialog.getSaveFileName(self, "Export drawing", start, "PNG images (*.png)")
        if path:
            if not path.lower().endswith(".png"):
                path += ".png"
            self._remember_folder(path)
            self.export_drawing(path)

    # dialogs and lifecycle ------------------------------------------------------------------------

    def open_dialog(self, dialog: QDialog) -> None:
        """Show a dialog without blocking the event loop (training keeps being drawn)."""
        self._dialogs = [d for d in self._dialogs if d.isVisible()]
        self._dialogs.append(dialog)
        dialog.open()

    def _show_error(self, title: str, text: str) -> None:
        self.last_error = text
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok)
        box.setParent(self, box.windowFlags())
        box.setObjectName("errorDialog")
        self.open_dialog(box)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._save_settings()
        if not self.controller.shutdown():
            # The run did not reach a stop check in time (it is still preparing its data):
            # keep the window rather than let Qt destroy a running thread.
            self.statusBar().showMessage("Still stopping the training; try again in a moment.")
            event.ignore()
            return
        self._reference_poll.stop()
        for dialog in self._dialogs:
            dialog.close()
        event.accept()
