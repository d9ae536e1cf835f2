"""Pen trajectories as training drawings: the batched pen inks exactly the canvas's pixels, the
drawings reduce exactly like a drawing on the canvas, and the cache is never trusted blindly."""

from __future__ import annotations

import numpy as np
import pytest

from digitgui.core import handwriting
from digitgui.core.handwriting import (
    DEFAULT_VARIATION,
    catmull_rom,
    draw_polylines,
    draw_trajectories,
    ink_masks,
    make_training_drawings,
    training_drawings,
    vary_trajectories,
)
from digitgui.core.pendigits import load_packed_pendigits, pendigits_digits, pendigits_strokes
from digitgui.core.preprocess import raster_to_digit
from digitgui.core.strokes import Stroke, render_strokes


def canvas_ink(line: np.ndarray, width: float, size: int = 256) -> np.ndarray:
    """The canvas's own pixels: painted anti-aliased, kept where the reduction keeps them."""
    return render_strokes([Stroke(line, width)], size) >= 128


def cropped(mask: np.ndarray) -> np.ndarray:
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def awkward_polylines() -> list[tuple[np.ndarray, float]]:
    """Shapes that exercise every case of the capsule cut."""
    return [
        (np.array([[100.0, 100.0]]), 20.0),  # a dot
        (np.array([[50.0, 60.0], [50.0, 60.0], [80.0, 60.0]]), 16.0),  # repeated point
        (np.array([[40.0, 30.0], [40.0, 200.0]]), 12.0),  # vertical
        (np.array([[30.0, 128.0], [220.0, 128.0]]), 12.0),  # horizontal
        (np.array([[40.5, 30.5], [40.5, 200.5]]), 9.0),  # on pixel centres
        (np.array([[-20.0, 100.0], [120.0, 300.0]]), 30.0),  # leaves the canvas
        (np.array([[10.0, 10.0], [250.0, 240.0], [10.0, 240.0], [250.0, 10.0]]), 25.0),
        (np.array([[128.0, 20.0], [60.0, 230.0], [200.0, 90.0], [56.0, 90.0]]), 3.0),
    ]


@pytest.mark.parametrize("case", range(len(awkward_polylines())))
def test_the_batched_pen_inks_exactly_the_canvas_pixels(case):
    line, width = awkward_polylines()[case]
    mask = ink_masks(line[None], np.array([width]))[0]
    np.testing.assert_array_equal(cropped(mask), cropped(canvas_ink(line, width)))


def test_many_random_polylines_ink_the_canvas_pixels_in_one_batch():
    rng = np.random.default_rng(7)
    lines = rng.uniform(20, 236, (60, 8, 2))
    widths = rng.uniform(1, 30, 60)
    masks = ink_masks(lines, widths)
    for line, width, mask in zip(lines, widths, masks, strict=True):
        np.testing.assert_array_equal(cropped(mask), cropped(canvas_ink(line, width)))


def test_varied_drawings_reduce_exactly_like_drawings_on_the_canvas():
    points, _ = load_packed_pendigits("pendigits.tra")
    lines, pens = vary_trajectories(points[:300], np.random.default_rng(3))
    assert {len(line) for line in lines} == {8, 43}  # plain and smoothed, both in the batch
    batched = draw_polylines(lines, pens, chunk=128)
    one_by_one = np.stack(
        [raster_to_digit(render_strokes([Stroke(l, w)])) for l, w in zip(lines, pens, strict=True)]
    )
    np.testing.assert_array_equal(batched, one_by_one)


def test_pendigits_are_evaluated_exactly_as_the_canvas_would_read_them():
    points, _ = load_packed_pendigits("pendigits.tes")
    sample = points[::50]
    canvas = np.stack([raster_to_digit(render_strokes([pendigits_strokes(p)])) for p in sample])
    np.testing.assert_array_equal(pendigits_digits(sample), canvas)
    np.testing.assert_array_equal(draw_trajectories(sample), canvas)


def test_catmull_rom_passes_through_every_point_and_stays_near_the_polyline():
    P = np.random.default_rng(0).uniform(0, 100, (5, 8, 2))
    curve = catmull_rom(P, steps=6)
    assert curve.shape == (5, 43, 2)
    np.testing.assert_allclose(curve[:, ::6], P)
    assert np.isfinite(catmull_rom(np.zeros((1, 8, 2)))).all()  # all points equal


def test_varied_drawings_follow_the_documented_ranges_and_the_seed():
    points, _ = load_packed_pendigits("pendigits.tra")
    a_lines, a_pens = vary_trajectories(points[:200], np.random.default_rng(1))
    b_lines, b_pens = vary_trajectories(points[:200], np.random.default_rng(1))
    np.testing.assert_array_equal(a_pens, b_pens)
    assert all(np.array_equal(a, b) for a, b in zip(a_lines, b_lines, strict=True))
    lo, hi = DEFAULT_VARIATION.pen
    assert lo <= a_pens.min() and a_pens.max() <= hi
    smoothed = np.mean([len(line) > 8 for line in a_lines])
    assert 0.35 < smoothed < 0.65


@pytest.fixture
def small_tra(monkeypatch):
    """pendigits.tra cut to 40 trajectories, so the cache tests draw little."""
    points, labels = load_packed_pendigits("pendigits.tra")
    monkeypatch.setattr(
        "digitgui.core.pendigits.load_packed_pendigits",
        lambda name: (points[:40].copy(), labels[:40].copy()),
    )
    return points[:40], labels[:40]


def test_training_drawings_are_plain_then_varied_copies_with_their_trajectory(
    small_tra, tmp_path, monkeypatch
):
    monkeypatch.setenv("DIGITGUI_CACHE_DIR", str(tmp_path))
    points, labels = small_tra
    d = training_drawings(variants=2)
    assert d.X.shape == (120, 64) and d.X.min() >= 0 and d.X.max() <= 16
    np.testing.assert_array_equal(d.y, np.tile(labels, 3))
    np.testing.assert_array_equal(d.row, np.tile(np.arange(40), 3))
    np.testing.assert_array_equal(d.copy, np.repeat([0, 1, 2], 40))
    np.testing.assert_array_equal(d.X[:40], pendigits_digits(points).reshape(40, 64))


def test_training_drawings_come_from_the_cache_the_second_time(small_tra, tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITGUI_CACHE_DIR", str(tmp_path))
    first = training_drawings(variants=1)
    assert len(list(tmp_path.glob("*.npz"))) == 1

    def must_not_draw(*args, **kwargs):
        raise AssertionError("drew again instead of reading the cache")

    monkeypatch.setattr(handwriting, "make_training_drawings", must_not_draw)
    again = training_drawings(variants=1)
    np.testing.assert_array_equal(again.X, first.X)
    np.testing.assert_array_equal(again.y, first.y)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "altered", "other recipe"])
def test_a_damaged_or_foreign_cache_is_redrawn_not_trusted(
    small_tra, tmp_path, monkeypatch, damage
):
    monkeypatch.setenv("DIGITGUI_CACHE_DIR", str(tmp_path))
    first = training_drawings(variants=1)
    (path,) = tmp_path.glob("*.npz")
    data = path.read_bytes()
    if damage == "garbage":
        path.write_bytes(b"not a cache" * 10)
    elif damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    else:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
        if damage == "altered":
            arrays["X"] = arrays["X"].copy()
            arrays["X"][0, 0] = 16 - arrays["X"][0, 0]  # digest no longer matches
        else:
            arrays["key"] = np.array("some other recipe")
        np.savez(path, **arrays)
    drawn = []
    real = handwriting.make_training_drawings
    monkeypatch.setattr(
        handwriting, "make_training_drawings", lambda *a, **k: drawn.append(1) or real(*a, **k)
    )
    again = training_drawings(variants=1)
    assert drawn == [1]
    np.testing.assert_array_equal(again.X, first.X)
    # ...and the redrawn cache is good again.
    assert handwriting._read_cache(path, str(np.load(path)["key"])) is not None


def test_an_unwritable_cache_folder_only_costs_time(small_tra, tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("DIGITGUI_CACHE_DIR", str(blocker / "cache"))
    d = training_drawings(variants=1)
    assert d.X.shape == (80, 64)


def test_the_cache_key_changes_with_the_drawing_code_version(small_tra, monkeypatch):
    points, labels = small_tra
    key = handwriting._cache_key(points, labels, 4, 0)
    monkeypatch.setattr(handwriting, "DRAWING_VERSION", handwriting.DRAWING_VERSION + 1)
    assert handwriting._cache_key(points, labels, 4, 0) != key
    assert handwriting._cache_key(points, labels, 3, 0) != key


def test_make_training_drawings_is_deterministic():
    points, labels = load_packed_pendigits("pendigits.tra")
    a = make_training_drawings(points[:30], labels[:30], variants=1, seed=4)
    b = make_training_drawings(points[:30], labels[:30], variants=1, seed=4)
    np.testing.assert_array_equal(a.X, b.X)
