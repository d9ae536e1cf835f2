"""What the app says about one drawing: the guess, how sure it is, and a warning when it is not.

A network answers every drawing with ten probabilities, even a drawing it has never seen the like
of. With calibrated probabilities (:mod:`digitgui.core.ensemble`), the top probability itself
says how far to trust the guess: below the model's ``confidence_threshold`` (chosen on held-out
drawings to catch two thirds of the misread ones while flagging at most 4% of the correctly
read ones, see ``digitgui.core.ensemble_training.calibrate``) the app says "not sure" and
shows its two best guesses instead of one big digit. On pendigits.tes (writers never trained
on) it fires on 3.4% of the correctly read drawings and 55% of the misread ones
(``digitgui eval``). The window shows a :class:`Reading` as it is; it computes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["FALLBACK_THRESHOLD", "Reading", "read_digit", "read_digits"]

#: Used when a model carries no threshold of its own (older model files).
FALLBACK_THRESHOLD = 0.5


def _percent(p: float) -> str:
    from .calibration import format_probability

    return format_probability(p)


def _a(digit: int) -> str:
    """``"a 3"``, ``"an 8"``."""
    return f"an {digit}" if digit == 8 else f"a {digit}"


@dataclass(frozen=True, eq=False)
class Reading:
    """One drawing as read by a model.

    ``probabilities (10,)`` are the calibrated probabilities shown; ``guess`` and
    ``runner_up`` the two most probable classes; ``sure`` whether the guess's probability
    reaches ``threshold``; ``networks_agree`` whether every network of an ensemble picks the
    guess on its own (always True for one network).
    """

    probabilities: np.ndarray
    threshold: float
    networks: int
    networks_agree: bool

    @property
    def guess(self) -> int:
        return int(np.argmax(self.probabilities))

    @property
    def confidence(self) -> float:
        return float(self.probabilities[self.guess])

    @property
    def runner_up(self) -> int:
        order = np.argsort(-self.probabilities, kind="stable")
        return int(order[1])

    @property
    def runner_up_probability(self) -> float:
        return float(self.probabilities[self.runner_up])

    @property
    def sure(self) -> bool:
        return self.confidence >= self.threshold

    @property
    def headline(self) -> str:
        """``"3"`` when sure, ``"3 or 8?"`` when not."""
        return str(self.guess) if self.sure else f"{self.guess} or {self.runner_up}?"

    @property
    def warning(self) -> str | None:
        """Plain words for a newcomer when the guess should not be trusted, else None."""
        if self.sure:
            return None
        text = (
            f"Not sure. It looks most like {_a(self.guess)} ({_percent(self.confidence)}), "
            f"but also like {_a(self.runner_up)} ({_percent(self.runner_up_probability)}). "
            "Drawings it hesitates on like this are often misread: try drawing the digit "
            "bigger, or the way you would write it on paper."
        )
        if self.networks > 1 and not self.networks_agree:
            text += f" Its {self.networks} networks do not agree with each other."
        return text


def _threshold(model) -> float:
    threshold = getattr(model, "confidence_threshold", None)
    return FALLBACK_THRESHOLD if threshold is None else float(threshold)


def read_digit(model, digit: np.ndarray) -> Reading:
    """Read one raw digit (``(8, 8)`` or ``(64,)``, values 0..16) with ``model`` (a
    :class:`~digitgui.core.model_io.DigitClassifier`)."""
    rows = np.asarray(digit, dtype=np.float64).reshape(1, 64)
    return read_digits(model, rows)[0]


def read_digits(model, digits: np.ndarray) -> list[Reading]:
    """Read raw digits ``(n, 64)`` or ``(n, 8, 8)`` (values 0..16) with ``model``: one
    :class:`Reading` each, every network run once over the whole batch."""
    rows = np.asarray(digits, dtype=np.float64).reshape(-1, 64)
    if len(rows) == 0:
        return []
    members = np.asarray(model.member_probabilities(rows))  # (k, n, 10), run once
    probs = np.asarray(model.combine(members), dtype=np.float64).reshape(-1, 10)
    agree = np.all(np.argmax(members, axis=2) == np.argmax(probs, axis=1)[None, :], axis=0)
    threshold = _threshold(model)
    return [
        Reading(
            probabilities=p.copy(),
            threshold=threshold,
            networks=len(members),
            networks_agree=bool(a),
        )
        for p, a in zip(probs, agree, strict=True)
    ]
