"""The training plot: the cost and validation accuracy of every shown run, overlaid.

The plot draws run histories (:class:`~digitgui.core.runs.Run`); it owns none. Each run has its
colour: its training cost is a solid line, its validation cost a dashed one (top), its
validation accuracy a line below; the legend names the runs. The run in progress is redrawn
from a GUI-side timer at about 10 Hz, only when something changed (one redraw costs several
milliseconds; per batch it would stall the window, shared/notes/qt-and-environment.md). Finished
runs are drawn once, downsampled to the view's pixels and clipped to it.

The x axis shows iterations, epochs or seconds of training time (:meth:`CostPlot.set_x_axis`).
Hovering shows a crosshair and, for each shown run, its iteration, time and cost there. A
diverged run ends in a cross and the word "diverged"; learning-rate changes are marked by
vertical lines.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, Qt, QTimer
from PySide6.QtGui import QFont, QFontMetrics, QPalette
from PySide6.QtWidgets import QGraphicsItem, QWidget

from digitgui.core.runs import Run

from .accessibility import hidden_focus_rings
from .run_curves import X_AXES, CostAxis, RunCurves, Series, decade_label

__all__ = ["X_AXES", "CostAxis", "CostPlot", "configure_pyqtgraph", "decade_label"]

#: Redraw period of the curves while points arrive (ms): 10 Hz. Each redraw holds the GIL
#: for several milliseconds, time the training thread waits for after each NumPy call.
REDRAW_MS = 100
#: The plot's minimum height: this many pixels, or lines of its font when that is more.
MIN_HEIGHT = 160
MIN_HEIGHT_LINES = 12


def configure_pyqtgraph() -> None:
    """Global pyqtgraph options; call before any pyqtgraph widget exists. Row-major images so a
    NumPy ``(row, col)`` array is shown as it prints, not transposed."""
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)


configure_pyqtgraph()


class CostPlot(pg.GraphicsLayoutWidget):
    """Cost curves (top) and validation accuracy (bottom) of the shown runs.

    :meth:`show_runs` says which runs to draw, :meth:`set_live` which one is training (redrawn
    as it grows; call :meth:`refresh` when its history grew), :meth:`set_x_axis` what x is.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("costPlot")
        self.setToolTip(
            "Each run in its colour: training cost (solid), validation cost (dashed, measured on "
            "digits the network never trains on; the diamond marks its lowest point, the check "
            "early stopping keeps) and, below, accuracy: training (solid, the rows of the "
            "batches since the previous check) and validation (dashed); a widening gap between "
            "them is overfitting. Hover for the values; drag to pan, wheel to zoom, right-click "
            "for more."
        )
        self.x_axis = "iteration"
        self._curves: dict[str, RunCurves] = {}
        self._live: Run | None = None
        self._dirty = False
        self._extent = 1

        self.cost_item: pg.PlotItem = self.addPlot(
            row=0, col=0, axisItems={"left": CostAxis("left")}
        )
        self.acc_item: pg.PlotItem = self.addPlot(row=1, col=0)
        self.ci.layout.setRowStretchFactor(0, 3)
        self.ci.layout.setRowStretchFactor(1, 1)
        self.cost_item.setLabel("left", "cost")
        self.cost_item.showGrid(x=True, y=True, alpha=0.2)
        self.legend = self.cost_item.addLegend(offset=(-10, 10))
        self.acc_item.setLabel("left", "accuracy")
        self.acc_item.setLabel("bottom", X_AXES["iteration"][1])
        self.acc_item.setXLink(self.cost_item)
        self.acc_item.setYRange(0, 1, padding=0.02)
        self.acc_item.setLimits(yMin=-0.05, yMax=1.05)
        # Three labels fit however short the panel is and however large the text.
        self.acc_item.getAxis("left").setTicks(
            [[(0.0, "0"), (0.5, "0.5"), (1.0, "1")], [(v / 10, "") for v in range(11)]]
        )
        self.acc_item.showGrid(x=True, y=True, alpha=0.2)
        for item in (self.cost_item, self.acc_item):
            # Equal axis widths keep the two plots' x axes aligned.
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
        self.cost_item.setXRange(0, 1, padding=0.02)
        self.cost_item.setYRange(0, 1, padding=0.02)

        self._crosshair = [
            pg.InfiniteLine(angle=90, movable=False) for _ in (self.cost_item, self.acc_item)
        ]
        for line, item in zip(self._crosshair, (self.cost_item, self.acc_item), strict=True):
            item.addItem(line, ignoreBounds=True)
            line.hide()
        self.hover_label = pg.TextItem(anchor=(0, 0), border=pg.mkPen(128, 128, 128))
        self.hover_label.setZValue(1000)  # above the legend
        self.cost_item.addItem(self.hover_label, ignoreBounds=True)
        self.hover_label.hide()
        self.scene().sigMouseMoved.connect(self._on_scene_mouseMoved)

        # The cost of a network that knows nothing: 1/10 for every class, -ln(1/10) = ln 10.
        self.chance_line = pg.InfiniteLine(
            angle=0,
            movable=False,
            label="knows nothing: ln 10 = 2.30",
            labelOpts={"position": 0.35, "anchors": [(0, 1), (0, 1)]},
        )
        self.chance_line.hide()
        self.cost_item.addItem(self.chance_line, ignoreBounds=True)
        self._place_chance_line()

        self._redraw = QTimer(self)
        self._redraw.setInterval(REDRAW_MS)
        self._redraw.timeout.connect(self._on_redraw_timeout)
        self._apply_palette()
        self._fit_min_height()

    # what is drawn --------------------------------------------------------------------------------

    def shown_runs(self) -> list[Run]:
        return [c.run for c in self._curves.values()]

    def show_runs(self, runs: Iterable[Run]) -> None:
        """Draw exactly ``runs`` (plus the live run), each in its colour, in legend order."""
        wanted = {r.id: r for r in runs}
        if self._live is not None:
            wanted.setdefault(self._live.id, self._live)
        for run_id in [i for i in self._curves if i not in wanted]:
            self._curves.pop(run_id).remove(self)
        for run in wanted.values():
            curves = self._curves.get(run.id)
            if curves is None or curves.run is not run:
                if curves is not None:
                    curves.remove(self)
                curves = self._curves[run.id] = RunCurves(self, run)
                curves.style(self, run is self._live)
                curves.update(self)
            elif self.legend.getLabel(curves.train) is not None:
                self.legend.getLabel(curves.train).setText(run.name)
        self._follow = True
        self._dirty = True
        self.flush()

    def set_live(self, run: Run | None, iterations: int | None = None) -> None:
        """The run being trained (None: none); the x axis spans its ``iterations``."""
        previous, self._live = self._live, run
        if run is not None:
            self._extent = max(1, int(iterations or run.config.iterations))
            self.show_runs([*self.shown_runs(), run])
        for curves in self._curves.values():
            if curves.run in (previous, run):
                curves.style(self, curves.run is run)
                curves.update(self)
        self._dirty = True
        self.flush()

    def refresh(self) -> None:
        """The live run's history grew: redraw at the next tick."""
        self._dirty = True
        if not self._redraw.isActive():
            self._redraw.start()

    def clear_data(self, iterations: int | None = None) -> None:
        """Draw no run; the x axis spans ``iterations`` (the run about to start, so it doubles
        as a progress axis). Not ``clear``: GraphicsLayoutWidget sets an instance attribute of
        that name that removes the plots themselves."""
        self._live = None
        self.show_runs([])
        self._extent = max(1, int(iterations or 1))
        self._follow = True
        self._dirty = True
        self.flush()

    def _current(self) -> Run | None:
        if self._live is not None:
            return self._live
        runs = self.shown_runs()
        return runs[-1] if runs else None

    def _series(self, column: str) -> Series:
        run = self._current()
        if run is None:
            return Series(np.empty(0), np.empty(0))
        h = run.history
        x, y = h.column("iteration"), h.column(column)
        keep = ~np.isnan(y) if column != "cost" else np.isfinite(y)
        return Series(x[keep], y[keep])

    @property
    def train(self) -> Series:
        """The training cost of the live run (or the last shown one)."""
        return self._series("cost")

    @property
    def val(self) -> Series:
        return self._series("val_cost")

    @property
    def acc(self) -> Series:
        return self._series("val_acc")

    @property
    def train_curve(self) -> pg.PlotDataItem | None:
        run = self._current()
        return None if run is None else self._curves[run.id].train

    # the x axis -----------------------------------------------------------------------------------

    def set_x_axis(self, name: str) -> None:
        """Show the runs against "iteration", "epoch" or "seconds" of training."""
        if name not in X_AXES:
            raise ValueError(f"x axis must be one of {', '.join(X_AXES)}")
        if name == self.x_axis:
            return
        self.x_axis = name
        self.acc_item.setLabel("bottom", X_AXES[name][1])
        for curves in self._curves.values():
            curves.update(self)
        self._follow = True
        self._dirty = True
        self.flush()

    def x_at_iteration(self, run: Run, iteration: int) -> float | None:
        """Where ``run``'s ``iteration`` is on the current x axis (None if not recorded)."""
        its = run.history.column("iteration")
        i = int(np.searchsorted(its, iteration))
        if i >= len(its):
            return None
        return float(run.history.column(X_AXES[self.x_axis][0])[i])

    # drawing --------------------------------------------------------------------------------------

    def flush(self) -> None:
        """Redraw now if anything changed since the last redraw."""
        if not self._dirty:
            return
        self._dirty = False
        if self._live is not None and self._live.id in self._curves:
            self._curves[self._live.id].update(self)
        diverged = [c for c in self._curves.values() if c.run.outcome == "diverged"]
        for k, curves in enumerate(diverged):
            curves.stack_label(k)
        if self._follow:
            self._fit_ranges()

    def _fit_ranges(self) -> None:
        """Show the whole of every shown run: x from 0 to the furthest end (the live run's
        planned total, on an iteration axis); y from 0 to the largest cost (linear) or whole
        decades around the costs (log). Only changes that matter are applied."""
        vb = self.cost_item.getViewBox()
        (x0, x1), (y0, y1) = vb.viewRange()
        col = X_AXES[self.x_axis][0]
        ends = [c.run.history.column(col)[-1] for c in self._curves.values() if len(c.run.history)]
        top_x = max(ends, default=0)
        if self.x_axis == "iteration" and (self._live is not None or not ends):
            top_x = max(top_x, self._extent)
        top_x = top_x or 1
        if (x0, x1) != (0, top_x):
            self.cost_item.setXRange(0, top_x, padding=0.02)
        bounds = [b for b in (c.cost_bounds() for c in self._curves.values()) if b is not None]
        if not bounds:
            return
        low, high = min(b[0] for b in bounds), max(b[1] for b in bounds)
        if self.log_y():
            lo = math.floor(math.log10(low))
            hi = math.ceil(math.log10(high))
            target = (lo, max(hi, lo + 1))
            if (round(y0), round(y1)) != target or abs(y1 - y0 - (target[1] - target[0])) > 0.5:
                self.cost_item.setYRange(*target, padding=0.02)
        else:
            hi = high
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

    # hover ----------------------------------------------------------------------------------------

    def hover_text(self, x: float) -> str:
        """For each shown run, its iteration, time and costs at ``x`` (the recorded point at or
        just before it), one line per run."""
        col = X_AXES[self.x_axis][0]
        lines = []
        for curves in self._curves.values():
            run, h = curves.run, curves.run.history
            if not len(h):
                continue
            xs = h.column(col)
            i = int(np.searchsorted(xs, x, side="right")) - 1
            if i < 0:
                continue
            row = h.array[i]
            cost = f"cost {row[3]:.3g}" if math.isfinite(row[3]) else "diverged"
            text = f"{run.name}:  it {int(row[0]):,}  {row[1]:.1f} s  {cost}"
            acc = h.column("val_acc")[: i + 1]
            measured = np.flatnonzero(~np.isnan(acc))
            if len(measured):
                j = measured[-1]
                text += f"  val. {100 * acc[j]:.1f}%"
                train = h.column("train_acc")[j]
                if not np.isnan(train):
                    text += f" (training {100 * train:.1f}%)"
            lines.append(text)
        return "\n".join(lines)

    def _on_scene_mouseMoved(self, pos) -> None:
        vb = self.cost_item.getViewBox()
        inside = any(
            item.sceneBoundingRect().contains(pos) for item in (self.cost_item, self.acc_item)
        )
        if not inside or not self._curves:
            self.hide_hover()
            return
        x = vb.mapSceneToView(pos).x()
        self.show_hover(x)

    def show_hover(self, x: float) -> None:
        text = self.hover_text(x)
        if not text:
            self.hide_hover()
            return
        for line in self._crosshair:
            line.setPos(x)
            line.show()
        vb = self.cost_item.getViewBox()
        (_, _), (_, y1) = vb.viewRange()
        self.hover_label.setText(text)
        # Right of the cursor where the text fits inside the plot, else left of it, and never
        # past the plot's left edge.
        cursor = vb.mapViewToScene(QPointF(x, y1)).x()
        box = vb.sceneBoundingRect()
        width = self.hover_label.boundingRect().width()
        left = cursor + 8 if cursor + 8 + width < box.right() else cursor - 8 - width
        left = max(box.left() + 2, min(left, box.right() - width - 2))
        self.hover_label.setAnchor((0, 0))
        self.hover_label.setPos(vb.mapSceneToView(QPointF(left, 0)).x(), y1)
        self.hover_label.show()

    def hide_hover(self) -> None:
        for line in self._crosshair:
            line.hide()
        self.hover_label.hide()

    def leaveEvent(self, event) -> None:
        self.hide_hover()
        super().leaveEvent(event)

    # export ---------------------------------------------------------------------------------------

    def export(self, path: str | Path) -> Path:
        """Write the plot as it is shown to a PNG or SVG file (by the suffix); ``OSError`` or
        ``ValueError`` say why it failed."""
        path = Path(path)
        suffix = path.suffix.lower()
        self.hide_hover()
        if suffix == ".png":
            with hidden_focus_rings(self):
                image = self.grab()
            if not image.save(str(path), "PNG"):
                raise OSError(f"{path}: the file cannot be written")
        elif suffix == ".svg":
            # Qt's own SVG painter: pyqtgraph's SVGExporter fails on some items (text labels).
            from PySide6.QtCore import QRect, QSize
            from PySide6.QtGui import QPainter
            from PySide6.QtSvg import QSvgGenerator

            if not path.parent.is_dir():
                raise OSError(f"{path.parent}: no such folder")
            generator = QSvgGenerator()
            generator.setFileName(str(path))
            generator.setSize(QSize(self.width(), self.height()))
            generator.setViewBox(QRect(0, 0, self.width(), self.height()))
            generator.setTitle("digitgui runs")
            painter = QPainter(generator)
            try:
                with hidden_focus_rings(self):
                    self.render(painter)
            finally:
                painter.end()
            if not path.exists() or path.stat().st_size == 0:
                raise OSError(f"{path}: the file cannot be written")
        else:
            raise ValueError(f"{path.name}: save the plot as .png or .svg")
        return path

    # appearance -----------------------------------------------------------------------------------

    def log_y(self) -> bool:
        return bool(self.cost_item.ctrl.logYCheck.isChecked())

    def set_font(self, font: QFont) -> None:
        """Draw axes, ticks, legend and hover text in ``font`` (the window's zoom)."""
        self.setFont(font)
        metrics = QFontMetrics(font)
        for item in (self.cost_item, self.acc_item):
            for name in ("left", "bottom"):
                axis = item.getAxis(name)
                axis.setStyle(tickFont=font, tickTextOffset=max(3, metrics.height() // 4))
                axis.label.setFont(font)
            # Room for "0.8" or "10⁻⁵" beside the axis, whatever the size.
            item.getAxis("left").setWidth(metrics.horizontalAdvance("10⁻⁵") + metrics.height() + 12)
            item.getAxis("bottom").setHeight(2 * metrics.height() + 8)
        self.legend.setLabelTextSize(f"{font.pointSizeF():.1f}pt")
        for _sample, label in self.legend.items:
            label.setText(label.text, size=f"{font.pointSizeF():.1f}pt")
        self.hover_label.textItem.setFont(font)
        self.chance_line.label.textItem.setFont(font)
        self._fit_min_height()
        self.flush()

    def _fit_min_height(self) -> None:
        """Tall enough for both axes' rotated titles and their ticks in the plot's font: a large
        font or a zoom makes the page scroll rather than squeeze the plot until titles overprint."""
        line = QFontMetrics(self.font()).height()
        self.setMinimumHeight(max(MIN_HEIGHT, MIN_HEIGHT_LINES * line))

    def show_chance_line(self, on: bool) -> None:
        """A dashed line at the cost of a network that knows nothing (ln 10 = 2.30): where every
        run starts, and what a cost above it means."""
        self.chance_line.setVisible(bool(on))

    def _place_chance_line(self) -> None:
        chance = math.log(10)
        self.chance_line.setPos(math.log10(chance) if self.log_y() else chance)

    def set_log_y(self, on: bool) -> None:
        """Logarithmic cost axis: the slow late decrease of the cost stays visible."""
        self.cost_item.setLogMode(y=bool(on))
        self._place_chance_line()
        for curves in self._curves.values():
            curves.update(self)  # the "diverged" mark is placed in view coordinates
        self._follow = True
        self._dirty = True
        self.flush()

    def changeEvent(self, event: QEvent) -> None:
        # pyqtgraph's constructor changes the palette before the curves exist.
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "hover_label"):
            self._apply_palette()
        elif event.type() == QEvent.Type.FontChange:
            self._fit_min_height()
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
        for line in self._crosshair:
            line.setPen(pg.mkPen(fg, width=1, style=Qt.PenStyle.DashLine))
        self.chance_line.setPen(pg.mkPen(fg, width=1, style=Qt.PenStyle.DashDotLine))
        self.chance_line.label.setColor(fg)
        self.hover_label.setColor(fg)
        self.hover_label.fill = pg.mkBrush(pal.color(QPalette.ColorRole.Base))
        for curves in self._curves.values():
            curves.style(self, curves.run is self._live)
        self.legend.setLabelTextColor(fg)
        for _sample, label in self.legend.items:
            label.setText(label.text, color=fg)  # existing labels keep their colour otherwise
