"""Optimizers that update a list of weight matrices in place, one layer at a time.

Updating per layer (``update(l, g)``) is what lets the same optimizers run in the notebook's order
(layer ``l`` updated before the error is pulled back through it) as well as in textbook order
(all gradients first, then ``step``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["OPTIMIZERS", "Adam", "GradientDescent", "Momentum", "Optimizer", "make_optimizer"]


class Optimizer:
    """Base class. ``l2`` adds ``l2 * W`` to each gradient, bias row excluded (weight decay should
    shrink weights toward zero, not shift every unit's threshold)."""

    def __init__(self, weights: Sequence[np.ndarray], lr: float, l2: float = 0.0) -> None:
        if not np.isfinite(lr) or lr <= 0:
            raise ValueError(f"learning rate must be a positive number, got {lr}")
        if l2 < 0:
            raise ValueError(f"L2 strength must be >= 0, got {l2}")
        self.weights = list(weights)
        self.lr = float(lr)
        self.l2 = float(l2)

    def _regularised(self, l: int, g: np.ndarray) -> np.ndarray:
        if self.l2:
            g[1:] += self.l2 * self.weights[l][1:]
        return g

    def update(self, l: int, g: np.ndarray) -> None:
        """Update ``weights[l]`` in place from its gradient ``g`` (``g`` may be overwritten)."""
        raise NotImplementedError

    def step(self, grads: Sequence[np.ndarray]) -> None:
        """Update every layer from ``grads`` (textbook order: all gradients already computed)."""
        for l, g in enumerate(grads):
            self.update(l, g)


class GradientDescent(Optimizer):
    """The notebook's ``update_weight``: ``W - lr * G``."""

    def update(self, l: int, g: np.ndarray) -> None:
        # update_weight(w, lr, g, out=w), with lr * g written over g instead of a temporary.
        w = self.weights[l]
        if self.l2:
            g = self._regularised(l, g)
        np.subtract(w, np.multiply(g, self.lr, out=g), out=w)


class Momentum(Optimizer):
    """Heavy-ball momentum: ``v = mu v - lr G; W += v``. Velocity carries the step along directions
    the gradient keeps pointing to, and damps directions where it flips sign."""

    def __init__(self, weights, lr, l2=0.0, momentum: float = 0.9) -> None:
        super().__init__(weights, lr, l2)
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must lie in [0, 1), got {momentum}")
        self.momentum = float(momentum)
        self.velocity = [np.zeros_like(w) for w in self.weights]

    def update(self, l: int, g: np.ndarray) -> None:
        v = self.velocity[l]
        v *= self.momentum
        v -= self.lr * self._regularised(l, g)
        self.weights[l] += v


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015): each weight gets a step scaled by running estimates of its
    gradient's mean and uncentred variance, with the start-up bias of both estimates removed."""

    def __init__(
        self, weights, lr, l2=0.0, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8
    ) -> None:
        super().__init__(weights, lr, l2)
        if not (0 <= beta1 < 1 and 0 <= beta2 < 1):
            raise ValueError("Adam's betas must lie in [0, 1)")
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)
        self.m = [np.zeros_like(w) for w in self.weights]
        self.v = [np.zeros_like(w) for w in self.weights]
        self.t = [0] * len(self.weights)

    def update(self, l: int, g: np.ndarray) -> None:
        g = self._regularised(l, g)
        self.t[l] += 1
        t, b1, b2 = self.t[l], self.beta1, self.beta2
        m, v = self.m[l], self.v[l]
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * (g * g)
        step = self.lr * np.sqrt(1 - b2**t) / (1 - b1**t)
        self.weights[l] -= step * m / (np.sqrt(v) + self.eps)


OPTIMIZERS = {"gd": GradientDescent, "momentum": Momentum, "adam": Adam}


def make_optimizer(
    name: str, weights: Sequence[np.ndarray], lr: float, l2: float = 0.0, momentum: float = 0.9
) -> Optimizer:
    """An optimizer by name: ``"gd"``, ``"momentum"`` or ``"adam"``."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
    if name == "momentum":
        return Momentum(weights, lr, l2, momentum=momentum)
    return OPTIMIZERS[name](weights, lr, l2)
