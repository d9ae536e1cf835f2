"""History of a guess: the ten probabilities of the current drawing against training iteration."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from digitgui.core.calibration import format_probability
from digitgui.core.insight import GuessHistory

from ..accessibility import add_focus_ring, grid_key_target
from .colormaps import class_color, style_plot

__all__ = ["GuessHistoryView"]


def _networks(record) -> set[int]:
    """The identities of the networks a record carries (its snapshot, its final model)."""
    return {id(m) for m in (record.snapshot, record.model) if m is not None}


class GuessHistoryView(QWidget):
    """While the network trains, how its answer for the current drawing changes: one curve per
    class, probability against iteration, from the snapshots the training run attaches to its
    progress records. Clicking the plot reads off the probabilities at that iteration
    (``iterationSelected(iteration)``); with the plot focused, Left, Right, Home and End step
    through the snapshots and Escape goes back to the newest.

    Feed it the window's ``trainingProgress`` batches with :meth:`add_progress` (a record seen
    twice, like the final one that also comes with ``trainingFinished``, counts once; a record
    whose iteration is before the last starts a new run), :meth:`start_run` when a run starts,
    the drawing with :meth:`set_digit` and the window's model with :meth:`follow_model`: the
    curves stay after a run until a new run starts or another model (Reset, a file) is used.
    """

    iterationSelected = Signal(int)

    REDRAW_MS = 100  # new snapshots are drawn at most ten times a second

    def __init__(self, parent: QWidget | None = None, max_snapshots: int = 400) -> None:
        super().__init__(parent)
        self.setObjectName("guessHistoryPlot")
        self._history = GuessHistory(max_snapshots)
        self._selected: int | None = None
        self._last = None  # the newest record kept
        self._run_done = False  # whether the newest record ended its run
        self._model = None  # the model the window reads with

        self.plot = pg.PlotWidget()
        self.plot.setObjectName("guessHistoryPlotWidget")
        self.plot.setAccessibleName(
            "Guess history: each digit's probability against iteration; Left and Right step "
            "through the snapshots"
        )
        add_focus_ring(self.plot)
        self.plot.installEventFilter(self)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.setLabel("left", "probability")
        self.plot.setLabel("bottom", "iteration")
        for name in ("left", "bottom"):
            self.plot.getAxis(name).enableAutoSIPrefix(False)
        self.plot.setXRange(0, 1, padding=0.02)
        self.plot.setYRange(0, 1, padding=0.02)
        self.legend = self.plot.addLegend(offset=(-4, 4), colCount=5)
        self.curves = [
            self.plot.plot(
                [], [], pen=pg.mkPen(class_color(d), width=2), name=str(d), skipFiniteCheck=True
            )
            for d in range(10)
        ]
        self.cursor = pg.InfiniteLine(angle=90, movable=False)
        self.cursor.setVisible(False)
        self.plot.addItem(self.cursor)
        self._follow_palette()
        self.plot.scene().sigMouseClicked.connect(self._on_scene_clicked)

        self.status = QLabel()
        self.status.setObjectName("guessHistoryStatus")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)  # "<0.1%" is no tag
        # Room for two lines: the tab does not grow a wrapped label (heightForWidth).
        self.status.setMinimumHeight(2 * self.status.fontMetrics().lineSpacing() + 4)
        layout = QVBoxLayout(self)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.status)

        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(self.REDRAW_MS)
        self._redraw_timer.timeout.connect(self._on_redraw_timer_timeout)
        self._redraw()

    # public ---------------------------------------------------------------------------------------

    def history(self) -> GuessHistory:
        return self._history

    def add_progress(self, records: Iterable) -> None:
        """Training records (``Progress``); those with a snapshot or the final model count."""
        fresh = []
        last = self._last
        for r in records:
            if r.snapshot is None and r.model is None:
                continue
            seen = last is not None and r.iteration == last.iteration
            if seen and _networks(r) & _networks(last):
                continue  # already kept (the final record comes twice)
            fresh.append(r)
            last = r
        first_before = self._history.iterations[:1].tolist()
        if fresh and self._history.add_records(fresh):
            self._last = last
            self._run_done = bool(getattr(last, "done", False))
            if self._history.iterations[:1].tolist() != first_before:
                self._selected = None  # a new run began
            if not self._redraw_timer.isActive():
                self._redraw_timer.start()

    def set_digit(self, digit: np.ndarray | None) -> None:
        """Follow another drawing (raw (8, 8), 0..16) or none; recomputed from every snapshot."""
        self._history.set_digit(digit)
        self._redraw()

    def clear(self) -> None:
        """Forget the snapshots (for example when another model is loaded)."""
        self._history.clear()
        self._selected = None
        self._last = None
        self._run_done = False
        self._redraw()

    def start_run(self) -> None:
        """A new training run starts: its snapshots replace the last run's."""
        self.clear()

    def follow_model(self, model) -> None:
        """The window now reads with ``model``: the curves of the last run stay if it is that
        run's network (a completed run, or "Use this network"), else they go (Reset, a file)."""
        self._model = model
        if len(self._history) and not self._is_run_network(model):
            self.clear()
        else:
            self._redraw()

    def select_iteration(self, iteration: int) -> None:
        """Read off the probabilities at the snapshot nearest to ``iteration``."""
        its = self._history.iterations
        if len(its) == 0:
            return
        self._selected = int(its[np.argmin(np.abs(its - iteration))])
        self._redraw()
        self.iterationSelected.emit(self._selected)

    # internals ------------------------------------------------------------------------------------

    def _is_run_network(self, model) -> bool:
        """Whether ``model`` is the network of the newest record (its snapshot or final model)."""
        return model is not None and self._last is not None and id(model) in _networks(self._last)

    def _on_redraw_timer_timeout(self) -> None:
        self._redraw()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._follow_palette()

    def _follow_palette(self) -> None:
        """The plot's colours come from the current palette (again after a light/dark switch)."""
        palette = self.palette()
        style_plot(self.plot, palette)
        self.legend.setLabelTextColor(palette.color(QPalette.ColorRole.Text))
        self.cursor.setPen(pg.mkPen(palette.color(QPalette.ColorRole.Mid)))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.plot and event.type() == QEvent.Type.KeyPress:
            its = self._history.iterations
            if event.key() == Qt.Key.Key_Escape and self._selected is not None:
                self._selected = None
                self._redraw()
                return True
            current = None
            if self._selected is not None and self._selected in its:
                current = int(np.flatnonzero(its == self._selected)[0])
            elif len(its):
                current = len(its) - 1  # the newest is shown when none is selected
            row = grid_key_target(event, current, len(its), len(its))
            if row is not None:
                self.select_iteration(int(its[row]))
                return True
        return super().eventFilter(watched, event)

    def _on_scene_clicked(self, event) -> None:
        vb = self.plot.getPlotItem().vb
        if vb.sceneBoundingRect().contains(event.scenePos()):
            self.select_iteration(round(vb.mapSceneToView(event.scenePos()).x()))

    def _redraw(self) -> None:
        its = self._history.iterations
        probs = self._history.probabilities
        if len(its):
            self.plot.setXRange(0, max(int(its[-1]), 1), padding=0.02)
        if probs is None or len(its) == 0:
            for curve in self.curves:
                curve.setData([], [])
            self.cursor.setVisible(False)
            self.status.setText(
                "Draw a digit, then train: the curves show how the network's answer for your "
                "drawing changes as it learns."
                if probs is None
                else "Train the network to watch its answer for your drawing change."
            )
            self.plot.setAccessibleDescription(self.status.text())
            return
        x = its.astype(np.float64)
        # One snapshot is a point, not a line: draw the points while there are few.
        symbol = "o" if len(its) < 3 else None
        for d, curve in enumerate(self.curves):
            curve.setData(x, probs[:, d], symbol=symbol, symbolSize=6, symbolBrush=class_color(d))
        if self._selected is not None and self._selected in its:
            row = int(np.flatnonzero(its == self._selected)[0])
            where = f"At iteration {self._selected:,}"
            self.cursor.setPos(self._selected)
            self.cursor.setVisible(True)
        else:
            row = len(its) - 1
            where = None
            self.cursor.setVisible(False)
        p = probs[row]
        top = np.argsort(p, kind="stable")[::-1][:3]
        guess = (
            f"{int(top[0])} ("
            + ", ".join(f"{int(d)}: {format_probability(float(p[d]))}" for d in top)
            + ")"
        )
        last = int(its[-1])
        if where is not None:
            text = f"{where} the network read your drawing as {guess}"
        elif not self._run_done:
            text = f"Now (iteration {last:,}) the network reads your drawing as {guess}"
        elif self._is_run_network(self._model):
            text = f"At the end of the run (iteration {last:,}) it reads your drawing as {guess}"
        else:
            text = (
                f"The run's last network (iteration {last:,}, not in use) reads your "
                f"drawing as {guess}"
            )
        count = len(its)
        self.status.setText(f"{text} · {count} snapshot{'' if count == 1 else 's'}")
        self.plot.setAccessibleDescription(self.status.text())
