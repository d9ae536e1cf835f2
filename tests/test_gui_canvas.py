"""The drawing canvas: mouse strokes become the core pen's raster and load_digits-like 8x8."""

from __future__ import annotations

import numpy as np
import pytest
from gui_helpers import drag
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPalette

from digitgui.core.preprocess import frame_window, raster_to_digit
from digitgui.core.strokes import CANVAS_SIZE, Stroke, render_strokes
from digitgui.gui.canvas import MAX_PEN_WIDTH, MIN_PEN_WIDTH, DrawingCanvas

SEVEN = [(70.0, 50.0), (180.0, 50.0), (110.0, 210.0)]


@pytest.fixture
def canvas(qtbot):
    c = DrawingCanvas()
    qtbot.addWidget(c)
    c.resize(400, 400)
    c.show()
    qtbot.waitExposed(c)
    return c


def test_empty_canvas_has_no_digit(canvas):
    assert canvas.digit8x8() is None
    assert canvas.is_empty() and canvas.strokes() == []
    assert not canvas.raster().any()


def test_mouse_stroke_becomes_the_core_pens_raster_and_digit(qtbot, canvas):
    seen = []
    canvas.drawingChanged.connect(seen.append)
    widget = drag(qtbot, canvas, SEVEN)
    strokes = canvas.strokes()
    assert len(strokes) == 1
    # The stroke's points are the widget points mapped back to canvas pixels.
    expected = np.array([canvas.canvas_point(p.toPointF()) for p in widget])
    np.testing.assert_allclose(strokes[0].points, expected)
    np.testing.assert_allclose(strokes[0].points, SEVEN, atol=400 / CANVAS_SIZE)
    # What is shown is exactly what the core pen draws for those strokes...
    raster = render_strokes(strokes)
    np.testing.assert_array_equal(canvas.raster(), raster)
    # ...and the 8x8 is its load_digits-style reduction.
    digit = canvas.digit8x8()
    np.testing.assert_array_equal(digit, raster_to_digit(raster))
    np.testing.assert_array_equal(seen[-1], digit)  # the last update is the finished stroke
    assert digit.shape == (8, 8) and digit.min() >= 0 and digit.max() <= 16
    # A 7: the top row is inked across, the bottom left-centre.
    assert digit[0, 2:6].min() > 0 and digit[7, :2].sum() == 0


def test_drawing_is_independent_of_widget_size(qtbot, canvas):
    drag(qtbot, canvas, SEVEN)
    small = DrawingCanvas()
    qtbot.addWidget(small)
    small.resize(250, 250)
    small.show()
    qtbot.waitExposed(small)
    drag(qtbot, small, SEVEN)
    # Mouse positions are whole widget pixels: a coarser widget rounds the points more, so the
    # digits may differ by rounding only.
    np.testing.assert_allclose(canvas.strokes()[0].points, small.strokes()[0].points, atol=1.1)
    assert np.abs(canvas.digit8x8() - small.digit8x8()).sum() <= 24


def test_undo_and_clear(qtbot, canvas):
    drag(qtbot, canvas, SEVEN)
    one = canvas.digit8x8()
    drag(qtbot, canvas, [(60.0, 130.0), (200.0, 130.0)])
    assert len(canvas.strokes()) == 2
    assert not np.array_equal(canvas.digit8x8(), one)
    with qtbot.waitSignal(canvas.drawingChanged, timeout=2000) as blocker:
        assert canvas.undo()
    np.testing.assert_array_equal(canvas.digit8x8(), one)
    np.testing.assert_array_equal(blocker.args[0], one)
    with qtbot.waitSignal(canvas.drawingChanged, timeout=2000) as blocker:
        canvas.clear()
    assert blocker.args[0] is None and canvas.digit8x8() is None and canvas.is_empty()
    assert not canvas.undo()


def test_pen_width_is_clamped_and_applies_to_the_next_stroke(qtbot, canvas):
    canvas.set_pen_width(1000)
    assert canvas.pen_width() == MAX_PEN_WIDTH
    canvas.set_pen_width(0)
    assert canvas.pen_width() == MIN_PEN_WIDTH
    canvas.set_pen_width(30)
    drag(qtbot, canvas, SEVEN)
    assert canvas.strokes()[0].width == 30
    thick = canvas.raster().sum()
    canvas.clear()
    canvas.set_pen_width(8)
    drag(qtbot, canvas, SEVEN)
    assert canvas.raster().sum() < thick


def test_updates_are_throttled_while_the_pen_moves(qtbot, canvas):
    seen = []
    canvas.drawingChanged.connect(seen.append)
    points = [(60.0 + 2 * i, 40.0 + 3 * i) for i in range(60)]
    widget = [canvas.widget_point(x, y).toPoint() for x, y in points]
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=widget[0])
    for p in widget[1:]:
        qtbot.mouseMove(canvas, p)
    # 60 moves within far less than 30 ms each: the first is answered, the rest wait.
    during = len(seen)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=widget[-1])
    assert 1 <= during < 30
    # Lifting the pen always reports the finished drawing at once.
    np.testing.assert_array_equal(seen[-1], canvas.digit8x8())


def test_set_strokes_replays_a_drawing(qtbot, canvas):
    strokes = [Stroke(np.array(SEVEN), 20.0)]
    canvas.set_strokes(strokes)
    np.testing.assert_array_equal(canvas.raster(), render_strokes(strokes))
    assert canvas.strokes() == strokes


def test_export_image_is_dark_ink_on_white(qtbot, canvas, tmp_path):
    drag(qtbot, canvas, SEVEN)
    path = tmp_path / "drawing.png"
    assert canvas.to_image().save(str(path), "PNG")
    image = QImage(str(path)).convertToFormat(QImage.Format.Format_Grayscale8)
    assert (image.width(), image.height()) == (CANVAS_SIZE, CANVAS_SIZE)
    ptr = image.constBits()
    gray = np.frombuffer(ptr, np.uint8).reshape(CANVAS_SIZE, image.bytesPerLine())[:, :CANVAS_SIZE]
    np.testing.assert_array_equal(gray, 255 - canvas.raster())


def test_grid_window_follows_the_ink(qtbot, canvas):
    assert frame_window(canvas.raster()) is None
    drag(qtbot, canvas, SEVEN)
    top, left, height, width = frame_window(canvas.raster())
    ink = canvas.raster() >= 128
    rows = np.flatnonzero(ink.any(axis=1))
    cols = np.flatnonzero(ink.any(axis=0))
    # The 32x32 frame covers the ink box, centred on it.
    assert top <= rows[0] and top + height >= rows[-1] + 1
    assert left <= cols[0] and left + width >= cols[-1] + 1
    assert abs((top + height / 2) - (rows[0] + rows[-1] + 1) / 2) < 1e-6
    assert abs((left + width / 2) - (cols[0] + cols[-1] + 1) / 2) < 1e-6


def test_canvas_follows_the_palette(qtbot, canvas):
    pal = canvas.palette()
    pal.setColor(QPalette.ColorRole.Base, QColor("#101010"))
    pal.setColor(QPalette.ColorRole.Text, QColor("#f0f0f0"))
    canvas.setPalette(pal)
    drag(qtbot, canvas, SEVEN)
    shot = canvas.grab().toImage()
    centre = canvas.widget_point(20, 230).toPoint()  # paper, far from the 7
    assert QColor(shot.pixel(centre)).lightness() < 40
    # The model's input does not depend on the colours.
    np.testing.assert_array_equal(canvas.digit8x8(), raster_to_digit(canvas.raster()))
