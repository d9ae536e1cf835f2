"""The pen: strokes painted onto a raster exactly where and as wide as asked, anti-aliased."""

from __future__ import annotations

import numpy as np
import pytest

from digitgui.core.strokes import (
    CANVAS_SIZE,
    DEFAULT_PEN_WIDTH,
    Stroke,
    draw_segment,
    draw_stroke,
    render_strokes,
)


def test_stroke_validates_and_freezes_its_points():
    s = Stroke([[1, 2], [3, 4]], 5)
    assert s.points.shape == (2, 2) and s.points.dtype == np.float64
    assert s.width == 5.0
    with pytest.raises(ValueError):
        s.points[0, 0] = 9
    assert s.to_list() == [[1.0, 2.0], [3.0, 4.0]]
    assert Stroke([[1, 2]]).width == DEFAULT_PEN_WIDTH
    with pytest.raises(ValueError, match="at least one point"):
        Stroke(np.zeros((0, 2)))
    with pytest.raises(ValueError, match="finite"):
        Stroke([[np.nan, 1]])
    with pytest.raises(ValueError, match="positive"):
        Stroke([[1, 1]], 0)
    with pytest.raises(ValueError, match="positive"):
        Stroke([[1, 1]], float("nan"))


def test_a_dot_is_a_disc_of_the_pen_width():
    raster = np.zeros((100, 100), np.uint8)
    draw_segment(raster, (50, 50), (50, 50), 20)
    # Anti-aliased coverage adds up to the disc's area.
    assert raster.sum() / 255 == pytest.approx(np.pi * 10**2, rel=0.02)
    assert raster[50, 50] == 255
    assert raster[50, 50 + 12] == 0 and raster[50 - 12, 50] == 0
    assert 0 < raster[50, 59] <= 255  # the pixel straddling the edge is partly covered


def test_a_horizontal_segment_has_the_pen_width_and_round_caps():
    raster = np.zeros((100, 200), np.uint8)
    box = draw_segment(raster, (40.0, 50.0), (160.0, 50.0), 16)
    column = raster[:, 100] / 255
    assert column.sum() == pytest.approx(16, abs=0.05)
    assert raster[50, 40 - 7] > 0 and raster[50, 40 - 9] == 0  # round cap of radius 8
    assert raster[50, 160 + 7] > 0 and raster[50, 160 + 9] == 0
    r0, r1, c0, c1 = box
    assert r0 <= 41 and r1 >= 59 and c0 <= 31 and c1 >= 169
    assert raster[:r0].sum() == raster[r1:].sum() == 0  # nothing outside the box it reports


def test_direction_does_not_matter():
    a = np.zeros((120, 120), np.uint8)
    b = np.zeros((120, 120), np.uint8)
    draw_segment(a, (10.3, 20.7), (100.1, 90.2), 11)
    draw_segment(b, (100.1, 90.2), (10.3, 20.7), 11)
    assert np.abs(a.astype(int) - b).max() <= 1  # rounding of the anti-aliased edge only


def test_keeps_the_darker_ink():
    raster = np.full((50, 50), 200, np.uint8)
    draw_segment(raster, (25, 25), (25, 25), 4)
    assert raster[25, 25] == 255
    assert raster[0, 0] == 200  # far away: the old ink stays


def test_strokes_outside_or_across_the_border():
    raster = np.zeros((64, 64), np.uint8)
    assert draw_segment(raster, (-100, -100), (-50, -80), 10) is None
    assert raster.sum() == 0
    box = draw_segment(raster, (-20, 32), (200, 32), 10)
    assert box == (26, 38, 0, 64)  # y 32 +- (radius 5 + 1 px of anti-aliasing margin)
    assert np.all(raster[32] == 255)


def test_draw_stroke_paints_every_segment_and_single_points():
    raster = np.zeros((100, 100), np.uint8)
    draw_stroke(raster, Stroke([[10, 10], [90, 10], [90, 90]], 6))
    assert raster[10, 50] == 255 and raster[50, 90] == 255 and raster[50, 50] == 0
    dot = np.zeros((100, 100), np.uint8)
    draw_stroke(dot, Stroke([[30, 70]], 10))
    assert dot[70, 30] == 255 and dot.sum() / 255 == pytest.approx(np.pi * 25, rel=0.05)


def test_render_strokes_sizes_and_coordinates():
    square = render_strokes([Stroke([[5, 5], [5, 5]], 4)])
    assert square.shape == (CANVAS_SIZE, CANVAS_SIZE) and square.dtype == np.uint8
    # (x, y) with y down: the point (x=40, y=10) is row 10, column 40.
    rect = render_strokes([Stroke([[40, 10]], 6)], (30, 80))
    assert rect.shape == (30, 80)
    assert rect[10, 40] == 255 and rect[10, 10] == 0 and rect[20, 40] == 0
    assert render_strokes([]).sum() == 0
