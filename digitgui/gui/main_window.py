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

import collections
import html
import json
import threading
from concurrent.futures import Future
from pathlib import Path

import numpy as np
from PySide6.QtCore import QByteArray, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from digitgui import __version__
from digitgui.core.calibration import format_probability
from digitgui.core.model_io import DigitClassifier, ModelFileError, load_default
from digitgui.core.my_digits import default_collection_path
from digitgui.core.novelty import Novelty, NoveltyReference, assess, load_digits_reference
from digitgui.core.reading import FALLBACK_THRESHOLD, read_digit
from digitgui.core.training import TrainConfig

from .canvas import MAX_PEN_WIDTH, MIN_PEN_WIDTH, DrawingCanvas
from .cost_plot import CostPlot
from .digit_view import DigitView
from .insight import InsightPanel
from .my_digits_view import MyDigitsView
from .palette import warning_color
from .probability_chart import ProbabilityChart
from .settings import open_settings
from .training_panel import TrainingPanel
from .worker import ProgressBatch, RunEnd, RunFailure, TrainingRunner

__all__ = ["MainWindow"]

PEN_STEP = 2.0
GUESS_TITLE = "The network's guess"
GUESS_TITLE_LIVE = "The network's guess (live, while it trains)"
#: How often a window checks whether the load_digits reference has been built (ms).
REFERENCE_POLL_MS = 50
#: Period of the progress widgets' refresh while training (ms): 10 Hz. Every repaint holds the
#: GIL, which the training thread needs back after each NumPy call.
REFRESH_MS = 100
#: Seconds of training time over which iterations per second are averaged.
RATE_WINDOW = 1.0
#: The training message of the first screen (and after Reset), until a run starts.
TRAIN_HINT = (
    "Press Train (F5) to watch a network learn with these settings: its cost falls on the plot "
    "above and its guess for your drawing changes as it learns."
)

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


def _networks_phrase(model: DigitClassifier) -> str:
    """``"the average of 3 networks (64-32-32-10)"`` or ``"one network (64-32-32-10)"``."""
    sizes = "-".join(str(s) for s in model.layer_sizes)
    if model.n_members > 1:
        return f"the average of {model.n_members} networks ({sizes})"
    return f"one network ({sizes})"


def _threshold_text(model: DigitClassifier) -> str:
    threshold = model.confidence_threshold
    if threshold is None:
        return f"{format_probability(FALLBACK_THRESHOLD)} (a default: the model file sets none)"
    return format_probability(threshold)


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


def _format_epoch(record) -> str:
    """``"epoch 12.4"`` for mini-batches; nothing for full batch, where every update is an
    epoch and the count would repeat the iteration's ("epoch 3437.0")."""
    if record.epoch == record.iteration:
        return ""
    return f"epoch {record.epoch:,.1f}"


def _format_duration(seconds: float) -> str:
    if seconds < 1:
        return "< 1 s"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}:{seconds:02d}"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}"


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
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowTitle("digitgui")
        self._settings = open_settings()
        self.last_error = ""
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
        self._rate_points: collections.deque[tuple[float, int]] = collections.deque()
        self._last_record = None
        self._dialogs: list[QDialog] = []
        self._extra_training_source = None
        self._paused_seconds = 0.0
        self._pending_snapshot: DigitClassifier | None = None
        self._shown_record = None
        # The final record of a stopped run, whose network the user may choose to use.
        self._stopped_run = None
        self._refresh = QTimer(self)
        self._refresh.setInterval(REFRESH_MS)
        self._refresh.timeout.connect(self._on_refresh_timeout)

        self._runner = TrainingRunner(self)
        self._build_ui()
        self._build_actions()
        self._build_menus()
        self._connect()
        self._build_insight_views(load_reference)
        self._restore_settings()
        self._update_model_views()
        self._show_idle_run()
        self._set_training_message(TRAIN_HINT)
        self._update_buttons()
        if startup_error:
            self.statusBar().showMessage(f"No model loaded: {startup_error}")
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
        return self._runner

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
        if self._runner.is_busy():
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
        """Start training ``config`` (default: the training panel's settings)."""
        if self._runner.is_busy():
            return False
        if config is None:
            try:
                config = self.training_panel.config()
            except ValueError as e:
                self._set_training_message(f"Cannot train: {e}", warning=True)
                return False
        self._save_training_settings()
        self._forget_stopped_run()
        self.cost_plot.clear_data(config.iterations)
        self._rate_points.clear()
        self._last_record = None
        self._set_progress(0, config.iterations)
        extra = self._extra_training_source() if self._extra_training_source else None
        self._set_training_message(_preparing_message(config))
        self._runner.start(config, extra_train=extra)
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
        self.training_panel = TrainingPanel()

        self.cost_plot = CostPlot()
        self.cost_plot.setMinimumSize(260, 220)

        self.train_button = QToolButton()
        self.train_button.setObjectName("trainButton")
        self.pause_button = QToolButton()
        self.pause_button.setObjectName("pauseButton")
        self.stop_button = QToolButton()
        self.stop_button.setObjectName("stopButton")
        self.reset_button = QToolButton()
        self.reset_button.setObjectName("resetButton")
        self.log_button = QToolButton()
        self.log_button.setObjectName("logYButton")
        buttons = QHBoxLayout()
        for b in (self.train_button, self.pause_button, self.stop_button, self.reset_button):
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            b.setMinimumWidth(72)
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.log_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        buttons.addWidget(self.log_button)

        self.progress_bar = QProgressBar()
        self.progress_bar.setObjectName("trainingProgress")
        self._set_progress(0, 1)
        self.progress_bar.setToolTip("Iterations done of the run's total")
        self.rate_label = QLabel("")
        self.rate_label.setObjectName("rateLabel")
        # Text that changes ten times a second must not re-layout the tab (and repaint the plot).
        self.rate_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.rate_label.setToolTip(
            "Iterations per second (training time, pauses excluded), time left, epochs done "
            "and the latest validation accuracy"
        )
        self.training_message = QLabel("")
        self.training_message.setObjectName("trainingMessage")
        self.training_message.setWordWrap(True)
        self.training_message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # After a stopped run: switch to its network (the one in use before the run stays).
        self.use_run_button = QToolButton()
        self.use_run_button.setObjectName("useRunButton")
        self.use_run_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.use_run_button.hide()
        message_row = QHBoxLayout()
        message_row.addWidget(self.training_message, 1)
        message_row.addWidget(self.use_run_button, 0, Qt.AlignmentFlag.AlignTop)

        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.addWidget(self.training_panel)
        layout.addWidget(self.cost_plot, 1)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.rate_label)
        layout.addLayout(message_row)
        layout.addLayout(buttons)
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

    def _action(self, text: str, shortcut, tip: str, slot, *, checkable: bool = False) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            keys = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts([QKeySequence(k) for k in keys])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        first = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{tip} ({first})" if first else tip)
        action.setStatusTip(tip)
        action.setCheckable(checkable)
        (action.toggled if checkable else action.triggered).connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        A = self._action
        self.open_action = A(
            "&Open model…",
            QKeySequence.StandardKey.Open,
            "Load a model file (.npz)",
            self._on_open_triggered,
        )
        self.save_action = A(
            "&Save model…",
            QKeySequence.StandardKey.Save,
            "Save the current model to a file",
            self._on_save_triggered,
        )
        self.export_action = A(
            "&Export drawing as PNG…",
            "Ctrl+E",
            "Save the drawing as a 256x256 PNG image",
            self._on_export_triggered,
        )
        self.quit_action = A(
            "&Quit",
            QKeySequence.StandardKey.Quit,
            "Close digitgui (stops any training)",
            self.close,
        )
        self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.undo_action = A(
            "&Undo stroke",
            QKeySequence.StandardKey.Undo,
            "Remove the last stroke",
            self._on_undo_triggered,
        )
        self.clear_action = A(
            "&Clear drawing",
            [QKeySequence.StandardKey.Delete, "Backspace"],
            "Erase the whole drawing",
            self.canvas.clear,
        )
        self.wider_action = A("Pen &wider", "]", "Make the pen wider", self._on_wider_triggered)
        self.thinner_action = A(
            "Pen &thinner", "[", "Make the pen thinner", self._on_thinner_triggered
        )
        self.train_action = A(
            "&Train",
            ["F5", "Ctrl+Return"],
            "Train a network with these settings",
            self._on_train_triggered,
        )
        self.pause_action = A(
            "&Pause", "F6", "Pause the training, or resume it", self._on_pause_triggered
        )
        self.stop_action = A(
            "&Stop",
            "Shift+F5",
            "Stop training now and keep the network as it is",
            self._on_stop_triggered,
        )
        self.reset_action = A(
            "&Reset",
            "Ctrl+R",
            "Stop training, clear the plot and go back to the model you had before training",
            self._on_reset_triggered,
        )
        self.use_run_action = A(
            "&Use this network",
            None,
            "Read your drawing with the network of the stopped run instead of the one in use",
            self._on_use_run_triggered,
        )
        self.log_action = A(
            "&Logarithmic cost axis",
            "Ctrl+L",
            "Show the cost on a logarithmic axis",
            self._on_log_toggled,
            checkable=True,
        )
        self.shortcuts_action = A(
            "&Keyboard shortcuts",
            QKeySequence.StandardKey.HelpContents,
            "List every keyboard shortcut",
            self._on_shortcuts_triggered,
        )
        self.about_action = A("&About digitgui", None, "About digitgui", self._on_about_triggered)

        self.train_button.setDefaultAction(self.train_action)
        self.pause_button.setDefaultAction(self.pause_action)
        self.stop_button.setDefaultAction(self.stop_action)
        self.reset_button.setDefaultAction(self.reset_action)
        self.use_run_button.setDefaultAction(self.use_run_action)
        self.log_button.setDefaultAction(self.log_action)
        # Buttons show the actions' short icon texts; menus keep the full texts.
        self.undo_action.setIconText("Undo")
        self.clear_action.setIconText("Clear")
        self.log_action.setIconText("Log scale")
        self.undo_button.setDefaultAction(self.undo_action)
        self.clear_button.setDefaultAction(self.clear_action)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addActions([self.open_action, self.save_action, self.export_action])
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        edit_menu = bar.addMenu("&Edit")
        edit_menu.addActions(
            [self.undo_action, self.clear_action, self.wider_action, self.thinner_action]
        )
        train_menu = bar.addMenu("&Training")
        train_menu.addActions(
            [self.train_action, self.pause_action, self.stop_action, self.reset_action]
        )
        train_menu.addSeparator()
        train_menu.addAction(self.use_run_action)
        view_menu = bar.addMenu("&View")
        view_menu.addAction(self.log_action)
        help_menu = bar.addMenu("&Help")
        help_menu.addActions([self.shortcuts_action, self.about_action])

    def _connect(self) -> None:
        self.canvas.drawingChanged.connect(self._on_canvas_drawingChanged)
        self.canvas.strokesChanged.connect(self._update_buttons)
        self.canvas.penWidthChanged.connect(self._on_canvas_penWidthChanged)
        self.pen_slider.valueChanged.connect(self._on_pen_slider_valueChanged)
        self.training_panel.configChanged.connect(self._on_training_panel_configChanged)
        self._runner.runStarted.connect(self._on_runner_runStarted)
        self._runner.runProgressed.connect(self._on_runner_runProgressed)
        self._runner.runFailed.connect(self._on_runner_runFailed)
        self._runner.runFinished.connect(self._on_runner_runFinished)
        self._runner.stateChanged.connect(self._on_runner_stateChanged)
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
        meta = model.metadata
        rows = [
            ("Network", html.escape(model.description)),
            ("Reads with", html.escape(_networks_phrase(model))),
            ("Source", html.escape(self._model_source or "-")),
        ]
        if meta.get("created"):
            rows.append(("Created", html.escape(str(meta["created"]))))
        if meta.get("outcome"):
            rows.append(("Training outcome", html.escape(str(meta["outcome"]))))
        if meta.get("iterations_done"):
            rows.append(("Iterations", str(meta["iterations_done"])))
        clip = "none" if model.clip is None else f"±{model.clip:g}"
        rows.append(("Standardised inputs clipped to", clip))
        rows.append(("Calibration temperature", f"{model.temperature:.3g}"))
        rows.append(("Says “not sure” below", html.escape(_threshold_text(model))))
        training = meta.get("training")
        if isinstance(training, dict):
            settings = ", ".join(f"{k}={v}" for k, v in training.items())
            rows.append(("Training settings", html.escape(settings)))
        table = "".join(
            f"<tr><td style='padding-right:12px'><b>{k}</b></td><td>{v}</td></tr>" for k, v in rows
        )
        self.model_details.setText(f"<table>{table}</table>")
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
            text = f"Read by {who}: {_networks_phrase(model)}."
        else:
            text = f"Read by the network being trained, as it is now: {_networks_phrase(model)}."
        tip = (
            f"{model.description}.\n"
            + (
                f"Each of its {model.n_members} networks reads the drawing; the bars show the "
                "average of their probabilities"
                if model.n_members > 1
                else "One network reads the drawing; the bars show its probabilities"
            )
            + (
                f", calibrated (temperature {model.temperature:.3g}) so that an answer given "
                "with 90% is right about 9 times in 10."
                if model.temperature != 1.0
                else "."
            )
            + f"\nBelow {_threshold_text(model)} for its best guess it says “not sure” and "
            "shows its two best guesses."
        )
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

    def _on_runner_stateChanged(self, state: str) -> None:
        self._update_buttons()
        last = self._last_record
        if state in ("paused", "running") and last is not None:
            self._update_rate(last.elapsed - self._paused_seconds, last)

    def _on_runner_runStarted(self) -> None:
        self.guess_box.setTitle(GUESS_TITLE_LIVE)
        self.trainingStarted.emit()

    def _on_runner_runProgressed(self, batch: ProgressBatch) -> None:
        records = batch.records
        if not records:
            return
        if self._last_record is None:
            self._set_training_message("")
        # Only buffer here (batches come every ~30 ms); widgets are refreshed at 10 Hz.
        self.cost_plot.add_records(records)
        # The final record's time includes the final accuracy measurements: not a training rate.
        self._last_record = next((r for r in reversed(records) if not r.done), records[-1])
        self._paused_seconds = batch.paused_seconds
        snapshot = next((r.snapshot for r in reversed(records) if r.snapshot is not None), None)
        if snapshot is not None:
            self._pending_snapshot = snapshot
        if not self._refresh.isActive():
            self._refresh.start()
        self.trainingProgress.emit(list(records))

    def _on_refresh_timeout(self, finished: bool = False) -> None:
        last = self._last_record
        if last is None or (last is self._shown_record and not finished):
            self._refresh.stop()  # nothing new: no ticks while idle or paused
            return
        self._shown_record = last
        self._set_progress(last.iteration, last.iterations)
        self._update_rate(last.elapsed - self._paused_seconds, last, finished)
        if self._pending_snapshot is not None:
            first = self._display_model is self._model
            self._display_model, self._pending_snapshot = self._pending_snapshot, None
            self._update_prediction()
            if first:
                self._update_reader()

    def _update_rate(self, active: float, record, finished: bool = False) -> None:
        points = self._rate_points
        points.append((active, record.iteration))
        while len(points) > 2 and active - points[0][0] > RATE_WINDOW:
            points.popleft()
        parts = []
        t0, i0 = points[0]
        if self._runner.state == "paused" and not finished:
            # No rate or time left while nothing runs: they would be stale.
            parts.append(f"paused at iteration {record.iteration:,} (F6 resumes)")
        elif active > t0 and record.iteration > i0:
            rate = (record.iteration - i0) / (active - t0)
            parts.append(f"{rate:,.0f} it/s")
            if not finished:
                eta = (record.iterations - record.iteration) / rate
                parts.append(f"ETA {_format_duration(eta)}")
        epoch = _format_epoch(record)
        if epoch:
            parts.append(epoch)
        if len(self.cost_plot.acc):  # the latest measured validation accuracy
            parts.append(f"val. acc. {format_probability(self.cost_plot.acc.y[-1])}")
        self.rate_label.setText("  ·  ".join(parts))

    def _on_runner_runFailed(self, failure: RunFailure) -> None:
        self._set_training_message(f"Training failed: {failure.message}", warning=True)
        self.training_message.setToolTip(failure.details)
        self.statusBar().showMessage(f"Training failed: {failure.message}", 10000)

    def _on_runner_runFinished(self, end: RunEnd) -> None:
        self.guess_box.setTitle(GUESS_TITLE)
        self._on_refresh_timeout(finished=True)  # the last numbers, even of a very short run
        self._refresh.stop()
        self._pending_snapshot = None
        self.cost_plot.flush()
        final = end.final
        if final is None:
            # An error: the probabilities go back to the model from before the run.
            self._display_model = self._model
            self._update_prediction()
            self._update_reader()
            return
        self._set_progress(final.iteration, final.iterations)
        title = OUTCOME_TEXT.get(final.outcome, "Training ended")
        text = final.message
        if None not in (final.train_acc, final.val_acc, final.test_acc):
            text += (
                f" Accuracy: training {format_probability(final.train_acc)}, validation "
                f"{format_probability(final.val_acc)}, test {format_probability(final.test_acc)}."
            )
        if final.outcome in ("completed", "early_stopped"):
            source = "trained just now"
            if final.outcome != "completed":
                source += f", {final.outcome.replace('_', ' ')}"
            self._install_model(final.model, source)
            self.statusBar().showMessage(f"{title}: {final.model.description}", 10000)
        else:
            # A stopped or diverged run leaves the network in use as it was; the probabilities
            # go back to it. A stopped run's network can be chosen with "Use this network".
            self._display_model = self._model
            self._update_prediction()
            self._update_reader()
            who = self._model_source or "the network in use"
            if final.outcome == "stopped" and final.model is not None:
                self._stopped_run = final
                text += (
                    f" Your drawing is still read by {who}; “Use this network” reads it with "
                    "the network as it was when it stopped."
                )
            else:
                text += f" Your drawing is still read by {who}."
            self.statusBar().showMessage(f"{title}: still reading with {who}", 10000)
        self._update_use_run()
        self._set_training_message(text, warning=final.outcome == "diverged")
        self.trainingFinished.emit(final)

    def _set_progress(self, value: int, total: int) -> None:
        """The progress bar at ``value`` of ``total`` iterations, numbers as the form writes
        them (3,000)."""
        total = max(1, int(total))
        self.progress_bar.setRange(0, total)
        self.progress_bar.setValue(int(value))
        self.progress_bar.setFormat(f"{int(value):,} / {total:,} iterations")

    def _show_idle_run(self, force: bool = False) -> None:
        """Before any run (and after Reset): the progress bar and the plot's iteration axis show
        the run the training panel describes, so the first screen agrees with the form."""
        if not force and (self._runner.is_busy() or self._last_record is not None):
            return
        try:
            config = self.training_panel.config()
        except ValueError:
            return
        self._set_progress(0, config.iterations)
        self.cost_plot.clear_data(config.iterations)

    def _on_training_panel_configChanged(self) -> None:
        self._show_idle_run()
        self._update_buttons()

    def _forget_stopped_run(self) -> None:
        self._stopped_run = None
        self._update_use_run()

    def _update_use_run(self) -> None:
        run = self._stopped_run
        available = run is not None and not self._runner.is_busy()
        self.use_run_action.setEnabled(available)
        self.use_run_button.setVisible(available)
        if run is not None:
            self.use_run_action.setToolTip(
                f"Read your drawing with the network of the stopped run (iteration "
                f"{run.iteration:,}) instead of {self._model_source or 'the one in use'}"
            )

    def _on_use_run_triggered(self) -> None:
        run = self._stopped_run
        if run is None or self._runner.is_busy():
            return
        self._stopped_run = None
        self._install_model(run.model, f"trained just now, stopped at iteration {run.iteration:,}")
        self._update_use_run()
        self._set_training_message(
            f"Now reading with the network of the stopped run (iteration {run.iteration:,}). "
            "Reset goes back to the model from before training."
        )
        self.statusBar().showMessage(f"Using the stopped run's network: {run.model.description}")

    def _set_training_message(self, text: str, warning: bool = False) -> None:
        pal = QPalette(self.palette())  # never the label's own: it holds the last colour set
        color = warning_color(pal) if warning else self.palette().color(QPalette.ColorRole.Text)
        pal.setColor(QPalette.ColorRole.WindowText, color)
        self.training_message.setPalette(pal)
        self.training_message.setText(text)
        self.training_message.setToolTip("")

    def _update_buttons(self, *_args) -> None:
        busy = self._runner.is_busy()
        state = self._runner.state
        valid = not self.training_panel.problems()
        self.train_action.setEnabled(not busy and valid)
        self.pause_action.setEnabled(state in ("running", "paused"))
        self.pause_action.setText("&Resume" if state == "paused" else "&Pause")
        self.stop_action.setEnabled(state in ("running", "paused"))
        has_plot = len(self.cost_plot.train) > 0
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

    def _on_pause_triggered(self) -> None:
        if self._runner.state == "paused":
            self._runner.resume()
            self._set_training_message("")
        else:
            self._runner.pause()
            self._set_training_message("Paused. Resume with F6 or the Resume button.")

    def _on_stop_triggered(self) -> None:
        self._runner.stop()
        self._set_training_message("Stopping after the current iteration…")

    def _on_reset_triggered(self) -> None:
        if self._runner.is_busy():
            self._runner.abandon()
        self.guess_box.setTitle(GUESS_TITLE)
        self._refresh.stop()
        self._pending_snapshot = None
        self._rate_points.clear()
        self._last_record = None
        self._stopped_run = None
        self.cost_plot.clear_data()
        self.progress_bar.setValue(0)
        self._show_idle_run(force=True)
        self.rate_label.setText("")
        self._set_training_message(TRAIN_HINT)
        self._install_model(self._base_model, self._base_source)
        self._update_use_run()
        self.statusBar().showMessage("Reset: back to the model from before training", 5000)

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

    def _on_shortcuts_triggered(self) -> None:
        dialog = QDialog(self)
        dialog.setObjectName("shortcutsDialog")
        dialog.setWindowTitle("Keyboard shortcuts")
        actions = [a for a in self.actions() if not a.shortcut().isEmpty()]
        rows = [
            (
                "Pause / Resume"
                if a is self.pause_action
                else a.text().replace("&", "").rstrip("…"),
                ", ".join(
                    k.toString(QKeySequence.SequenceFormat.NativeText) for k in a.shortcuts()
                ),
            )
            for a in actions
        ]
        # Keys handled by the canvas and the "My digits" gallery rather than by menu actions.
        rows += [
            ("Add the drawing to my digits (canvas focused)", "0 … 9"),
            ("Relabel the selected digits (My digits gallery)", "0 … 9"),
            ("Delete the selected digits (My digits gallery)", "Del"),
            ("Undo the delete (My digits gallery)", "Ctrl+Z"),
        ]
        table = QTableWidget(len(rows), 2, dialog)
        table.setHorizontalHeaderLabels(["Action", "Shortcut"])
        table.verticalHeader().hide()
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for row, (name, keys) in enumerate(rows):
            table.setItem(row, 0, QTableWidgetItem(name))
            table.setItem(row, 1, QTableWidgetItem(keys))
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, dialog)
        buttons.rejected.connect(dialog.reject)
        layout = QVBoxLayout(dialog)
        layout.addWidget(table)
        layout.addWidget(buttons)
        dialog.resize(460, 540)
        self._open_dialog(dialog)

    def _on_about_triggered(self) -> None:
        box = QMessageBox(self)
        box.setObjectName("aboutDialog")
        box.setWindowTitle("About digitgui")
        box.setIcon(QMessageBox.Icon.Information)
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(
            f"<h3>digitgui {__version__}</h3>"
            "<p>Watch a from-scratch NumPy neural network learn to read handwritten digits, then "
            "draw your own.</p>"
            "<p>It trains on scikit-learn's <i>load_digits</i>: 1,797 digits written by 13 "
            "people, scanned and reduced to 8x8 cells of 0..16 ink pixels. Your drawing is "
            "reduced the same way before the network reads it.</p>"
            "<p>MIT licence.</p>"
        )
        self._open_dialog(box)

    # dialogs and lifecycle ------------------------------------------------------------------------

    def _open_dialog(self, dialog: QDialog) -> None:
        """Show a dialog without blocking the event loop (training keeps being drawn)."""
        self._dialogs = [d for d in self._dialogs if d.isVisible()]
        self._dialogs.append(dialog)
        dialog.open()

    def _show_error(self, title: str, text: str) -> None:
        self.last_error = text
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok)
        box.setParent(self, box.windowFlags())
        box.setObjectName("errorDialog")
        self._open_dialog(box)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._save_settings()
        if not self._runner.shutdown():
            # The run did not reach a stop check in time (it is still preparing its data):
            # keep the window rather than let Qt destroy a running thread.
            self.statusBar().showMessage("Still stopping the training; try again in a moment.")
            event.ignore()
            return
        self._reference_poll.stop()
        for dialog in self._dialogs:
            dialog.close()
        event.accept()
