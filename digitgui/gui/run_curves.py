"""The pieces the runs plot draws with: the log-aware cost axis and one run's plot items
(training and validation cost, validation and training accuracy, the best-check diamond, the
"diverged" mark and the learning-rate changes). :mod:`digitgui.gui.cost_plot` assembles them."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt

from digitgui.core.runs import Run

from .palette import run_color

if TYPE_CHECKING:
    from .cost_plot import CostPlot

__all__ = ["X_AXES", "CostAxis", "RunCurves", "Series", "decade_label"]

#: The x axes a plot can show: history column and axis label.
X_AXES = {
    "iteration": ("iteration", "iteration"),
    "epoch": ("epoch", "epoch (passes over the training rows)"),
    "seconds": ("seconds", "seconds of training"),
}


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def decade_label(k: int) -> str:
    """``10⁻⁵``-style label of the decade 10**k (the same form for every decade)."""
    return "10" + str(int(k)).translate(_SUPERSCRIPT)


class CostAxis(pg.AxisItem):
    """The cost axis. In log mode: labels only at whole decades, all written alike (10⁻⁵ ...
    10¹), thinned so that labels never overprint; unlabelled minor ticks at 2x and 5x. Linear
    mode is pyqtgraph's."""

    #: Vertical pixels per decade label at least (a label is about one text line high).
    LABEL_PIXELS = 22

    def tickValues(self, minVal, maxVal, size):
        if not self.logMode:
            return super().tickValues(minVal, maxVal, size)
        lo, hi = math.ceil(minVal - 1e-9), math.floor(maxVal + 1e-9)
        decades = list(range(lo, hi + 1))
        room = max(1, int(size // self.LABEL_PIXELS))
        step = max(1, math.ceil(len(decades) / room))
        major = [float(k) for k in decades if k % step == 0]
        minor = [
            math.log10(m) + k
            for k in range(lo - 1, hi + 1)
            for m in (2, 5)
            if minVal <= math.log10(m) + k <= maxVal
        ]
        return [(float(step), major), (0.5, minor if step == 1 else [])]

    def tickStrings(self, values, scale, spacing):
        if not self.logMode:
            return super().tickStrings(values, scale, spacing)
        return [decade_label(round(v)) if abs(v - round(v)) < 1e-6 else "" for v in values]


class Series:
    """An (x, y) pair of arrays of one curve (for tests and the rate line)."""

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x, self.y = x, y

    def __len__(self) -> int:
        return len(self.x)


#: A finished run's curves keep about this many points whatever the zoom (peak downsampling
#: keeps each step's lowest and highest value): recomputing them at every zoom, as the live run's
#: are, took a quarter of a redraw with 10 runs of 20,000 iterations shown.
FINISHED_POINTS = 2000


def _curve(plot: pg.PlotItem, **kwargs) -> pg.PlotDataItem:
    # connect="finite": a cost that is not positive becomes NaN in log mode; skip it.
    item = plot.plot(connect="finite", **kwargs)
    item.setClipToView(True)
    item.setDownsampling(auto=True, method="peak")
    return item


class RunCurves:
    """The plot items of one run."""

    def __init__(self, plot: CostPlot, run: Run) -> None:
        self.run = run
        self.live = False
        self.train = _curve(plot.cost_item, name=run.name)
        self.val = _curve(plot.cost_item)
        self.acc = _curve(plot.acc_item)
        # Training accuracy beside validation: the gap between them is overfitting.
        self.train_acc = _curve(plot.acc_item)
        self.end = pg.ScatterPlotItem(symbol="x", size=12)
        self.end_label = pg.TextItem("diverged", anchor=(0, 1))
        # The best validation check (lowest validation cost: what early stopping keeps).
        self.best = pg.ScatterPlotItem(symbol="d", size=10)
        self.lr_lines: list[pg.InfiniteLine] = []
        self._lr_drawn = (0, "")  # how many changes are drawn, against which x axis
        self._bounds: tuple[int, tuple[float, float] | None] | None = None
        plot.cost_item.addItem(self.end)
        plot.cost_item.addItem(self.end_label)
        plot.cost_item.addItem(self.best)
        self.items = [
            self.train,
            self.val,
            self.acc,
            self.train_acc,
            self.end,
            self.end_label,
            self.best,
        ]

    def _lines(self) -> tuple[pg.PlotDataItem, ...]:
        return (self.train, self.val, self.acc, self.train_acc)

    def remove(self, plot: CostPlot) -> None:
        for item in (self.train, self.val, self.end, self.end_label, self.best, *self.lr_lines):
            plot.cost_item.removeItem(item)
        plot.acc_item.removeItem(self.acc)
        plot.acc_item.removeItem(self.train_acc)
        plot.legend.removeItem(self.train)

    def style(self, plot: CostPlot, live: bool) -> None:
        # One-pixel lines for finished runs: wide pens cost Qt's rasteriser about 2.5x as much,
        # and 10 shown runs of 20,000 iterations must redraw in under 20 ms (bench_gui.py).
        self.live = live
        for item in self._lines():
            item.setClipToView(live)
            if live:
                item.setDownsampling(auto=True, method="peak")
        color = run_color(self.run.color, plot.palette())
        width = 2 if live else 1
        self.train.setPen(pg.mkPen(color, width=width))
        self.val.setPen(pg.mkPen(color, width=width, style=Qt.PenStyle.DashLine))
        # As in the cost pane: solid for the training rows, dashed for the validation rows.
        self.acc.setPen(pg.mkPen(color, width=width, style=Qt.PenStyle.DashLine))
        self.train_acc.setPen(pg.mkPen(color, width=width))
        self.end.setPen(pg.mkPen(color, width=2))
        self.end_label.setColor(color)
        self.best.setPen(pg.mkPen(color, width=1))
        self.best.setBrush(pg.mkBrush(color))
        for line in self.lr_lines:
            line.setPen(pg.mkPen(color, width=1, style=Qt.PenStyle.DotLine))

    def cost_bounds(self) -> tuple[float, float] | None:
        """The smallest and largest positive finite cost (training or validation) of the run,
        computed again only when its history grew: redraws of many shown runs stay cheap."""
        h = self.run.history
        if self._bounds is None or self._bounds[0] != len(h):
            costs = np.concatenate([h.column("cost"), h.column("val_cost")])
            costs = costs[np.isfinite(costs) & (costs > 0)]
            value = (float(costs.min()), float(costs.max())) if costs.size else None
            self._bounds = (len(h), value)
        return self._bounds[1]

    def update(self, plot: CostPlot) -> None:
        h = self.run.history
        xcol = X_AXES[plot.x_axis][0]
        x = np.array(h.column(xcol))
        cost = np.array(h.column("cost"))
        val_cost = h.column("val_cost")
        measured = ~np.isnan(val_cost)
        self.train.setData(x, cost)
        self.val.setData(x[measured], np.array(val_cost[measured]))
        acc = h.column("val_acc")
        has_acc = ~np.isnan(acc)
        self.acc.setData(x[has_acc], np.array(acc[has_acc]))
        train_acc = h.column("train_acc")
        has_train = ~np.isnan(train_acc)
        self.train_acc.setData(x[has_train], np.array(train_acc[has_train]))
        if not self.live:
            for item in self._lines():
                n = 0 if item.xData is None else len(item.xData)
                item.setDownsampling(ds=max(1, n // FINISHED_POINTS), auto=False, method="peak")
        self._mark_end(plot, x, cost)
        self._mark_best(plot, x[measured], val_cost[measured])
        self._mark_lr(plot)

    def best_check(self) -> tuple[int, float, float] | None:
        """The validation check with the lowest validation cost: (iteration, cost, accuracy)."""
        h = self.run.history
        val = h.column("val_cost")
        ok = np.flatnonzero(np.isfinite(val))
        if not len(ok):
            return None
        i = ok[np.argmin(val[ok])]
        return int(h.column("iteration")[i]), float(val[i]), float(h.column("val_acc")[i])

    def _mark_best(self, plot: CostPlot, x: np.ndarray, val_cost: np.ndarray) -> None:
        finite = np.isfinite(val_cost) & (val_cost > 0)
        if not finite.any():
            self.best.setData([], [])
            self.best.hide()  # an empty scatter still costs a paint: ~0.35 ms per redraw
            return
        i = np.flatnonzero(finite)[np.argmin(val_cost[finite])]
        y = math.log10(val_cost[i]) if plot.log_y() else val_cost[i]
        self.best.setData([x[i]], [y])
        self.best.show()

    def stack_label(self, k: int) -> None:
        """The ``k``-th "diverged" label of the plot sits ``k`` lines below the first, so
        runs that diverged at nearly the same place stay readable."""
        self.end_label.setAnchor((0, -1.15 * k))

    def _mark_end(self, plot: CostPlot, x: np.ndarray, cost: np.ndarray) -> None:
        diverged = self.run.outcome == "diverged"
        finite = np.isfinite(cost) & (cost > 0)
        if diverged and finite.any():
            i = np.flatnonzero(finite)[-1]
            y = math.log10(cost[i]) if plot.log_y() else cost[i]
            self.end.setData([x[i]], [y])
            self.end_label.setPos(QPointF(float(x[i]), float(y)))
            self.end_label.setText(f"diverged at iteration {self.run.iterations_done:,}")
            self.end.show()
            self.end_label.show()
        else:
            self.end.setData([], [])
            self.end.hide()
            self.end_label.hide()

    def _mark_lr(self, plot: CostPlot) -> None:
        changes = self.run.lr_changes
        if (len(changes), plot.x_axis) == self._lr_drawn:
            return
        self._lr_drawn = (len(changes), plot.x_axis)
        for line in self.lr_lines:
            plot.cost_item.removeItem(line)
        self.lr_lines = []
        color = run_color(self.run.color, plot.palette())
        for iteration, lr in changes:
            x = plot.x_at_iteration(self.run, iteration)
            if x is None:
                continue
            line = pg.InfiniteLine(
                pos=x,
                angle=90,
                pen=pg.mkPen(color, width=1, style=Qt.PenStyle.DotLine),
                label=f"lr {lr:g}",
                labelOpts={"position": 0.92, "color": color},
            )
            plot.cost_item.addItem(line)
            self.lr_lines.append(line)
