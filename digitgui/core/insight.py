"""Looking inside a trained network: where it fails, why it guessed, what it learned.

Everything here is NumPy on top of the notebook's own functions (:mod:`digitgui.core.mlp`); the
GUI's insight views only draw what these functions return.

- :func:`evaluate_test_set`: accuracy, precision, recall and the confusion matrix on the
  ``load_digits`` test rows, and which rows fall in each cell.
- :func:`explain`: gradient x input for one digit, backpropagated with ``err_softmax`` and
  ``err_relu``/``err_sigmoid`` down to the raw pixels; the runner-up class.
- :class:`NearestExamples`: the training digits closest to a digit in the model's standardised
  input space.
- :func:`weight_tiles`, :func:`hidden_activations`, :func:`unit_activity`: the first layer's
  weights as 8x8 pictures, every hidden layer's activations, dead ReLU units.
- :class:`GuessHistory` and :func:`guess_history`: a digit's probabilities under the snapshots of
  a training run.
- :func:`backprop_step`, :func:`notebook_worked_example`, :func:`model_update_step`: one
  gradient-descent step as labelled matrices with the notebook's names.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from .data import DigitsSplit, load_digits_split, one_hot
from .evaluation import EvalReport, evaluate
from .mlp import (
    ACTIVATIONS,
    MLP,
    err_softmax,
    stacked_forward,
)
from .model_io import DigitClassifier
from .step import (
    STAGES,
    LabelledMatrix,
    UpdateStep,
    backprop_step,
    digit_batch,
    model_update_step,
    notebook_worked_example,
    training_batch,
)

__all__ = [
    "OBJECTIVES",
    "SPLIT_ROWS",
    "STAGES",
    "Attribution",
    "GuessHistory",
    "LabelledMatrix",
    "NearestExamples",
    "Neighbours",
    "TestSetReport",
    "UnitActivity",
    "UpdateStep",
    "backprop_step",
    "digit_batch",
    "evaluate_split_rows",
    "evaluate_test_set",
    "explain",
    "guess_history",
    "hidden_activations",
    "input_gradient",
    "model_update_step",
    "notebook_worked_example",
    "snapshot_probabilities",
    "training_batch",
    "unit_activity",
    "weight_tiles",
]

N_CLASSES = 10


def _split(split: DigitsSplit | None) -> DigitsSplit:
    return split if split is not None else load_digits_split(42)


def _one_digit(digit: np.ndarray) -> np.ndarray:
    """A single raw digit as a row ``(1, 64)``."""
    rows, single = DigitClassifier.as_rows(digit)
    if not single:
        raise ValueError(f"expected one digit shaped (8, 8) or (64,), got {np.shape(digit)}")
    return rows


# --- Test set -------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class TestSetReport:
    """An :class:`EvalReport` on labelled digits, kept with the digits themselves so that the rows
    behind any confusion-matrix cell can be shown. ``digits`` is ``(n, 8, 8)`` raw 0..16;
    ``confusion`` ``(10, 10)`` (rows: true class, columns: predicted); ``precision`` and
    ``recall`` ``(10,)`` (NaN for a class that never occurs)."""

    __test__ = False  # a class whose name starts with "Test" is not a pytest test class

    report: EvalReport
    digits: np.ndarray

    @property
    def confusion(self) -> np.ndarray:
        return self.report.confusion

    @property
    def precision(self) -> np.ndarray:
        return self.report.precision

    @property
    def recall(self) -> np.ndarray:
        return self.report.recall

    @property
    def y_pred(self) -> np.ndarray:
        return self.report.y_pred

    @property
    def accuracy(self) -> float:
        return self.report.accuracy

    @property
    def n(self) -> int:
        return self.report.n

    @property
    def y_true(self) -> np.ndarray:
        return self.report.y_true

    @property
    def probabilities(self) -> np.ndarray:
        """``(n, 10)`` softmax output for every digit."""
        return self.report.probabilities

    def rows_in_cell(self, true_class: int, predicted_class: int) -> np.ndarray:
        """Indices ``(k,)`` of the digits of ``true_class`` that were read as
        ``predicted_class``; ``k`` equals ``confusion[true_class, predicted_class]``."""
        return np.flatnonzero((self.y_true == true_class) & (self.y_pred == predicted_class))


def evaluate_test_set(model: DigitClassifier, split: DigitsSplit | None = None) -> TestSetReport:
    """Classify the ``load_digits`` test rows (270 with the notebook's split) with ``model``."""
    split = _split(split)
    report = evaluate(model, split.X_test, split.y_test)
    return TestSetReport(report, np.asarray(split.X_test).reshape(-1, 8, 8))


# --- Why this guess -------------------------------------------------------------------------------


#: What an attribution explains: a class's ``"score"`` (its logit, the softmax's input) or its
#: ``"log_probability"``. The score does not saturate: for a digit read with 99.99% confidence the
#: gradient of log p is almost 0 everywhere (``1 - p`` multiplies it) while the score's is not.
OBJECTIVES = ("score", "log_probability")


def input_gradient(
    model: DigitClassifier,
    digits: np.ndarray,
    target,
    versus=None,
    objective: str = "score",
    member: int | None = None,
) -> np.ndarray:
    """Gradient of a class's ``objective`` (see :data:`OBJECTIVES`) with respect to each raw pixel
    (0..16 scale): ``(n, 64)`` for ``digits`` of any shape :meth:`DigitClassifier.as_rows` takes.

    ``target`` (and ``versus``, to explain ``target`` *against* another class: the gradient of
    ``score[target] - score[versus]``, which equals ``log(p[target] / p[versus])``) is a class or
    ``n`` classes. The backward pass is the notebook's: at the output, ``-err_softmax(A, y)`` is
    the gradient of ``log p_y`` and ``y`` itself that of the score; the hidden layers' error
    functions (``err_relu``/``err_sigmoid``, linear in the error they receive) carry it down; only
    the last pull-back, into the input, has no activation derivative. The model standardises
    ``(raw - mean) / scale`` and may clip: the chain rule divides by ``scale``, and a clipped pixel
    has gradient 0 (a small change does not move the clipped value).

    An ensemble's networks each have their own scores: ``member`` (0-based) picks one network;
    None averages the gradients of all of them, which is the gradient of their mean score (for
    one network, that network's own).
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
    if member is not None and not 0 <= member < model.n_members:
        raise IndexError(f"network {member} of a model with {model.n_members}")
    rows, _ = DigitClassifier.as_rows(digits)
    X = model.standardize(rows)
    networks = model.members if member is None else [model.members[member]]
    grad_standardised = np.mean(
        [_network_input_gradient(mlp, X, target, versus, objective) for mlp in networks], axis=0
    )
    z = (rows - model.mean) / model.scale
    moves = np.ones_like(z) if model.clip is None else np.abs(z) < model.clip
    return grad_standardised / model.scale * moves


def _network_input_gradient(mlp: MLP, X: np.ndarray, target, versus, objective: str) -> np.ndarray:
    """One network's gradient of the objective with respect to its standardised inputs
    ``X (n, 64)``: ``(n, 64)``."""
    activations = mlp.forward(X)  # [X, A1, ..., A_out]
    A_out = activations[-1]

    def output_gradient(classes) -> np.ndarray:
        y = one_hot(np.broadcast_to(np.asarray(classes, np.int64), (len(X),)), N_CLASSES)
        return y if objective == "score" else -err_softmax(A_out, y)

    G = output_gradient(target)
    if versus is not None:
        G = G - output_gradient(versus)
    _, err_hidden = ACTIVATIONS[mlp.activation]
    W = mlp.weights
    for l in range(len(W) - 1, 0, -1):
        G = err_hidden(activations[l], G, W[l])
    return G @ W[0][1:].T  # the input layer has no activation to differentiate


@dataclass(frozen=True, eq=False)
class Attribution:
    """Why the network read ``digit`` (8, 8) as it did.

    ``gradient`` (8, 8): how much the ``objective`` of ``target`` (minus that of ``versus``, when
    set) rises per unit of ink added to each pixel. ``contribution`` (8, 8): ``digit * gradient``,
    gradient x input measured from a blank canvas: positive where the ink drawn supports
    ``target``, negative where it argues against it; blank pixels contribute 0. For a ReLU network
    without clipping the score is linear around the digit, so the contributions add up to the
    score minus what a blank canvas would score in the same linear piece. ``clipped`` (8, 8):
    pixels whose standardised value the model clips (their gradient is 0). ``probabilities``
    (10,) are the whole model's; ``member``: the network of an ensemble whose gradient this is,
    or None for the mean over its networks (see :func:`input_gradient`).
    """

    digit: np.ndarray
    probabilities: np.ndarray
    target: int
    versus: int | None
    objective: str
    gradient: np.ndarray
    contribution: np.ndarray
    clipped: np.ndarray
    member: int | None = None

    @property
    def predicted(self) -> int:
        return int(np.argmax(self.probabilities))

    @property
    def runner_up(self) -> int:
        """The class with the second-highest probability."""
        return int(np.argsort(self.probabilities, kind="stable")[-2])

    @property
    def runner_up_probability(self) -> float:
        return float(self.probabilities[self.runner_up])


def explain(
    model: DigitClassifier,
    digit: np.ndarray,
    target: int | None = None,
    versus: int | None = None,
    objective: str = "score",
    member: int | None = None,
) -> Attribution:
    """Gradient x input of one raw digit ``(8, 8)`` for ``target`` (default: the model's
    predicted class), optionally against ``versus``, with the model's probabilities ``(10,)``.
    ``member``: one network of an ensemble, or None for the mean over its networks."""
    rows = _one_digit(digit)
    probs = model.predict_proba(rows)[0]
    target = int(np.argmax(probs)) if target is None else int(target)
    for c in (target, versus):
        if c is not None and not 0 <= c < N_CLASSES:
            raise ValueError(f"classes must lie in 0..9, got {c}")
    if versus == target:
        raise ValueError("a class cannot be explained against itself")
    g = input_gradient(model, rows, target, versus, objective, member)[0]
    clipped = np.zeros(64, dtype=bool)
    if model.clip is not None:
        clipped = np.abs((rows[0] - model.mean) / model.scale) >= model.clip
    return Attribution(
        digit=rows[0].reshape(8, 8).copy(),
        probabilities=probs,
        target=target,
        versus=None if versus is None else int(versus),
        objective=objective,
        gradient=g.reshape(8, 8),
        contribution=(rows[0] * g).reshape(8, 8),
        clipped=clipped.reshape(8, 8),
        member=member,
    )


# --- Nearest examples -----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Neighbours:
    """The ``k`` nearest training digits, nearest first: ``indices`` into the training rows,
    ``digits`` ``(k, 8, 8)`` raw, ``labels`` ``(k,)``, ``distances`` ``(k,)`` (Euclidean, in the
    model's standardised input space)."""

    indices: np.ndarray
    digits: np.ndarray
    labels: np.ndarray
    distances: np.ndarray


class NearestExamples:
    """The ``load_digits`` training digits as one model sees them, ready for nearest searches.

    The rows are standardised (and clipped) once by ``model.standardize``; a query is then one
    ``(n, 64) @ (64,)`` product, far below a millisecond for the 1,257 training digits.
    """

    def __init__(self, model: DigitClassifier, split: DigitsSplit | None = None) -> None:
        split = _split(split)
        self.model = model
        self.digits = np.asarray(split.X_train).reshape(-1, 8, 8)
        self.labels = np.asarray(split.y_train)
        self._Z = model.standardize(split.X_train)
        self._sq_norms = np.einsum("ij,ij->i", self._Z, self._Z)

    def __len__(self) -> int:
        return len(self.labels)

    def query(self, digit: np.ndarray, k: int = 6) -> Neighbours:
        """The ``k`` training digits nearest to the raw ``digit`` (8, 8)."""
        z = self.model.standardize(_one_digit(digit))[0]
        k = max(1, min(int(k), len(self)))
        # |a - b|^2 = |a|^2 - 2 a.b + |b|^2 ranks all rows with one product; the |z|^2 term is the
        # same for every row and is left out of the ranking.
        score = self._sq_norms - 2 * (self._Z @ z)
        idx = np.argpartition(score, k - 1)[:k] if k < len(self) else np.arange(len(self))
        # The expanded form loses digits to cancellation for near-identical rows: measure the k
        # winners directly, and break ties by row order so results are reproducible.
        dist = np.linalg.norm(self._Z[idx] - z, axis=1)
        order = np.lexsort((idx, dist))
        idx, dist = idx[order], dist[order]
        return Neighbours(idx, self.digits[idx].copy(), self.labels[idx].copy(), dist)


# --- Hidden units ---------------------------------------------------------------------------------


def _mlp(model: DigitClassifier | MLP) -> MLP:
    return model.mlp if isinstance(model, DigitClassifier) else model


def weight_tiles(model: DigitClassifier | MLP) -> np.ndarray:
    """The first layer's incoming weights as pictures: ``(h, 8, 8)``, tile ``j`` is column ``j``
    of ``W[0][1:]`` (the bias row dropped) laid out like the input digit. Of an ensemble, its
    first network's (``model.member(k)`` for another)."""
    W0 = _mlp(model).weights[0]
    if W0.shape[0] - 1 != 64:
        raise ValueError(f"the first layer has {W0.shape[0] - 1} inputs, not 64 pixels")
    return np.ascontiguousarray(W0[1:].T).reshape(-1, 8, 8)


def hidden_activations(model: DigitClassifier, digit: np.ndarray) -> list[np.ndarray]:
    """Activations of every hidden layer for one raw digit: ``[A1 (h1,), A2 (h2,), ...]``. Of an
    ensemble, its first network's (``model.member(k)`` for another)."""
    activations = model.mlp.forward(model.standardize(_one_digit(digit)))
    return [a[0] for a in activations[1:-1]]


@dataclass(frozen=True, eq=False)
class UnitActivity:
    """How often each hidden unit is active over a set of digits.

    ``active_fraction[l]`` ``(h_l,)``: the fraction of digits for which unit ``j`` of hidden layer
    ``l + 1`` is active (ReLU: output > 0; sigmoid: output > 0.5). ``dead[l]`` ``(h_l,)``: ReLU
    units that are never active; their output and gradient are 0 for every digit, so gradient
    descent can no longer change their incoming weights. Sigmoid units never die (all False).
    """

    active_fraction: list[np.ndarray]
    dead: list[np.ndarray]
    n_digits: int

    @property
    def n_dead(self) -> list[int]:
        """Dead units per hidden layer."""
        return [int(d.sum()) for d in self.dead]


def unit_activity(model: DigitClassifier, digits: np.ndarray | None = None) -> UnitActivity:
    """:class:`UnitActivity` over raw ``digits`` (default: the ``load_digits`` training rows). Of
    an ensemble, its first network's (``model.member(k)`` for another)."""
    if digits is None:
        digits = load_digits_split(42).X_train
    activations = model.mlp.forward(model.standardize(digits))[1:-1]
    relu = model.mlp.activation == "relu"
    fractions, dead = [], []
    for A in activations:
        active = A > 0 if relu else A > 0.5
        fraction = active.mean(axis=0) if len(A) else np.zeros(A.shape[1])
        fractions.append(fraction)
        dead.append(~active.any(axis=0) if relu else np.zeros(A.shape[1], dtype=bool))
    return UnitActivity(fractions, dead, len(activations[0]))


# --- History of a guess ---------------------------------------------------------------------------


def guess_history(records: Iterable, digit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The probabilities of one raw ``digit`` under every snapshot of a training run.

    ``records`` are :class:`~digitgui.core.training.Progress` records; those carrying a
    ``snapshot`` (or the final ``model``) count. Returns ``iterations (m,)`` and
    ``probabilities (m, 10)``.
    """
    iterations, models = [], []
    for r in records:
        model = r.snapshot if r.snapshot is not None else r.model
        if model is not None:
            iterations.append(r.iteration)
            models.append(model)
    return np.asarray(iterations, dtype=np.int64), snapshot_probabilities(models, digit)


def snapshot_probabilities(models: Sequence[DigitClassifier], digit: np.ndarray) -> np.ndarray:
    """Probabilities ``(m, 10)`` of one raw ``digit`` under each of ``m`` models.

    Snapshots of one run share their architecture and standardisation; then every layer is
    computed for all of them in one batched product (``(m, 1, fan_in) @ (m, fan_in, fan_out)``)
    instead of ``m`` calls of ``predict_proba``, whose fixed cost (~50 us) dominates a single digit.
    """
    if not models:
        return np.zeros((0, N_CLASSES))
    if not _same_inputs(models):
        return np.array([m.predict_proba(digit) for m in models])
    return _stacked_forward(models[0], _stack_weights(models), digit)


def _same_inputs(models: Sequence[DigitClassifier]) -> bool:
    """Whether the models are single uncalibrated networks sharing layer sizes, activation and
    input standardisation (snapshots of one run): then one stacked pass computes them all."""
    first = models[0]
    single = all(m.n_members == 1 and m.temperature == 1.0 for m in models)
    return single and all(_compatible(first, m) for m in models[1:])


def _compatible(a: DigitClassifier, b: DigitClassifier) -> bool:
    return (
        a.mlp.layer_sizes == b.mlp.layer_sizes
        and a.mlp.activation == b.mlp.activation
        and a.clip == b.clip
        and (a.mean is b.mean or np.array_equal(a.mean, b.mean))
        and (a.scale is b.scale or np.array_equal(a.scale, b.scale))
    )


def _stack_weights(models: Sequence[DigitClassifier]) -> list[np.ndarray]:
    """``W[l]`` of every model stacked: ``(m, fan_in + 1, fan_out)`` per layer."""
    return [np.stack([m.mlp.weights[l] for m in models]) for l in range(len(models[0].mlp.weights))]


def _stacked_forward(
    like: DigitClassifier, stacked: list[np.ndarray], digit: np.ndarray
) -> np.ndarray:
    Z = like.standardize(_one_digit(digit))  # (1, 64), broadcast over the models
    return stacked_forward(stacked, Z, like.mlp.activation)[:, 0, :]


class GuessHistory:
    """The snapshots of one training run and what they say about the current digit.

    :meth:`add` keeps a snapshot (one forward pass for the current digit); :meth:`set_digit`
    recomputes every row (batched over the snapshots, see :func:`snapshot_probabilities`). A
    record whose iteration is not after the last one starts a new run. Past ``max_snapshots``
    every second snapshot is dropped (the first and the newest stay), so memory stays bounded on a
    long run while the curve keeps its shape.
    """

    def __init__(self, max_snapshots: int = 400) -> None:
        if max_snapshots < 4:
            raise ValueError("max_snapshots must be at least 4")
        self.max_snapshots = max_snapshots
        self._iterations: list[int] = []
        self._models: list[DigitClassifier] = []
        self._probs: list[np.ndarray] = []
        self._digit: np.ndarray | None = None
        self._uniform = True  # every snapshot shares the first one's architecture and inputs
        self._stacked: list[np.ndarray] | None = None  # cache for set_digit, dropped on change

    def __len__(self) -> int:
        return len(self._iterations)

    def clear(self) -> None:
        self._iterations.clear()
        self._models.clear()
        self._probs.clear()
        self._uniform = True
        self._stacked = None

    @property
    def digit(self) -> np.ndarray | None:
        return self._digit

    def set_digit(self, digit: np.ndarray | None) -> None:
        """Follow another raw digit (8, 8), or none."""
        self._digit = None if digit is None else _one_digit(digit).reshape(8, 8).copy()
        if self._digit is None or not self._models:
            self._probs = []
            return
        if self._uniform:
            if self._stacked is None:
                self._stacked = _stack_weights(self._models)
            probs = _stacked_forward(self._models[0], self._stacked, self._digit)
        else:
            probs = [m.predict_proba(self._digit) for m in self._models]
        self._probs = list(probs)

    def add(self, iteration: int, model: DigitClassifier) -> None:
        """Keep ``model``, a snapshot taken at ``iteration``."""
        if self._iterations and iteration <= self._iterations[-1]:
            self.clear()
        if self._models and not _compatible(self._models[0], model):
            self._uniform = False
        self._iterations.append(int(iteration))
        self._models.append(model)
        self._stacked = None
        if self._digit is not None:
            self._probs.append(model.predict_proba(self._digit))
        if len(self._iterations) > self.max_snapshots:
            keep = [*range(0, len(self._iterations) - 1, 2), len(self._iterations) - 1]
            self._iterations = [self._iterations[i] for i in keep]
            self._models = [self._models[i] for i in keep]
            if self._probs:
                self._probs = [self._probs[i] for i in keep]

    def add_records(self, records: Iterable) -> int:
        """Add every :class:`Progress` record that carries a snapshot or the final model; returns
        how many were added."""
        added = 0
        for r in records:
            model = r.snapshot if r.snapshot is not None else r.model
            if model is not None:
                self.add(r.iteration, model)
                added += 1
        return added

    @property
    def iterations(self) -> np.ndarray:
        """``(m,)`` iterations of the kept snapshots."""
        return np.asarray(self._iterations, dtype=np.int64)

    @property
    def probabilities(self) -> np.ndarray | None:
        """``(m, 10)`` probabilities of the current digit, or None without a digit."""
        if self._digit is None:
            return None
        return np.asarray(self._probs, dtype=np.float64).reshape(-1, N_CLASSES)


# --- Step through one update ----------------------------------------------------------------------
# In :mod:`digitgui.core.step`; its names stay importable from here.


# --- Any rows of the split ------------------------------------------------------------------------

#: The parts of the notebook's split by name: the network learns from the ``"training"`` rows,
#: training watches the ``"validation"`` rows (early stopping, the temperature) without learning
#: from them, and the ``"test"`` rows play no part in training at all.
SPLIT_ROWS = ("training", "validation", "test")


def evaluate_split_rows(
    model: DigitClassifier, rows: str = "test", split: DigitsSplit | None = None
) -> TestSetReport:
    """Classify one part of the ``load_digits`` split with ``model``: ``rows`` is one of
    :data:`SPLIT_ROWS` (1257, 270 and 270 digits with the notebook's split). Training rows read
    better than test rows by how much the network overfits; ``rows="test"`` is
    :func:`evaluate_test_set`."""
    split = _split(split)
    parts = {
        "training": (split.X_train, split.y_train),
        "validation": (split.X_val, split.y_val),
        "test": (split.X_test, split.y_test),
    }
    if rows not in parts:
        raise ValueError(f"rows must be one of {', '.join(SPLIT_ROWS)}, got {rows!r}")
    X, y = parts[rows]
    return TestSetReport(evaluate(model, X, y), np.asarray(X).reshape(-1, 8, 8))
