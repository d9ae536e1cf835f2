"""Accuracy, per-class precision and recall, confusion matrices, and how honest the
probabilities are (calibration error, accuracy on the surest drawings, reliability table)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .calibration import (
    ReliabilityTable,
    accuracy_at_coverage,
    format_probability,
    reliability_table,
)

__all__ = ["COVERAGE", "EvalReport", "confusion_matrix", "evaluate"]

#: The share of drawings :attr:`EvalReport.accuracy_at_95` keeps: the surest 95%.
COVERAGE = 0.95


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int = 10) -> np.ndarray:
    """Counts ``(n_classes, n_classes)``: row = true class, column = predicted class."""
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm


def _frozen(a: np.ndarray) -> np.ndarray:
    # Cached results are shared by every reader: nobody may change them in place.
    a.flags.writeable = False
    return a


@dataclass(frozen=True, eq=False)
class EvalReport:
    """Results of classifying labelled digits. ``probabilities`` is ``(n, 10)``. The derived
    arrays are computed once (the report is immutable)."""

    y_true: np.ndarray
    probabilities: np.ndarray
    #: The model's "not sure" threshold (the app warns below it), or None if it has none.
    threshold: float | None = None

    @cached_property
    def y_pred(self) -> np.ndarray:
        return _frozen(np.argmax(self.probabilities, axis=1))

    @property
    def n(self) -> int:
        return len(self.y_true)

    @property
    def accuracy(self) -> float:
        return float(np.mean(self.y_pred == self.y_true)) if self.n else float("nan")

    @cached_property
    def confusion(self) -> np.ndarray:
        return _frozen(confusion_matrix(self.y_true, self.y_pred))

    @cached_property
    def recall(self) -> np.ndarray:
        """Per true class: the fraction of its digits read correctly (NaN if none)."""
        cm = self.confusion
        with np.errstate(invalid="ignore", divide="ignore"):
            return _frozen(np.diag(cm) / cm.sum(axis=1))

    @cached_property
    def precision(self) -> np.ndarray:
        """Per predicted class: the fraction of its predictions that were right (NaN if none)."""
        cm = self.confusion
        with np.errstate(invalid="ignore", divide="ignore"):
            return _frozen(np.diag(cm) / cm.sum(axis=0))

    @cached_property
    def reliability(self) -> ReliabilityTable:
        """The top-class probabilities in 15 confidence bins, each bin's accuracy beside them."""
        return reliability_table(self.probabilities, self.y_true)

    @property
    def ece(self) -> float:
        """Expected calibration error (15 bins): 0 for honest probabilities (NaN if no digits)."""
        return self.reliability.ece

    @cached_property
    def accuracy_at_95(self) -> float:
        """Accuracy on the 95% of digits the model is surest of (NaN if no digits)."""
        return accuracy_at_coverage(self.probabilities, self.y_true, COVERAGE)

    @cached_property
    def not_sure(self) -> tuple[float, float]:
        """How often the app's "not sure" warning fires (top probability below
        :attr:`threshold`): on the correctly read digits and on the misread ones (NaN where
        there are none, or without a threshold)."""
        nan = float("nan")
        if self.threshold is None or not self.n:
            return nan, nan
        unsure = self.probabilities.max(axis=1) < self.threshold
        right = self.y_pred == self.y_true
        on_right = float(np.mean(unsure[right])) if right.any() else nan
        on_wrong = float(np.mean(unsure[~right])) if (~right).any() else nan
        return on_right, on_wrong

    def to_dict(self) -> dict:
        def clean(a: np.ndarray) -> list:
            return [None if np.isnan(v) else float(v) for v in a]

        def number(v: float) -> float | None:
            return None if np.isnan(v) else float(v)

        return {
            "n": self.n,
            "accuracy": self.accuracy,
            "recall": clean(self.recall),
            "precision": clean(self.precision),
            "confusion": self.confusion.tolist(),
            "calibration": {
                "ece": number(self.ece),
                "coverage": COVERAGE,
                "accuracy_at_coverage": number(self.accuracy_at_95),
                "reliability": self.reliability.to_dict(),
            },
            "not_sure": {
                "threshold": self.threshold,
                "on_correct": number(self.not_sure[0]),
                "on_misread": number(self.not_sure[1]),
            },
        }

    def format(self, title: str) -> str:
        """A plain-text report: overall accuracy, how honest the probabilities are (calibration
        error, accuracy on the surest 95%, reliability table), per-digit recall/precision, and
        the confusion matrix."""
        lines = [f"{title}: {100 * self.accuracy:.2f}% of {self.n} digits read correctly"]
        if self.n:
            kept = math.ceil(COVERAGE * self.n - 1e-9)
            lines.append(
                f"  calibration error: {self.ece:.3f} (how far its confidence is from how often "
                "it is right; 0 = honest)"
            )
            lines.append(
                f"  accuracy on the surest {100 * COVERAGE:.0f}% ({kept} digits): "
                f"{100 * self.accuracy_at_95:.2f}%"
            )
            if self.threshold is not None:
                on_right, on_wrong = self.not_sure
                lines.append(
                    f'  "not sure" warning (below {format_probability(self.threshold)}): on '
                    f"{_share(on_right)} of the digits read correctly, {_share(on_wrong)} of the "
                    "misread ones"
                )
            lines.append("  reliability (when the network is this sure, how often it is right):")
            lines.append(self.reliability.format(indent="    "))
        lines.append("  digit    n  recall  precision")
        cm = self.confusion
        for d in range(10):
            rec, prec = self.recall[d], self.precision[d]
            rec_s = "   -  " if np.isnan(rec) else f"{100 * rec:5.1f}%"
            prec_s = "    -  " if np.isnan(prec) else f"{100 * prec:6.1f}%"
            lines.append(f"  {d:>5} {cm[d].sum():>4}  {rec_s}   {prec_s}")
        lines.append("  confusion (rows: true digit, columns: predicted)")
        lines.append("       " + "".join(f"{d:>5}" for d in range(10)))
        for d in range(10):
            lines.append(f"  {d:>4} " + "".join(f"{v:>5}" for v in cm[d]))
        return "\n".join(lines)


def _share(v: float) -> str:
    return "-" if math.isnan(v) else f"{100 * v:.1f}%"


def _as_rows(digits: np.ndarray) -> np.ndarray:
    """Raw digits ``(n, 64)`` or ``(n, 8, 8)`` (or one, ``(8, 8)`` or ``(64,)``) as rows
    ``(n, 64)``."""
    d = np.asarray(digits, dtype=np.float64)
    if d.shape in ((8, 8), (64,)):
        return d.reshape(1, 64)
    if d.ndim == 3 and d.shape[1:] == (8, 8):
        return d.reshape(-1, 64)
    if d.ndim == 2 and d.shape[1] == 64:
        return d
    raise ValueError(f"digits must be shaped (n, 8, 8) or (n, 64), got {d.shape}")


def evaluate(model, digits: np.ndarray, y: np.ndarray) -> EvalReport:
    """Classify raw digits (``(n, 64)`` or ``(n, 8, 8)``, values 0..16) with ``model`` (anything
    with ``predict_proba(rows (n, 64)) -> (n, 10)``, such as a
    :class:`~digitgui.core.model_io.DigitClassifier`) and compare with labels ``y (n,)``."""
    rows = _as_rows(digits)
    y = np.asarray(y, dtype=np.int64).reshape(-1)
    if len(rows) != len(y):
        raise ValueError(f"{len(rows)} digits but {len(y)} labels")
    probs = np.asarray(model.predict_proba(rows)) if len(rows) else np.zeros((0, 10))
    if probs.shape != (len(rows), 10):
        raise ValueError(
            f"the model gave probabilities shaped {probs.shape}, not ({len(rows)}, 10)"
        )
    threshold = getattr(model, "confidence_threshold", None)
    return EvalReport(y, probs, None if threshold is None else float(threshold))
