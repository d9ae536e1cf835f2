"""core.novelty: drawings unlike anything in load_digits are recognised (no Qt involved)."""

from __future__ import annotations

import numpy as np
import pytest

from digitgui.core.data import load_digits_split
from digitgui.core.novelty import (
    NOVEL,
    TYPICAL,
    UNUSUAL,
    NoveltyReference,
    assess,
    load_digits_reference,
    random_scribbles,
)


@pytest.fixture(scope="module")
def split():
    return load_digits_split(42)


@pytest.fixture(scope="module")
def reference():
    return load_digits_reference(42)


def test_reference_thresholds_come_from_the_training_rows(split, reference):
    rows = split.X_train
    nearest = np.empty(len(rows))
    for i, row in enumerate(rows):  # plainly, one row at a time
        d = np.sqrt(((rows - row) ** 2).sum(axis=1))
        d[i] = np.inf
        nearest[i] = d.min()
    assert reference.distance_typical == pytest.approx(np.percentile(nearest, 99))
    assert reference.distance_max == pytest.approx(nearest.max())
    ink = rows.sum(axis=1)
    assert reference.ink_range == (ink.min(), ink.max())
    np.testing.assert_array_equal(reference.cell_max, rows.max(axis=0))


def test_training_digit_is_typical_and_is_its_own_nearest(split, reference):
    digit = split.X_train[10].reshape(8, 8)
    result = assess(digit, reference)
    assert result.level == TYPICAL and not result.is_unusual and result.reasons == ()
    assert result.nearest_distance == 0.0 and result.nearest_index == 10


def test_held_out_rows_are_rarely_flagged(split, reference):
    rows = np.concatenate([split.X_val, split.X_test])
    levels = np.array([assess(r, reference).level for r in rows])
    assert np.mean(levels >= UNUSUAL) < 0.02
    assert np.mean(levels == NOVEL) < 0.01


def test_random_scribbles_are_mostly_flagged(reference):
    scribbles = random_scribbles(300, seed=3)
    assert scribbles.shape == (300, 64) and scribbles.max() <= 16
    levels = np.array([assess(s, reference).level for s in scribbles])
    assert np.mean(levels >= UNUSUAL) > 0.5
    assert np.mean(levels == NOVEL) > 0.1


def test_ink_outside_the_training_range_is_novel(reference):
    full = np.full((8, 8), 16.0)
    result = assess(full, reference)
    assert result.is_novel
    assert any("total ink" in r for r in result.reasons)
    faint = np.zeros((8, 8))
    faint[3, 3] = 1
    assert assess(faint, reference).is_novel


def test_ink_where_no_training_digit_has_ink_is_explained_but_not_a_flag_alone(split, reference):
    digit = split.X_train[0].reshape(8, 8).copy()
    assert reference.cell_max[0] == 0  # nobody ever inks the top-left corner
    digit[0, 0] = 16
    result = assess(digit, reference)
    assert (0, 0) in result.cells_outside
    # One extra cell keeps it close to its training neighbour: no flag, so no sentence.
    assert result.level == TYPICAL and result.reasons == ()
    # Far from everything, the cell is named among the reasons.
    odd = np.zeros((8, 8))
    odd[0, 0] = odd[7, 7] = odd[0, 7] = odd[7, 0] = 16
    odd[3:5, 3:5] = 16
    flagged = assess(odd, reference)
    assert flagged.level >= UNUSUAL
    assert any("row 0 col 0" in r for r in flagged.reasons)


def test_reference_rejects_too_few_rows():
    with pytest.raises(ValueError):
        NoveltyReference.from_training(np.zeros((1, 64)))
