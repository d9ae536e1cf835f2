"""The notebook's multi-layer perceptron, function for function.

Everything a learner met in ``shared/seed/notebook.txt`` is here under the same name and with the
same maths: ``get_z``, ``relu``, ``softmax``, ``X_bias``, ``err_softmax``, ``err_relu``, ``grad``,
``update_weight``... Weight matrices keep the notebook's layout: ``W[l]`` has shape
``(fan_in + 1, fan_out)`` and **row 0 is the bias**, so ``X_bias(A) @ W`` is one layer.

The functions take an optional ``out=`` array. The notebook calls them without it and gets fresh
arrays; the training loop (:class:`Workspace`) passes preallocated buffers so that one iteration
allocates nothing large. Freeing and re-faulting ~300 KB temporaries every iteration costs more
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
    block; on this network that halves the time spent outside the matrix products. The notebook's
    functions are called unchanged on these views.

    ``A_bias[l]`` is the input of layer ``l`` with its bias column of ones already in place
    (``A_bias[0]`` is filled by :meth:`set_input` or :meth:`take_rows`); ``A_bias[l][:, 1:]`` is
    the activation ``A_l`` itself, so ``X_bias`` never copies. ``Z[l]`` holds pre-activations
    (the last one becomes the softmax output) and ``E[l]`` the error at layer ``l``'s output.
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
        self.A_bias = [np.ones((s + 1, n), dt).T for s in sizes[:-1]]
        self.Z = [np.empty((s, n), dt).T for s in sizes[1:]]
        self.E = [np.empty((s, n), dt).T for s in sizes[1:]]
        self._act, self._err = ACTIVATIONS[self.activation]

    @property
    def output(self) -> np.ndarray:
        """The softmax output ``(n, n_classes)`` of the last :meth:`forward`."""
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
        L = len(weights)
        for l, W in enumerate(weights):
            Z = get_z(self.A_bias[l], W, out=self.Z[l])
            if l < L - 1:
                self._act(Z, out=self.A_bias[l + 1][:, 1:])
            else:
                softmax(Z, out=Z)
        A = self.Z[-1]
        if y_index is not None:
            # For one-hot targets, sum(y * log(A + 1e-8)) over a row is exactly the log of the
            # true class's probability (the other terms are 0 * finite = 0), so this is
            # cost_softmax without its (n, k) temporaries.
            return float(-np.mean(np.log(A[np.arange(A.shape[0]), y_index] + 1e-8)))
        if Y is not None:
            return cost_softmax(Y, A)
        return float("nan")

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
        """
        E = err_softmax(self.Z[-1], Y, out=self.E[-1])
        for l in range(len(weights) - 1, -1, -1):
            grad(E, self.A_bias[l], out=grads[l])
            if update is not None:
                update(l, grads[l])
            if l > 0:
                E = self._err(self.A_bias[l][:, 1:], E, weights[l], out=self.E[l - 1])


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
