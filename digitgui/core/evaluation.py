"""Accuracy, per-class precision and recall, and confusion matrices."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

__all__ = ["EvalReport", "confusion_matrix", "evaluate"]


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

    def to_dict(self) -> dict:
        def clean(a: np.ndarray) -> list:
            return [None if np.isnan(v) else float(v) for v in a]

        return {
            "n": self.n,
            "accuracy": self.accuracy,
            "recall": clean(self.recall),
            "precision": clean(self.precision),
            "confusion": self.confusion.tolist(),
        }

    def format(self, title: str) -> str:
        """A plain-text report: overall accuracy, per-digit recall/precision, confusion matrix."""
        lines = [f"{title}: {100 * self.accuracy:.2f}% of {self.n} digits read correctly"]
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


def evaluate(model, digits: np.ndarray, y: np.ndarray) -> EvalReport:
    """Classify raw digits (``(n, 64)`` or ``(n, 8, 8)``, values 0..16) with ``model`` (a
    :class:`~digitgui.core.model_io.DigitClassifier`) and compare with labels ``y (n,)``."""
    rows, _ = model.as_rows(digits)
    y = np.asarray(y, dtype=np.int64).reshape(-1)
    if len(rows) != len(y):
        raise ValueError(f"{len(rows)} digits but {len(y)} labels")
    probs = model.predict_proba(rows) if len(rows) else np.zeros((0, 10))
    return EvalReport(y, probs)
