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

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTabWidget,
    QWidget,
)

from digitgui.core.calibration import format_probability
from digitgui.core.lessons import lesson
from digitgui.core.model_io import DigitClassifier, ModelFileError, load_default
from digitgui.core.novelty import Novelty, NoveltyReference, assess
from digitgui.core.reading import read_digit
from digitgui.core.runs import Run
from digitgui.core.training import TrainConfig

from . import window_files as files
from . import window_views as views
from .drawing_area import GUESS_TITLE, GUESS_TITLE_LIVE, DrawingArea
from .model_text import model_details_html, model_details_view, networks_phrase, reader_tip
from .presentation import Zoom, fit_to_screen
from .settings import open_settings
from .training_controller import OUTCOME_TEXT, TrainingController, open_run_store
from .training_tab import REFRESH_MS, TRAIN_HINT, TrainingTab, preparing_message
from .window_actions import build_actions, build_menus
from .window_settings import restore_settings, save_settings, save_training_settings
from .worker import TrainingRunner

__all__ = ["MainWindow"]

PEN_STEP = 2.0
#: How often a window checks whether the load_digits reference has been built (ms).
REFERENCE_POLL_MS = 50


class MainWindow(QMainWindow):
    """The app's window. ``model``: the classifier to start with (default: the shipped model).

    Public surface (shared/DESIGN.md): ``canvas`` (the :class:`DrawingCanvas`) and
    :meth:`probabilities`.
    """

    SHIPPED = "the shipped model"  # how the status bar and the title name it

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
        #: The folder of My digits and the kept runs (None: $DIGITGUI_DATA_DIR or the user's).
        self.data_dir = data_dir
        self._progress_seen = False
        startup_error = ""
        if model is None:
            try:
                model = load_default()
            except ModelFileError as e:
                startup_error = str(e)
        self._model: DigitClassifier | None = model
        self._model_source = self.SHIPPED if model is not None else ""
        self._base_model = model
        self._base_source = self._model_source
        # What the probabilities come from: the model, or during training the latest snapshot.
        self._display_model = model
        self._digit: np.ndarray | None = None
        self._reference: NoveltyReference | None = None
        self._reference_poll = QTimer(self)
        self._reference_poll.setInterval(REFERENCE_POLL_MS)
        self._reference_poll.timeout.connect(lambda: views.on_reference_poll_timeout(self))
        self._dialogs: list[QDialog] = []
        self._extra_training_source = None
        self._pending_snapshot: DigitClassifier | None = None
        # A stopped run, whose network the user may choose to use ("Use this network").
        self._stopped_run: Run | None = None
        self._refresh = QTimer(self)
        self._refresh.setInterval(REFRESH_MS)
        self._refresh.timeout.connect(self._on_refresh_timeout)
        store, notes = open_run_store(data_dir)
        self._startup_notes += notes
        self.controller = TrainingController(store, self)
        self._build_ui()
        self.zoom = Zoom(self)
        build_actions(self)
        build_menus(self)
        self._connect()
        views.build_insight_views(self, load_reference)
        restore_settings(self)
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

    def add_insight_view(self, widget: QWidget, title: str) -> int:
        """Add a view as a tab of ``insightTabs``; returns its index."""
        return self.insight_tabs.addTab(widget, title)

    def set_model(self, model: DigitClassifier | None, source: str = "") -> None:
        """Make ``model`` the current model (and the one Reset returns to)."""
        self._base_model, self._base_source = model, source
        self._install_model(model, source)

    def open_model(self, path: str | Path) -> bool:
        """Load a model file; on failure a dialog says why and the current model stays."""
        return files.open_model(self, path)

    def save_model(self, path: str | Path) -> bool:
        """Write the current model to ``path`` (atomically); a dialog reports failures."""
        return files.save_model(self, path)

    def export_drawing(self, path: str | Path) -> bool:
        """Save the drawing as a 256x256 PNG (dark ink on white)."""
        return files.export_drawing(self, path)

    def export_curves(self, runs: list, path: str | Path) -> bool:
        """Write the curves of ``runs`` to a CSV file; a dialog reports failures."""
        return files.export_curves(self, runs, path)

    def export_plot(self, path: str | Path) -> bool:
        """Save the runs plot as a PNG or SVG image (by the suffix)."""
        return files.export_plot(self, path)

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
        save_training_settings(self)
        self._forget_stopped_run()
        extra = self._extra_training_source() if self._extra_training_source else None
        self._set_training_message(preparing_message(config))
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
        return self.training_tab.change_learning_rate(lr)

    def use_run(self, run: Run) -> bool:
        """Read the drawing with ``run``'s network (it becomes the current model)."""
        if self.controller.is_busy():
            self.show_error("Cannot switch networks", "Stop training before switching networks.")
            return False
        try:
            model = self.controller.model(run)
        except ModelFileError as e:
            self.show_error("Cannot use this run's network", str(e))
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

    def _connect_insight_views(self) -> None:
        views.connect_insight_views(self)

    def insight_views_ready(self) -> bool:
        """Whether the insight views follow the window yet (they wait for load_digits)."""
        return self._insight_connected

    def _build_ui(self) -> None:
        drawing_area = self.drawing_area = DrawingArea()
        # The window's names for the area's widgets (tests and scripts use them).
        names = "canvas pen_slider pen_label undo_button clear_button digit_view probability_chart"
        for name in (*names.split(), "novelty_label", "reader_label", "guess_box"):
            setattr(self, name, getattr(drawing_area, name))

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
        fit_to_screen(self)

    def _build_training_tab(self) -> QWidget:
        tab = self.training_tab = TrainingTab(self.controller)
        # The window's names for the tab's widgets (tests and scripts use them).
        names = "training_panel cost_plot runs_table runs_panel train_button pause_button"
        names += " stop_button reset_button log_button use_run_button progress_bar rate_label"
        for name in (*names.split(), "training_message"):
            setattr(self, name, getattr(tab, name))
        return tab

    def _build_model_tab(self) -> QWidget:
        scroll, self.model_details = model_details_view()
        return scroll

    def _connect(self) -> None:
        self.canvas.drawingChanged.connect(self._on_canvas_drawingChanged)
        self.canvas.strokesChanged.connect(self._update_buttons)
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
        self.training_tab.statusMessage.connect(self.statusBar().showMessage)
        rp.exportCurvesRequested.connect(lambda runs: files.ask_export_curves(self, runs))
        rp.exportPlotRequested.connect(lambda: files.ask_export_plot(self))

    # settings -------------------------------------------------------------------------------------

    # models ---------------------------------------------------------------------------------------

    def _install_model(self, model: DigitClassifier | None, source: str) -> None:
        self._model, self._model_source = model, source
        self._display_model = model
        shown = source and source != self.SHIPPED  # the title names a file's or a run's model
        self.setWindowTitle(f"digitgui – {source}" if shown else "digitgui")
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

    # training -------------------------------------------------------------------------------------

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
        self.shipped_action.setEnabled(not busy and self._model_source != self.SHIPPED)
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

    def _on_wider_triggered(self) -> None:
        self.drawing_area.change_pen_width(PEN_STEP)

    def _on_thinner_triggered(self) -> None:
        self.drawing_area.change_pen_width(-PEN_STEP)

    # dialogs and lifecycle ------------------------------------------------------------------------

    def open_dialog(self, dialog: QDialog) -> None:
        """Show a dialog without blocking the event loop (training keeps being drawn)."""
        self._dialogs = [d for d in self._dialogs if d.isVisible()]
        self._dialogs.append(dialog)
        dialog.open()

    def show_error(self, title: str, text: str) -> None:
        self.last_error = text
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok)
        box.setParent(self, box.windowFlags())
        box.setObjectName("errorDialog")
        self.open_dialog(box)

    def closeEvent(self, event: QCloseEvent) -> None:
        save_settings(self)
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
