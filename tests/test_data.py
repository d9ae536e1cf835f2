"""The notebook's split of load_digits."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from digitgui.core.data import load_digits_split, one_hot


def test_split_is_the_notebooks_row_for_row():
    # Cell 30, verbatim.
    dataset = load_digits()
    X, y = dataset.data, dataset.target
    X_train, X_temp, y_train, y_temp = train_test_split(X, y, test_size=0.3, random_state=42)
    X_val, X_test, y_val, y_test = train_test_split(X_temp, y_temp, test_size=0.5, random_state=42)
    scaler = StandardScaler().fit(X_train)

    s = load_digits_split(42)
    for ours, theirs in [
        (s.X_train, X_train),
        (s.X_val, X_val),
        (s.X_test, X_test),
        (s.y_train, y_train),
        (s.y_val, y_val),
        (s.y_test, y_test),
    ]:
        np.testing.assert_array_equal(ours, theirs)
    assert s.sizes == (1257, 270, 270)
    np.testing.assert_array_equal(s.scaler.mean_, scaler.mean_)
    np.testing.assert_array_equal(s.scaler.scale_, scaler.scale_)
    assert s.X_train.min() == 0 and s.X_train.max() == 16


def test_split_arrays_are_read_only_because_they_are_shared():
    s = load_digits_split()
    with pytest.raises(ValueError):
        s.X_train[0, 0] = 3
    assert load_digits_split() is s


def test_other_seed_gives_another_split():
    a, b = load_digits_split(42), load_digits_split(7)
    assert not np.array_equal(a.y_train, b.y_train)


def test_one_hot():
    np.testing.assert_array_equal(one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])
    with pytest.raises(ValueError, match=r"0\.\.2"):
        one_hot(np.array([3]), 3)
