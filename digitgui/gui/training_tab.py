"""The Training tab: settings, the runs plot and table, progress, and the training buttons.

:class:`TrainingTab` shows what the :class:`~digitgui.gui.training_controller.TrainingController`
does: it follows the controller's signals and redraws the plot, the runs table, the progress bar
and the rate line (10 Hz while a run trains, nothing while idle). It decides which runs' curves are
shown: a new run is added to what is shown; a lesson shows only its own runs. It holds no model
and does no maths; the window decides what reads the drawing.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QProgressBar,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from digitgui.core.lessons import Lesson, summarize
from digitgui.core.runs import Run
from digitgui.core.training import TrainConfig

from .cost_plot import X_AXES, CostPlot
from .insight.scrolling import scroll_inside
from .palette import warning_color
from .runs_table import RunsPanel
from .training_controller import TrainingController, rate_line
from .training_panel import TrainingPanel

__all__ = ["TRAIN_HINT", "TrainingTab", "preparing_message"]

#: Period of the progress widgets' refresh while training (ms): 10 Hz.
REFRESH_MS = 100
#: The training message of the first screen (and after Reset), until a run starts.
TRAIN_HINT = (
    "Press Train (F5) to watch a network learn with these settings: its cost falls on the plot "
    "above and its guess for your drawing changes as it learns. Lessons (menu) compare runs "
    "that differ in one thing."
)


def preparing_message(config: TrainConfig) -> str:
    """What the run does before its first update, in words (drawing pendigits.tra the first time
    takes seconds)."""
    from digitgui.core.handwriting import is_cached

    if config.handwriting and not is_cached(config.handwriting - 1):
        return (
            f"Drawing the 7,494 pen trajectories of pendigits.tra {config.handwriting} times each "
            "as training digits, with the canvas's pen (first run only, about 10-30 s)…"
        )
    return f"Preparing the data for '{config.name}'…"


#: Runs shown on the plot at most when a new run starts (the table keeps them all).
MAX_SHOWN_RUNS = 10
#: Lines of the message under the progress bar before it scrolls.
MESSAGE_LINES = 4
X_AXIS_NAMES = {"iteration": "Iterations", "epoch": "Epochs", "seconds": "Seconds"}


class TrainingTab(QWidget):
    """See the module docstring. Buttons get their actions from the window.
    ``statusMessage(text, ms)`` carries short confirmations for the status bar."""

    statusMessage = Signal(str, int)

    def __init__(self, controller: TrainingController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self._shown: set[str] = set()
        self._dirty = False
        self._build()
        self._refresh = QTimer(self)
        self._refresh.setInterval(REFRESH_MS)
        self._refresh.timeout.connect(self._on_refresh_timeout)
        c = controller
        c.runStarted.connect(self._on_controller_runStarted)
        c.runProgressed.connect(self._on_controller_runProgressed)
        c.runFailed.connect(self._on_controller_runFailed)
        c.runFinished.connect(self._on_controller_runFinished)
        c.runsChanged.connect(self.update_runs)
        c.queueFinished.connect(self._on_controller_queueFinished)
        c.stateChanged.connect(self._on_controller_stateChanged)
        self.runs_panel.table.shownChanged.connect(self._on_table_shownChanged)
        self.runs_panel.deleteRequested.connect(self._on_runs_deleteRequested)
        self.runs_panel.renameRequested.connect(self._on_runs_renameRequested)
        self.x_axis_combo.currentIndexChanged.connect(self._on_x_axis_changed)
        self.update_runs()

    def _build(self) -> None:
        self.training_panel = TrainingPanel()
        self.cost_plot = CostPlot()
        self.cost_plot.setMinimumWidth(260)  # and a height for its font (CostPlot.set_font)
        self.runs_panel = RunsPanel()
        self.runs_table = self.runs_panel.table
        self.runs_panel.setMinimumHeight(84)
        self.plot_splitter = QSplitter(Qt.Orientation.Vertical)
        self.plot_splitter.setObjectName("plotSplitter")
        self.plot_splitter.addWidget(self.cost_plot)
        self.plot_splitter.addWidget(self.runs_panel)
        self.plot_splitter.setStretchFactor(0, 3)
        self.plot_splitter.setStretchFactor(1, 1)
        self.plot_splitter.setChildrenCollapsible(False)

        def button(name: str) -> QToolButton:
            b = QToolButton()
            b.setObjectName(name)
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            return b

        self.train_button = button("trainButton")
        self.pause_button = button("pauseButton")
        self.stop_button = button("stopButton")
        self.reset_button = button("resetButton")
        self.log_button = button("logYButton")
        self.lr_button = button("learningRateButton")
        self.x_axis_combo = QComboBox()
        self.x_axis_combo.setObjectName("xAxisCombo")
        for key, text in X_AXIS_NAMES.items():
            self.x_axis_combo.addItem(text, key)
        self.x_axis_combo.setToolTip(
            "What the plot's x axis counts: updates, passes over the training rows, or seconds "
            "of training (what a run costs)"
        )
        buttons = QHBoxLayout()
        for b in (self.train_button, self.pause_button, self.stop_button, self.reset_button):
            b.setMinimumWidth(64)
            buttons.addWidget(b)
        buttons.addWidget(self.lr_button)
        buttons.addStretch(1)

        self.progress_bar = QProgressBar()
        self.progress_bar.setObjectName("trainingProgress")
        self.progress_bar.setToolTip("Iterations done of the run's total")
        self.set_progress(0, 1)
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
        self.use_run_button = button("useRunButton")
        self.use_run_button.hide()
        # At most MESSAGE_LINES lines high (a lesson's summary is longer): the rest scrolls, so
        # the plot keeps its height.
        self.message_scroll = QScrollArea()
        self.message_scroll.setObjectName("trainingMessageScroll")
        self.message_scroll.setWidget(self.training_message)
        self.message_scroll.setWidgetResizable(True)
        self.message_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.message_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._fit_message()
        message_row = QHBoxLayout()
        message_row.addWidget(self.message_scroll, 1)
        message_row.addWidget(self.use_run_button, 0, Qt.AlignmentFlag.AlignTop)

        # The settings fold away to give the plot room (a lesson folds them: its runs bring
        # their own settings).
        self.settings_toggle = button("settingsToggle")
        self.settings_toggle.setCheckable(True)
        self.settings_toggle.setChecked(True)
        self.settings_toggle.setArrowType(Qt.ArrowType.DownArrow)
        self.settings_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.settings_toggle.setText("Settings")
        self.settings_toggle.setToolTip("Show or hide the training settings")
        self.settings_toggle.setAutoRaise(True)
        self.settings_toggle.toggled.connect(self.show_settings)

        # The plot's own controls sit above it, beside the settings' fold.
        top = QHBoxLayout()
        top.addWidget(self.settings_toggle)
        top.addStretch(1)
        x_label = QLabel("&x axis")
        x_label.setBuddy(self.x_axis_combo)  # what a screen reader names the combo by
        x_label.setToolTip(self.x_axis_combo.toolTip())
        top.addWidget(x_label)
        top.addWidget(self.x_axis_combo)
        top.addWidget(self.log_button)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.training_panel)
        layout.addWidget(self.plot_splitter, 1)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.rate_label)
        layout.addLayout(message_row)
        layout.addLayout(buttons)
        # Below its natural size (an 800x600 screen, a large font) the page scrolls inside
        # itself, as the insight pages do, instead of holding the whole window larger.
        self._scroll = scroll_inside(self)

    def sizeHint(self) -> QSize:
        """The content's own size: the window shares its width as it did before the page
        scrolled (a scroll area's hint is small)."""
        return self._scroll.widget().sizeHint()

    # what the tab shows ---------------------------------------------------------------------------

    def set_progress(self, value: int, total: int) -> None:
        """The progress bar at ``value`` of ``total`` iterations, numbers as the form writes
        them (3,000)."""
        total = max(1, int(total))
        self.progress_bar.setRange(0, total)
        self.progress_bar.setValue(int(value))
        self.progress_bar.setFormat(f"{int(value):,} / {total:,} iterations")

    def _fit_message(self) -> None:
        lines = self.training_message.fontMetrics().lineSpacing()
        self.message_scroll.setMaximumHeight(MESSAGE_LINES * lines + 6)
        # Down to one line when the window is short (a QScrollArea would claim ~70 px).
        self.message_scroll.setMinimumHeight(lines + 4)

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.FontChange and hasattr(self, "message_scroll"):
            self._fit_message()
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "training_message"):
            self._color_message()
        super().changeEvent(event)

    def set_message(self, text: str, warning: bool = False, tip: str = "") -> None:
        self._message_warning = warning
        self._color_message()
        self.training_message.setText(text)
        self.training_message.setToolTip(tip)

    def _color_message(self) -> None:
        pal = QPalette()  # nothing set: the label follows the window's palette
        if getattr(self, "_message_warning", False):
            pal.setColor(QPalette.ColorRole.WindowText, warning_color(self.palette()))
        self.training_message.setPalette(pal)

    def show_idle_run(self, force: bool = False) -> None:
        """Before any run (and after Reset): the progress bar and the plot's iteration axis show
        the run the training panel describes, so the first screen agrees with the form."""
        if not force and (self.controller.is_busy() or self._shown):
            return
        try:
            config = self.training_panel.config()
        except ValueError:
            return
        self.set_progress(0, config.iterations)
        self.cost_plot.clear_data(config.iterations)

    def has_curves(self) -> bool:
        return bool(self._shown)

    def hide_all_runs(self) -> None:
        """Clear the plot (Reset): every run stays in the table, unchecked."""
        self._shown.clear()
        self._refresh.stop()
        self.rate_label.setText("")
        self.update_runs()
        self.show_idle_run(force=True)

    def set_shown(self, run_ids: set[str]) -> None:
        self._shown = set(run_ids)
        self.update_runs()

    def update_runs(self) -> None:
        """Refill the table and redraw the shown runs (after any change to the list)."""
        runs = self.controller.runs()
        ids = {r.id for r in runs}
        self._shown &= ids
        self.runs_table.set_runs(runs, self._shown)
        self.cost_plot.show_runs([r for r in runs if r.id in self._shown])
        self.runs_panel._update_buttons()

    def _limit_shown(self) -> None:
        """At most :data:`MAX_SHOWN_RUNS` runs on the plot: a new run unticks the oldest shown
        ones (they stay in the table). Fifty curves read as a tangle, and each one costs every
        redraw while a run trains."""
        order = [r.id for r in self.controller.runs() if r.id in self._shown]
        hidden = order[: max(0, len(order) - MAX_SHOWN_RUNS)]
        if hidden:
            self._shown -= set(hidden)
            self.statusMessage.emit(
                f"The plot shows the {MAX_SHOWN_RUNS} latest runs; tick older ones in the table "
                "to show them again.",
                6000,
            )

    # the controller's signals ---------------------------------------------------------------------

    def _on_controller_runStarted(self, run: Run) -> None:
        lesson = self.controller.lesson
        if lesson is not None and run.lesson == lesson.key:
            self._shown = {r.id for r in self.controller.lesson_runs()}
        self._shown.add(run.id)
        self._limit_shown()
        self.set_progress(0, run.config.iterations)
        self.cost_plot.set_live(run)
        self.update_runs()
        self.rate_label.setText("")

    def _on_controller_runProgressed(self, run: Run, records: list) -> None:
        self._dirty = True
        self.cost_plot.refresh()
        if not self._refresh.isActive():
            self._refresh.start()

    def _on_refresh_timeout(self) -> None:
        run = self.controller.live
        if run is None or not self._dirty:
            self._refresh.stop()  # nothing new: no ticks while idle or paused
            return
        self._dirty = False
        self.set_progress(run.iterations_done, run.config.iterations)
        self.rate_label.setText(rate_line(run, self.controller.state))

    def _on_controller_runFailed(self, run: Run, failure) -> None:
        self.set_message(f"Training failed: {failure.message}", warning=True, tip=failure.details)

    def _on_controller_runFinished(self, run: Run, final) -> None:
        self._refresh.stop()
        self.cost_plot.set_live(None)
        self.set_progress(run.iterations_done, run.config.iterations)
        self.rate_label.setText(rate_line(run, "idle"))
        self.update_runs()
        if self.controller.keep_error:
            self.set_message(f"{run.message} Note: {self.controller.keep_error}.", warning=True)

    def _on_controller_queueFinished(self, lesson: Lesson) -> None:
        runs = self.controller.lesson_runs()
        self.set_message(f"{lesson.title}. {summarize(lesson, runs)}")

    def _on_controller_stateChanged(self, state: str) -> None:
        run = self.controller.live
        if run is not None and state in ("paused", "running"):
            self.rate_label.setText(rate_line(run, state))

    def _on_table_shownChanged(self) -> None:
        self._shown = self.runs_table.shown_ids()
        if self.controller.live is not None:
            self._shown.add(self.controller.live.id)
        self.cost_plot.show_runs([r for r in self.controller.runs() if r.id in self._shown])

    def _on_x_axis_changed(self, _index: int) -> None:
        self.cost_plot.set_x_axis(self.x_axis_combo.currentData())

    def set_x_axis(self, name: str) -> None:
        if name not in X_AXES:
            raise ValueError(f"x axis must be one of {', '.join(X_AXES)}")
        self.x_axis_combo.setCurrentIndex(self.x_axis_combo.findData(name))

    def show_settings(self, on: bool) -> None:
        """Unfold (or fold away) the training settings above the plot."""
        self.settings_toggle.setChecked(on)
        self.settings_toggle.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
        self.training_panel.setVisible(on)

    def start_lesson_view(self, lesson: Lesson) -> None:
        """A lesson starts: its runs alone on the plot, against its x axis, with its caption;
        the settings fold away (the lesson's runs bring their own)."""
        self.show_settings(False)
        self._shown.clear()
        self.update_runs()
        self.set_x_axis(lesson.x_axis)
        self.set_message(
            f"Lesson: {lesson.title}. {lesson.question} {lesson.look_for} "
            f"({len(lesson.runs)} runs; Stop ends the lesson, finished runs stay.)"
        )

    # runs the user acts on ------------------------------------------------------------------------

    def change_learning_rate(self, lr: float) -> bool:
        """Change the learning rate of the run in progress from its next update on (marked on
        the plot and kept in the run's record)."""
        try:
            self.controller.set_learning_rate(lr)
        except ValueError as e:
            self.statusMessage.emit(f"Cannot change the learning rate: {e}", 8000)
            return False
        self.statusMessage.emit(f"Learning rate {lr:g} from the next update on", 6000)
        return True

    def ask_learning_rate(self) -> None:
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
        self.statusMessage.emit(f"Deleted {n} run(s) and their files", 5000)

    def _on_runs_renameRequested(self, run: Run, name: str) -> None:
        try:
            self.controller.rename(run, name)
        except (ValueError, OSError) as e:
            self.statusMessage.emit(f"Cannot rename the run: {e}", 8000)
            self.update_runs()
