"""What the hidden units learned: first-layer weights as 8x8 tiles (live while training), every
hidden layer's activations for the current digit, and the units that died."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QKeyEvent,
    QLinearGradient,
    QMouseEvent,
    QPainter,
    QPalette,
    QPen,
)
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from digitgui.core.insight import (
    UnitActivity,
    hidden_activations,
    unit_activity,
    weight_tiles,
)
from digitgui.core.model_io import DigitClassifier

from ..accessibility import add_focus_ring, grid_key_target, is_activation_key, paint_focus_ring
from .colormaps import (
    NEGATIVE,
    POSITIVE,
    diverging_rgb,
    rgb_image,
    style_plot,
    symmetric_limit,
)
from .hidden_text import _dead_summary, _network, describe_hidden_member
from .live import LatestSnapshot

__all__ = [
    "HiddenActivationsView",
    "WeightTileGrid",
    "WeightTilesView",
    "describe_hidden_member",
]

DEAD_MARK = (215, 48, 39)


class WeightTileGrid(QWidget):
    """One 8x8 tile per hidden unit (its incoming weights from the 64 pixels), a shared signed
    colour scale, dead units crossed out. ``unitClicked(unit)`` on a click, and when the arrow
    keys, Home or End move the selection (Enter or Space confirm it)."""

    unitClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("weightTileGrid")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(240, 140)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName("First-layer units' weights, one tile per unit")
        self._tiles = np.zeros((0, 8, 8))
        self._dead = np.zeros(0, dtype=bool)
        self._fraction = np.zeros(0)
        self._limit = 1.0
        self._images = []
        self._selected: int | None = None
        self._layout_cache: tuple[tuple, tuple[int, float, float]] | None = None

    def sizeHint(self) -> QSize:
        return QSize(560, 320)

    def dead_units(self) -> np.ndarray:
        """``(h,)`` bool: the tiles crossed out."""
        return self._dead.copy()

    @property
    def limit(self) -> float:
        """Weights at or beyond ``±limit`` get the full colour."""
        return self._limit

    def set_data(self, tiles: np.ndarray, dead: np.ndarray, active_fraction: np.ndarray) -> None:
        """``tiles (h, 8, 8)``, ``dead (h,)`` bool, ``active_fraction (h,)``."""
        self._tiles = np.asarray(tiles, dtype=np.float64)
        self._dead = np.asarray(dead, dtype=bool)
        self._fraction = np.asarray(active_fraction, dtype=np.float64)
        self._limit = symmetric_limit(self._tiles)
        rgb = diverging_rgb(self._tiles, self._limit, self.palette())
        self._images = [rgb_image(t) for t in rgb]
        if self._selected is not None and self._selected >= len(self._tiles):
            self._selected = None
        self.update()

    @property
    def selected_unit(self) -> int | None:
        return self._selected

    def set_selected_unit(self, unit: int | None) -> None:
        self._selected = unit
        self.update()

    def _side(self, cols: int, caption: float) -> float:
        """Side of a tile's picture when the grid has ``cols`` columns."""
        h = max(1, len(self._tiles))
        rows = int(np.ceil(h / cols))
        gap = 6
        return min(
            (self.width() - gap * (cols + 1)) / cols,
            (self.height() - gap * (rows + 1)) / rows - caption,
        )

    def _layout(self) -> tuple[int, float, float]:
        """Columns, tile side and caption height that give the largest tiles in the space the
        widget has (a fixed column count left 128 units as specks in a wide, short area).
        Captions are dropped when tiles get narrower than their text; a click still shows it.
        Cached per size and unit count: every tile's rectangle asks for it on each repaint."""
        key = (self.width(), self.height(), len(self._tiles), self.font().key())
        if self._layout_cache is not None and self._layout_cache[0] == key:
            return self._layout_cache[1]
        h = max(1, len(self._tiles))
        fm = self.fontMetrics()
        for caption in (float(fm.height()), 0.0):
            cols = max(range(1, h + 1), key=lambda c, cap=caption: self._side(c, cap))
            side = self._side(cols, caption)
            if caption == 0 or side >= fm.horizontalAdvance("127 · 100%"):
                break
        layout = (cols, max(side, 8.0), caption)
        self._layout_cache = (key, layout)
        return layout

    def _columns(self) -> int:
        return self._layout()[0]

    def _geometry(self) -> tuple[float, float]:
        """Side of a tile's picture and height of its caption (0: no captions)."""
        _, side, caption = self._layout()
        return side, caption

    def tile_rect(self, unit: int) -> QRectF:
        """The picture of ``unit``, in widget coordinates."""
        side, caption = self._geometry()
        cols = self._columns()
        gap = 6
        r, c = divmod(unit, cols)
        return QRectF(gap + c * (side + gap), gap + r * (side + caption + gap), side, side)

    def unit_at(self, pos: QPointF) -> int | None:
        for j in range(len(self._tiles)):
            if self.tile_rect(j).contains(pos):
                return j
        return None

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            unit = self.unit_at(event.position())
            if unit is not None:
                self.set_selected_unit(unit)
                self.unitClicked.emit(unit)
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        n = len(self._tiles)
        unit = grid_key_target(event, self._selected, n, self._columns())
        if unit is None and is_activation_key(event) and n:
            unit = 0 if self._selected is None else self._selected
        if unit is None:
            super().keyPressEvent(event)
            return
        self.set_selected_unit(unit)
        self.unitClicked.emit(unit)

    def focusInEvent(self, event: QFocusEvent) -> None:
        self.update()  # the focus ring
        super().focusInEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        self.update()
        super().focusOutEvent(event)

    def paintEvent(self, event) -> None:
        pal = self.palette()
        p = QPainter(self)
        _, caption = self._geometry()
        text = pal.color(QPalette.ColorRole.WindowText)
        faint = pal.color(QPalette.ColorRole.PlaceholderText)
        for j, image in enumerate(self._images):
            rect = self.tile_rect(j)
            # No smoothing: each weight stays a crisp square, as each input is one cell.
            p.drawImage(rect, image)
            p.setPen(QPen(pal.color(QPalette.ColorRole.Mid), 1))
            p.drawRect(rect)
            label_rect = QRectF(rect.left(), rect.bottom() + 1, rect.width(), caption)
            if self._dead[j]:
                veil = QColor(pal.color(QPalette.ColorRole.Window))
                veil.setAlpha(150)
                p.fillRect(rect, veil)
                p.setPen(QPen(QColor(*DEAD_MARK), 2))
                p.drawLine(rect.topLeft(), rect.bottomRight())
                p.drawLine(rect.topRight(), rect.bottomLeft())
            if not caption:
                continue
            if self._dead[j]:
                p.setPen(QColor(*DEAD_MARK))
                p.drawText(label_rect, Qt.AlignmentFlag.AlignHCenter, f"{j} dead")
            else:
                p.setPen(text if self._selected == j else faint)
                p.drawText(
                    label_rect,
                    Qt.AlignmentFlag.AlignHCenter,
                    f"{j} · {100 * self._fraction[j]:.0f}%",
                )
        if self._selected is not None and self._selected < len(self._images):
            p.setPen(QPen(pal.color(QPalette.ColorRole.Highlight), 3))
            p.drawRect(self.tile_rect(self._selected).adjusted(-2, -2, 2, 2))
        if self.hasFocus():
            paint_focus_ring(p, QRectF(self.rect()), pal)
        p.end()


class _ColorBar(QWidget):
    """A horizontal blue-base-red bar with ``-limit``, 0 and ``+limit`` under it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._limit = 1.0
        self.setFixedHeight(2 * self.fontMetrics().height() + 4)
        self.setMinimumWidth(160)

    def set_limit(self, limit: float) -> None:
        self._limit = limit
        self.update()

    def paintEvent(self, event) -> None:
        pal = self.palette()
        p = QPainter(self)
        h = self.fontMetrics().height()
        bar = QRectF(0, 0, self.width() - 1, h)
        gradient = QLinearGradient(bar.topLeft(), bar.topRight())
        gradient.setColorAt(0.0, QColor(*NEGATIVE))
        gradient.setColorAt(0.5, pal.color(QPalette.ColorRole.Base))
        gradient.setColorAt(1.0, QColor(*POSITIVE))
        p.fillRect(bar, gradient)
        p.setPen(pal.color(QPalette.ColorRole.Mid))
        p.drawRect(bar)
        p.setPen(pal.color(QPalette.ColorRole.WindowText))
        below = QRectF(0, h + 2, self.width(), h)
        p.drawText(below, Qt.AlignmentFlag.AlignLeft, f"−{self._limit:.2g}")
        p.drawText(below, Qt.AlignmentFlag.AlignHCenter, "0")
        p.drawText(below, Qt.AlignmentFlag.AlignRight, f"+{self._limit:.2g}")
        p.end()


class WeightTilesView(QWidget):
    """The first hidden layer's weights as 8x8 tiles, live while training.

    :meth:`set_model` shows a model; :meth:`add_progress` takes the window's batches of training
    records and redraws from their snapshots at most four times a second. ``unitClicked(unit)``.
    """

    unitClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("weightTiles")
        self._model: DigitClassifier | None = None
        self._network: DigitClassifier | None = None
        self._member = 0
        self._iteration: int | None = None
        self._activity: UnitActivity | None = None
        self._live = LatestSnapshot(250, self)
        self._live.modelReady.connect(self._on_live_modelReady)

        title = QLabel(
            "What each first-layer unit looks for: its 64 incoming weights laid out like the "
            "digit. <b>Red</b>: ink there excites the unit; <b>blue</b>: ink there inhibits it. "
            "Under each tile: the share of training digits that make the unit active."
        )
        title.setWordWrap(True)
        self.status = QLabel("No model yet.")
        self.status.setObjectName("weightTilesStatus")
        self.dead_label = QLabel()
        self.dead_label.setObjectName("deadUnitsLabel")
        self.dead_label.setWordWrap(True)
        self.unit_info = QLabel("Click a tile for its numbers.")
        self.unit_info.setObjectName("weightUnitInfo")
        self.unit_info.setWordWrap(True)
        self.grid = WeightTileGrid()
        self.grid.unitClicked.connect(self._on_grid_unitClicked)
        self.color_bar = _ColorBar()

        bottom = QHBoxLayout()
        bottom.addWidget(self.color_bar)
        bottom.addWidget(self.status, 1, Qt.AlignmentFlag.AlignRight)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.grid, 1)
        layout.addLayout(bottom)
        layout.addWidget(self.dead_label)
        layout.addWidget(self.unit_info)

    def set_model(self, model: DigitClassifier | None, iteration: int | None = None) -> None:
        """Show ``model``'s first-layer weights (of an ensemble, those of the network chosen
        with :meth:`set_member`); ``iteration`` for a snapshot of a training run."""
        self._model, self._iteration = model, iteration
        self._network = network = _network(model, self._member)
        if network is None:
            self._activity = None
            self.grid.set_data(np.zeros((0, 8, 8)), np.zeros(0, bool), np.zeros(0))
            self.status.setText("No model yet.")
            self.dead_label.setText("")
            return
        self._activity = activity = unit_activity(network)
        self.grid.set_data(weight_tiles(network), activity.dead[0], activity.active_fraction[0])
        self.color_bar.set_limit(self.grid.limit)
        self.dead_label.setText(_dead_summary(activity, network.mlp.activation == "relu"))
        status = "trained model" if iteration is None else f"training: iteration {iteration:,}"
        if model.n_members > 1:
            status += f", network {self.member() + 1} of {model.n_members}"
        self.status.setText(status)
        if self.grid.selected_unit is not None:
            self._describe_unit(self.grid.selected_unit)

    def member(self) -> int:
        """The network of an ensemble shown (0-based; 0 when the model has fewer)."""
        model = self._model
        return self._member if model is None or self._member < model.n_members else 0

    def set_member(self, member: int, refresh: bool = True) -> None:
        """Show network ``member`` (0-based) of an ensemble."""
        self._member = int(member)
        if refresh and self._model is not None:
            self.set_model(self._model, self._iteration)

    def add_progress(self, records: Iterable) -> None:
        """Records from training (``Progress``); snapshots are shown a few times a second."""
        self._live.add_progress(records)

    def activity(self) -> UnitActivity | None:
        return self._activity

    def select_unit(self, unit: int) -> None:
        """Select one first-layer unit and show its numbers, as a click on its tile does."""
        self.grid.set_selected_unit(unit)
        self._describe_unit(unit)

    def _on_live_modelReady(self, iteration: int, model: DigitClassifier) -> None:
        self.set_model(model, iteration)

    def _on_grid_unitClicked(self, unit: int) -> None:
        self._describe_unit(unit)
        self.unitClicked.emit(unit)

    def _describe_unit(self, unit: int) -> None:
        if self._network is None or self._activity is None:
            return
        W0 = self._network.mlp.weights[0]
        w = W0[1:, unit]
        state = (
            "dead: no training digit makes it active"
            if self._activity.dead[0][unit]
            else f"active on {self._activity.active_fraction[0][unit]:.0%} of training digits"
        )
        self.unit_info.setText(
            f"Unit {unit}: {state}; bias {W0[0, unit]:+.3f}, weights from {w.min():+.3f} "
            f"to {w.max():+.3f}."
        )
        self.grid.setAccessibleDescription(self.unit_info.text())


class HiddenActivationsView(QWidget):
    """Bars of every hidden layer's activations for the current digit; dead units marked with a
    red cross under their (always empty) bar. ``unitClicked(layer, unit)``, layers from 1, on a
    click on a bar, or when Left, Right, Home or End move the selection in a focused plot."""

    unitClicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("hiddenActivations")
        self._model: DigitClassifier | None = None
        self._network: DigitClassifier | None = None
        self._member = 0
        self._digit: np.ndarray | None = None
        self._activity: UnitActivity | None = None
        self._activations: list[np.ndarray] | None = None
        self._plots: list[pg.PlotWidget] = []
        self._bars: list[pg.BarGraphItem] = []
        self._dead_marks: list[pg.ScatterPlotItem] = []
        self._cursors: list[pg.InfiniteLine] = []
        self._selected: tuple[int, int] | None = None  # (layer from 1, unit)
        self._live = LatestSnapshot(250, self)
        self._live.modelReady.connect(self._on_live_modelReady)

        self.summary = QLabel()
        self.summary.setObjectName("activationsSummary")
        self.summary.setWordWrap(True)
        self.unit_info = QLabel("Click a bar for its value.")
        self.unit_info.setObjectName("activationUnitInfo")
        self._plots_box = QVBoxLayout()
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(self._plots_box, 1)
        layout.addWidget(self.unit_info)
        self._refresh()

    def set_model(self, model: DigitClassifier | None) -> None:
        """Show ``model``'s hidden layers (of an ensemble, those of the network chosen with
        :meth:`set_member`)."""
        self._model = model
        self._network = network = _network(model, self._member)
        self._activity = None if network is None else unit_activity(network)
        self._refresh()

    def set_member(self, member: int, refresh: bool = True) -> None:
        """Show network ``member`` (0-based) of an ensemble."""
        self._member = int(member)
        if refresh and self._model is not None:
            self.set_model(self._model)

    def set_digit(self, digit: np.ndarray | None) -> None:
        self._digit = None if digit is None else np.array(digit, dtype=np.float64).reshape(8, 8)
        self._refresh()

    def add_progress(self, records: Iterable) -> None:
        self._live.add_progress(records)

    def activations(self) -> list[np.ndarray] | None:
        """What the bars show: ``[A1 (h1,), A2 (h2,), ...]``, or None."""
        return self._activations

    def plots(self) -> list[pg.PlotWidget]:
        return list(self._plots)

    def bar_heights(self, layer: int) -> np.ndarray:
        """The heights of hidden layer ``layer``'s bars (layers counted from 1)."""
        return np.asarray(self._bars[layer - 1].opts["height"], dtype=np.float64)

    def dead_marked(self, layer: int) -> np.ndarray:
        """Units of hidden layer ``layer`` marked dead (layers counted from 1)."""
        x, _ = self._dead_marks[layer - 1].getData()
        return np.asarray(x, dtype=np.int64)

    def _on_live_modelReady(self, iteration: int, model: DigitClassifier) -> None:
        self.set_model(model)

    def _ensure_plots(self, sizes: list[int]) -> None:
        if [len(b.opts["x"]) for b in self._bars] == sizes:
            return
        for plot in self._plots:
            self._plots_box.removeWidget(plot)
            plot.deleteLater()
        self._plots, self._bars, self._dead_marks, self._cursors = [], [], [], []
        self._selected = None
        highlight = self.palette().color(QPalette.ColorRole.Highlight)
        for l, h in enumerate(sizes):
            plot = pg.PlotWidget()
            plot.setObjectName(f"activationPlot{l + 1}")
            plot.setAccessibleName(
                f"Layer {l + 1} activations, {h} units: Left and Right pick a unit"
            )
            add_focus_ring(plot)
            plot.installEventFilter(self)
            style_plot(plot, self.palette())
            plot.setMenuEnabled(False)
            plot.setMouseEnabled(x=False, y=False)
            plot.hideButtons()
            plot.setLabel("left", f"layer {l + 1}")
            plot.setXRange(-0.5, h - 0.5, padding=0.01)
            bars = pg.BarGraphItem(
                x=np.arange(h), height=np.zeros(h), width=0.8, brush=highlight, pen=None
            )
            marks = pg.ScatterPlotItem(
                symbol="x", size=9, pen=pg.mkPen(DEAD_MARK, width=2), brush=pg.mkBrush(DEAD_MARK)
            )
            cursor = pg.InfiniteLine(
                angle=90, movable=False, pen=pg.mkPen(self.palette().color(QPalette.ColorRole.Mid))
            )
            cursor.setVisible(False)
            plot.addItem(bars)
            plot.addItem(marks)
            plot.addItem(cursor, ignoreBounds=True)
            plot.scene().sigMouseClicked.connect(self._on_plot_clicked)
            self._plots_box.addWidget(plot)
            self._plots.append(plot)
            self._bars.append(bars)
            self._dead_marks.append(marks)
            self._cursors.append(cursor)

    def _refresh(self) -> None:
        model = self._network
        if model is None:
            self._activations = None
            self._ensure_plots([])
            self.summary.setText("No model loaded.")
            return
        sizes = list(model.mlp.layer_sizes[1:-1])
        self._ensure_plots(sizes)
        activity = self._activity
        relu = model.mlp.activation == "relu"
        if self._digit is None:
            self._activations = None
            acts = [np.zeros(h) for h in sizes]
            self.summary.setText("Draw a digit to see how strongly each hidden unit responds.")
        else:
            self._activations = acts = hidden_activations(model, self._digit)
            quiet = [int((a <= 0).sum()) for a in acts] if relu else None
            parts = (
                [
                    f"layer {l + 1}: {h - q} of {h} units active"
                    for l, (h, q) in enumerate(zip(sizes, quiet, strict=True))
                ]
                if relu
                else [f"layer {l + 1}: {h} units" for l, h in enumerate(sizes)]
            )
            # The dead units are marked here and counted once, above the tiles (deadUnitsLabel).
            self.summary.setText(f"For your digit, {'; '.join(parts)}.")
        for l, (bars, marks, a) in enumerate(zip(self._bars, self._dead_marks, acts, strict=True)):
            bars.setOpts(height=a)
            dead = np.flatnonzero(activity.dead[l])
            marks.setData(x=dead.astype(float), y=np.zeros(len(dead)))
            top = float(a.max()) if a.size and a.max() > 0 else 1.0
            self._plots[l].setYRange(0, top, padding=0.08)

    def _on_plot_clicked(self, event) -> None:
        if self._network is None:
            return
        scene = self.sender()  # the clicked plot's GraphicsScene
        for l, plot in enumerate(self._plots):
            if plot.scene() is scene:
                x = plot.getPlotItem().vb.mapSceneToView(event.scenePos()).x()
                unit = round(x)
                if 0 <= unit < self._network.mlp.layer_sizes[l + 1]:
                    self.select_unit(l + 1, unit)
                    self.unitClicked.emit(l + 1, unit)
                return

    def selected_unit(self) -> tuple[int, int] | None:
        """``(layer, unit)`` described now (layers counted from 1), or None."""
        return self._selected

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # a light/dark switch while running
            highlight = self.palette().color(QPalette.ColorRole.Highlight)
            for plot, bars in zip(self._plots, self._bars, strict=True):
                style_plot(plot, self.palette())
                bars.setOpts(brush=highlight)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and watched in self._plots:
            layer = self._plots.index(watched) + 1
            n = len(self._bars[layer - 1].opts["x"])
            current = self._selected[1] if self._selected and self._selected[0] == layer else None
            unit = grid_key_target(event, current, n, n)
            if unit is not None and self._network is not None:
                self.select_unit(layer, unit)
                self.unitClicked.emit(layer, unit)
                return True
        return super().eventFilter(watched, event)

    def select_unit(self, layer: int, unit: int) -> None:
        """Describe one unit (layers counted from 1)."""
        if self._model is None or self._activity is None:
            return
        self._selected = (layer, unit)
        for l, cursor in enumerate(self._cursors):
            cursor.setVisible(l == layer - 1)
            if l == layer - 1:
                cursor.setPos(unit)
        frac = self._activity.active_fraction[layer - 1][unit]
        dead = bool(self._activity.dead[layer - 1][unit])
        value = (
            ""
            if self._activations is None
            else f"activation {self._activations[layer - 1][unit]:.3f}; "
        )
        self.unit_info.setText(
            f"Layer {layer}, unit {unit}: {value}"
            + (
                "dead (never active on training digits)"
                if dead
                else f"active on {100 * frac:.0f}% of training digits"
            )
        )
        if layer - 1 < len(self._plots):
            self._plots[layer - 1].setAccessibleDescription(self.unit_info.text())
