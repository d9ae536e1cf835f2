"""The drawing canvas: a fixed 256x256 raster painted through the core pen.

The pen paints into a NumPy ``uint8`` raster with :func:`digitgui.core.strokes.draw_segment`, the
same code ``digitgui eval --pendigits`` draws with, so the network is evaluated on exactly what a
user's drawing becomes. The widget only shows that raster scaled to its size (through a ``QImage``
sharing the raster's memory); screen size and device pixel ratio never reach the model.

Over the drawing lies a faint 8x8 grid: the reduction crops to the ink, stretches it into a 32x32
frame and counts ink in 4x4 blocks, so the grid is that frame mapped back onto the canvas. Each of
its cells becomes one of the 64 numbers the network sees.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from digitgui.core.preprocess import EmptyDrawingError, frame_window, raster_to_digit
from digitgui.core.strokes import CANVAS_SIZE, DEFAULT_PEN_WIDTH, Stroke, draw_segment, draw_stroke

from .accessibility import paint_focus_ring
from .palette import blend, ink_color_table

__all__ = ["MAX_PEN_WIDTH", "MIN_PEN_WIDTH", "DrawingCanvas"]

MIN_PEN_WIDTH = 4.0
MAX_PEN_WIDTH = 48.0
#: While the pen moves, the drawing is reduced and classified at most this often (ms): once per
#: frame of a 60 Hz display. One update (reduction, prediction, repaints) costs 3-5 ms; the limit
#: keeps a fast mouse (hundreds of events a second) from queueing them up. The first move after
#: a pause and the pen lifting are answered at once.
THROTTLE_MS = 16
#: Pen moves shorter than this (canvas pixels) add no point: a resting hand jitters.
MIN_STEP = 0.5


class DrawingCanvas(QWidget):
    """A square drawing area. Draw with the left mouse button (or a pen).

    ``drawingChanged(object)`` carries the current 8x8 digit (values 0..16, shape ``(8, 8)``) or
    None when the canvas is empty; it fires while the pen moves (throttled), when a stroke ends,
    on undo and on clear. ``strokesChanged()`` fires when the list of finished strokes changes.
    """

    drawingChanged = Signal(object)
    strokesChanged = Signal()
    penWidthChanged = Signal(float)

    def __init__(self, parent: QWidget | None = None, size: int = CANVAS_SIZE) -> None:
        super().__init__(parent)
        self.setObjectName("drawingCanvas")
        self._size = int(size)
        # QImage rows must start on 4-byte boundaries: pad the buffer, draw into a view of it.
        stride = -(-self._size // 4) * 4
        self._buffer = np.zeros((self._size, stride), dtype=np.uint8)
        self._raster = self._buffer[:, : self._size]
        self._image = QImage(
            self._buffer.data, self._size, self._size, stride, QImage.Format.Format_Indexed8
        )
        self._strokes: list[Stroke] = []
        self._current: list[tuple[float, float]] | None = None
        # An 8x8 digit shown instead of a drawing (load_digit), e.g. a test digit a view offered.
        self._loaded: np.ndarray | None = None
        self._pen_width = float(DEFAULT_PEN_WIDTH)
        self._digit: np.ndarray | None = None
        self._digit_stale = False
        self._window: tuple[float, float, float, float] | None = None
        self._window_stale = False
        self._last_emit = -1.0
        self._throttle = QTimer(self)
        self._throttle.setSingleShot(True)
        self._throttle.timeout.connect(self._on_throttle_timeout)

        self.setMinimumSize(160, 160)
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setToolTip(
            "Draw a digit with the left mouse button. The faint grid shows how the drawing is "
            "cut into the 8x8 cells the network sees."
        )
        self.setAccessibleName("Drawing canvas")
        # Tab reaches it (keys 0-9 keep the drawing in My digits); the focus ring shows it.
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._apply_palette()

    # public API -----------------------------------------------------------------------------------

    @property
    def canvas_size(self) -> int:
        return self._size

    def digit8x8(self) -> np.ndarray | None:
        """The current drawing reduced like load_digits: ``(8, 8)`` floats 0..16, or None."""
        if self._loaded is not None:
            return self._loaded.copy()
        if self._digit_stale:
            try:
                self._digit = raster_to_digit(self._raster)
            except EmptyDrawingError:
                self._digit = None
            self._digit_stale = False
        return None if self._digit is None else self._digit.copy()

    def is_empty(self) -> bool:
        return not self._strokes and self._current is None and self._loaded is None

    def loaded_digit(self) -> np.ndarray | None:
        """The 8x8 digit shown by :meth:`load_digit`, or None when the canvas shows a drawing."""
        return None if self._loaded is None else self._loaded.copy()

    def load_digit(self, digit: np.ndarray) -> None:
        """Show an 8x8 digit (values 0..16, e.g. a load_digits test digit) in place of the
        drawing: each cell becomes a grey block, and :meth:`digit8x8` returns exactly this digit
        (it is not reduced again). Drawing on it, Clear or Undo start a new drawing."""
        d = np.clip(np.asarray(digit, dtype=np.float64).reshape(8, 8), 0, 16)
        self._current = None
        self._strokes = []
        self._loaded = d
        block = self._size // 8
        self._raster[:] = 0
        self._raster[: 8 * block, : 8 * block] = np.kron(
            np.rint(d * (255 / 16)).astype(np.uint8), np.ones((block, block), dtype=np.uint8)
        )
        self._window = (0.0, 0.0, float(8 * block), float(8 * block))
        self._window_stale = False
        self._throttle.stop()
        self.update()
        self.strokesChanged.emit()
        self._emit_change()

    def strokes(self) -> list[Stroke]:
        """The finished strokes, oldest first (immutable records; the list is a copy)."""
        return list(self._strokes)

    def raster(self) -> np.ndarray:
        """A copy of the raster ``(size, size)`` uint8, ink 255 on 0."""
        return self._raster.copy()

    def pen_width(self) -> float:
        return self._pen_width

    def set_pen_width(self, width: float) -> None:
        """Pen diameter in canvas pixels, clamped to MIN_PEN_WIDTH..MAX_PEN_WIDTH; applies to the
        next stroke. A width that is no number (NaN, e.g. from a damaged settings file) leaves
        the pen as it is: painting a stroke of NaN width crashed the process."""
        try:
            width = float(width)
        except (TypeError, ValueError):
            return
        if math.isnan(width):
            return
        width = min(max(width, MIN_PEN_WIDTH), MAX_PEN_WIDTH)
        if width != self._pen_width:
            self._pen_width = width
            self.penWidthChanged.emit(width)

    def set_strokes(self, strokes: Iterable[Stroke]) -> None:
        """Replace the drawing with ``strokes`` (e.g. a saved drawing)."""
        self._current = None
        self._loaded = None
        self._strokes = list(strokes)
        self._rerender()

    def clear(self) -> None:
        """Remove every stroke."""
        if self.is_empty():
            return
        self.set_strokes([])

    def undo(self) -> bool:
        """Remove the last stroke; False if there was none."""
        if self._current is not None:
            # Undo while drawing drops the stroke being drawn.
            self._current = None
            self._rerender()
            return True
        if self._loaded is not None and not self._strokes:
            self.set_strokes([])
            return True
        if not self._strokes:
            return False
        self._strokes.pop()
        self._rerender()
        return True

    def to_image(self) -> QImage:
        """The drawing as a 256x256 grayscale image, dark ink on white (as on paper)."""
        inverted = np.ascontiguousarray(255 - self._raster)
        image = QImage(
            inverted.data, self._size, self._size, self._size, QImage.Format.Format_Grayscale8
        )
        return image.copy()  # detach from the temporary array

    def canvas_point(self, pos: QPointF) -> tuple[float, float]:
        """Widget coordinates -> canvas pixels ``(x, y)``."""
        target = self._target_rect()
        scale = self._size / target.width()
        return ((pos.x() - target.left()) * scale, (pos.y() - target.top()) * scale)

    def widget_point(self, x: float, y: float) -> QPointF:
        """Canvas pixels ``(x, y)`` -> widget coordinates."""
        target = self._target_rect()
        scale = target.width() / self._size
        return QPointF(target.left() + x * scale, target.top() + y * scale)

    # geometry -------------------------------------------------------------------------------------

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return width

    def _target_rect(self) -> QRectF:
        """The square of the widget that shows the raster, centred."""
        side = max(1.0, float(min(self.width(), self.height())))
        return QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)

    # drawing --------------------------------------------------------------------------------------

    def _paint_segment(self, p0: tuple[float, float], p1: tuple[float, float]) -> None:
        draw_segment(self._raster, p0, p1, self._pen_width)
        self._digit_stale = self._window_stale = True
        # The whole widget, not just the segment's box: the grid follows the ink box, which
        # moves whenever the drawing grows. A full repaint costs about a millisecond.
        self.update()

    def _rerender(self) -> None:
        self._raster[:] = 0
        for stroke in self._strokes:
            draw_stroke(self._raster, stroke)
        self._digit_stale = self._window_stale = True
        self._throttle.stop()
        self.update()
        self.strokesChanged.emit()
        self._emit_change()

    def _schedule_change(self) -> None:
        """Leading- and trailing-edge throttle of ``drawingChanged`` while the pen moves."""
        if self._throttle.isActive():
            return
        since = (time.perf_counter() - self._last_emit) * 1000
        if since >= THROTTLE_MS:
            self._emit_change()
        else:
            self._throttle.start(max(1, int(THROTTLE_MS - since)))

    def _on_throttle_timeout(self) -> None:
        self._emit_change()

    def _emit_change(self) -> None:
        self._last_emit = time.perf_counter()
        self.drawingChanged.emit(self.digit8x8())

    # events ---------------------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            return
        if self._loaded is not None:
            # A shown digit is not a drawing to add to: start a fresh one.
            self._loaded = None
            self._raster[:] = 0
        p = self.canvas_point(event.position())
        self._current = [p]
        self._paint_segment(p, p)
        self._schedule_change()
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._current is None or not event.buttons() & Qt.MouseButton.LeftButton:
            super().mouseMoveEvent(event)
            return
        p = self.canvas_point(event.position())
        last = self._current[-1]
        if abs(p[0] - last[0]) + abs(p[1] - last[1]) < MIN_STEP:
            return
        self._current.append(p)
        self._paint_segment(last, p)
        self._schedule_change()
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self._current is None:
            super().mouseReleaseEvent(event)
            return
        p = self.canvas_point(event.position())
        last = self._current[-1]
        if abs(p[0] - last[0]) + abs(p[1] - last[1]) >= MIN_STEP:
            self._current.append(p)
            self._paint_segment(last, p)
        self._strokes.append(Stroke(np.array(self._current), self._pen_width))
        self._current = None
        self._throttle.stop()
        self.strokesChanged.emit()
        self._emit_change()
        event.accept()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()
        super().changeEvent(event)

    def focusInEvent(self, event: QFocusEvent) -> None:
        self.update()  # the focus ring
        super().focusInEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        self.update()
        super().focusOutEvent(event)

    def _apply_palette(self) -> None:
        self._image.setColorTable(ink_color_table(self.palette()))
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        pal = self.palette()
        painter = QPainter(self)
        painter.fillRect(event.rect(), pal.color(QPalette.ColorRole.Window))
        target = self._target_rect()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.drawImage(target, self._image, QRectF(0, 0, self._size, self._size))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        text = pal.color(QPalette.ColorRole.Text)
        painter.setPen(QPen(pal.color(QPalette.ColorRole.Mid), 1))
        painter.drawRect(target.adjusted(0.5, 0.5, -0.5, -0.5))

        if self._window_stale:
            # The reduction's own geometry (crop box, stretch limits, centring), so the grid stays
            # honest when the reduction changes.
            self._window = frame_window(self._raster)
            self._window_stale = False
        if self._window is None:
            painter.setPen(blend(pal.color(QPalette.ColorRole.Base), text, 0.45))
            painter.drawText(
                target,
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                "Draw a digit here\n(tall and centred, like on a form)",
            )
        else:
            self._paint_grid(painter, target, text)
        if self.hasFocus():
            # Around the drawing square, where keys 0-9 add the drawing to My digits.
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            paint_focus_ring(painter, target, pal)
        painter.end()

    def _paint_grid(self, painter: QPainter, target: QRectF, text: QColor) -> None:
        top, left, height, width = self._window  # type: ignore[misc]
        scale = target.width() / self._size
        x0 = target.left() + left * scale
        y0 = target.top() + top * scale
        w, h = width * scale, height * scale
        faint = QColor(text)
        faint.setAlphaF(0.16)
        painter.setClipRect(target)
        painter.setPen(QPen(faint, 1))
        for k in range(1, 8):
            x = x0 + w * k / 8
            y = y0 + h * k / 8
            painter.drawLine(QPointF(x, y0), QPointF(x, y0 + h))
            painter.drawLine(QPointF(x0, y), QPointF(x0 + w, y))
        frame = QColor(text)
        frame.setAlphaF(0.35)
        painter.setPen(QPen(frame, 1, Qt.PenStyle.DashLine))
        painter.drawRect(QRectF(x0, y0, w, h))
        painter.setClipping(False)
