"""The drawing side of the window: the canvas and its pen, what the network sees (the 8x8), and
the guess (the probability chart and which network reads).

:class:`DrawingArea` lays these out so the eye goes from the pen to the 8x8 to the answer, and
keeps the pen slider and the canvas's pen width in step. It reads nothing itself: the window
gives the chart its readings.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QFontMetrics, QResizeEvent
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from .canvas import MAX_PEN_WIDTH, MIN_PEN_WIDTH, DrawingCanvas
from .digit_view import DigitView
from .probability_chart import ProbabilityChart

__all__ = ["GUESS_TITLE", "GUESS_TITLE_LIVE", "DrawingArea"]

GUESS_TITLE = "The network's guess"
GUESS_TITLE_LIVE = "The network's guess (live, while it trains)"
MIN_SLIDER_WIDTH = 80
# The guess column's width range at the default font; a larger font widens it (_fit_to_font).
GUESS_MIN_WIDTH, GUESS_MAX_WIDTH = 210, 260
DRAW_COLUMN_WIDTH = 300  # the drawing column's share before the guess column grows


class DrawingArea(QWidget):
    """See the module docstring (object name ``drawingArea``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas = DrawingCanvas()
        self.pen_slider = QSlider(Qt.Orientation.Horizontal)
        self.pen_slider.setObjectName("penWidthSlider")
        self.pen_slider.setRange(int(MIN_PEN_WIDTH), int(MAX_PEN_WIDTH))
        self.pen_slider.setValue(int(self.canvas.pen_width()))
        self.pen_slider.setToolTip("Pen width in canvas pixels ([ and ] change it)")
        # Never a stub that looks like a check box, however narrow the window or large the font.
        self.pen_slider.setMinimumWidth(MIN_SLIDER_WIDTH)
        self.pen_label = QLabel()
        self.pen_label.setToolTip("Pen width in pixels of the 256x256 canvas")
        self.undo_button = QToolButton()
        self.undo_button.setObjectName("undoButton")
        self.clear_button = QToolButton()
        self.clear_button.setObjectName("clearButton")

        pen_row = QHBoxLayout()
        pen_label = QLabel("Pen")
        pen_label.setToolTip(self.pen_slider.toolTip())
        pen_row.addWidget(pen_label)
        pen_row.addWidget(self.pen_slider, 1)
        pen_row.addWidget(self.pen_label)
        # Undo and Clear on a row of their own: the pen row keeps its slider at any width.
        edit_row = QHBoxLayout()
        edit_row.addWidget(self.undo_button)
        edit_row.addWidget(self.clear_button)
        edit_row.addStretch(1)

        draw_box = QGroupBox("Draw a digit")
        draw_layout = QVBoxLayout(draw_box)
        draw_layout.addWidget(self.canvas, 1)
        draw_layout.addLayout(pen_row)
        draw_layout.addLayout(edit_row)

        self.digit_view = DigitView()
        self.digit_view.setFixedSize(184, 184)
        sees_box = QGroupBox("What the network sees")
        sees_box.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        sees_layout = QVBoxLayout(sees_box)
        sees_layout.addWidget(self.digit_view, 0, Qt.AlignmentFlag.AlignHCenter)

        self.probability_chart = ProbabilityChart()
        # The warning sits in the chart, right under the headline it qualifies.
        self.novelty_label = self.probability_chart.warning_label
        self.reader_label = QLabel()
        self.reader_label.setObjectName("readerLabel")
        self.reader_label.setWordWrap(True)
        small = self.reader_label.font()
        small.setPointSizeF(small.pointSizeF() * 0.9)
        self.reader_label.setFont(small)
        guess_box = QGroupBox(GUESS_TITLE)
        self.guess_box = guess_box
        guess_layout = QVBoxLayout(guess_box)
        guess_layout.addWidget(self.probability_chart)
        guess_layout.addWidget(self.reader_label)
        guess_layout.addStretch(1)

        # Drawing above what the network sees, the guess beside them: the eye goes from the pen
        # to the 8x8 to the answer.
        draw_column = QVBoxLayout()
        draw_column.addWidget(draw_box, 1)
        draw_column.addWidget(sees_box)

        self.setObjectName("drawingArea")
        drawing_layout = QHBoxLayout(self)
        drawing_layout.setContentsMargins(6, 6, 6, 6)
        drawing_layout.addLayout(draw_column, 1)
        drawing_layout.addWidget(guess_box)

        self.canvas.penWidthChanged.connect(self._on_canvas_penWidthChanged)
        self.pen_slider.valueChanged.connect(self._on_pen_slider_valueChanged)
        self._on_canvas_penWidthChanged(self.canvas.pen_width())
        self._fit_to_font()

    def follow_font(self) -> None:
        """The window's font changed (zoom): labels with a font of their own follow it."""
        small = self.font()
        small.setPointSizeF(small.pointSizeF() * 0.9)
        self.reader_label.setFont(small)
        self._fit_to_font()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._share_width()

    def _share_width(self) -> None:
        """The canvas comes first: the guess column widens (up to its maximum) only with the
        room left once the drawing column has :data:`DRAW_COLUMN_WIDTH`."""
        left, _, right, _ = self.layout().getContentsMargins()
        room = self.width() - left - right - self.layout().spacing() - DRAW_COLUMN_WIDTH
        low, high = self._guess_range
        width = min(high, max(low, room))
        if self.guess_box.maximumWidth() != width:
            self.guess_box.setMaximumWidth(width)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._fit_to_font()

    def _fit_to_font(self) -> None:
        """Widths that hold text follow the font (a larger system font or zoom): the guess column
        is as wide as its title needs, within a range; the pen's width label fits "40 px"."""
        metrics = QFontMetrics(self.font())
        self.pen_label.setMinimumWidth(metrics.horizontalAdvance("40 px") + 4)
        title = metrics.horizontalAdvance(GUESS_TITLE) + 3 * metrics.averageCharWidth()
        self._guess_range = (max(GUESS_MIN_WIDTH, title), max(GUESS_MAX_WIDTH, title + 50))
        self.guess_box.setMinimumWidth(self._guess_range[0])
        self._share_width()

    def change_pen_width(self, step: float) -> None:
        self.canvas.set_pen_width(self.canvas.pen_width() + step)

    def _on_pen_slider_valueChanged(self, value: int) -> None:
        self.canvas.set_pen_width(float(value))

    def _on_canvas_penWidthChanged(self, width: float) -> None:
        self.pen_slider.blockSignals(True)
        self.pen_slider.setValue(round(width))
        self.pen_slider.blockSignals(False)
        self.pen_label.setText(f"{width:g} px")
