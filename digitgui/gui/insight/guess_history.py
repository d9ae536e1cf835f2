"""History of a guess: the ten probabilities of the current drawing against training iteration."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from digitgui.core.calibration import format_probability
from digitgui.core.insight import GuessHistory

from .colormaps import class_color, style_plot

__all__ = ["GuessHistoryView"]


class GuessHistoryView(QWidget):
    """While the network trains, how its answer for the current drawing changes: one curve per
    class, probability against iteration, from the snapshots the training run attaches to its
    progress records. Clicking the plot reads off the probabilities at that iteration
    (``iterationSelected(iteration)``).

    Feed it the window's ``trainingProgress`` batches with :meth:`add_progress` and the drawing
    with :meth:`set_digit`; a record whose iteration is not after the last starts a new run.
    """

    iterationSelected = Signal(int)

    REDRAW_MS = 100  # new snapshots are drawn at most ten times a second

    def __init__(self, parent: QWidget | None = None, max_snapshots: int = 400) -> None:
        super().__init__(parent)
        self.setObjectName("guessHistoryPlot")
        self._history = GuessHistory(max_snapshots)
        self._selected: int | None = None

        self.plot = pg.PlotWidget()
        self.plot.setObjectName("guessHistoryPlotWidget")
        style_plot(self.plot, self.palette())
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.setLabel("left", "probability")
        self.plot.setLabel("bottom", "iteration")
        self.plot.setYRange(0, 1, padding=0.02)
        legend = self.plot.addLegend(offset=(-4, 4), colCount=5)
        legend.setLabelTextColor(self.palette().color(QPalette.ColorRole.Text))
        self.curves = [
            self.plot.plot(
                [], [], pen=pg.mkPen(class_color(d), width=2), name=str(d), skipFiniteCheck=True
            )
            for d in range(10)
        ]
        self.cursor = pg.InfiniteLine(
            angle=90, movable=False, pen=pg.mkPen(self.palette().color(QPalette.ColorRole.Mid))
        )
        self.cursor.setVisible(False)
        self.plot.addItem(self.cursor)
        self.plot.scene().sigMouseClicked.connect(self._on_scene_clicked)

        self.status = QLabel()
        self.status.setObjectName("guessHistoryStatus")
        self.status.setWordWrap(True)
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
        first_before = self._history.iterations[:1].tolist()
        if self._history.add_records(records):
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

    def _on_redraw_timer_timeout(self) -> None:
        self._redraw()

    def _on_scene_clicked(self, event) -> None:
        vb = self.plot.getPlotItem().vb
        if vb.sceneBoundingRect().contains(event.scenePos()):
            self.select_iteration(round(vb.mapSceneToView(event.scenePos()).x()))

    def _redraw(self) -> None:
        its = self._history.iterations
        probs = self._history.probabilities
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
            return
        x = its.astype(np.float64)
        for d, curve in enumerate(self.curves):
            curve.setData(x, probs[:, d])
        if self._selected is not None and self._selected in its:
            row = int(np.flatnonzero(its == self._selected)[0])
            where = f"At iteration {self._selected:,}"
            self.cursor.setPos(self._selected)
            self.cursor.setVisible(True)
        else:
            row = len(its) - 1
            where = f"Now (iteration {int(its[-1]):,})"
            self.cursor.setVisible(False)
        p = probs[row]
        top = np.argsort(p, kind="stable")[::-1][:3]
        self.status.setText(
            f"{where} the network reads your drawing as <b>{int(top[0])}</b>: "
            + ", ".join(f"{int(d)}: {format_probability(float(p[d]))}" for d in top)
            + f" · {len(its)} snapshots"
        )
