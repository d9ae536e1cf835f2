"""The curves of one training run: what the runs plot draws, the rate line reads and
:mod:`digitgui.core.runs` keeps. Qt-free."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

__all__ = ["HISTORY_COLUMNS", "RunHistory", "recent_rate"]

#: The columns of a history, in order. Costs and accuracies not measured are NaN. Histories
#: kept before ``train_acc`` existed have the first six and read with it NaN.
HISTORY_COLUMNS = ("iteration", "seconds", "epoch", "cost", "val_cost", "val_acc", "train_acc")


class RunHistory:
    """The curves of one run: rows of :data:`HISTORY_COLUMNS`, appended as the run trains.

    Arrays grow by doubling, so appending the records of a 20,000-iteration run costs O(n)
    in total; :meth:`column` returns a view of the rows so far (do not keep it across appends).
    """

    def __init__(self, capacity: int = 1024) -> None:
        self._data = np.full((max(16, int(capacity)), len(HISTORY_COLUMNS)), np.nan)
        self._n = 0
        #: The run's clock at the end of its first update (what ``seconds`` counts from).
        self.start: float | None = None

    def __len__(self) -> int:
        return self._n

    def append(
        self,
        iteration: int,
        seconds: float,
        epoch: float,
        cost: float,
        val_cost: float | None = None,
        val_acc: float | None = None,
        train_acc: float | None = None,
    ) -> None:
        if self._n == len(self._data):
            grown = np.full((2 * len(self._data), len(HISTORY_COLUMNS)), np.nan)
            grown[: self._n] = self._data[: self._n]
            self._data = grown
        nan = math.nan
        self._data[self._n] = (
            iteration,
            seconds,
            epoch,
            cost,
            nan if val_cost is None else val_cost,
            nan if val_acc is None else val_acc,
            nan if train_acc is None else train_acc,
        )
        self._n += 1

    def add_records(self, records: Iterable, paused_seconds: float = 0.0) -> None:
        """Append training progress records (:class:`~digitgui.core.training_loop.Progress`);
        ``paused_seconds`` (time the run spent paused so far) is not training time. The final
        record (``.done``) is skipped: its time includes the final accuracy measurements."""
        for r in records:
            if r.done:
                continue
            if self.start is None:
                # Training time counts from the end of the first update (as `digitgui train
                # --json` counts it): imports and data preparation are not training.
                self.start = r.elapsed - paused_seconds
            self.append(
                r.iteration,
                r.elapsed - paused_seconds - self.start,
                r.epoch,
                r.cost,
                r.val_cost,
                r.val_acc,
                r.train_acc,
            )

    def column(self, name: str) -> np.ndarray:
        return self._data[: self._n, HISTORY_COLUMNS.index(name)]

    @property
    def array(self) -> np.ndarray:
        """All rows ``(n, len(HISTORY_COLUMNS))`` (a view)."""
        return self._data[: self._n]

    def measured(self) -> np.ndarray:
        """The rows where validation was measured (a copy)."""
        rows = self.array
        return rows[~np.isnan(rows[:, HISTORY_COLUMNS.index("val_acc")])]

    def last(self, name: str) -> float | None:
        """The latest value of a column that is not NaN, or None."""
        values = self.column(name)
        finite = values[~np.isnan(values)]
        return float(finite[-1]) if len(finite) else None

    @classmethod
    def from_array(cls, rows: np.ndarray) -> RunHistory:
        rows = np.asarray(rows, dtype=np.float64)
        if rows.ndim == 2 and rows.shape[1] == len(HISTORY_COLUMNS) - 1:  # before train_acc
            rows = np.column_stack([rows, np.full(len(rows), np.nan)])
        if rows.ndim != 2 or rows.shape[1] != len(HISTORY_COLUMNS):
            raise ValueError(
                f"a run history has {len(HISTORY_COLUMNS)} columns, got shape {rows.shape}"
            )
        h = cls(len(rows))
        h._data[: len(rows)] = rows
        h._n = len(rows)
        return h


def recent_rate(history: RunHistory, window: float = 1.0) -> float | None:
    """Iterations per second of training time over the last ``window`` seconds of ``history``
    (None before two rows, or when no time passed)."""
    n = len(history)
    if n < 2:
        return None
    seconds, iterations = history.column("seconds"), history.column("iteration")
    first = int(np.searchsorted(seconds, seconds[-1] - window, side="left"))
    first = min(first, n - 2)
    dt = seconds[-1] - seconds[first]
    if dt <= 0:
        return None
    return float((iterations[-1] - iterations[first]) / dt)
