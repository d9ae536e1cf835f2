"""The notebook's multi-layer perceptron, function for function.

Everything a learner met in ``shared/seed/notebook.txt`` is here under the same name and with the
same maths: ``get_z``, ``relu``, ``softmax``, ``X_bias``, ``err_softmax``, ``err_relu``, ``grad``,
``update_weight``... Weight matrices keep the notebook's layout: ``W[l]`` has shape
``(fan_in + 1, fan_out)`` and **row 0 is the bias**, so ``X_bias(A) @ W`` is one layer.

The functions take an optional ``out=`` array. The notebook calls them without it and gets fresh
arrays; the training loop (:class:`Workspace`) runs the same NumPy operations on preallocated
buffers, written out in its passes, so that one iteration allocates nothing large and makes no
Python call it can spare. Freeing and re-faulting ~300 KB temporaries every iteration costs more
than the arithmetic on this network (shared/notes/training-speed.md).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "ACTIVATIONS",
    "INITS",
    "MLP",
    "Workspace",
    "X_bias",
    "cost_softmax",
    "err_mse",
    "err_relu",
    "err_sigmoid",
    "err_softmax",
    "feature_major",
    "get_z",
    "grad",
    "relu",
    "sigmoid",
    "softmax",
    "stacked_forward",
    "update_weight",
]


# --- The notebook's functions ---------------------------------------------------------------------


def get_z(X: np.ndarray, w: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Pre-activation of one layer: ``X (n, fan_in + 1)`` with its bias column, times ``w``."""
    return np.matmul(X, w, out=out)


def relu(Z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """max(0, Z), element-wise."""
    return np.maximum(0, Z, out=out)


def softmax(Z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Row-wise softmax of ``Z (n, k)``.

    Subtracting each row's maximum first changes nothing mathematically but keeps ``exp`` from
    overflowing when a logit is large.
    """
    Z = np.asarray(Z)
    shifted = np.subtract(Z, np.max(Z, axis=-1, keepdims=True), out=out)
    e = np.exp(shifted, out=shifted)
    return np.divide(e, np.sum(e, axis=-1, keepdims=True), out=e)


def sigmoid(Z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """1 / (1 + exp(-Z)), element-wise."""
    # np.exp(-Z) overflows to inf for Z < -709; 1 / (1 + inf) is then exactly 0, which is the
    # right limit, so the overflow warning is silenced rather than the formula changed.
    with np.errstate(over="ignore"):
        r = np.exp(np.negative(Z, out=out), out=out)
    r = np.add(r, 1, out=r)
    return np.divide(1, r, out=r)


def X_bias(X: np.ndarray) -> np.ndarray:
    """``X (n, m)`` with a leading column of ones: ``(n, m + 1)``. The ones meet row 0 of ``W``."""
    ones = np.ones((X.shape[0], 1), dtype=np.result_type(X.dtype, np.float32))
    return np.hstack((ones, X))


def err_softmax(A: np.ndarray, y: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Output error of a softmax layer trained with cross-entropy: ``A - y``.

    The derivative of cross-entropy with respect to the softmax *inputs* collapses to this
    difference because softmax's Jacobian and the ``-y / A`` of the log cancel; that pairing is why
    the output layer is softmax and the cost is cross-entropy.
    """
    return np.subtract(A, y, out=out)


def err_relu(
    A: np.ndarray, err_next: np.ndarray, w_next: np.ndarray, out: np.ndarray | None = None
) -> np.ndarray:
    """Error of a ReLU layer with activations ``A (n, h)`` from the next layer's error.

    ``w_next[1:]`` drops the bias row: the bias input is a constant 1, no error flows back into it.
    """
    e = np.matmul(err_next, w_next[1:].T, out=out)
    return np.multiply(e, A > 0, out=e)


def err_sigmoid(
    A: np.ndarray, err_next: np.ndarray, w_next: np.ndarray, out: np.ndarray | None = None
) -> np.ndarray:
    """Error of a sigmoid layer: the next error pulled back, times sigmoid' = A (1 - A)."""
    e = np.matmul(err_next, w_next[1:].T, out=out)
    return np.multiply(e, A * (1 - A), out=e)


def err_mse(A: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Output error of a linear layer trained with squared error: ``2 (A - y)``."""
    return 2 * (A - y)


def cost_softmax(y: np.ndarray, A: np.ndarray) -> float:
    """Mean cross-entropy of probabilities ``A (n, k)`` against one-hot ``y (n, k)``.

    The ``1e-8`` keeps ``log(0)`` finite, exactly as in the notebook.
    """
    return float(-np.mean(np.sum(y * np.log(A + 1e-8), axis=1)))


def grad(err: np.ndarray, X: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Gradient of the cost for the weights between ``X (n, fan_in + 1)`` and ``err (n, fan_out)``,
    averaged over the ``n`` rows: shape ``(fan_in + 1, fan_out)``, like ``W``."""
    g = np.matmul(X.T, err, out=out)
    return np.divide(g, X.shape[0], out=g)


def update_weight(
    w: np.ndarray, lr: float, grad: np.ndarray, out: np.ndarray | None = None
) -> np.ndarray:
    """One gradient-descent step: ``w - lr * grad`` (pass ``out=w`` to update in place)."""
    if out is None:
        return w - lr * grad
    return np.subtract(w, np.multiply(grad, lr), out=out)


# --- Tables ---------------------------------------------------------------------------------------

#: Hidden activations: name -> (forward function, error function of the notebook's shape).
ACTIVATIONS = {
    "relu": (relu, err_relu),
    "sigmoid": (sigmoid, err_sigmoid),
}

#: Weight initialisations understood by :meth:`MLP.create`.
INITS = ("he", "glorot", "notebook")


# --- The network ----------------------------------------------------------------------------------


def _check_weights(weights: Sequence[np.ndarray]) -> list[np.ndarray]:
    if len(weights) < 1:
        raise ValueError("an MLP needs at least one weight matrix")
    out = []
    for l, w in enumerate(weights):
        w = np.asarray(w)
        if w.ndim != 2 or w.shape[0] < 2 or w.shape[1] < 1:
            raise ValueError(
                f"W[{l}] must be 2-D with shape (fan_in + 1, fan_out), got shape {w.shape}"
            )
        if not np.issubdtype(w.dtype, np.floating):
            w = w.astype(np.float64)
        if out and out[-1].shape[1] + 1 != w.shape[0]:
            raise ValueError(
                f"W[{l}] has {w.shape[0]} rows but the layer before it has "
                f"{out[-1].shape[1]} units (+1 bias row expected)"
            )
        out.append(w)
    return out


class MLP:
    """A fully connected network: hidden layers of ``activation``, a softmax output layer.

    ``weights[l]`` has shape ``(fan_in + 1, fan_out)`` with row 0 the bias, the notebook's layout.
    The arrays are used as given (not copied); :meth:`step` updates them in place.
    """

    def __init__(self, weights: Sequence[np.ndarray], activation: str = "relu") -> None:
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}"
            )
        self.weights: list[np.ndarray] = _check_weights(weights)
        self.activation = activation

    # construction ---------------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        layer_sizes: Sequence[int],
        activation: str = "relu",
        init: str = "he",
        seed: int | None = None,
    ) -> MLP:
        """A new network with ``layer_sizes = (inputs, hidden..., outputs)``, e.g. (64, 32, 32, 10).

        ``init="notebook"`` draws exactly what the notebook draws: ``np.random.seed(seed)`` then
        ``randn(fan_in + 1, fan_out)`` per layer in order (a private ``RandomState(seed)`` gives the
        same numbers without touching NumPy's global state). ``"he"`` (for ReLU) and ``"glorot"``
        (for sigmoid) scale the draws to the fan-in so activations neither explode nor vanish, and
        start every bias at zero.
        """
        sizes = [int(s) for s in layer_sizes]
        if len(sizes) < 2 or any(s < 1 for s in sizes):
            raise ValueError(f"layer_sizes must be at least two positive sizes, got {layer_sizes}")
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")
        weights = []
        if init == "notebook":
            rs = np.random.RandomState(seed)
            for fan_in, fan_out in itertools.pairwise(sizes):
                weights.append(rs.randn(fan_in + 1, fan_out))
        else:
            rng = np.random.default_rng(seed)
            for fan_in, fan_out in itertools.pairwise(sizes):
                w = np.zeros((fan_in + 1, fan_out))
                if init == "he":
                    w[1:] = rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)
                else:
                    limit = np.sqrt(6.0 / (fan_in + fan_out))
                    w[1:] = rng.uniform(-limit, limit, (fan_in, fan_out))
                weights.append(w)
        return cls(weights, activation)

    def copy(self) -> MLP:
        """A deep copy (the weights are copied)."""
        return MLP([w.copy() for w in self.weights], self.activation)

    # shape ----------------------------------------------------------------------------------------

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        """``(inputs, hidden..., outputs)``."""
        return (self.weights[0].shape[0] - 1, *(w.shape[1] for w in self.weights))

    @property
    def dtype(self) -> np.dtype:
        return self.weights[0].dtype

    def _check_input(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=self.dtype)
        if X.ndim == 1:
            X = X[None, :]
        if X.ndim != 2 or X.shape[1] != self.layer_sizes[0]:
            raise ValueError(
                f"expected inputs of shape (n, {self.layer_sizes[0]}), got {np.shape(X)}"
            )
        return X

    # forward / backward ---------------------------------------------------------------------------

    def forward(self, X: np.ndarray) -> list[np.ndarray]:
        """Activations of every layer for ``X (n, fan_in)``: ``[X, A1, ..., A_out]``, no bias
        columns; the last entry is the softmax output ``(n, n_classes)``."""
        X = self._check_input(X)
        act, _ = ACTIVATIONS[self.activation]
        activations = [X]
        for l, W in enumerate(self.weights):
            Z = get_z(X_bias(activations[-1]), W)
            last = l == len(self.weights) - 1
            activations.append(softmax(Z) if last else act(Z))
        return activations

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities ``(n, n_classes)`` for ``X (n, fan_in)`` (no bias column)."""
        return self.forward(X)[-1]

    def logits(self, X: np.ndarray) -> np.ndarray:
        """The output layer's scores before the softmax, ``Z_out (n, n_classes)``."""
        X = self._check_input(X)
        act, _ = ACTIVATIONS[self.activation]
        A = X
        for W in self.weights[:-1]:
            A = act(get_z(X_bias(A), W))
        return get_z(X_bias(A), self.weights[-1])

    def loss_and_grads(self, X: np.ndarray, Y_onehot: np.ndarray) -> tuple[float, list[np.ndarray]]:
        """Cross-entropy cost (the notebook's ``cost_softmax``) and its gradient for every weight
        matrix, averaged over the batch; ``grads[l]`` has the shape of ``weights[l]``."""
        X = self._check_input(X)
        Y = np.asarray(Y_onehot, dtype=self.dtype)
        ws = Workspace(self.layer_sizes, X.shape[0], self.dtype, self.activation)
        ws.set_input(X_bias(X))
        cost = ws.forward(self.weights, Y)
        grads = [np.empty_like(w) for w in self.weights]
        ws.backward(self.weights, Y, grads)
        return cost, grads

    def step(self, X: np.ndarray, Y_onehot: np.ndarray, lr: float) -> float:
        """One full-batch gradient-descent step with textbook backprop: every error is computed
        from the weights *before* the update, then all layers are updated. Returns the cost of the
        forward pass (before the update)."""
        cost, grads = self.loss_and_grads(X, Y_onehot)
        for w, g in zip(self.weights, grads, strict=True):
            update_weight(w, lr, g, out=w)
        return cost


@dataclass(eq=False)
class Workspace:
    """Preallocated arrays for forward and backward passes over batches of ``n`` rows.

    Every array is exposed in the notebook's orientation, ``(n, features)``, but stored
    feature-major (its transpose is C-contiguous). The softmax's max and sum then run along
    contiguous memory and an activation written into ``A_bias[l][:, 1:]`` fills a contiguous
    block; on this network that halves the time spent outside the matrix products. The passes do
    what the notebook's functions do (``get_z``, ``relu``, ``softmax``, ``cost_softmax``,
    ``err_softmax``, ``grad``, ``err_relu``), with their NumPy calls written out on these views.

    ``A_bias[l]`` is the input of layer ``l`` with its bias column of ones already in place
    (``A_bias[0]`` is filled by :meth:`set_input` or :meth:`take_rows`); ``A_bias[l][:, 1:]`` is
    the activation ``A_l`` itself, so ``X_bias`` never copies. ``Z[l]`` receives layer ``l``'s
    pre-activation: for a hidden layer it *is* ``A_bias[l + 1][:, 1:]`` (the product is written
    there and the activation applied in place), the last one becomes the softmax output.

    ``E[l]``, the error at layer ``l``'s output, is the same memory as ``Z[l]``: the backward pass
    writes each error over the activation (or output) it no longer needs, once that activation's
    derivative is taken. One set of arrays instead of two keeps an iteration's memory within the
    processor's cache on this network (7 % less time per iteration). So :meth:`backward`
    consumes the last :meth:`forward`: one backward per forward, and read :attr:`output` first.

    A pass allocates nothing but a few small views: the activations' derivatives (ReLU's mask
    ``A > 0``), each row's softmax maximum and sum and the probabilities the cost picks have
    buffers here too.
    """

    layer_sizes: tuple[int, ...]
    n: int
    dtype: np.dtype | type = np.float64
    activation: str = "relu"

    def __post_init__(self) -> None:
        self.dtype = np.dtype(self.dtype)
        sizes = tuple(int(s) for s in self.layer_sizes)
        self.layer_sizes = sizes
        n, dt = self.n, self.dtype
        if self.activation not in ("relu", "sigmoid"):
            raise ValueError(f"the workspace has no derivative for {self.activation!r}")
        self._act = ACTIVATIONS[self.activation][0]
        self._relu = self.activation == "relu"
        self.A_bias = [np.ones((s + 1, n), dt).T for s in sizes[:-1]]
        self._A_bias_T = [A.T for A in self.A_bias]
        self.Z = [A[:, 1:] for A in self.A_bias[1:]]
        self.Z.append(np.empty((sizes[-1], n), dt).T)
        self.E = self.Z
        # Scratch: each hidden activation's derivative (a boolean mask for ReLU), each row's
        # softmax max and then sum, the flat index and the value of each row's true-class
        # probability for the cost.
        work_dtype = np.bool_ if self._relu else dt
        self._work = [np.empty((s, n), work_dtype).T for s in sizes[1:-1]]
        self._row = np.empty((1, n), dt).T
        self._rows = np.arange(n, dtype=np.intp)
        self._flat = np.empty(n, np.intp)
        self._flat_of: np.ndarray | None = None  # the y_index whose flat index _flat holds
        self._picked = np.empty(n, dt)
        # The output as one flat run of memory, class-major: row i's class c is at c * n + i.
        self._output_flat = self.Z[-1].T.reshape(-1)

    @property
    def output(self) -> np.ndarray:
        """The softmax output ``(n, n_classes)`` of the last :meth:`forward` (until
        :meth:`backward` turns it into the output error)."""
        return self.Z[-1]

    def set_input(self, Xb: np.ndarray) -> None:
        """Copy ``Xb (n, fan_in + 1)`` (with its bias column) into ``A_bias[0]``."""
        np.copyto(self.A_bias[0], Xb)

    def take_rows(self, Xb: np.ndarray, rows: np.ndarray) -> None:
        """Gather ``Xb[rows]`` into ``A_bias[0]``; fastest when ``Xb`` is feature-major
        (``Xb.T`` C-contiguous), as :func:`feature_major` makes it."""
        np.take(Xb.T, rows, axis=1, out=self.A_bias[0].T)

    def forward(
        self,
        weights: Sequence[np.ndarray],
        Y: np.ndarray | None = None,
        y_index: np.ndarray | None = None,
    ) -> float:
        """Forward pass from ``A_bias[0]``; returns the cost if ``Y`` (one-hot) or ``y_index``
        (the class of each row) is given, else NaN."""
        # The notebook's get_z, relu and softmax, written out: on this network a Python call
        # costs as much as a small array operation, and a training run makes millions of them.
        A_bias, Z, relu_layers = self.A_bias, self.Z, self._relu
        last = len(weights) - 1
        for l in range(last):
            z = np.matmul(A_bias[l], weights[l], out=Z[l])  # get_z, into A_bias[l + 1][:, 1:]
            if relu_layers:
                np.maximum(z, 0.0, out=z)  # relu, in place
            else:
                self._act(z, out=z)
        A = np.matmul(A_bias[last], weights[last], out=Z[last])
        row = self._row  # softmax(A, out=A), its row max and sum in a buffer:
        np.subtract(A, np.maximum.reduce(A, axis=-1, keepdims=True, out=row), out=A)
        np.exp(A, out=A)
        np.divide(A, np.add.reduce(A, axis=-1, keepdims=True, out=row), out=A)
        if y_index is not None:
            # cost_softmax without its (n, k) temporaries. For one-hot targets,
            # sum(y * log(A + 1e-8)) over a row is exactly the log of the true class's
            # probability (the other terms are 0 * finite = 0), and the mean of those logs is
            # summed in the order np.mean sums them: the same number, bit for bit.
            flat = self._flat if y_index is self._flat_of else self._flat_index(y_index)
            p = self._output_flat.take(flat, out=self._picked)
            np.log(np.add(p, 1e-8, out=p), out=p)
            return float(-(np.add.reduce(p) / self.n))
        if Y is not None:
            return cost_softmax(Y, A)
        return float("nan")

    def _flat_index(self, y_index: np.ndarray) -> np.ndarray:
        """Where each row's true-class probability sits in the flat output: ``y * n + row``.
        Kept for the next call when ``y_index`` is an array nobody can write (read-only and
        owning its memory), as the training loop and the evaluator pass."""
        flat = np.multiply(y_index, self.n, out=self._flat, dtype=np.intp)
        np.add(flat, self._rows, out=flat)
        frozen = (
            isinstance(y_index, np.ndarray) and not y_index.flags.writeable and y_index.base is None
        )
        self._flat_of = y_index if frozen else None
        return flat

    def backward(
        self,
        weights: Sequence[np.ndarray],
        Y: np.ndarray,
        grads: Sequence[np.ndarray],
        update=None,
    ) -> None:
        """Backpropagate from the last :meth:`forward` into ``grads`` (shaped like ``weights``).

        With ``update=None`` this is textbook backprop. ``update(l, grads[l])`` is called for each
        layer as soon as its gradient exists, *before* the error is pulled back through
        ``weights[l]``: that is the notebook's order (it updates ``W3`` and then computes ``E2``
        from the new ``W3``). Passing an ``update`` therefore reproduces the notebook exactly.

        The errors are written over the forward pass's activations and output (see the class).
        """
        # err_softmax, grad and err_relu (or err_sigmoid) written out, as in forward.
        A_bias_T, Z, work, n = self._A_bias_T, self.Z, self._work, self.n
        e = np.subtract(Z[-1], Y, out=Z[-1])  # err_softmax, over the output
        for l in range(len(weights) - 1, -1, -1):
            g = np.matmul(A_bias_T[l], e, out=grads[l])  # grad: X.T @ err / n
            np.divide(g, n, out=g)
            if update is not None:
                update(l, g)
            if l > 0:
                # err_relu(A, e, W) = e @ W[1:].T * (A > 0), with A = Z[l - 1]: its derivative
                # first, then the error goes into A's memory.
                A, d = Z[l - 1], work[l - 1]
                if self._relu:
                    np.greater(A, 0.0, out=d)
                else:  # err_sigmoid: sigmoid' = A (1 - A)
                    np.multiply(A, np.subtract(1, A, out=d), out=d)
                e = np.matmul(e, weights[l][1:].T, out=A)
                np.multiply(e, d, out=e)


def stacked_forward(
    stacked: Sequence[np.ndarray], X: np.ndarray, activation: str = "relu"
) -> np.ndarray:
    """Softmax outputs of ``k`` networks of one shape at once: ``(k, n, n_classes)``.

    ``stacked[l]`` is ``W[l]`` of every network, ``(k, fan_in + 1, fan_out)``; ``X`` is
    ``(n, fan_in)`` (shared by all networks) or ``(k, n, fan_in)``. Each layer is one batched
    product instead of ``k`` calls, whose fixed cost dominates when ``n`` is small (one drawing).
    """
    act, _ = ACTIVATIONS[activation]
    A = np.asarray(X, dtype=np.float64)
    if A.ndim == 2:
        A = A[None]  # broadcast over the networks
    last = len(stacked) - 1
    for l, W in enumerate(stacked):
        # get_z(X_bias(A), W) for every network at once: adding the bias row W[:, 0] is the same
        # as multiplying a leading column of ones by it.
        Z = np.matmul(A, W[:, 1:, :]) + W[:, :1, :]
        A = softmax(Z) if l == last else act(Z)
    return A


def feature_major(X: np.ndarray, dtype=None) -> np.ndarray:
    """``X (n, m)`` as an array of the same shape whose transpose is C-contiguous (see
    :class:`Workspace`): gathering rows from it for a mini-batch reads contiguous memory."""
    return np.ascontiguousarray(np.asarray(X, dtype=dtype).T).T
