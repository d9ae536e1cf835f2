"""The drawing reduction: output that looks like load_digits, invariance to where and how a digit
is drawn, the round trip through load_digits itself, and a defined answer for every odd raster."""

from __future__ import annotations

import re

import numpy as np
import pytest

from digitgui.core.data import load_digits_split
from digitgui.core.model_io import load_default
from digitgui.core.preprocess import (
    DEFAULT_REDUCTION,
    EmptyDrawingError,
    Reduction,
    bitmap_to_digit,
    bitmaps_to_digits,
    digits_to_bitmaps,
    frame_window,
    normalize_bitmap,
    raster_to_digit,
    reduce_ink,
)
from digitgui.core.strokes import CANVAS_SIZE, DEFAULT_PEN_WIDTH, Stroke, render_strokes


def _arc(cx, cy, rx, ry, a0, a1, n=30):
    t = np.linspace(a0, a1, n)
    return np.stack([cx + rx * np.sin(t), cy - ry * np.cos(t)], axis=1)


#: Digits as a person might draw them on the 256 x 256 canvas: polylines in canvas pixels.
DRAWN = {
    0: [_arc(128, 128, 55, 90, 0, 2 * np.pi, 40)],
    2: [np.concatenate([_arc(128, 85, 50, 48, -1.4, 2.2, 20), [[80, 218], [180, 218]]])],
    3: [np.concatenate([_arc(125, 82, 48, 45, -1.6, 2.6, 20), _arc(125, 170, 52, 48, 0.4, 4.6)])],
    4: [[[150, 218], [150, 40], [70, 160], [190, 160]]],
    5: [np.concatenate([[[180, 40], [90, 40], [85, 120]], _arc(128, 160, 55, 55, -0.9, 4.2)])],
    7: [[[70, 40], [185, 40], [110, 218]]],
    8: [np.concatenate([_arc(128, 82, 42, 42, np.pi, 3 * np.pi), _arc(128, 172, 52, 46, 0, 7)])],
}


def draw(digit: int, shift=(0.0, 0.0), scale: float = 1.0, width: float = 20.0, size=CANVAS_SIZE):
    """``DRAWN[digit]`` moved, scaled about the canvas centre and drawn with a pen ``width``."""
    centre = CANVAS_SIZE / 2
    strokes = [
        Stroke((np.asarray(p, float) - centre) * scale + centre + np.asarray(shift), width)
        for p in DRAWN[digit]
    ]
    return render_strokes(strokes, size)


def mad(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference per pixel of two 8x8 digits (values 0..16)."""
    return float(np.abs(np.asarray(a) - np.asarray(b)).mean())


# --- output like the data ----------------------------------------------------------------------


@pytest.mark.parametrize("digit", sorted(DRAWN))
def test_drawn_digit_looks_like_load_digits(digit):
    d = raster_to_digit(draw(digit))
    assert d.shape == (8, 8)
    assert d.dtype == np.float64
    assert d.min() >= 0 and d.max() <= 16
    np.testing.assert_array_equal(d, np.round(d))  # pixel counts, as in load_digits
    # Every load_digits image has ink in its top and bottom rows and mostly 256..412 in total.
    assert d[0].sum() > 0 and d[7].sum() > 0
    assert 256 <= d.sum() <= 412
    # Centred: 99% of load_digits images have their centre of mass within rows 2.6..4.4 and
    # columns 2.9..4.3 (a 7 is top-heavy, a 6 bottom-heavy).
    rows, cols = np.indices((8, 8))
    assert 2.5 <= (rows * d).sum() / d.sum() <= 4.5
    assert 2.8 <= (cols * d).sum() / d.sum() <= 4.3
    # The outer columns stay (almost) blank: the ink box is 20 of 32 pixels wide.
    assert d[:, 0].sum() == 0 and d[:, 7].sum() <= 8


@pytest.mark.parametrize("digit", sorted(DRAWN))
def test_drawn_digits_are_read_by_the_default_model(digit):
    assert load_default().predict(raster_to_digit(draw(digit))) == digit


def test_moving_a_drawing_changes_nothing():
    for digit in DRAWN:
        assert mad(raster_to_digit(draw(digit, shift=(37.5, -22.25))), raster_to_digit(draw(digit)))
        assert mad(raster_to_digit(draw(digit, shift=(37, -22))), raster_to_digit(draw(digit))) == 0


@pytest.mark.parametrize("scale", [0.45, 0.7, 1.15])
def test_scaling_a_drawing_gives_nearly_the_same_digit(scale):
    # Pen scaled with the drawing: the same picture at another size.
    diffs = [
        mad(raster_to_digit(draw(d, scale=scale, width=20 * scale)), raster_to_digit(draw(d)))
        for d in DRAWN
    ]
    assert np.mean(diffs) < 0.8 and max(diffs) < 2.0


@pytest.mark.parametrize("width", [8.0, 14.0, 28.0, 36.0])
def test_another_pen_width_gives_nearly_the_same_digit(width):
    diffs = [mad(raster_to_digit(draw(d, width=width)), raster_to_digit(draw(d))) for d in DRAWN]
    # Two different digits differ by 1.8..6.4 per pixel (see the next test); the same digit with
    # another pen stays well below that.
    assert np.mean(diffs) < 1.6 and max(diffs) < 2.2
    # Stroke-width normalisation keeps the total ink near its target whatever the pen.
    inks = [raster_to_digit(draw(d, width=width)).sum() for d in DRAWN]
    assert all(256 <= ink <= 440 for ink in inks)


def test_different_digits_differ_more_than_pens_do():
    digits = [raster_to_digit(draw(d)) for d in DRAWN]
    pairs = [mad(a, b) for i, a in enumerate(digits) for b in digits[i + 1 :]]
    assert min(pairs) > 1.5


def test_same_drawing_in_any_raster_type_gives_the_same_digit():
    raster = draw(7)
    expected = raster_to_digit(raster)
    np.testing.assert_array_equal(raster_to_digit(raster >= 128), expected)
    np.testing.assert_array_equal(raster_to_digit(raster / 255.0), expected)
    np.testing.assert_array_equal(raster_to_digit(raster.astype(np.int32)), expected)
    np.testing.assert_array_equal(raster_to_digit(raster.astype(np.float32) / 255), expected)


def test_ink_is_high_values():
    raster = np.zeros((64, 64), np.uint8)
    raster[10:50, 30:34] = 127  # below the uint8 threshold: not ink
    with pytest.raises(EmptyDrawingError):
        raster_to_digit(raster)
    raster[10:50, 30:34] = 128
    assert raster_to_digit(raster).sum() > 0


# --- load_digits round trip --------------------------------------------------------------------


def test_digits_to_bitmaps_keeps_every_count():
    X = load_digits_split().X_test
    bitmaps = digits_to_bitmaps(X)
    assert bitmaps.shape == (len(X), 32, 32) and bitmaps.dtype == bool
    np.testing.assert_array_equal(bitmaps_to_digits(bitmaps).reshape(-1, 64), X)


def test_load_digits_reduced_again_are_read_by_the_default_model():
    split = load_digits_split()
    again = reduce_ink(digits_to_bitmaps(split.X_test)).reshape(-1, 64)
    accuracy = np.mean(load_default().predict(again) == split.y_test)
    assert accuracy >= 0.95
    # The reduction reproduces the data's geometry: the digits come back close to themselves
    # (two different load_digits digits of the same class differ by about 3 per pixel).
    assert mad(again, split.X_test) < 1.6


def test_batch_reduction_equals_one_at_a_time():
    # 70 rasters take the batch path (row loop), single rasters the cumsum path.
    rng = np.random.default_rng(3)
    rasters = []
    for _ in range(70):
        digit = rng.choice(sorted(DRAWN))
        raster = draw(digit, shift=rng.uniform(-30, 30, 2), scale=rng.uniform(0.5, 1.1))
        rasters.append(raster >= 128)
    batch = reduce_ink(np.stack(rasters))
    one_by_one = np.stack([raster_to_digit(r) for r in rasters])
    np.testing.assert_array_equal(batch, one_by_one)


def test_batch_with_an_empty_raster_says_which():
    rasters = np.zeros((3, 40, 40), bool)
    rasters[0, 5:30, 10:14] = True
    rasters[2, 5:30, 10:14] = True
    with pytest.raises(EmptyDrawingError, match="raster 1"):
        reduce_ink(rasters)


# --- stroke width ------------------------------------------------------------------------------


def test_stroke_width_normalisation_brings_thin_and_thick_pens_together():
    plain = Reduction(stroke_target=None, stroke_limits=None)
    thin, thick = draw(4, width=6), draw(4, width=40)
    raw = abs(raster_to_digit(thin, plain).sum() - raster_to_digit(thick, plain).sum())
    normalised = abs(raster_to_digit(thin).sum() - raster_to_digit(thick).sum())
    assert normalised < raw / 3


def test_nist_bands_leave_a_mid_range_drawing_alone():
    nist = Reduction(stroke_target=None)
    plain = Reduction(stroke_target=None, stroke_limits=None)
    raster = draw(0, width=28)
    count = normalize_bitmap(raster, plain).sum()
    assert 256 <= count <= 412  # inside NIST's unchanged band for this drawing ...
    np.testing.assert_array_equal(normalize_bitmap(raster, nist), normalize_bitmap(raster, plain))
    thin = draw(0, width=4)  # ... and a thin-pen one is dilated
    assert normalize_bitmap(thin, nist).sum() > normalize_bitmap(thin, plain).sum()


# --- edge cases: a defined answer, never an exception from inside NumPy ------------------------


def _check_digit(d):
    assert d.shape == (8, 8)
    assert np.all(np.isfinite(d)) and d.min() >= 0 and d.max() <= 16
    assert d.sum() > 0


@pytest.mark.parametrize(
    "raster",
    [np.zeros((256, 256), np.uint8), np.zeros((40, 90), bool), np.zeros((32, 32), float)],
)
def test_empty_raster_raises_empty_drawing_error(raster):
    with pytest.raises(EmptyDrawingError, match="empty"):
        raster_to_digit(raster)
    assert issubclass(EmptyDrawingError, ValueError)
    assert frame_window(raster) is None


def test_single_dot():
    d = raster_to_digit(render_strokes([Stroke([[128, 128]], 20)]))
    _check_digit(d)
    single_pixel = np.zeros((100, 100), bool)
    single_pixel[37, 61] = True
    _check_digit(raster_to_digit(single_pixel))


def test_vertical_line_stays_a_bar_and_reads_as_one():
    d = raster_to_digit(render_strokes([Stroke([[128, 30], [128, 220]], 20)]))
    _check_digit(d)
    assert d[:, 0].sum() == d[:, 7].sum() == 0
    assert d[:, 1].sum() == d[:, 6].sum() == 0  # a bar, not a 20-pixel-wide block
    assert d[0].sum() > 0 and d[7].sum() > 0
    assert load_default().predict(d) == 1


@pytest.mark.parametrize(
    "points",
    [
        [[150, 38], [110, 218]],  # slanted
        [[100, 70], [140, 38], [140, 218]],  # short flag
        [[80, 90], [140, 38], [140, 218]],  # long flag
    ],
)
def test_ones_with_a_slant_or_a_flag_read_as_one(points):
    # A thin digit keeps its proportions; stretched to 20 px, a flagged "1" reads as 7 or 3.
    d = raster_to_digit(render_strokes([Stroke(points, DEFAULT_PEN_WIDTH)]))
    assert d[:, :2].sum() < 16  # not spread over the whole box
    assert load_default().predict(d) == 1


def test_horizontal_line_stays_a_bar():
    d = raster_to_digit(render_strokes([Stroke([[30, 128], [220, 128]], 20)]))
    _check_digit(d)
    assert d[0].sum() == d[7].sum() == 0  # not stretched to the full height
    assert d[3:5].sum() > 0


def test_ink_touching_the_border():
    raster = np.zeros((256, 256), np.uint8)
    raster[0, :] = 255
    raster[:, -1] = 255
    raster[-1, 100:] = 255
    # One-pixel lines on a 256 canvas are an eighth of a frame pixel thick: still drawn.
    d = raster_to_digit(raster)
    _check_digit(d)
    assert d[0].sum() > 0 and d[7].sum() > 0 and d[:, 6].sum() > 0
    corner = render_strokes([Stroke([[0, 0], [255, 255]], 30)])
    _check_digit(raster_to_digit(corner))


@pytest.mark.parametrize("dtype", [np.uint8, bool, np.float64])
def test_completely_filled_raster(dtype):
    raster = np.full((256, 256), 255 if dtype == np.uint8 else 1, dtype=dtype)
    d = raster_to_digit(raster)
    _check_digit(d)
    # The 20 x 32 box, eroded: the middle is solid, the outer columns blank.
    assert d[:, 0].sum() == d[:, 7].sum() == 0
    assert np.all(d[1:7, 2:6] == 16)


def test_non_square_raster():
    wide = np.zeros((200, 300), np.uint8)
    wide[:, 50:] = draw(7)[28:228, 3:253]
    d = raster_to_digit(wide)
    _check_digit(d)
    assert mad(d, raster_to_digit(draw(7))) < 1.0
    tall = np.zeros((300, 60), bool)
    tall[20:280, 20:30] = True
    _check_digit(raster_to_digit(tall))


def test_very_large_raster_gives_the_same_digit_as_a_small_one():
    scale = 3000 / 256
    strokes = [Stroke(np.asarray(p, float) * scale, 20 * scale) for p in DRAWN[5]]
    large = render_strokes(strokes, (3000, 4000))
    d = raster_to_digit(large)
    _check_digit(d)
    assert mad(d, raster_to_digit(draw(5))) < 1.0
    filled = np.ones((3000, 4000), bool)
    _check_digit(raster_to_digit(filled))


@pytest.mark.parametrize(
    ("raster", "message"),
    [
        (np.full((64, 64), np.nan), "NaN"),
        (np.where(np.eye(64) > 0, np.nan, 0.0), "NaN"),
        (np.full((64, 64), np.inf), "0..1"),
        (np.full((64, 64), -0.5), "0..1"),
        (np.full((64, 64), 300, np.int32), "0..255"),
        (np.full((64, 64), -1, np.int16), "0..255"),
        (np.zeros((64, 64, 3), np.uint8), "2-D"),
        (np.zeros(64, np.uint8), "2-D"),
        (np.zeros((31, 200), np.uint8), "at least 32x32"),
        (np.zeros((0, 0), np.uint8), "at least 32x32"),
        (np.zeros((64, 64), complex), "unsupported"),
        (np.full((64, 64), "x"), "unsupported"),
    ],
)
def test_unreadable_rasters_are_rejected_with_a_clear_error(raster, message):
    with pytest.raises(ValueError, match=re.escape(message)) as info:
        raster_to_digit(raster)
    assert not isinstance(info.value, EmptyDrawingError)


def test_nan_next_to_ink_is_still_rejected():
    raster = draw(7) / 255.0
    raster[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        raster_to_digit(raster)


def test_bitmap_helpers_check_their_input():
    with pytest.raises(ValueError, match="32x32"):
        bitmap_to_digit(np.zeros((16, 16), bool))
    with pytest.raises(ValueError, match=r"0\.\.16"):
        digits_to_bitmaps(np.full((1, 64), 17.0))
    with pytest.raises(ValueError, match=r"0\.\.16"):
        digits_to_bitmaps(np.full((1, 64), np.nan))


# --- the frame on the canvas -------------------------------------------------------------------


def test_frame_window_maps_the_ink_height_onto_the_frame():
    raster = draw(0)
    top, left, height, width = frame_window(raster)
    rows = np.flatnonzero((raster >= 128).any(axis=1))
    cols = np.flatnonzero((raster >= 128).any(axis=0))
    assert top == rows[0] and height == rows[-1] + 1 - rows[0]  # the ink spans all 32 rows
    # ... and 20 of the 32 columns, centred.
    ink_width = cols[-1] + 1 - cols[0]
    assert width == pytest.approx(ink_width * 32 / DEFAULT_REDUCTION.box_width)
    assert left + width / 2 == pytest.approx((cols[0] + cols[-1] + 1) / 2)
