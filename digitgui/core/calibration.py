"""How honest are the probabilities: reliability tables, calibration error, temperature scaling.

A classifier is *calibrated* when, of all the drawings it reads with 80% confidence, 80% are read
correctly. Everything here works on the probabilities ``(n, 10)`` of any model (anything with
``predict_proba(digits) -> (n, 10)``) and the true labels ``(n,)``; only the top-class probability
(the *confidence*) and whether the top class is right matter.

* :func:`reliability_table` sorts the drawings into equal-width confidence bins and compares each
  bin's mean confidence with its accuracy; its :attr:`~ReliabilityTable.ece` (expected
  calibration error) is the count-weighted mean gap, 0 for perfectly honest probabilities.
* :func:`accuracy_at_coverage` and :func:`confidence_threshold` answer "how good is the network on
  the drawings it is surest of", and choose a "not sure" threshold on held-out rows.
* :func:`fit_temperature` finds the one number ``T`` that, dividing the logits, makes the
  probabilities most honest (temperature scaling: the ranking of the classes never changes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "DEFAULT_BINS",
    "N_CLASSES",
    "ReliabilityTable",
    "accuracy_at_coverage",
    "apply_temperature",
    "confidence_threshold",
    "expected_calibration_error",
    "fit_temperature",
    "format_probability",
    "reliability_table",
]

N_CLASSES = 10
#: Confidence bins of a reliability table (15, as in Guo et al. 2017, "On calibration of modern
#: neural networks", so that figures compare with the literature).
DEFAULT_BINS = 15
#: How far a probability may stray outside [0, 1] by rounding before it is refused.
_SLACK = 1e-9


# --- input checks ---------------------------------------------------------------------------------


def _check_probs(probs: np.ndarray) -> np.ndarray:
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != N_CLASSES:
        raise ValueError(f"probabilities must be shaped (n, {N_CLASSES}), got {p.shape}")
    if not np.all(np.isfinite(p)):
        raise ValueError("probabilities must be finite numbers")
    if p.size and (p.min() < -_SLACK or p.max() > 1 + _SLACK):
        raise ValueError("probabilities must lie between 0 and 1")
    return np.clip(p, 0.0, 1.0)


def _check_labels(y: np.ndarray, n: int) -> np.ndarray:
    a = np.asarray(y)
    if a.ndim != 1 or len(a) != n:
        raise ValueError(f"expected {n} labels shaped ({n},), got shape {a.shape}")
    if a.size and (
        not np.all(np.isfinite(a.astype(np.float64)))
        or np.any(a != np.round(a))
        or a.min() < 0
        or a.max() > N_CLASSES - 1
    ):
        raise ValueError(f"labels must be whole numbers 0..{N_CLASSES - 1}")
    return a.astype(np.int64)


def _check_logits(logits: np.ndarray) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim != 2 or z.shape[1] != N_CLASSES:
        raise ValueError(f"logits must be shaped (n, {N_CLASSES}), got {z.shape}")
    if not np.all(np.isfinite(z)):
        raise ValueError("logits must be finite numbers")
    return z


def _check_coverage(coverage: float) -> float:
    c = float(coverage)
    if not (0.0 < c <= 1.0):
        raise ValueError(f"coverage must be a fraction in (0, 1], got {coverage}")
    return c


def _check_temperature(temperature: float) -> float:
    t = float(temperature)
    if not (math.isfinite(t) and t > 0):
        raise ValueError(f"the temperature must be a positive number, got {temperature}")
    return t


def _n_covered(coverage: float, n: int) -> int:
    # ceil(coverage * n), forgiving the rounding of products like 0.7 * 10 = 7.000000000000001.
    return min(n, max(1, math.ceil(coverage * n - 1e-9)))


# --- reliability ----------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ReliabilityTable:
    """Drawings sorted by top-class confidence into equal-width bins of [0, 1].

    ``edges`` ``(n_bins + 1,)``: bin ``i`` holds confidences in ``[edges[i], edges[i + 1])``, the
    last bin also 1 itself. ``counts`` ``(n_bins,)``; ``confidence`` and ``accuracy``
    ``(n_bins,)`` are each bin's mean top-class probability and the share read correctly (NaN
    for an empty bin).
    """

    edges: np.ndarray
    counts: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray

    def __post_init__(self) -> None:
        # Shared by every reader (the GUI and the report): private read-only copies.
        for name, dtype in (
            ("edges", np.float64),
            ("counts", np.int64),
            ("confidence", np.float64),
            ("accuracy", np.float64),
        ):
            a = np.array(getattr(self, name), dtype=dtype)
            a.flags.writeable = False
            object.__setattr__(self, name, a)
        if not (len(self.edges) == len(self.counts) + 1 == len(self.confidence) + 1):
            raise ValueError("a reliability table needs n_bins + 1 edges and n_bins of the rest")
        if len(self.accuracy) != len(self.counts):
            raise ValueError("a reliability table needs n_bins + 1 edges and n_bins of the rest")

    @property
    def n_bins(self) -> int:
        return len(self.counts)

    @property
    def n(self) -> int:
        """Drawings in the table."""
        return int(self.counts.sum())

    @property
    def ece(self) -> float:
        """Expected calibration error: the sum over bins of ``count / n * |accuracy -
        confidence|``; 0 when every bin is right exactly as often as it is sure (NaN if empty)."""
        if self.n == 0:
            return float("nan")
        full = self.counts > 0
        gaps = np.abs(self.accuracy[full] - self.confidence[full])
        return float(np.sum(self.counts[full] / self.n * gaps))

    def to_dict(self) -> dict:
        """JSON-safe: plain lists, ``None`` for the NaNs of empty bins."""

        def clean(a: np.ndarray) -> list:
            return [None if np.isnan(v) else float(v) for v in a]

        ece = self.ece
        return {
            "n": self.n,
            "ece": None if math.isnan(ece) else ece,
            "edges": [float(v) for v in self.edges],
            "counts": [int(v) for v in self.counts],
            "confidence": clean(self.confidence),
            "accuracy": clean(self.accuracy),
        }

    def format(self, indent: str = "  ") -> str:
        """A plain-text table, one line per bin: range of confidence, count, mean confidence,
        accuracy (``-`` for an empty bin)."""
        lines = [f"{indent}{'confidence':<15}{'n':>6}{'mean conf':>11}{'accuracy':>10}"]
        for i in range(self.n_bins):
            lo, hi = 100 * self.edges[i], 100 * self.edges[i + 1]
            close = "]" if i == self.n_bins - 1 else ")"
            rng = f"[{lo:5.1f}, {hi:5.1f}{close}"
            if self.counts[i]:
                conf = format_probability(self.confidence[i])
                acc = format_probability(self.accuracy[i])
            else:
                conf = acc = "-"
            lines.append(f"{indent}{rng:<15}{self.counts[i]:>6}{conf:>11}{acc:>10}")
        return "\n".join(lines)


def reliability_table(
    probs: np.ndarray, y: np.ndarray, n_bins: int = DEFAULT_BINS
) -> ReliabilityTable:
    """Bin the top-class probabilities of ``probs (n, 10)`` into ``n_bins`` equal-width bins and
    compare each bin's mean confidence with its accuracy against the labels ``y (n,)``."""
    p = _check_probs(probs)
    labels = _check_labels(y, len(p))
    if int(n_bins) != n_bins or n_bins < 1:
        raise ValueError(f"the number of bins must be a positive whole number, got {n_bins}")
    n_bins = int(n_bins)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    conf = p.max(axis=1) if len(p) else np.zeros(0)
    correct = (np.argmax(p, axis=1) == labels) if len(p) else np.zeros(0, bool)
    # The bin is found against the stored edges themselves (not floor(conf * n_bins)), so that a
    # confidence equal to an edge always lands in the bin the edges say; 1.0 joins the last bin.
    idx = np.clip(np.searchsorted(edges, conf, side="right") - 1, 0, n_bins - 1)
    counts = np.bincount(idx, minlength=n_bins)
    sum_conf = np.bincount(idx, weights=conf, minlength=n_bins)
    sum_right = np.bincount(idx, weights=correct.astype(np.float64), minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.where(counts > 0, sum_conf / counts, np.nan)
        accuracy = np.where(counts > 0, sum_right / counts, np.nan)
    return ReliabilityTable(edges, counts.astype(np.int64), mean_conf, accuracy)


def expected_calibration_error(
    probs: np.ndarray, y: np.ndarray, n_bins: int = DEFAULT_BINS
) -> float:
    """:attr:`ReliabilityTable.ece` of ``probs (n, 10)`` against ``y (n,)`` (NaN if ``n == 0``)."""
    return reliability_table(probs, y, n_bins).ece


# --- coverage -------------------------------------------------------------------------------------


def _confidence_order(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Top-class probabilities ``(n,)`` and the row order from most to least confident; equal
    confidences keep their row order (a stable sort), so the answer does not depend on the sort
    algorithm."""
    conf = p.max(axis=1)
    return conf, np.argsort(-conf, kind="stable")


def accuracy_at_coverage(probs: np.ndarray, y: np.ndarray, coverage: float = 0.95) -> float:
    """Accuracy on the ``ceil(coverage * n)`` drawings of ``probs (n, 10)`` with the highest
    top-class probability: how well the network reads the drawings it would answer if it said
    "not sure" about the others. NaN if ``n == 0``."""
    p = _check_probs(probs)
    labels = _check_labels(y, len(p))
    c = _check_coverage(coverage)
    if len(p) == 0:
        return float("nan")
    _, order = _confidence_order(p)
    kept = order[: _n_covered(c, len(p))]
    return float(np.mean(np.argmax(p[kept], axis=1) == labels[kept]))


def confidence_threshold(probs: np.ndarray, coverage: float = 0.95) -> float:
    """The top-class probability at or above which ``coverage`` of the drawings ``probs (n, 10)``
    lie: the ``ceil(coverage * n)``-th highest confidence. Chosen on held-out rows, answers below
    it can be shown as "not sure" and about ``1 - coverage`` of drawings like them will be."""
    p = _check_probs(probs)
    c = _check_coverage(coverage)
    if len(p) == 0:
        raise ValueError("a confidence threshold needs at least one drawing")
    conf, order = _confidence_order(p)
    return float(conf[order[_n_covered(c, len(p)) - 1]])


# --- temperature scaling --------------------------------------------------------------------------


def _log_softmax(z: np.ndarray) -> np.ndarray:
    # Log-sum-exp with the row maximum taken out: exp never overflows, and the largest term is
    # exp(0) = 1, so the log never sees 0.
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def apply_temperature(logits: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax(logits / T)`` for logits ``(n, 10)`` (or one row ``(10,)``): probabilities of
    the same shape."""
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim not in (1, 2) or z.shape[-1] != N_CLASSES:
        raise ValueError(f"logits must be shaped (n, {N_CLASSES}) or ({N_CLASSES},), got {z.shape}")
    if not np.all(np.isfinite(z)):
        raise ValueError("logits must be finite numbers")
    t = _check_temperature(temperature)
    return np.exp(_log_softmax(z / t))


def fit_temperature(
    logits: np.ndarray, y: np.ndarray, bounds: tuple[float, float] = (0.05, 20.0)
) -> float:
    """The temperature ``T`` within ``bounds`` minimising the mean negative log-likelihood of the
    labels ``y (n,)`` under ``softmax(logits / T)``, logits ``(n, 10)``.

    Fit it on held-out rows (never the training rows, on which the network is over-sure). The
    search is on ``log T`` (a bounded 1-D search): halving and doubling ``T`` are equally far
    from 1 there, and the likelihood is smooth and has a single minimum along it.
    """
    z = _check_logits(logits)
    labels = _check_labels(y, len(z))
    if len(z) == 0:
        raise ValueError("fitting a temperature needs at least one labelled drawing")
    lo, hi = (float(b) for b in bounds)
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo < hi):
        raise ValueError(
            f"temperature bounds must be two positive numbers, low < high, got {bounds}"
        )
    rows = np.arange(len(z))

    def nll(log_t: float) -> float:
        return float(-np.mean(_log_softmax(z / math.exp(log_t))[rows, labels]))

    # Imported here: scipy.optimize costs ~0.4 s, and the app imports this module before its
    # first paint (the window formats probabilities with it).
    from scipy.optimize import minimize_scalar

    result = minimize_scalar(
        nll, bounds=(math.log(lo), math.log(hi)), method="bounded", options={"xatol": 1e-7}
    )
    return float(min(max(math.exp(result.x), lo), hi))


# --- display --------------------------------------------------------------------------------------


def format_probability(p: float) -> str:
    """A probability as people read it: ``"97.3%"``. Never claims certainty that is not there
    (``">99.9%"`` for anything below 1 that would round to 100.0%; ``"<0.1%"`` for a tiny but
    non-zero chance); ``"100.0%"`` and ``"0%"`` only for exactly 1 and 0. Never scientific
    notation."""
    v = float(p)
    if not (math.isfinite(v) and 0.0 <= v <= 1.0):
        raise ValueError(f"a probability must be a number between 0 and 1, got {p}")
    if v == 1.0:
        return "100.0%"
    if v == 0.0:
        return "0%"
    if v < 0.0005:
        return "<0.1%"
    text = f"{100 * v:.1f}"
    return ">99.9%" if text == "100.0" else f"{text}%"
