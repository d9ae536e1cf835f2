"""The reliability diagram: is the network right as often as it says it is sure?

The drawings are sorted into bins by the network's top-class probability (x); each bar is a bin,
as high as the share of its drawings read correctly (y). On an honest network the bars reach the
diagonal; a bar that stops below it marks drawings the network was surer of than it had reason
to be. Drawn with plain QPainter from a :class:`~digitgui.core.calibration.ReliabilityTable`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPoint, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QFont,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPalette,
    QPen,
)
from PySide6.QtWidgets import QApplication, QSizePolicy, QToolTip, QWidget

from ..core.calibration import ReliabilityTable, format_probability
from .accessibility import grid_key_target, paint_focus_ring
from .palette import accent_colors, blend, is_dark

__all__ = ["ReliabilityDiagram", "render_reliability_png"]

EXPLANATION = (
    "Each bar gathers the drawings the network was about equally sure of (x: how sure) and\n"
    "shows how often it read them correctly (y). Bars on the diagonal: when the network says\n"
    "80%, it is right 80% of the time. A bar below the diagonal means it was surer than it\n"
    "should have been; the shaded part is that gap. The calibration error is the average gap,\n"
    "weighted by how many drawings each bar holds (0 = honest)."
)


def gap_color(palette: QPalette) -> QColor:
    """The colour of the gap between a bar and the diagonal: a red that reads on light and dark."""
    return QColor("#ff6e60") if is_dark(palette) else QColor("#c0302a")


class ReliabilityDiagram(QWidget):
    """Accuracy against confidence, one bar per non-empty bin of a
    :class:`~digitgui.core.calibration.ReliabilityTable`, with the diagonal of perfect
    calibration and a caption with the calibration error and the number of drawings.

    Hovering a bar says what it holds; with the keyboard focus, Left, Right, Home and End go
    from bar to bar and say the same."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reliabilityDiagram")
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(240, 260)
        self.setToolTip(EXPLANATION)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName(
            "Reliability diagram: how often the network was right against how sure it was"
        )
        self._table: ReliabilityTable | None = None
        self._title = ""
        self._cursor: int | None = None  # the bin chosen with the keyboard

    # public ---------------------------------------------------------------------------------------

    def table(self) -> ReliabilityTable | None:
        return self._table

    def title(self) -> str:
        return self._title

    def set_table(self, table: ReliabilityTable | None, title: str = "") -> None:
        """Show ``table`` (None: nothing to show yet) under ``title``."""
        self._table = table
        self._title = title
        self._cursor = None
        self.setToolTip(EXPLANATION)
        self.setAccessibleDescription(self.caption())
        self.update()

    def bin_text(self, i: int) -> str:
        """What bin ``i`` holds, in words (its tooltip without the explanation)."""
        t = self._table
        if t is None:
            return ""
        n = int(t.counts[i])
        lo, hi = 100 * t.edges[i], 100 * t.edges[i + 1]
        return (
            f"{n:,} drawing{'s' if n != 1 else ''} read with {lo:.0f}–{hi:.0f}% confidence:\n"
            f"the network was {format_probability(t.confidence[i])} sure on average,\n"
            f"and right {format_probability(t.accuracy[i])} of the time."
        )

    def current_bin(self) -> int | None:
        """The bin chosen with the keyboard, or None."""
        return self._cursor

    def caption(self) -> str:
        """The line under the plot: ``"Calibration error 0.012 on 3,498 drawings"``."""
        t = self._table
        if t is None or t.n == 0:
            return "No drawings to measure yet."
        noun = "drawing" if t.n == 1 else "drawings"
        return f"Calibration error {t.ece:.3f} on {t.n:,} {noun}"

    def sizeHint(self) -> QSize:
        return QSize(380, 400)

    # geometry -------------------------------------------------------------------------------------

    def _small_font(self) -> QFont:
        f = QFont(self.font())
        f.setPointSizeF(max(self.font().pointSizeF() * 0.85, 6.0))
        return f

    def plot_rect(self) -> QRectF:
        """The square of the plot (confidence 0..1 left to right, accuracy 0..1 bottom to top),
        in widget coordinates."""
        fm = self.fontMetrics()
        lh = fm.height()
        top = 6 + (lh * 1.2 + 4 if self._title else 0) + lh / 2  # half a line: the "100%" tick
        # Below the plot: tick labels, the axis label, the legend and the caption.
        bottom = 4 + lh + 2 + lh + 8 + lh + 6 + lh + 6
        left = 6 + lh + 6 + fm.horizontalAdvance("100%") + 6
        right = 6 + fm.horizontalAdvance("100%") / 2
        side = min(self.width() - left - right, self.height() - top - bottom)
        side = max(side, 40.0)
        # Centre the square in the width left over (the axis labels stay beside it).
        left += max(0.0, (self.width() - left - right - side) / 2)
        return QRectF(left, top, side, side)

    def _to_widget(self, plot: QRectF, x: float, y: float) -> QPointF:
        return QPointF(plot.left() + x * plot.width(), plot.bottom() - y * plot.height())

    def bin_at(self, pos: QPointF) -> int | None:
        """The non-empty bin whose column is under ``pos``, or None."""
        t = self._table
        plot = self.plot_rect()
        if t is None or not plot.contains(pos):
            return None
        x = (pos.x() - plot.left()) / plot.width()
        i = int(np.clip(np.searchsorted(t.edges, x, side="right") - 1, 0, t.n_bins - 1))
        return i if t.counts[i] else None

    # events ---------------------------------------------------------------------------------------

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        i = self.bin_at(event.position())
        t = self._table
        if i is None or t is None:
            self.setToolTip(EXPLANATION)
        else:
            self.setToolTip(f"{self.bin_text(i)}\n\n{EXPLANATION}")
        super().mouseMoveEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        t = self._table
        bins = [] if t is None else [int(i) for i in np.flatnonzero(t.counts)]
        current = bins.index(self._cursor) if self._cursor in bins else None
        target = grid_key_target(event, current, len(bins), len(bins))
        if target is None:
            super().keyPressEvent(event)
            return
        self._cursor = bins[target]
        text = self.bin_text(self._cursor)
        self.setAccessibleDescription(text.replace("\n", " "))
        column = self._column(self._cursor)
        QToolTip.showText(self.mapToGlobal(column.center().toPoint()), text, self)
        self.update()

    def focusInEvent(self, event: QFocusEvent) -> None:
        self.update()  # the focus ring
        super().focusInEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        self.update()
        super().focusOutEvent(event)

    def _column(self, i: int) -> QRectF:
        """Bin ``i``'s column of the plot, from bottom to top."""
        t = self._table
        plot = self.plot_rect()
        a = self._to_widget(plot, float(t.edges[i]), 1)
        b = self._to_widget(plot, float(t.edges[i + 1]), 0)
        return QRectF(a, b)

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        self._paint(p)
        if self.hasFocus():
            p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            paint_focus_ring(p, QRectF(self.rect()), self.palette())
            if self._cursor is not None and self._table is not None:
                pen = QPen(self.palette().color(QPalette.ColorRole.Highlight), 2)
                pen.setStyle(Qt.PenStyle.DashLine)
                p.setPen(pen)
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRect(self._column(self._cursor).adjusted(1, 1, -1, -1))
        p.end()

    # painting -------------------------------------------------------------------------------------

    def _paint(self, p: QPainter) -> None:
        pal = self.palette()
        fm = self.fontMetrics()
        lh = fm.height()
        text = pal.color(QPalette.ColorRole.WindowText)
        base = pal.color(QPalette.ColorRole.Base)
        faint = blend(base, text, 0.15)
        muted = blend(pal.color(QPalette.ColorRole.Window), text, 0.65)
        bar = accent_colors(pal)["train"]
        gap = gap_color(pal)
        plot = self.plot_rect()
        t = self._table

        if self._title:
            bold = QFont(self.font())
            bold.setBold(True)
            p.setFont(bold)
            p.setPen(text)
            p.drawText(
                QRectF(0, 6, self.width(), lh * 1.2),
                Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter,
                QFontMetricsElided(bold, self._title, self.width() - 12),
            )
            p.setFont(self.font())

        # Plot area and grid.
        p.fillRect(plot, base)
        p.setPen(QPen(faint, 1))
        for k in range(1, 5):
            v = k / 5
            p.drawLine(self._to_widget(plot, v, 0), self._to_widget(plot, v, 1))
            p.drawLine(self._to_widget(plot, 0, v), self._to_widget(plot, 1, v))

        # Bars: accuracy, and the gap from there to the bin's mean confidence (where the
        # diagonal says an honest network would be).
        if t is not None:
            for i in np.flatnonzero(t.counts):
                x0, x1 = float(t.edges[i]), float(t.edges[i + 1])
                acc, conf = float(t.accuracy[i]), float(t.confidence[i])
                a = self._to_widget(plot, x0, acc)
                b = self._to_widget(plot, x1, 0)
                column = QRectF(a, b).adjusted(1, 0, -1, 0)
                p.fillRect(column, bar)
                p.setPen(QPen(bar.darker(130), 1))
                p.drawRect(column)
                lo, hi = min(acc, conf), max(acc, conf)
                g = QRectF(self._to_widget(plot, x0, hi), self._to_widget(plot, x1, lo))
                g = g.adjusted(1, 0, -1, 0)
                if g.height() >= 0.5:
                    fill = QColor(gap)
                    fill.setAlphaF(0.30)
                    p.fillRect(g, fill)
                    p.setPen(QPen(gap, 1.2))
                    p.drawRect(g)

        # The diagonal of perfect calibration, over the bars so that it stays visible.
        pen = QPen(text, 1.4, Qt.PenStyle.DashLine)
        p.setPen(pen)
        p.drawLine(self._to_widget(plot, 0, 0), self._to_widget(plot, 1, 1))
        p.setPen(QPen(pal.color(QPalette.ColorRole.Mid), 1))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(plot)

        # Ticks.
        p.setPen(muted)
        for k in range(6):
            v = k / 5
            label = f"{100 * k // 5}%"
            pt = self._to_widget(plot, v, 0)
            w = fm.horizontalAdvance(label)
            p.drawText(QRectF(pt.x() - w / 2 - 2, plot.bottom() + 4, w + 4, lh), label)
            pt = self._to_widget(plot, 0, v)
            p.drawText(
                QRectF(plot.left() - 6 - w - 4, pt.y() - lh / 2, w + 4, lh),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                label,
            )

        # Axis labels.
        p.setPen(text)
        y = plot.bottom() + 4 + lh + 2
        p.drawText(
            QRectF(plot.left() - 40, y, plot.width() + 80, lh),
            Qt.AlignmentFlag.AlignHCenter,
            QFontMetricsElided(self.font(), "how sure the network was", plot.width() + 80),
        )
        p.save()
        p.translate(6, plot.bottom())
        p.rotate(-90)
        p.drawText(
            QRectF(0, 0, plot.height(), lh),
            Qt.AlignmentFlag.AlignHCenter,
            QFontMetricsElided(self.font(), "how often it was right", plot.height()),
        )
        p.restore()

        # Legend, in a smaller font, centred under the axis label.
        small = self._small_font()
        sfm = QFontMetricsF_(small)
        p.setFont(small)
        y += lh + 8
        entries = [("bar", "share right"), ("gap", "gap to the diagonal"), ("line", "honest")]
        sw = sfm.height() * 1.1  # swatch width
        widths = [sw + 4 + sfm.horizontalAdvance(label) for _, label in entries]
        spacing = 14
        total = sum(widths) + spacing * (len(entries) - 1)
        x = max(4.0, plot.center().x() - total / 2)
        if x + total > self.width() - 4:
            x = max(4.0, (self.width() - total) / 2)
        sh = sfm.height()
        for (kind, label), w in zip(entries, widths, strict=True):
            swatch = QRectF(x, y + sh * 0.2, sw, sh * 0.6)
            if kind == "bar":
                p.fillRect(swatch, bar)
            elif kind == "gap":
                fill = QColor(gap)
                fill.setAlphaF(0.30)
                p.fillRect(swatch, fill)
                p.setPen(QPen(gap, 1.2))
                p.drawRect(swatch)
            else:
                p.setPen(QPen(text, 1.4, Qt.PenStyle.DashLine))
                p.drawLine(swatch.bottomLeft(), swatch.topRight())
            p.setPen(muted)
            p.drawText(
                QRectF(x + sw + 4, y, w - sw - 4 + 2, sh), Qt.AlignmentFlag.AlignVCenter, label
            )
            x += w + spacing
        p.setFont(self.font())

        # Caption.
        y += sh + 6
        p.setPen(text)
        p.drawText(
            QRectF(0, y, self.width(), lh),
            Qt.AlignmentFlag.AlignHCenter,
            QFontMetricsElided(self.font(), self.caption(), self.width() - 8),
        )
        if t is None:
            p.setPen(muted)
            p.drawText(plot, Qt.AlignmentFlag.AlignCenter, "No results yet.")


def QFontMetricsF_(font: QFont):
    from PySide6.QtGui import QFontMetricsF

    return QFontMetricsF(font)


def QFontMetricsElided(font: QFont, text: str, width: float) -> str:
    """``text`` shortened with an ellipsis to fit ``width`` pixels in ``font``."""
    from PySide6.QtGui import QFontMetrics

    return QFontMetrics(font).elidedText(text, Qt.TextElideMode.ElideRight, int(max(width, 0)))


def render_reliability_png(
    panels: list[tuple[str, ReliabilityTable]],
    path: str | os.PathLike,
    width: int | None = None,
    height: int = 460,
) -> Path:
    """Paint one :class:`ReliabilityDiagram` per ``(title, table)`` side by side into an image
    ``width`` (default 400 per panel) by ``height`` pixels and save it as PNG at ``path``.

    Needs no display: a ``QApplication`` is created if none exists (set ``QT_QPA_PLATFORM`` to
    ``offscreen`` first on a machine without one). Raises ``OSError`` if the file cannot be
    written.
    """
    if not panels:
        raise ValueError("a reliability plot needs at least one table")
    app = QApplication.instance()
    if app is None:
        app = QApplication([])
    if not isinstance(app, QApplication):
        raise RuntimeError("drawing reliability diagrams needs a QApplication (widgets)")
    width = int(width) if width is not None else 400 * len(panels)
    height = int(height)
    panel_w = width // len(panels)
    image = QImage(width, height, QImage.Format.Format_ARGB32)
    pal = app.palette()
    image.fill(pal.color(QPalette.ColorRole.Window))
    painter = QPainter(image)
    try:
        for k, (title, table) in enumerate(panels):
            diagram = ReliabilityDiagram()
            diagram.resize(panel_w, height)
            diagram.set_table(table, title)
            diagram.render(painter, QPoint(k * panel_w, 0))
            diagram.deleteLater()
    finally:
        painter.end()
    out = Path(path)
    if not image.save(str(out), "PNG"):
        raise OSError(f"{out}: cannot write the image")
    return out
