"""pendigits: reading the files, drawing samples through the canvas's own path, and (when the
data is around) how well the shipped model reads real handwriting."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest

from digitgui.core.model_io import load_default
from digitgui.core.pendigits import (
    DIGIT_SPAN,
    load_pendigits,
    pendigits_digits,
    pendigits_strokes,
    resolve_pendigits,
)
from digitgui.core.preprocess import Reduction, raster_to_digit
from digitgui.core.strokes import CANVAS_SIZE, DEFAULT_PEN_WIDTH, render_strokes

HEADER = "c1,  c2, c3, c4, c5, c6, c7, c8, c9,c10,c11,c12,c13,c14,c15,c16,class\n"
#: Two real rows of pendigits.tra (an 8 and a 2).
ROWS = (
    "47, 100, 27, 81, 57, 37, 26,  0,  0, 23, 56, 53,100, 90, 40, 98, 8\n"
    "  0, 89, 27,100, 42, 75, 29, 45, 15, 15, 37,  0, 69,  2,100,  6, 2\n"
)

#: The shared data folder next to the repository, or DIGITGUI_PENDIGITS.
DATA = Path(
    os.environ.get(
        "DIGITGUI_PENDIGITS",
        Path(__file__).resolve().parents[2] / "shared" / "data" / "pendigits",
    )
)


@pytest.fixture
def sample_file(tmp_path: Path) -> Path:
    path = tmp_path / "pendigits.tes"
    path.write_text(HEADER + ROWS)
    return path


def test_load_pendigits(sample_file):
    points, labels = load_pendigits(sample_file)
    assert points.shape == (2, 8, 2) and labels.tolist() == [8, 2]
    np.testing.assert_array_equal(points[0, 0], [47, 100])
    np.testing.assert_array_equal(points[1, 7], [100, 6])
    # A folder means its pendigits.tes, the final evaluation file.
    assert resolve_pendigits(sample_file.parent) == sample_file


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (HEADER, "no samples"),
        (HEADER + "1, 2, 3\n", "17 columns"),
        (HEADER + ROWS.replace("8\n", "12\n", 1), "0..9"),
        (HEADER + ROWS.replace("8\n", "2.5\n", 1), "0..9"),
        (HEADER + ROWS.replace("47", "abc", 1), "not a pendigits CSV"),
        (HEADER + ROWS.replace("47", "nan", 1), "not numbers"),
    ],
)
def test_bad_files_get_a_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.tra"
    path.write_text(content)
    with pytest.raises(ValueError, match=re.escape(message)):
        load_pendigits(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such pendigits file"):
        resolve_pendigits(tmp_path)
    with pytest.raises(FileNotFoundError):
        load_pendigits(tmp_path / "nothing.tra")


def test_strokes_flip_y_and_centre_the_box():
    points = np.array([[0, 100], [100, 0], [50, 50], [0, 0], [100, 100], [0, 0], [0, 0], [0, 0]])
    stroke = pendigits_strokes(points)
    assert stroke.width == DEFAULT_PEN_WIDTH
    side = DIGIT_SPAN * CANVAS_SIZE
    margin = (CANVAS_SIZE - side) / 2
    # y = 100 (top of the tablet) is the top of the box on the canvas, y = 0 its bottom.
    np.testing.assert_allclose(stroke.points[0], [margin, margin])
    np.testing.assert_allclose(stroke.points[1], [margin + side, margin + side])
    np.testing.assert_allclose(stroke.points[2], [CANVAS_SIZE / 2, CANVAS_SIZE / 2])
    small = pendigits_strokes(points, canvas_size=100, pen_width=5, span=0.5)
    np.testing.assert_allclose(small.points[0], [25, 25])
    assert small.width == 5


def test_samples_take_the_canvas_path(sample_file):
    points, _ = load_pendigits(sample_file)
    digits = pendigits_digits(points)
    assert digits.shape == (2, 8, 8)
    for sample, digit in zip(points, digits, strict=True):
        raster = render_strokes([pendigits_strokes(sample)], CANVAS_SIZE)
        np.testing.assert_array_equal(digit, raster_to_digit(raster))
    ticks = []
    pendigits_digits(points, progress=ticks.append)
    assert ticks == [1, 1]
    nist = pendigits_digits(points, reduction=Reduction(stroke_target=None))
    assert not np.array_equal(nist, digits)


def test_the_two_sample_rows_are_read(sample_file):
    points, labels = load_pendigits(sample_file)
    np.testing.assert_array_equal(load_default().predict(pendigits_digits(points)), labels)


def test_shipped_model_records_its_scores():
    meta = load_default().metadata
    scores = meta["scores"]
    assert scores["load_digits_test"] >= 0.97
    # Measured with the app's pen on real handwriting; pendigits is never trained on.
    assert 0 < scores["pendigits.tes"] <= 1 and 0 < scores["pendigits.tra"] <= 1
    assert meta["made_by"]["script"] == "scripts/train_default_model.py"
    assert meta["made_by"]["pendigits_drawing"]["pen_width"] == DEFAULT_PEN_WIDTH
    assert meta["training"]["augment"] >= 1


@pytest.mark.skipif(not (DATA / "pendigits.tra").is_file(), reason="pendigits data not present")
def test_shipped_model_reads_real_handwriting():
    points, labels = load_pendigits(DATA / "pendigits.tra")
    every = slice(0, None, 10)  # 750 of the 7,494 development drawings, all 30 writers
    accuracy = np.mean(load_default().predict(pendigits_digits(points[every])) == labels[every])
    # docs/reduction.md: the naive resize reads ~33%, the NIST reduction with a plain model ~66%.
    assert accuracy >= 0.74
