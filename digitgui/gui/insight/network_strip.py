"""The network drawn as a strip, 64 -> 32 -> 32 -> 10: where a step's matrix sits, and one
sample of the batch flowing through it (activations forward, errors backward)."""

from __future__ import annotations

import math
import re

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPalette, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from digitgui.core.step import UpdateStep
from digitgui.core.step_flow import (
    BACKWARD,
    FlowPosition,
    RowFlow,
    flow_position,
    glow_levels,
    is_row_matrix,
    row_flow,
)

from ..palette import is_dark, readable_on
from .colormaps import NEGATIVE, POSITIVE, contrasting_text, ink_rgb

__all__ = ["NetworkStrip", "grid_shape", "place_of"]

MARGIN = 4.0
#: Graphics (not text) need 3:1 against their background to be seen (WCAG 2, non-text).
MIN_GRAPHIC_CONTRAST = 3.0


def place_of(name: str, n_layers: int) -> tuple[str, int] | None:
    """Where the matrix ``name`` lives in a network of ``n_layers`` weight layers:
    ``("layer", l)`` (0: the inputs, ``n_layers``: the outputs) or ``("weights", l)`` for what
    sits between layer ``l - 1`` and layer ``l``; None when it is nowhere in particular."""
    if name in ("X", "X_with_bias"):
        return ("layer", 0)
    if name in ("y", "y_onehot"):
        return ("layer", n_layers)
    m = re.fullmatch(r"(?:Z|A|E|e|sum_e|cost_rows)(\d+)(?:_bias)?", name)
    if m:
        return ("layer", int(m.group(1)))
    m = re.fullmatch(r"[WG](\d+)(?:_new)?", name)
    if m:
        return ("weights", int(m.group(1)))
    return None


def grid_shape(n: int, width: float, height: float, image: bool = False) -> tuple[int, int]:
    """``(rows, cols)`` that lay ``n`` unit cells out in ``width x height`` with the largest
    square cells (fewer rows on a tie). ``image``: 64 inputs are the 8x8 image they are (a
    digit that wraps at another width is no longer a digit)."""
    if image and n == 64:
        return 8, 8
    best, best_cell = (1, max(n, 1)), -1.0
    for rows in range(1, max(n, 1) + 1):
        cols = math.ceil(n / rows)
        cell = min(width / cols, height / rows)
        if cell > best_cell + 1e-9:
            best, best_cell = (rows, cols), cell
    return best


def _signed_rgb(values: np.ndarray, limit: float, palette: QPalette) -> np.ndarray:
    """Signed values as RGB ``(n, 3)``: the palette's base at 0, blue at ``-limit``, red at
    ``+limit``: colormaps' diverging map, its two ends moved (by ``readable_on``) just far enough
    to stand 3:1 off the base: RdBu's red is 2.4:1 on a near-black view."""
    base_color = palette.color(QPalette.ColorRole.Base)
    base = np.array(base_color.getRgb()[:3], dtype=np.float64)
    ends = [
        np.array(readable_on(QColor(*c), base_color, MIN_GRAPHIC_CONTRAST).getRgb()[:3], float)
        for c in (NEGATIVE, POSITIVE)
    ]
    t = np.clip(np.asarray(values, dtype=np.float64) / limit, -1.0, 1.0)[:, None]
    end = np.where(t >= 0, ends[1], ends[0])
    return np.rint(base + np.abs(t) * (end - base)).astype(np.uint8)


def _colors(rgb: np.ndarray) -> list[QColor]:
    return [QColor(int(r), int(g), int(b)) for r, g, b in rgb]


class NetworkStrip(QWidget):
    """Layers as boxes with their sizes, weights as the bands between them (``W1``, ``W2``,
    ...); :meth:`set_current` highlights where a matrix of the step sits, in ``color``.

    Given the step (:meth:`set_step`), each layer's units are cells for one sample of the batch
    (:meth:`set_row`, or :meth:`follow_cell` when a row of a matrix is picked): at a matrix of
    the forward pass, the layers computed so far glow with the sample's activations (the inputs
    as the 8x8 they are, the outputs labelled with their classes, the wanted one ringed); at a
    matrix of the backward pass, the errors ``E`` computed so far, blue - and red +, and the
    arrows turn round. Values and colours are worked out when the step, the sample, the matrix
    or the palette change; painting only draws what is kept."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("networkStrip")
        self.setAccessibleName("The network, layer by layer")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._sizes: tuple[int, ...] = ()
        self._place: tuple[str, int] | None = None
        self._name: str | None = None
        self._color = QColor(76, 121, 167)
        self._step: UpdateStep | None = None
        self._row = 0
        self._flow: RowFlow | None = None
        self._position: FlowPosition | None = None
        # Kept for painting: what each layer's cells show, their colours, the geometry.
        self._shown: list[np.ndarray | None] = []
        self._fills: list[list[QColor]] = []
        self._caption = ""
        self._boxes: list[QRectF] = []
        self._cells: list[list[QRectF]] = []
        self._fit_height()

    def sizeHint(self) -> QSize:
        return QSize(560, self.height())

    # public ---------------------------------------------------------------------------------------

    def sizes(self) -> tuple[int, ...]:
        return self._sizes

    def highlighted(self) -> tuple[str, int] | None:
        return self._place

    def row(self) -> int | None:
        """The sample of the batch drawn, None without a step."""
        return None if self._flow is None else self._flow.row

    def direction(self) -> str | None:
        """``"forward"`` (activations) or ``"backward"`` (errors), None without a step."""
        return None if self._position is None else self._position.direction

    def cell_values(self) -> tuple[np.ndarray | None, ...]:
        """Per layer, the values its cells show now (``(units,)``), None for a layer the step
        has not reached at the current matrix."""
        return tuple(None if v is None else v.copy() for v in self._shown)

    def cell_colors(self, layer: int) -> list[QColor]:
        """The fill of each unit of ``layer`` (empty when it shows nothing)."""
        return [QColor(c) for c in self._fills[layer]] if layer < len(self._fills) else []

    def caption(self) -> str:
        return self._caption

    def set_sizes(self, sizes) -> None:
        """Layer sizes to draw without values (any sample drawn before is dropped)."""
        self._step, self._flow, self._position = None, None, None
        self._set_sizes(sizes)
        self._recolor()

    def set_step(self, step: UpdateStep | None, row: int | None = None) -> None:
        """Draw ``step``'s network and its sample ``row`` (default: the one drawn before, or
        the last of a smaller batch); None draws nothing."""
        if step is None:
            self.set_sizes(())
            return
        self._step = step
        n_rows = np.atleast_2d(step["X"]).shape[0]
        self._row = max(0, min(self._row if row is None else int(row), n_rows - 1))
        self._flow = row_flow(step, self._row)
        self._position = flow_position(step, self._name)
        self._set_sizes(self._flow.sizes)
        self._place = self._place_of(self._name)
        self._recolor()

    def set_row(self, row: int) -> None:
        """Draw sample ``row`` of the step's batch."""
        if self._step is not None and row != self._row:
            self.set_step(self._step, row)

    def follow_cell(self, name: str | None, row: int) -> None:
        """A cell in row ``row`` of the step's matrix ``name`` was picked: when that matrix has
        a row per sample (not the weights or gradients), draw that sample."""
        if self._step is not None and row >= 0 and is_row_matrix(self._step, name):
            self.set_row(row)

    def set_current(self, name: str | None, color: QColor | None = None) -> None:
        self._name = name
        self._place = self._place_of(name)
        if color is not None:
            self._color = QColor(color)
        if self._step is not None:
            self._position = flow_position(self._step, name)
        self._recolor()

    # values and colours, worked out when they change ----------------------------------------------

    def _place_of(self, name: str | None) -> tuple[str, int] | None:
        n = len(self._sizes) - 1
        return None if name is None or n < 1 else place_of(name, n)

    def _set_sizes(self, sizes) -> None:
        sizes = tuple(int(s) for s in sizes)
        if sizes != self._sizes:
            self._sizes = sizes
            self._layout()
        self.setAccessibleDescription(" -> ".join(map(str, self._sizes)))

    def _recolor(self) -> None:
        flow, position = self._flow, self._position
        self._shown, self._fills = [], []
        if flow is None or position is None:
            self._caption = ""
            self.update()
            return
        palette = self.palette()
        backward = position.direction == BACKWARD
        for l, layer in enumerate(flow.layers):
            if self._shows_errors(l):
                values, rgb = layer.errors, _signed_rgb(layer.errors, layer.error_limit, palette)
            else:
                # ink_rgb reads load_digits' 0..16: full glow is the palette's text colour.
                values, rgb = layer.values, ink_rgb(16.0 * glow_levels(layer), palette)
            # The inputs have no error; in the backward pass they stay lit, as G1 uses them.
            reached = position.reached[l] or (backward and l == 0)
            self._shown.append(values.copy() if reached else None)
            self._fills.append(_colors(rgb) if reached else [])
        self._caption = self._describe(flow, backward)
        self.setAccessibleDescription(
            f"{' -> '.join(map(str, self._sizes))}. {self._caption}".strip()
        )
        self.update()

    def _describe(self, flow: RowFlow, backward: bool) -> str:
        head = f"Sample {flow.row} of {flow.n_rows} (label {flow.label})"
        if backward:
            limits = ", ".join(
                f"{layer.error_name} ±{layer.error_limit:.2g}"
                for layer, shown in reversed(list(zip(flow.layers, self._shown, strict=True)))
                if layer.error_name is not None and shown is not None
            )
            text = (
                f"{head} ◀ backward: its errors E, blue − red +, each layer's own scale ({limits})"
            )
        else:
            # Full glow is the text colour: light on a dark view, dark ink on a light one.
            stronger = "brighter" if is_dark(self.palette()) else "darker"
            text = (
                f"{head} ▶ forward: {stronger} = larger (inputs: standardised pixels; hidden: 0 to "
                "the layer's largest; outputs: probability 0..1)"
            )
        if flow.n_rows > 1:
            text += ". Pick a row of a matrix for another sample"
        return text + "."

    # geometry, worked out when the size or the font changes ---------------------------------------

    def _fit_height(self) -> None:
        line = self.fontMetrics().height()
        self._grid_h = float(max(88, round(line * 6)))
        self.setFixedHeight(int(2 * MARGIN + line + 4 + self._grid_h + 8 + line + 4))
        self._layout()

    def _layout(self) -> None:
        n = len(self._sizes)
        self._boxes, self._cells = [], []
        if not n:
            return
        fm = self.fontMetrics()
        line = fm.height()
        band_w = max(fm.horizontalAdvance("W00") + 24.0, 44.0)
        box_w = max((self.width() - 2 * MARGIN - (n - 1) * band_w) / n, 24.0)
        box_h = line + 4 + self._grid_h + 8
        max_cell = line * 1.4
        for k, size in enumerate(self._sizes):
            box = QRectF(MARGIN + k * (box_w + band_w), MARGIN, box_w, box_h)
            self._boxes.append(box)
            area = QRectF(box.left() + 4, box.top() + line + 4, box.width() - 8, self._grid_h)
            rows, cols = grid_shape(size, area.width(), area.height(), image=k == 0)
            cell = min(area.width() / cols, area.height() / rows, max_cell)
            x0 = area.left() + (area.width() - cols * cell) / 2
            y0 = area.top() + (area.height() - rows * cell) / 2
            self._cells.append(
                [
                    QRectF(x0 + (i % cols) * cell, y0 + (i // cols) * cell, cell, cell)
                    for i in range(size)
                ]
            )

    def resizeEvent(self, event) -> None:
        self._layout()
        super().resizeEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._recolor()
        elif event.type() == QEvent.Type.FontChange:
            self._fit_height()
        super().changeEvent(event)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            text = self.cell_tip(event.pos())
            if text:
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def layer_rect(self, layer: int) -> QRectF:
        """The box of layer ``layer`` (0: the inputs)."""
        return QRectF(self._boxes[layer])

    def cell_rect(self, layer: int, unit: int) -> QRectF:
        """Where unit ``unit`` of layer ``layer`` is drawn."""
        return QRectF(self._cells[layer][unit])

    def cell_at(self, pos) -> tuple[int, int] | None:
        """``(layer, unit)`` of the cell at widget point ``pos``, None between cells."""
        point = QPointF(pos)
        for l, cells in enumerate(self._cells):
            if self._boxes[l].contains(point):
                unit = next((u for u, rect in enumerate(cells) if rect.contains(point)), None)
                return None if unit is None else (l, unit)
        return None

    def cell_tip(self, pos) -> str:
        """What the cell at ``pos`` shows, as the matrix cell it is: ``"A1[2, 17] = 0.53"``."""
        found = self.cell_at(pos)
        flow = self._flow
        if found is None or flow is None or self._shown[found[0]] is None:
            return ""
        l, unit = found
        layer = flow.layers[l]
        name = layer.error_name if self._shows_errors(l) else layer.name
        value = float(self._shown[l][unit])
        text = f"{name}[{flow.row}, {unit}] = {0.0 if value == 0 else value:.4g}"
        if l == len(flow.layers) - 1:
            wanted = ", the wanted one" if flow.classes[unit] == flow.label else ""
            text += f" (class {flow.classes[unit]}{wanted})"
        return text

    def _shows_errors(self, layer: int) -> bool:
        return self.direction() == BACKWARD and self._flow.layers[layer].errors is not None

    # painting: only what is kept ------------------------------------------------------------------

    def paintEvent(self, event) -> None:
        if not self._boxes:
            return
        painter = QPainter(self)
        pal = self.palette()
        self._paint_bands(painter, pal)
        for k in range(len(self._boxes)):
            self._paint_layer(painter, pal, k)
        painter.setPen(pal.color(QPalette.ColorRole.Text))
        bottom = self._boxes[0].bottom() + 4
        caption = QRectF(MARGIN, bottom, self.width() - 2 * MARGIN, self.height() - bottom)
        painter.drawText(
            caption,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            self.fontMetrics().elidedText(
                self._caption, Qt.TextElideMode.ElideRight, int(caption.width())
            ),
        )
        painter.end()

    def _flow_color(self, pal: QPalette) -> QColor:
        return readable_on(self._color, pal.color(QPalette.ColorRole.Base), MIN_GRAPHIC_CONTRAST)

    def _paint_bands(self, painter: QPainter, pal: QPalette) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        text, mid = pal.color(QPalette.ColorRole.Text), pal.color(QPalette.ColorRole.Mid)
        fill = QColor(self._color)
        fill.setAlpha(70)
        flow_color = self._flow_color(pal)
        backward = self.direction() == BACKWARD
        reached = self._position.reached if self._position is not None else ()
        line = self.fontMetrics().height()
        for l in range(1, len(self._boxes)):
            a, b = self._boxes[l - 1], self._boxes[l]
            y = a.top() + line + 4 + self._grid_h / 2
            band = QRectF(a.right() + 3, y - line / 2 - 3, b.left() - a.right() - 6, line + 6)
            on = self._place == ("weights", l)
            painter.setPen(QPen(self._color if on else mid, 3 if on else 1))
            painter.setBrush(fill if on else Qt.BrushStyle.NoBrush)
            painter.drawRect(band)
            painter.setPen(text)
            painter.drawText(band, Qt.AlignmentFlag.AlignCenter, f"W{l}")
            # The arrow points the way the step flows; it takes the stage's colour once the
            # values have crossed this band (an error only crosses W2 .. WL, back to layer 1).
            crossed = bool(reached) and (reached[l - 1] if backward else reached[l])
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(flow_color if crossed and not (backward and l == 1) else mid)
            tip_x, tail_x = (
                (band.left(), band.left() + 7) if backward else (band.right(), band.right() - 7)
            )
            painter.drawPolygon(
                QPolygonF([QPointF(tip_x, y), QPointF(tail_x, y - 5), QPointF(tail_x, y + 5)])
            )

    def _paint_layer(self, painter: QPainter, pal: QPalette, k: int) -> None:
        box, size = self._boxes[k], self._sizes[k]
        text, mid = pal.color(QPalette.ColorRole.Text), pal.color(QPalette.ColorRole.Mid)
        last = len(self._boxes) - 1
        on = self._place == ("layer", k)
        fill = QColor(self._color)
        fill.setAlpha(45)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(self._color if on else mid, 3 if on else 1))
        painter.setBrush(fill if on else Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(box, 6, 6)
        painter.setPen(text)
        what = "inputs" if k == 0 else "outputs" if k == last else f"layer {k}"
        header = QRectF(box.left(), box.top() + 2, box.width(), self.fontMetrics().height())
        painter.drawText(header, Qt.AlignmentFlag.AlignCenter, f"{what} · {size}")
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        cells = self._cells[k]
        fills = self._fills[k] if k < len(self._fills) else []
        painter.setPen(QPen(mid, 1))
        for unit, rect in enumerate(cells):
            painter.setBrush(fills[unit] if fills else Qt.BrushStyle.NoBrush)
            painter.drawRect(rect)
        if k == last and self._flow is not None:
            self._paint_classes(painter, cells, fills, text)

    def _paint_classes(self, painter, cells: list[QRectF], fills: list[QColor], text) -> None:
        """The outputs' class names in their cells (when they fit), the wanted class ringed."""
        flow = self._flow
        base = self.palette().color(QPalette.ColorRole.Base)
        fits = bool(cells) and cells[0].height() >= self.fontMetrics().height() * 0.8
        for unit, rect in enumerate(cells):
            name = flow.classes[unit] if unit < len(flow.classes) else str(unit)
            if fits:
                ink = contrasting_text(fills[unit].getRgb()[:3]) if fills else text
                painter.setPen(ink)
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, name)
            if name == flow.label:
                # Two rings, text colour and base colour: one of them shows on any fill (a
                # right answer's cell is lit to the text colour itself).
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.setPen(QPen(text, 2))
                painter.drawRect(rect.adjusted(1, 1, -1, -1))
                painter.setPen(QPen(base, 1))
                painter.drawRect(rect.adjusted(2.5, 2.5, -2.5, -2.5))
