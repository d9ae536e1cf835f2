"""scikit-learn's ``load_digits``, split exactly as the notebook splits it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # importing scikit-learn costs ~0.5 s; the app starts without it
    from sklearn.preprocessing import StandardScaler

__all__ = ["DigitsSplit", "load_digits_split", "one_hot"]


@dataclass(frozen=True, eq=False)
class DigitsSplit:
    """The notebook's 70/15/15 split of ``load_digits``.

    ``X_*`` are raw pixel counts 0..16 of shape ``(n, 64)``; ``y_*`` are the digits as ints.
    ``mean`` and ``scale`` ``(64,)`` are the standardisation fitted on ``X_train``, and
    ``scaler`` the same as a fitted ``StandardScaler`` (the notebook's ``scaler``; made when
    first asked for, since importing scikit-learn costs about half a second).
    The arrays are read-only: the split is cached and shared.
    """

    X_train: np.ndarray
    X_val: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_val: np.ndarray
    y_test: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    seed: int

    @property
    def sizes(self) -> tuple[int, int, int]:
        return len(self.y_train), len(self.y_val), len(self.y_test)

    @cached_property
    def scaler(self) -> StandardScaler:
        from sklearn.preprocessing import StandardScaler

        return StandardScaler().fit(self.X_train)


def _read_only(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.flags.writeable = False
    return a


_ARRAYS = ("X_train", "X_val", "X_test", "y_train", "y_val", "y_test", "mean", "scale")


def _split_from_sklearn(seed: int) -> dict[str, np.ndarray]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    dataset = load_digits()
    X, y = dataset.data, dataset.target
    X_train, X_temp, y_train, y_temp = train_test_split(X, y, test_size=0.3, random_state=seed)
    X_val, X_test, y_val, y_test = train_test_split(
        X_temp, y_temp, test_size=0.5, random_state=seed
    )
    scaler = StandardScaler().fit(X_train)
    return {
        "X_train": X_train,
        "X_val": X_val,
        "X_test": X_test,
        "y_train": y_train.astype(np.int64),
        "y_val": y_val.astype(np.int64),
        "y_test": y_test.astype(np.int64),
        "mean": np.asarray(scaler.mean_, dtype=np.float64),
        "scale": np.asarray(scaler.scale_, dtype=np.float64),
    }


def _cache_key(seed: int) -> str | None:
    """What the split depends on: the seed and scikit-learn's version (its data and its
    splitting), read from the installed package's metadata without importing it."""
    from importlib import metadata

    try:
        version = metadata.version("scikit-learn")
    except metadata.PackageNotFoundError:
        return None
    return f"load_digits split v1, seed {seed}, scikit-learn {version}"


@lru_cache(maxsize=4)
def load_digits_split(seed: int = 42, use_cache: bool = True) -> DigitsSplit:
    """The notebook's split: 30% of ``load_digits`` held out with ``random_state=seed``, then that
    part halved into validation and test with the same ``random_state``. Same rows, same order.

    The arrays are kept in the user cache folder (:mod:`digitgui.core.cache`), keyed by the
    seed and scikit-learn's version, so that a run does not pay scikit-learn's import to get
    them; ``tests/test_data.py`` checks the cached copy against ``load_digits``."""
    from . import cache

    key = _cache_key(seed) if use_cache else None
    path = cache.cache_folder() / f"load-digits-split-{seed}.npz"
    arrays = cache.read(path, key, _ARRAYS) if key is not None else None
    if arrays is None or not _plausible(arrays):
        arrays = _split_from_sklearn(seed)
        if key is not None:
            cache.write(path, key, arrays)
    return DigitsSplit(**{name: _read_only(arrays[name]) for name in _ARRAYS}, seed=seed)


def _plausible(a: dict[str, np.ndarray]) -> bool:
    """Shapes and ranges a split of load_digits has (a cache of another shape is not used)."""
    rows = [len(a[f"X_{part}"]) for part in ("train", "val", "test")]
    return (
        all(a[f"X_{part}"].shape[1:] == (64,) for part in ("train", "val", "test"))
        and [len(a[f"y_{part}"]) for part in ("train", "val", "test")] == rows
        and a["mean"].shape == a["scale"].shape == (64,)
        and all(a[name].dtype.kind == "i" for name in ("y_train", "y_val", "y_test"))
    )


def one_hot(y: np.ndarray, n_classes: int = 10, dtype=np.float64) -> np.ndarray:
    """``y (n,)`` of ints 0..n_classes-1 as one-hot rows ``(n, n_classes)`` (the notebook uses
    ``OneHotEncoder``; for labels 0..9 that are all present the result is the same)."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"labels must be 1-D, got shape {y.shape}")
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(f"labels must lie in 0..{n_classes - 1}")
    out = np.zeros((y.size, n_classes), dtype=dtype)
    out[np.arange(y.size), y] = 1
    return out
