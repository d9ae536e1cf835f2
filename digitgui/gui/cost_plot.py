"""The live training plot: training and validation cost against iteration, validation accuracy
below, sharing the iteration axis.

Points arrive in batches from the training worker and are appended to buffers that grow by
doubling; the curves are created once and fed with ``setData`` from a GUI-side timer at about
10 Hz, only when something changed. One redraw costs 7-15 ms here, so redrawing per batch (or
worse, per point) would stall the window (shared/notes/qt-and-environment.md).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QTimer
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QGraphicsItem, QWidget

from .palette import accent_colors

__all__ = ["CostPlot", "GrowingSeries", "configure_pyqtgraph"]

#: Redraw period of the curves while points arrive (ms): 10 Hz. Each redraw holds the GIL
#: for several milliseconds, time the training thread waits for after each NumPy call.
REDRAW_MS = 100


def configure_pyqtgraph() -> None:
    """Global pyqtgraph options; call before any pyqtgraph widget exists. Row-major images so a
    NumPy ``(row, col)`` array is shown as it prints, not transposed."""
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)


configure_pyqtgraph()


class GrowingSeries:
    """An (x, y) series appended point by point into arrays that double when full, so appending
    n points costs O(n) in total and the visible data is a view, never a copy."""

    def __init__(self, capacity: int = 1024) -> None:
        self._x = np.empty(capacity)
        self._y = np.empty(capacity)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def append(self, x: float, y: float) -> None:
        if self._n == len(self._x):
            self._x = np.concatenate([self._x, np.empty_like(self._x)])
            self._y = np.concatenate([self._y, np.empty_like(self._y)])
        self._x[self._n] = x
        self._y[self._n] = y
        self._n += 1

    def clear(self) -> None:
        self._n = 0

    @property
    def x(self) -> np.ndarray:
        return self._x[: self._n]

    @property
    def y(self) -> np.ndarray:
        return self._y[: self._n]


class CostPlot(pg.GraphicsLayoutWidget):
    """Cost curves (top) and validation accuracy (bottom) of the current training run.

    Feed it with :meth:`add_records` (any objects with ``iteration``, ``cost``, ``val_cost`` and
    ``val_acc``, e.g. :class:`digitgui.core.training.Progress`); :meth:`clear_data` starts over.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("costPlot")
        self.setToolTip(
            "Training cost (every iteration) and validation cost (measured on digits the network "
            "never trains on) against iteration; below, the validation accuracy. Drag to pan, "
            "wheel to zoom, right-click for more."
        )
        self.train = GrowingSeries()
        self.val = GrowingSeries()
        self.acc = GrowingSeries()
        self._dirty = False

        self.cost_item: pg.PlotItem = self.addPlot(row=0, col=0)
        self.acc_item: pg.PlotItem = self.addPlot(row=1, col=0)
        self.ci.layout.setRowStretchFactor(0, 3)
        self.ci.layout.setRowStretchFactor(1, 1)
        self.cost_item.setLabel("left", "cost")
        self.cost_item.showGrid(x=True, y=True, alpha=0.2)
        self.cost_item.setClipToView(True)
        self.cost_item.setDownsampling(auto=True, mode="peak")
        self.legend = self.cost_item.addLegend(offset=(-10, 10))
        self.acc_item.setLabel("left", "val. acc.")
        self.acc_item.setLabel("bottom", "iteration")
        self.acc_item.setXLink(self.cost_item)
        self.acc_item.setYRange(0, 1, padding=0.02)
        self.acc_item.setLimits(yMin=-0.05, yMax=1.05)
        self.acc_item.showGrid(x=True, y=True, alpha=0.2)
        for item in (self.cost_item, self.acc_item):
            # Equal axis widths keep the two plots' iteration axes aligned.
            item.getAxis("left").setWidth(54)
            # The ranges are set here, in steps (see _fit_ranges): an axis whose range moves at
            # every redraw recomputes and repaints its ticks each time, the largest cost of a
            # redraw. Cached axes repaint only when their range changed.
            item.disableAutoRange()
            item.getViewBox().sigRangeChangedManually.connect(self._on_view_rangeChangedManually)
            item.autoBtn.clicked.connect(self._on_autoBtn_clicked)
            for name in ("left", "bottom"):
                item.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
                # Iterations and costs as they are: no "(x0.001)" scaling of an axis.
                item.getAxis(name).enableAutoSIPrefix(False)
        self._follow = True  # False once the user pans or zooms, until the "A" button
        self._extent = 1
        self.cost_item.setXRange(0, 1, padding=0.02)
        self.cost_item.setYRange(0, 1, padding=0.02)

        # connect="finite": a cost that is not positive becomes NaN in log mode; skip, do not
        # draw a line to it.
        self.train_curve = self.cost_item.plot(name="training cost", connect="finite")
        self.val_curve = self.cost_item.plot(name="validation cost", connect="finite")
        self.acc_curve = self.acc_item.plot(name="validation accuracy", connect="finite")
        self._redraw = QTimer(self)
        self._redraw.setInterval(REDRAW_MS)
        self._redraw.timeout.connect(self._on_redraw_timeout)
        self._apply_palette()

    # data -----------------------------------------------------------------------------------------

    def add_records(self, records: Iterable) -> None:
        """Append progress records; the curves catch up at the next redraw tick."""
        for r in records:
            if math.isfinite(r.cost):
                self.train.append(r.iteration, r.cost)
            if r.val_cost is not None and math.isfinite(r.val_cost):
                self.val.append(r.iteration, r.val_cost)
            if r.val_acc is not None:
                self.acc.append(r.iteration, r.val_acc)
        self._dirty = True
        if not self._redraw.isActive():
            self._redraw.start()

    def clear_data(self, iterations: int | None = None) -> None:
        """Forget every point: a new run of ``iterations`` starts (the x axis spans them, so it
        doubles as a progress axis). Not ``clear``: GraphicsLayoutWidget sets an instance
        attribute of that name that removes the plots themselves."""
        for s in (self.train, self.val, self.acc):
            s.clear()
        self._extent = max(1, int(iterations or 1))
        self._follow = True
        self._dirty = True
        self.flush()

    def flush(self) -> None:
        """Redraw now if anything changed since the last redraw."""
        if not self._dirty:
            return
        self._dirty = False
        self.train_curve.setData(self.train.x, self.train.y)
        self.val_curve.setData(self.val.x, self.val.y)
        self.acc_curve.setData(self.acc.x, self.acc.y)
        if self._follow:
            self._fit_ranges()

    def _fit_ranges(self) -> None:
        """Show the whole run: x from 0 to its last iteration; y from 0 to the largest cost
        (linear) or whole decades around the costs (log). Only changes that matter are applied."""
        vb = self.cost_item.getViewBox()
        (x0, x1), (y0, y1) = vb.viewRange()
        last = self.train.x[-1] if len(self.train) else 0
        top_x = max(self._extent, last)
        if (x0, x1) != (0, top_x):
            self.cost_item.setXRange(0, top_x, padding=0.02)
        costs = [a[np.isfinite(a) & (a > 0)] for a in (self.train.y, self.val.y)]
        costs = np.concatenate(costs)
        if costs.size == 0:
            return
        if self.log_y():
            lo = math.floor(math.log10(costs.min()))
            hi = math.ceil(math.log10(costs.max()))
            target = (lo, max(hi, lo + 1))
            if (round(y0), round(y1)) != target or abs(y1 - y0 - (target[1] - target[0])) > 0.5:
                self.cost_item.setYRange(*target, padding=0.02)
        else:
            hi = float(costs.max())
            # Grow when a cost goes above the top, shrink only when the top is far too high.
            if not (hi <= y1 <= 2.5 * hi) or y0 > 0:
                self.cost_item.setYRange(0, hi * 1.15, padding=0)

    def _on_view_rangeChangedManually(self, *_args) -> None:
        self._follow = False

    def _on_autoBtn_clicked(self) -> None:
        self._follow = True
        for item in (self.cost_item, self.acc_item):
            item.disableAutoRange()
        self.acc_item.setYRange(0, 1, padding=0.02)
        self._dirty = True
        self.flush()

    def _on_redraw_timeout(self) -> None:
        if not self._dirty:
            self._redraw.stop()  # idle: no timer ticks while nothing trains
            return
        self.flush()

    # appearance -----------------------------------------------------------------------------------

    def log_y(self) -> bool:
        return bool(self.cost_item.ctrl.logYCheck.isChecked())

    def set_log_y(self, on: bool) -> None:
        """Logarithmic cost axis: the slow late decrease of the cost stays visible."""
        self.cost_item.setLogMode(y=bool(on))
        self._follow = True
        self._dirty = True
        self.flush()

    def changeEvent(self, event: QEvent) -> None:
        # pyqtgraph's constructor changes the palette before the curves exist.
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "acc_curve"):
            self._apply_palette()
        super().changeEvent(event)

    def _apply_palette(self) -> None:
        pal = self.palette()
        self.setBackground(pal.color(QPalette.ColorRole.Base))
        fg = pal.color(QPalette.ColorRole.Text)
        for item in (self.cost_item, self.acc_item):
            for name in ("left", "bottom"):
                axis = item.getAxis(name)
                axis.setPen(fg)
                axis.setTextPen(fg)
        colors = accent_colors(pal)
        self.train_curve.setPen(pg.mkPen(colors["train"], width=1.5))
        self.val_curve.setPen(pg.mkPen(colors["val"], width=2))
        self.acc_curve.setPen(pg.mkPen(colors["acc"], width=2))
        self.legend.setLabelTextColor(fg)
        for _sample, label in self.legend.items:
            label.setText(label.text, color=fg)  # existing labels keep their colour otherwise
