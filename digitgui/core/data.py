"""scikit-learn's ``load_digits``, split exactly as the notebook splits it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # importing scikit-learn costs ~0.5 s; the app starts without it
    from sklearn.preprocessing import StandardScaler

__all__ = ["DigitsSplit", "load_digits_split", "one_hot"]


@dataclass(frozen=True, eq=False)
class DigitsSplit:
    """The notebook's 70/15/15 split of ``load_digits``.

    ``X_*`` are raw pixel counts 0..16 of shape ``(n, 64)``; ``y_*`` are the digits as ints.
    ``scaler`` is a ``StandardScaler`` fitted on ``X_train`` (the notebook's ``scaler``).
    The arrays are read-only: the split is cached and shared.
    """

    X_train: np.ndarray
    X_val: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_val: np.ndarray
    y_test: np.ndarray
    scaler: StandardScaler
    seed: int

    @property
    def sizes(self) -> tuple[int, int, int]:
        return len(self.y_train), len(self.y_val), len(self.y_test)


def _read_only(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.flags.writeable = False
    return a


@lru_cache(maxsize=4)
def load_digits_split(seed: int = 42) -> DigitsSplit:
    """The notebook's split: 30% of ``load_digits`` held out with ``random_state=seed``, then that
    part halved into validation and test with the same ``random_state``. Same rows, same order."""
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
    return DigitsSplit(
        X_train=_read_only(X_train),
        X_val=_read_only(X_val),
        X_test=_read_only(X_test),
        y_train=_read_only(y_train.astype(np.int64)),
        y_val=_read_only(y_val.astype(np.int64)),
        y_test=_read_only(y_test.astype(np.int64)),
        scaler=scaler,
        seed=seed,
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
