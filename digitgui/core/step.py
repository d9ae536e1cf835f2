"""One gradient-descent step of the notebook's network, matrix by matrix, with its names.

The step-through view draws what these functions return; nothing here knows about Qt.

- :func:`backprop_step`: the forward pass, softmax broken down (``e = exp(Z - max)``, its row
  sums, ``p``), each row's cross-entropy, then the errors, gradients and new weights in either
  update order: ``"backprop"`` (textbook: every error from the forward pass's weights, as notebook
  cell 29 does) or ``"notebook"`` (cell 30's loop: ``W3`` is updated before ``E2`` is computed
  with the new ``W3``).
- :func:`update_step`: that step in one order, with how far the other order's errors and
  gradients are (relative norm).
- :func:`notebook_worked_example`, :func:`model_update_step`, :func:`fresh_model`: the sources.
- :func:`cell_arithmetic`: how one cell of one matrix is computed, written out.
- :func:`format_cost`, :func:`cost_cap_note`: a cross-entropy as it should be read (never below 0).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .data import DigitsSplit, load_digits_split, one_hot
from .mlp import (
    ACTIVATIONS,
    MLP,
    X_bias,
    cost_softmax,
    err_softmax,
    get_z,
    grad,
    update_weight,
)
from .model_io import DigitClassifier

__all__ = [
    "COST_CAP",
    "COST_FLOOR",
    "STAGES",
    "UPDATE_ORDERS",
    "LabelledMatrix",
    "UpdateStep",
    "backprop_step",
    "cell_arithmetic",
    "cost_cap_note",
    "digit_batch",
    "format_cost",
    "fresh_model",
    "model_update_step",
    "notebook_worked_example",
    "training_batch",
    "update_step",
]

N_CLASSES = 10

#: What each kind of matrix is, for the step-through view.
STAGES = ("given", "forward", "softmax", "cost", "error", "gradient", "update")

#: "backprop": every error from the forward pass's weights (textbook; notebook cell 29).
#: "notebook": each layer's weights updated before its error is sent back through them (cell 30).
UPDATE_ORDERS = ("backprop", "notebook")

#: The notebook's ``cost_softmax`` adds 1e-8 inside the log: a row given p ~ 1 costs
#: ``-log(1 + 1e-8) = -1e-8``, a hair below zero, and a row given p = 0 costs at most
#: ``-ln(1e-8) = 18.42``.
COST_FLOOR = 1e-8
COST_CAP = float(-np.log(COST_FLOOR))


def format_cost(cost: float) -> str:
    """A cross-entropy as it should be read: a value under the ``+1e-8`` floor (including the
    ``-1e-8`` that ``log(p + 1e-8)`` gives for p ~ 1) reads "~0 (the 1e-8 floor)"; never below 0."""
    cost = float(cost)
    if not np.isfinite(cost):
        return str(cost)
    if cost < COST_FLOOR:
        return "~0 (the 1e-8 floor)"
    return f"{cost:.6g}"


def cost_cap_note(row_costs: np.ndarray) -> str:
    """A sentence when some row's cost sits at the cap ``-ln(1e-8) = 18.4`` (its true class got a
    probability under about 1e-8), else ""."""
    rows = np.flatnonzero(np.asarray(row_costs, dtype=np.float64).reshape(-1) > COST_CAP - 0.1)
    if not rows.size:
        return ""
    which = ", ".join(map(str, rows[:6])) + (", ..." if rows.size > 6 else "")
    return (
        f"Row {which} gave its true class a probability below 1e-8: -log(p + 1e-8) stops at "
        f"-ln(1e-8) = {COST_CAP:.1f}, so the 1e-8 caps that row's cost (a true -log p would be "
        "larger)."
    )


@dataclass(frozen=True, eq=False)
class LabelledMatrix:
    """One matrix of a gradient-descent step: its notebook ``name``, ``value``, the notebook
    line that computes it (``formula``), what it means in words, and its ``stage`` (one of
    :data:`STAGES`). ``op`` and ``inputs`` say how each cell is computed from other matrices of
    the step (:func:`cell_arithmetic`); ``columns`` heads the columns (``y_onehot``: its
    classes), None for NumPy's indices."""

    name: str
    value: np.ndarray
    formula: str
    meaning: str
    stage: str
    op: str = ""
    inputs: tuple[str, ...] = ()
    columns: tuple[str, ...] | None = None


@dataclass(frozen=True, eq=False)
class UpdateStep:
    """One full gradient-descent step as the notebook writes it, matrix by matrix, in the order
    it computes them. ``cost`` is the cross-entropy before the step, ``cost_after`` with the new
    weights on the same batch. ``order`` is one of :data:`UPDATE_ORDERS`; ``differences`` maps
    ``E*``, ``G*`` and ``W*_new`` to ``|this - other order's| / |other order's|`` (filled by
    :func:`update_step`; empty otherwise)."""

    matrices: tuple[LabelledMatrix, ...]
    lr: float
    cost: float
    cost_after: float
    title: str = ""
    order: str = "backprop"
    activation: str = "relu"
    differences: dict[str, float] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [m.name for m in self.matrices]

    def __getitem__(self, name: str) -> np.ndarray:
        return self.matrix(name).value

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def matrix(self, name: str) -> LabelledMatrix:
        for m in self.matrices:
            if m.name == name:
                return m
        raise KeyError(name)

    @property
    def n_layers(self) -> int:
        return sum(1 for m in self.matrices if m.stage == "update")

    @property
    def new_weights(self) -> list[np.ndarray]:
        """``[W1_new, W2_new, ...]``."""
        return [self[f"W{l}_new"] for l in range(1, self.n_layers + 1)]

    @property
    def row_costs(self) -> np.ndarray:
        """``(n,)``: each row's ``-log(p(true class) + 1e-8)``."""
        return self[f"cost_rows{self.n_layers}"].reshape(-1)


def _lm(name, value, formula, meaning, stage, op="", inputs=(), columns=None) -> LabelledMatrix:
    return LabelledMatrix(name, value, formula, meaning, stage, op, tuple(inputs), columns)


def backprop_step(
    weights: Sequence[np.ndarray],
    X: np.ndarray,
    y_onehot: np.ndarray,
    lr: float,
    activation: str = "relu",
    title: str = "",
    order: str = "backprop",
    labels: Sequence | np.ndarray | None = None,
    classes: Sequence | None = None,
) -> UpdateStep:
    """One gradient-descent step of the notebook's network on ``X (n, fan_in)`` (no bias column)
    and ``y_onehot (n, n_classes)``, with every intermediate matrix named as in the notebook:
    ``X, y, y_onehot, W1..WL`` given; ``X_with_bias, Z1, A1, A1_bias, ..., ZL``; softmax as
    ``eL = exp(ZL - max)``, ``sum_eL``, ``AL``; ``cost_rowsL`` (each row's ``-log(p + 1e-8)``);
    then for ``l = L..1``: ``El, Gl, Wl_new``.

    ``order="backprop"``: ``E(l-1) = err(A(l-1), El, Wl)`` (textbook; notebook cell 29).
    ``order="notebook"``: ``E(l-1) = err(A(l-1), El, Wl_new)`` (cell 30's loop updates ``Wl``
    first). ``labels`` (n,) are the raw labels shown as ``y`` (default: the one-hot's columns);
    ``classes`` head ``y_onehot``'s columns (default 0, 1, ...). ``weights`` are not modified."""
    if order not in UPDATE_ORDERS:
        raise ValueError(f"order must be one of {', '.join(UPDATE_ORDERS)}, got {order!r}")
    act, err_hidden = ACTIVATIONS[activation]
    act_name, err_name = act.__name__, err_hidden.__name__
    W = [np.asarray(w, dtype=np.float64) for w in weights]
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(y_onehot, dtype=np.float64)
    L = len(W)
    n = len(X)
    classes = tuple(str(c) for c in (range(Y.shape[1]) if classes is None else classes))
    labels = (
        np.asarray(classes)[Y.argmax(axis=1)] if labels is None else np.asarray(labels)
    ).reshape(-1, 1)
    lr_text = f"{lr:g}"
    out: list[LabelledMatrix] = [
        _lm("X", X, "X", f"the batch: {n} samples, one per row", "given"),
        _lm(
            "y",
            labels.astype(np.float64),
            "y",
            "the raw labels, one per row: the class each sample should be",
            "given",
        ),
        _lm(
            "y_onehot",
            Y,
            "y_onehot",
            "the wanted outputs, one-hot rows: a 1 in the column of the row's class",
            "given",
            columns=classes,
        ),
    ]
    for l, w in enumerate(W, start=1):
        out.append(_lm(f"W{l}", w, f"W{l}", f"weights into layer {l}; row 0 is the bias", "given"))

    inputs_with_bias = ["X_with_bias"]  # name of the (bias-extended) input of each layer
    A_prev = X_bias(X)
    out.append(
        _lm(
            "X_with_bias",
            A_prev,
            "X_with_bias = X_bias(X)",
            "X with a column of ones in front: it meets row 0 of W1, the bias",
            "forward",
            "bias",
            ["X"],
        )
    )
    activations = [X]
    inputs = [A_prev]
    for l in range(1, L + 1):
        Z = get_z(A_prev, W[l - 1])
        src = inputs_with_bias[-1]
        out.append(
            _lm(
                f"Z{l}",
                Z,
                f"Z{l} = get_z({src}, W{l})",
                f"weighted sums of layer {l}: {src} @ W{l}",
                "forward",
                "matmul",
                [src, f"W{l}"],
            )
        )
        if l < L:
            A = act(Z)
            meaning = (
                f"layer {l}'s outputs: negative sums become 0"
                if activation == "relu"
                else f"layer {l}'s outputs, squashed into (0, 1)"
            )
            out.append(
                _lm(f"A{l}", A, f"A{l} = {act_name}(Z{l})", meaning, "forward", "act", [f"Z{l}"])
            )
            A_prev = X_bias(A)
            out.append(
                _lm(
                    f"A{l}_bias",
                    A_prev,
                    f"A{l}_bias = X_bias(A{l})",
                    f"A{l} with a column of ones for the next layer's bias",
                    "forward",
                    "bias",
                    [f"A{l}"],
                )
            )
            inputs_with_bias.append(f"A{l}_bias")
            activations.append(A)
            inputs.append(A_prev)
        else:
            # softmax(Z) exactly as the notebook computes it, one line at a time.
            e = np.exp(Z - np.max(Z, axis=-1, keepdims=True))
            s = np.sum(e, axis=-1, keepdims=True)
            A = e / s
            out += [
                _lm(
                    f"e{l}",
                    e,
                    f"e = exp(Z{l} - max(Z{l}, per row))",
                    "softmax, part 1: each score minus its row's largest, exponentiated (the "
                    "largest becomes 1; subtracting the max changes nothing but keeps exp finite)",
                    "softmax",
                    "exp_shift",
                    [f"Z{l}"],
                ),
                _lm(
                    f"sum_e{l}",
                    s,
                    "sum(e, per row)",
                    "softmax, part 2: each row's total",
                    "softmax",
                    "rowsum",
                    [f"e{l}"],
                ),
                _lm(
                    f"A{l}",
                    A,
                    f"A{l} = softmax(Z{l}) = e / sum(e)",
                    "the network's probabilities p: each row divided by its total, so it sums to 1",
                    "softmax",
                    "divide",
                    [f"e{l}", f"sum_e{l}"],
                ),
            ]
            activations.append(A)
    row_costs = -np.sum(Y * np.log(activations[-1] + COST_FLOOR), axis=1, keepdims=True)
    out.append(
        _lm(
            f"cost_rows{L}",
            row_costs,
            f"-log(A{L}[true class] + 1e-8), per row",
            "each row's cross-entropy: minus the log of the probability given to its true "
            f"class (0 when p = 1, at most -ln(1e-8) = {COST_CAP:.1f}); the cost is their mean",
            "cost",
            "cost_row",
            [f"A{L}", "y_onehot"],
        )
    )
    cost = cost_softmax(Y, activations[-1])

    E = err_softmax(activations[-1], Y)
    E_formula = f"E{L} = err_softmax(A{L}, y_onehot)"
    E_meaning = "output error: probabilities minus the wanted one-hot rows"
    E_op, E_inputs = "err_softmax", [f"A{L}", "y_onehot"]
    new_weights = []
    for l in range(L, 0, -1):
        out.append(_lm(f"E{l}", E, E_formula, E_meaning, "error", E_op, E_inputs))
        src = inputs_with_bias[l - 1]
        G = grad(E, inputs[l - 1])
        out.append(
            _lm(
                f"G{l}",
                G,
                f"G{l} = grad(E{l}, {src})",
                f"gradient of the cost for W{l}: {src}.T @ E{l} / {n}",
                "gradient",
                "grad",
                [f"E{l}", src],
            )
        )
        W_new = update_weight(W[l - 1], lr, G)
        new_weights.append(W_new)
        out.append(
            _lm(
                f"W{l}_new",
                W_new,
                f"W{l}_new = update_weight(W{l}, {lr_text}, G{l})",
                f"W{l} moved a step of {lr_text} against its gradient",
                "update",
                "update",
                [f"W{l}", f"G{l}"],
            )
        )
        if l > 1:
            notebook = order == "notebook"
            W_back = W_new if notebook else W[l - 1]
            w_name = f"W{l}_new" if notebook else f"W{l}"
            E = err_hidden(activations[l - 1], E, W_back)
            E_formula = f"E{l - 1} = {err_name}(A{l - 1}, E{l}, {w_name})"
            E_meaning = (
                f"layer {l - 1}'s error: E{l} sent back through {w_name} (bias row dropped), "
                + (
                    f"zero where A{l - 1} was 0"
                    if activation == "relu"
                    else f"times the sigmoid's slope A{l - 1} (1 - A{l - 1})"
                )
                + (
                    f"; the notebook's order: W{l} was already updated"
                    if notebook
                    else f"; textbook order: the W{l} of the forward pass"
                )
            )
            E_op, E_inputs = "err_hidden", [f"A{l - 1}", f"E{l}", w_name]
    new_weights.reverse()
    cost_after = cost_softmax(Y, MLP(new_weights, activation).predict_proba(X))
    return UpdateStep(tuple(out), float(lr), cost, cost_after, title, order, activation)


def _relative_norm(a: np.ndarray, b: np.ndarray) -> float:
    base = float(np.linalg.norm(b))
    diff = float(np.linalg.norm(np.asarray(a) - np.asarray(b)))
    return diff / base if base > 0 else (0.0 if diff == 0 else float("inf"))


def update_step(*args, order: str = "backprop", **kwargs) -> UpdateStep:
    """:func:`backprop_step` in ``order``, with ``differences``: for each ``E*``, ``G*`` and
    ``W*_new``, ``|this - other order's| / |other order's|`` (0 for the output layer, which both
    orders compute alike)."""
    if order not in UPDATE_ORDERS:
        raise ValueError(f"order must be one of {', '.join(UPDATE_ORDERS)}, got {order!r}")
    step = backprop_step(*args, order=order, **kwargs)
    other = backprop_step(*args, order=UPDATE_ORDERS[1 - UPDATE_ORDERS.index(order)], **kwargs)
    diffs = {
        m.name: _relative_norm(m.value, other[m.name])
        for m in step.matrices
        if m.stage in ("error", "gradient", "update")
    }
    return dataclasses.replace(step, differences=diffs)


#: Notebook cell 29: four samples with three features, classes 1, 2 and 3, weights and lr 0.1.
WORKED_EXAMPLE_X = np.array([[1.2, -0.4, 0.8], [-0.6, 2, -0.5], [0.3, -1.2, 1.7], [2.1, 0.5, -0.8]])
WORKED_EXAMPLE_Y = np.array([3, 1, 2, 3])
WORKED_EXAMPLE_W1 = np.array(
    [[0, 0, 0], [0.02, -0.01, 0.03], [-0.05, 0.04, 0.01], [0.03, 0.02, -0.02]]
)
WORKED_EXAMPLE_LR = 0.1


def notebook_worked_example(order: str = "backprop") -> UpdateStep:
    """Notebook cell 29 step by step: ``X (4, 3)``, ``y = [3, 1, 2, 3]``, ``W1 = W2`` (4, 3), lr
    0.1. In the cell's own (textbook) order its ``W1_new`` and ``W2_new`` are the matrices the
    notebook prints; ``order="notebook"`` shows what cell 30's order would make of it."""
    # The notebook one-hot encodes with OneHotEncoder, whose columns are the sorted distinct
    # labels (1, 2, 3 here), so class 3 is column 2.
    classes, column = np.unique(WORKED_EXAMPLE_Y, return_inverse=True)
    y_onehot = one_hot(column, len(classes))
    return update_step(
        [WORKED_EXAMPLE_W1.copy(), WORKED_EXAMPLE_W1.copy()],
        WORKED_EXAMPLE_X,
        y_onehot,
        WORKED_EXAMPLE_LR,
        "relu",
        "Notebook cell 29: 4 samples, 3 features, 3 classes, lr 0.1",
        order=order,
        labels=WORKED_EXAMPLE_Y,
        classes=classes,
    )


def _split(split: DigitsSplit | None) -> DigitsSplit:
    return split if split is not None else load_digits_split(42)


def digit_batch(
    model: DigitClassifier, digits: np.ndarray, labels
) -> tuple[np.ndarray, np.ndarray]:
    """Raw digits (any shape :meth:`DigitClassifier.as_rows` takes) and their labels as a batch
    for :func:`model_update_step`: standardised ``X (n, 64)`` and one-hot ``y (n, 10)``."""
    X = model.standardize(digits)
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    if len(labels) != len(X):
        raise ValueError(f"{len(X)} digits but {len(labels)} labels")
    return X, one_hot(labels, N_CLASSES)


def training_batch(
    model: DigitClassifier, rows: Sequence[int] | np.ndarray, split: DigitsSplit | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``load_digits`` training rows as network inputs: standardised ``X (n, 64)`` (as ``model``
    sees them), one-hot ``y (n, 10)`` and the labels ``(n,)``."""
    split = _split(split)
    rows = np.asarray(rows, dtype=np.int64).reshape(-1)
    if rows.size == 0:
        raise ValueError("a batch needs at least one row")
    if rows.min() < 0 or rows.max() >= len(split.y_train):
        raise ValueError(f"training rows must lie in 0..{len(split.y_train) - 1}")
    labels = np.asarray(split.y_train)[rows]
    X, y = digit_batch(model, split.X_train[rows], labels)
    return X, y, labels


def model_update_step(
    model: DigitClassifier,
    X: np.ndarray,
    y_onehot: np.ndarray,
    lr: float,
    title: str = "",
    order: str = "backprop",
) -> UpdateStep:
    """One gradient-descent step of ``model``'s network on standardised ``X (n, 64)`` and
    ``y_onehot (n, 10)`` (see :func:`training_batch`) in ``order``; names ``Z1..Z3``,
    ``E3..E1``, ``G3..G1``, ``W*_new`` for a 64-32-32-10 network. The model itself is not
    changed. Of an ensemble, its first network is stepped (``model.member(k)`` for another):
    each of its networks is trained on its own."""
    labels = np.asarray(y_onehot).argmax(axis=1)
    return update_step(
        model.mlp.weights, X, y_onehot, lr, model.mlp.activation, title, order=order, labels=labels
    )


def fresh_model(config, split: DigitsSplit | None = None) -> DigitClassifier:
    """The network a run of ``config`` (a :class:`~digitgui.core.training.TrainConfig`) starts
    from, at iteration 0: ``MLP.create(config.layer_sizes, config.activation, config.init,
    config.seed)``, standardising inputs with the split's training statistics (and
    ``config.clip``) as training does. Its metadata carries the config as a trained model's
    does."""
    split = _split(split)
    mlp = MLP.create(config.layer_sizes, config.activation, config.init, config.seed)
    metadata = {"training": config.to_dict(), "iteration": 0}
    return DigitClassifier(mlp, split.mean, split.scale, config.clip, metadata)


# --- How one cell is computed ---------------------------------------------------------------------


# The arithmetic of one cell lives in its own module; it reads UpdateStep from here.
from .step_arithmetic import cell_arithmetic  # noqa: E402
