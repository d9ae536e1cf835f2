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


def test_the_cached_split_is_load_digits_split_exactly(tmp_path, monkeypatch):
    from digitgui.core import data

    monkeypatch.setenv("DIGITGUI_CACHE_DIR", str(tmp_path))
    fresh = data._split_from_sklearn(7)
    first = data.load_digits_split.__wrapped__(7)  # makes the cache
    assert len(list(tmp_path.glob("load-digits-split-7.npz"))) == 1
    monkeypatch.setattr(data, "_split_from_sklearn", lambda seed: pytest.fail("not cached"))
    again = data.load_digits_split.__wrapped__(7)
    for name in data._ARRAYS:
        np.testing.assert_array_equal(getattr(first, name), fresh[name])
        np.testing.assert_array_equal(getattr(again, name), fresh[name])
        assert getattr(again, name).dtype == fresh[name].dtype
    # The scaler, made when asked for, is the notebook's StandardScaler on the training rows.
    np.testing.assert_array_equal(again.scaler.mean_, again.mean)
    np.testing.assert_array_equal(again.scaler.scale_, again.scale)


@pytest.mark.parametrize("damage", ["garbage", "other scikit-learn", "altered"])
def test_a_damaged_or_foreign_split_cache_is_remade(tmp_path, monkeypatch, damage):
    from digitgui.core import data

    monkeypatch.setenv("DIGITGUI_CACHE_DIR", str(tmp_path))
    data.load_digits_split.__wrapped__(3)
    path = tmp_path / "load-digits-split-3.npz"
    if damage == "garbage":
        path.write_bytes(b"\x00" * 100)
    else:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
        if damage == "altered":
            arrays["X_train"] = arrays["X_train"].copy()
            arrays["X_train"][0, 0] += 1
        else:
            arrays["key"] = np.array("load_digits split v1, seed 3, scikit-learn 0.1")
        np.savez(path, **arrays)
    made = []
    real = data._split_from_sklearn
    monkeypatch.setattr(data, "_split_from_sklearn", lambda seed: made.append(seed) or real(seed))
    split = data.load_digits_split.__wrapped__(3)
    assert made == [3]
    np.testing.assert_array_equal(split.X_train, real(3)["X_train"])


def test_a_cached_split_loads_without_importing_scikit_learn(tmp_path):
    import os
    import subprocess
    import sys

    code = (
        "import sys; from digitgui.core.data import load_digits_split; "
        "s = load_digits_split(); print(len(s.y_train), 'sklearn' in sys.modules)"
    )
    env = {**os.environ, "DIGITGUI_CACHE_DIR": str(tmp_path)}
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    second = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert first.stdout.split() == ["1257", "True"]  # made from load_digits, then cached
    assert second.stdout.split() == ["1257", "False"]
