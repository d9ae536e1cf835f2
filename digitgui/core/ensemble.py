"""Several networks reading one digit together, with calibrated probabilities.

An :class:`Ensemble` is a few MLPs of the notebook's kind (same layer sizes and activation,
each in the notebook's weight layout) that share one input standardisation. Its answer is the
mean of their softmax probabilities: networks trained from different random starts make
different mistakes on handwriting they have never seen, and the mean is both more often right
and less often sure of a wrong answer than any one of them.

The mean is then *calibrated* with one temperature ``T``: the probabilities shown are
``softmax(log(mean) / T)``. ``T > 1`` softens over-confident answers, ``T = 1`` leaves the mean
as it is; the ranking of the classes never changes. ``T`` is fitted on held-out drawings
(:func:`digitgui.core.calibration.fit_temperature`) and stored in the model file.

Every forward pass here goes through :func:`digitgui.core.mlp.stacked_forward`: all members at
once, one batched matrix product per layer.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .mlp import MLP, softmax, stacked_forward

__all__ = ["N_CLASSES", "N_PIXELS", "Ensemble"]

N_PIXELS = 64
N_CLASSES = 10
#: Probabilities are floored here before taking logs (an ensemble can put exactly 0 on a class).
_TINY = 1e-300


class Ensemble:
    """``members`` (MLPs 64 -> ... -> 10 of one architecture), the input standardisation
    ``mean``/``scale`` (64 values each) with optional ``clip`` of the standardised inputs, and
    the calibration ``temperature``.

    Digits are raw 0..16 counts shaped ``(8, 8)``, ``(64,)``, ``(n, 8, 8)`` or ``(n, 64)``.
    """

    def __init__(
        self,
        members: MLP | Sequence[MLP],
        mean: np.ndarray,
        scale: np.ndarray,
        clip: float | None = None,
        temperature: float = 1.0,
    ) -> None:
        members = [members] if isinstance(members, MLP) else list(members)
        if not members:
            raise ValueError("an ensemble needs at least one network")
        sizes = members[0].layer_sizes
        if sizes[0] != N_PIXELS or sizes[-1] != N_CLASSES:
            raise ValueError(f"a digit classifier maps 64 pixels to 10 classes, got {sizes}")
        for k, m in enumerate(members[1:], start=2):
            if m.layer_sizes != sizes or m.activation != members[0].activation:
                raise ValueError(
                    f"network {k} is {'-'.join(map(str, m.layer_sizes))} {m.activation}, "
                    f"network 1 is {'-'.join(map(str, sizes))} {members[0].activation}: "
                    "the networks of an ensemble must have the same shape"
                )
        self.members: list[MLP] = members
        self.mean = np.asarray(mean, dtype=np.float64).reshape(-1)
        self.scale = np.asarray(scale, dtype=np.float64).reshape(-1)
        if self.mean.shape != (N_PIXELS,) or self.scale.shape != (N_PIXELS,):
            raise ValueError("mean and scale must hold 64 values each")
        if np.any(self.scale <= 0):
            raise ValueError("scale values must be positive")
        self.clip = None if clip is None else float(clip)
        t = float(temperature)
        if not (np.isfinite(t) and t > 0):
            raise ValueError(f"the temperature must be a positive number, got {temperature}")
        self.temperature = t

    # shape ----------------------------------------------------------------------------------------

    @property
    def mlp(self) -> MLP:
        """The first network (views that show one network's insides start with it)."""
        return self.members[0]

    @property
    def n_members(self) -> int:
        return len(self.members)

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        return self.members[0].layer_sizes

    @property
    def activation(self) -> str:
        return self.members[0].activation

    # inputs ---------------------------------------------------------------------------------------

    @staticmethod
    def as_rows(digits: np.ndarray) -> tuple[np.ndarray, bool]:
        """Raw digits ``(8, 8)``, ``(64,)``, ``(n, 8, 8)`` or ``(n, 64)`` as rows ``(n, 64)``, and
        whether a single digit was given."""
        d = np.asarray(digits, dtype=np.float64)
        if d.shape in ((8, 8), (64,)):
            return d.reshape(1, N_PIXELS), True
        if d.ndim == 3 and d.shape[1:] == (8, 8):
            return d.reshape(-1, N_PIXELS), False
        if d.ndim == 2 and d.shape[1] == N_PIXELS:
            return d, False
        raise ValueError(f"digits must be shaped (8, 8), (n, 8, 8) or (n, 64), got {d.shape}")

    def standardize(self, digits: np.ndarray) -> np.ndarray:
        """Raw 0..16 digits (any shape :meth:`as_rows` accepts) as network inputs ``(n, 64)``."""
        rows, _ = self.as_rows(digits)
        Z = (rows - self.mean) / self.scale
        if self.clip is not None:
            np.clip(Z, -self.clip, self.clip, out=Z)
        return Z

    # outputs --------------------------------------------------------------------------------------

    def member_probabilities(self, digits: np.ndarray) -> np.ndarray:
        """Each network's own softmax output (no temperature): ``(k, n, 10)``."""
        Z = self.standardize(digits)
        if self.n_members == 1:
            return self.members[0].predict_proba(Z)[None]
        stacked = [np.stack(ws) for ws in zip(*(m.weights for m in self.members), strict=True)]
        return stacked_forward(stacked, Z, self.activation)

    def logits(self, digits: np.ndarray) -> np.ndarray:
        """The ensemble's scores before calibration, ``(n, 10)``: the log of the members' mean
        probability (for one network, its log-softmax). ``softmax(logits / T)`` is
        :meth:`predict_proba`; :func:`digitgui.core.calibration.fit_temperature` fits ``T``."""
        mean = self.member_probabilities(digits).mean(axis=0)
        return np.log(np.maximum(mean, _TINY))

    def predict_proba(self, digits: np.ndarray) -> np.ndarray:
        """Calibrated probabilities: ``(10,)`` for one digit, else ``(n, 10)``."""
        _, single = self.as_rows(digits)
        p = self.combine(self.member_probabilities(digits))
        return p[0] if single else p

    def combine(self, members: np.ndarray) -> np.ndarray:
        """The calibrated probabilities ``(n, 10)`` from the networks' own ``members (k, n, 10)``
        (:meth:`member_probabilities`), for a caller that needs both without running the
        networks twice."""
        if self.n_members == 1 and self.temperature == 1.0:
            return members[0]  # exactly the network's own softmax
        mean = members.mean(axis=0)
        return softmax(np.log(np.maximum(mean, _TINY)) / self.temperature)

    def predict(self, digits: np.ndarray) -> np.ndarray | int:
        p = self.predict_proba(digits)
        return int(np.argmax(p)) if p.ndim == 1 else np.argmax(p, axis=1)
