"""pendigits: reading the files, drawing samples through the canvas's own path, and (when the
data is around) how well the shipped model reads real handwriting."""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

import numpy as np
import pytest

from digitgui.core.evaluation import evaluate
from digitgui.core.model_io import load_default
from digitgui.core.pendigits import (
    DIGIT_SPAN,
    PENDIGITS_FILES,
    PendigitsResourceError,
    load_packed_pendigits,
    load_pendigits,
    packed_pendigits_path,
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
ROOT = Path(__file__).resolve().parent.parent
NO_DATA = f"the pendigits text files are not in {DATA} (set DIGITGUI_PENDIGITS to their folder)"
SIZES = {"pendigits.tra": 7494, "pendigits.tes": 3498}


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
    assert sum(ticks) == 2  # progress counts drawings, reported per batch
    nist = pendigits_digits(points, reduction=Reduction(stroke_target=None))
    assert not np.array_equal(nist, digits)


def test_the_two_sample_rows_are_read(sample_file):
    points, labels = load_pendigits(sample_file)
    np.testing.assert_array_equal(load_default().predict(pendigits_digits(points)), labels)


def test_shipped_model_records_its_scores():
    """The scores the model script measured and stored (README, "Reading handwriting"): a model
    that misses the targets is not shipped by mistake."""
    meta = load_default().metadata
    scores = meta["scores"]
    assert scores["load_digits_test"]["accuracy"] >= 0.98
    tes = scores["pendigits.tes"]  # 14 writers never trained on, drawn with the app's pen
    assert tes["n"] == 3498 and tes["accuracy"] >= 0.96
    assert tes["ece"] <= 0.03 and scores["load_digits_test"]["ece"] <= 0.03
    assert tes["accuracy_at_95"] >= 0.985
    assert meta["made_by"]["script"] == "scripts/train_default_model.py"
    assert meta["made_by"]["pen_drawings"]["pen_width"] == DEFAULT_PEN_WIDTH
    assert meta["training"]["handwriting"] >= 1 and meta["training"]["augment"] >= 1


def test_shipped_model_reads_real_handwriting_it_never_saw():
    """Measured here, not read from the metadata: every 7th drawing of pendigits.tes (14 writers
    the model never trained on), drawn with the app's pen."""
    points, labels = load_packed_pendigits("pendigits.tes")
    every = slice(0, None, 7)
    model = load_default()
    report = evaluate(model, pendigits_digits(points[every]), labels[every])
    assert report.accuracy >= 0.95
    assert report.ece <= 0.05


# The packed copy shipped in resources/ -----------------------------------------------------------


def test_packed_pendigits_ship_with_digitgui():
    path = packed_pendigits_path()
    assert path.name == "pendigits.npz" and path.stat().st_size < 1_000_000
    with np.load(path, allow_pickle=False) as archive:
        assert sorted(archive.files) == ["tes_labels", "tes_points", "tra_labels", "tra_points"]
        assert all(archive[k].dtype == np.uint8 for k in archive.files)
    for name, n in SIZES.items():
        points, labels = load_packed_pendigits(name)
        assert points.shape == (n, 8, 2) and points.dtype == np.float64
        assert labels.shape == (n,) and labels.dtype == np.int64
        assert points.min() == 0 and points.max() == 100
        assert set(labels.tolist()) == set(range(10))


@pytest.mark.skipif(not all((DATA / f).is_file() for f in PENDIGITS_FILES), reason=NO_DATA)
@pytest.mark.parametrize("name", PENDIGITS_FILES)
def test_packed_arrays_equal_the_text_files(name):
    points, labels = load_packed_pendigits(name)
    text_points, text_labels = load_pendigits(DATA / name)
    np.testing.assert_array_equal(points, text_points)
    np.testing.assert_array_equal(labels, text_labels)


@pytest.mark.skipif(not all((DATA / f).is_file() for f in PENDIGITS_FILES), reason=NO_DATA)
def test_pack_script_rebuilds_the_shipped_bytes():
    spec = importlib.util.spec_from_file_location(
        "pack_pendigits", ROOT / "scripts" / "pack_pendigits.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.packed_bytes(DATA) == packed_pendigits_path().read_bytes()


def test_packed_arrays_are_fresh_copies():
    points, labels = load_packed_pendigits("pendigits.tes")
    points[:] = -1
    labels[:] = -1
    again, again_labels = load_packed_pendigits("pendigits.tes")
    assert again.min() == 0 and again_labels.min() == 0


def test_unknown_packed_name():
    with pytest.raises(ValueError, match="unknown pendigits file") as info:
        load_packed_pendigits("pendigits.csv")
    assert not isinstance(info.value, PendigitsResourceError)


def _good_arrays() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    arrays = {}
    for prefix, n in (("tra", 6), ("tes", 4)):
        arrays[f"{prefix}_points"] = rng.integers(0, 101, (n, 8, 2)).astype(np.uint8)
        arrays[f"{prefix}_labels"] = np.arange(n, dtype=np.uint8)
    return arrays


def _npz(path: Path, **changes) -> None:
    arrays = {**_good_arrays(), **changes}
    np.savez_compressed(path, **{k: v for k, v in arrays.items() if v is not None})


def _truncated(path: Path) -> None:
    _npz(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _cut_member(path: Path) -> None:
    # The zip's directory intact but a member's compressed bytes garbled: a bad CRC on reading.
    _npz(path)
    data = bytearray(path.read_bytes())
    start = data.index(b"tes_points.npy") + 40
    data[start : start + 30] = bytes(30)
    path.write_bytes(bytes(data))


def _npy(path: Path) -> None:
    with path.open("wb") as f:
        np.save(f, np.zeros(3))


DAMAGE = {
    "empty file": (lambda p: p.write_bytes(b""), "empty file"),
    "random bytes": (
        lambda p: p.write_bytes(np.random.default_rng(1).bytes(500)),
        "not a readable .npz archive",
    ),
    "truncated zip": (_truncated, "not a readable .npz archive"),
    "garbled member": (_cut_member, "cannot be read"),
    "a .npy file": (_npy, "not a .npz archive"),
    "wrong keys": (lambda p: _npz(p, tes_points=None, tes_pts=np.zeros(3)), "no tes_points"),
    "label 11": (lambda p: _npz(p, tes_labels=np.array([0, 1, 11, 2])), "digits 0..9"),
    "negative point": (
        lambda p: _npz(p, tes_points=np.full((4, 8, 2), -1, np.int16)),
        "outside 0..100",
    ),
    "point 101": (
        lambda p: _npz(p, tes_points=np.full((4, 8, 2), 101, np.uint8)),
        "outside 0..100",
    ),
    "wrong shape": (
        lambda p: _npz(p, tes_points=np.zeros((4, 8, 3), np.uint8)),
        "expected (n, 8, 2)",
    ),
    "no samples": (
        lambda p: _npz(
            p, tes_points=np.zeros((0, 8, 2), np.uint8), tes_labels=np.zeros(0, np.uint8)
        ),
        "expected (n, 8, 2)",
    ),
    "lengths differ": (lambda p: _npz(p, tes_labels=np.arange(3)), "expected (4,)"),
    "float points": (
        lambda p: _npz(p, tes_points=np.full((4, 8, 2), 0.5)),
        "whole numbers",
    ),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_damaged_packed_file_gets_one_sentence(tmp_path, monkeypatch, damage):
    write, fragment = DAMAGE[damage]
    bad = tmp_path / "pendigits.npz"
    write(bad)
    monkeypatch.setattr("digitgui.core.pendigits.packed_pendigits_path", lambda: bad)
    with pytest.raises(PendigitsResourceError) as info:
        load_packed_pendigits("pendigits.tes")
    message = str(info.value)
    assert fragment in message
    assert message.startswith(f"{bad}: the packed pendigits data is damaged")
    assert "\n" not in message and ". " not in message.replace(str(bad), "")


def test_missing_packed_file(tmp_path, monkeypatch):
    gone = tmp_path / "pendigits.npz"
    monkeypatch.setattr("digitgui.core.pendigits.packed_pendigits_path", lambda: gone)
    with pytest.raises(PendigitsResourceError, match="the packed pendigits data is missing") as e:
        load_packed_pendigits("pendigits.tra")
    assert str(e.value).startswith(f"{gone}:") and "\n" not in str(e.value)


def test_a_rewritten_packed_file_is_read_again(tmp_path, monkeypatch):
    path = tmp_path / "pendigits.npz"
    monkeypatch.setattr("digitgui.core.pendigits.packed_pendigits_path", lambda: path)
    _npz(path)
    points, labels = load_packed_pendigits("pendigits.tra")
    np.testing.assert_array_equal(points, _good_arrays()["tra_points"])
    assert labels.tolist() == [0, 1, 2, 3, 4, 5]
    _npz(path, tra_labels=np.array([9, 9, 9, 9, 9, 11]))  # another size, another mtime
    os.utime(path, ns=(1, 1))
    with pytest.raises(PendigitsResourceError, match=re.escape("0..9")):
        load_packed_pendigits("pendigits.tra")
