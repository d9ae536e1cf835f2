"""Distorted training digits: shapes, reproducibility, what each distortion does, and that the
copies come out of the same reduction as drawings."""

from __future__ import annotations

import dataclasses
import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest

from digitgui.core.augment import (
    DEFAULT_DISTORTIONS,
    Distortions,
    augment_digits,
    distorted_copies,
)
from digitgui.core.data import load_digits_split
from digitgui.core.model_io import load_default
from digitgui.core.preprocess import Reduction, digits_to_bitmaps, reduce_ink
from digitgui.core.training import PRESETS, prepare_data

#: Every distortion off; only a fixed ink threshold remains.
NONE = Distortions(rotation=0, shear=0, scale=0, aspect=0, translation=0, threshold=(0.45, 0.45))


@pytest.fixture(scope="module")
def split():
    return load_digits_split()


def test_shapes_order_and_values(split):
    X, y = split.X_test[:50], split.y_test[:50]
    Xa, ya = augment_digits(X, y, copies=3, seed=1)
    assert Xa.shape == (150, 64) and ya.shape == (150,)
    assert Xa.dtype == np.float64 and ya.dtype == y.dtype
    np.testing.assert_array_equal(ya, np.tile(y, 3))  # copy k of every digit, then copy k + 1
    assert Xa.min() >= 0 and Xa.max() <= 16
    np.testing.assert_array_equal(Xa, np.round(Xa))  # pixel counts, like load_digits
    assert not np.array_equal(Xa[:50], Xa[50:100])  # each copy is distorted differently


def test_same_seed_same_copies_other_seed_other_copies(split):
    X, y = split.X_train[:200], split.y_train[:200]
    a, _ = augment_digits(X, y, copies=2, seed=7)
    b, _ = augment_digits(X, y, copies=2, seed=7)
    c, _ = augment_digits(X, y, copies=2, seed=8)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).mean() > 0.3


def test_copies_come_out_of_the_drawing_reduction(split):
    Xa, _ = augment_digits(split.X_test, split.y_test, copies=2, seed=0)
    digits = Xa.reshape(-1, 8, 8)
    # The reduction crops to the ink and stretches it to the full height, like load_digits ...
    assert np.all(digits[:, 0].sum(axis=1) > 0) and np.all(digits[:, 7].sum(axis=1) > 0)
    # ... and normalises stroke width towards its target of 350 on-pixels.
    ink = Xa.sum(axis=1)
    assert np.median(ink) == pytest.approx(350, abs=40)
    # With every distortion off, a copy is the digit re-reduced: the same picture again.
    plain, _ = augment_digits(split.X_test, split.y_test, copies=1, seed=0, distortions=NONE)
    rereduced = reduce_ink(digits_to_bitmaps(split.X_test)).reshape(-1, 64)
    assert np.abs(plain - split.X_test).mean() < 2.0
    assert np.abs(plain - rereduced).mean() < 1.5


def test_reduction_is_the_one_passed_in(split):
    X, y = split.X_test[:40], split.y_test[:40]
    nist = Reduction(stroke_target=None)
    a, _ = augment_digits(X, y, copies=1, seed=3)
    b, _ = augment_digits(X, y, copies=1, seed=3, reduction=nist)
    assert not np.array_equal(a, b)


def _slant(digits: np.ndarray) -> np.ndarray:
    """Horizontal offset between the ink of the top 3 rows and of the bottom 3 rows."""
    d = digits.reshape(-1, 8, 8)
    cols = np.arange(8)
    top = (d[:, :3] * cols).sum(axis=(1, 2)) / np.maximum(d[:, :3].sum(axis=(1, 2)), 1)
    bottom = (d[:, 5:] * cols).sum(axis=(1, 2)) / np.maximum(d[:, 5:].sum(axis=(1, 2)), 1)
    return top - bottom


def test_shear_slants_the_copies(split):
    ones = split.X_train[split.y_train == 1]
    labels = np.ones(len(ones), dtype=np.int64)
    upright, _ = augment_digits(ones, labels, 3, 0, dataclasses.replace(NONE, shear=0.0))
    slanted, _ = augment_digits(ones, labels, 3, 0, dataclasses.replace(NONE, shear=0.6))
    assert _slant(slanted).std() > 1.5 * _slant(upright).std()


def test_threshold_sets_stroke_width_before_normalisation(split):
    X, y = split.X_test, split.y_test
    raw = Reduction(stroke_target=None, stroke_limits=None)
    thick, _ = augment_digits(X, y, 1, 0, dataclasses.replace(NONE, threshold=(0.2, 0.2)), raw)
    thin, _ = augment_digits(X, y, 1, 0, dataclasses.replace(NONE, threshold=(0.7, 0.7)), raw)
    assert thick.sum(axis=1).mean() > 1.2 * thin.sum(axis=1).mean()


def test_copies_are_still_the_digits_they_were(split):
    # The shipped model was trained on other copies of other digits (the training rows).
    Xa, ya = augment_digits(split.X_test, split.y_test, copies=3, seed=123)
    assert np.mean(load_default().predict(Xa) == ya) >= 0.9


def test_elastic_and_warp_distortions_run_and_differ(split):
    X, y = split.X_test[:64], split.y_test[:64]
    base, _ = augment_digits(X, y, 1, 5)
    for change in ({"elastic": 2.0}, {"warp": 0.5}, {"grid": 32}, {"group": 1}):
        other, _ = augment_digits(X, y, 1, 5, dataclasses.replace(DEFAULT_DISTORTIONS, **change))
        assert other.shape == base.shape and not np.array_equal(other, base)
        assert other.min() >= 0 and other.max() <= 16


def test_edge_cases():
    X = np.zeros((3, 64))
    X[1, 27:29] = 16  # a single dot
    y = np.array([0, 1, 2])
    Xa, _ = augment_digits(X, y, copies=2, seed=0)
    assert Xa.shape == (6, 64)
    assert Xa[0].sum() == 0  # a blank digit stays blank rather than raising
    assert Xa[1].sum() > 0 and Xa[4].sum() > 0
    empty, labels = augment_digits(X, y, copies=0)
    assert empty.shape == (0, 64) and labels.shape == (0,)
    none, _ = augment_digits(np.zeros((0, 64)), np.zeros(0, int), copies=3)
    assert none.shape == (0, 64)
    as_images, _ = augment_digits(X.reshape(3, 8, 8), y, copies=1, seed=0)
    np.testing.assert_array_equal(as_images, augment_digits(X, y, copies=1, seed=0)[0])


@pytest.mark.parametrize(
    ("X", "y", "copies", "message"),
    [
        (np.zeros((3, 64)), np.zeros(2), 1, "3 digits but 2 labels"),
        (np.full((1, 64), 17.0), np.zeros(1), 1, "0..16"),
        (np.full((1, 64), -1.0), np.zeros(1), 1, "0..16"),
        (np.full((1, 64), np.nan), np.zeros(1), 1, "0..16"),
        (np.zeros((1, 64)), np.zeros(1), -1, "copies"),
    ],
)
def test_bad_input_is_rejected(X, y, copies, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        augment_digits(X, y, copies=copies)


def test_default_preset_trains_on_distorted_copies(split):
    config = PRESETS["default"]
    assert config.augment >= 1
    data = prepare_data(config, split)
    assert len(data.y_train) == len(split.y_train) * (1 + config.augment)
    assert data.n_original == len(split.y_train)
    again = prepare_data(config, split)
    np.testing.assert_array_equal(data.Xb_train, again.Xb_train)  # seeded: reproducible


@pytest.mark.slow
def test_default_model_script_is_reproducible(tmp_path):
    path = Path(__file__).resolve().parent.parent / "scripts" / "train_default_model.py"
    spec = importlib.util.spec_from_file_location("train_default_model", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    # The shipped recipe, shortened (the full one takes about a minute; `--check` verifies the
    # shipped file against it): two networks, plain pendigits drawings, a few hundred updates.
    quick = dataclasses.replace(
        PRESETS["handwriting"], iterations=300, eval_every=100, members=2, handwriting=1
    )
    first = script.build_model(None, config=quick).save(tmp_path / "a.npz")
    second = script.build_model(None, config=quick).save(tmp_path / "b.npz")
    assert first.read_bytes() == second.read_bytes()
    model = load_default().__class__.load(first)
    assert model.n_members == 2 and model.temperature >= 1.0
    scores = model.metadata["scores"]
    assert scores["load_digits_test"]["accuracy"] >= 0.9
    assert set(scores) == {"load_digits_test", "pendigits.tra held out", "pendigits.tes"}
    assert 0 <= scores["pendigits.tes"]["ece"] <= 1
    assert model.metadata["made_by"]["preset"] == "handwriting"
    assert model.metadata["created"] == script.RECIPE_DATE


def test_streamed_copies_equal_the_copies_made_first(split):
    config = dataclasses.replace(PRESETS["default"], augment=1)
    made_first = prepare_data(config, split)
    streamed = prepare_data(config, split, stream=True)
    assert streamed.n_ready == len(split.y_train)
    np.testing.assert_array_equal(streamed.y_train, made_first.y_train)
    ready = streamed.n_ready
    for j in range(streamed.copies.n_chunks):
        ready = streamed.copies.make(j, streamed)
    assert ready == len(made_first.y_train)
    # Each chunk has its own seed: when it is made does not change the copies.
    np.testing.assert_array_equal(streamed.Xb_train, made_first.Xb_train)


def test_distorted_copies_keep_blank_digits_blank_and_follow_the_generator(split):
    X = np.concatenate([split.X_test[:5], np.zeros((2, 64))])
    a = distorted_copies(X, np.random.default_rng(4))
    b = distorted_copies(X, np.random.default_rng(4))
    np.testing.assert_array_equal(a, b)
    assert a.shape == (7, 64) and a.min() >= 0 and a.max() <= 16
    assert np.all(a[5:] == 0) and np.all(a[:5].max(axis=1) > 0)
