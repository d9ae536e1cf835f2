"""One row of an update step followed through the network, layer by layer.

The step-through view's network strip draws a single sample of the batch: its activations
glowing forward (inputs -> hidden layers -> softmax probabilities) and, in the backward pass,
its errors ``E`` flowing back. Everything here is read from an :class:`UpdateStep`; nothing is
recomputed, and nothing knows about Qt.

- :func:`row_flow`: the row's values per layer, with the scales to colour them by.
- :func:`flow_position`: which way the step flows at one of its matrices, and which layers it
  has reached by then.
- :func:`is_row_matrix`: whether a matrix has one row per sample (so picking a row of it picks a
  sample), unlike the weights and gradients.
- :func:`glow_levels`: a layer's values as brightness 0..1 on its scale.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .step import UpdateStep

__all__ = [
    "BACKWARD",
    "FORWARD",
    "FlowPosition",
    "LayerRow",
    "RowFlow",
    "flow_position",
    "glow_levels",
    "is_row_matrix",
    "row_flow",
]

FORWARD = "forward"
BACKWARD = "backward"

#: Stages of :data:`digitgui.core.step.STAGES` that belong to the backward pass.
_BACKWARD_STAGES = ("error", "gradient", "update")


@dataclass(frozen=True, eq=False)
class LayerRow:
    """One layer's units for one sample. ``values (units,)`` are what the layer passes on (``X``
    for the inputs, ``A1``, ``A2``, ... after them; the last is softmax's probabilities), to be
    shown from ``low`` (dark) to ``high`` (full glow). ``errors (units,)`` are that layer's row of
    ``E`` (None for the inputs, which have no error), coloured on ``[-error_limit,
    error_limit]``."""

    name: str
    values: np.ndarray
    low: float
    high: float
    error_name: str | None = None
    errors: np.ndarray | None = None
    error_limit: float = 1.0


@dataclass(frozen=True, eq=False)
class RowFlow:
    """Sample ``row`` of a batch of ``n_rows``, whose wanted class is ``label`` (one of
    ``classes``, the names of the output units), through every layer (``layers[0]``: the
    inputs, ``layers[-1]``: the outputs)."""

    row: int
    n_rows: int
    label: str
    classes: tuple[str, ...]
    layers: tuple[LayerRow, ...]

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(layer.values.size for layer in self.layers)


@dataclass(frozen=True)
class FlowPosition:
    """Where a step stands at one of its matrices: ``direction`` is :data:`FORWARD` or
    :data:`BACKWARD`; ``reached[l]`` says whether layer ``l``'s activations (forward) or errors
    (backward) have been computed by then."""

    direction: str
    reached: tuple[bool, ...]


def _row_of(step: UpdateStep, name: str, row: int) -> np.ndarray:
    return np.atleast_2d(np.asarray(step[name], dtype=np.float64))[row].copy()


def _label(value: float) -> str:
    # ``y`` holds the raw labels as floats (7.0): they read as the class names do ("7").
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _error_limit(errors: np.ndarray) -> float:
    peak = float(np.max(np.abs(errors))) if errors.size else 0.0
    return peak if np.isfinite(peak) and peak > 0 else 1.0


def row_flow(step: UpdateStep, row: int) -> RowFlow:
    """Sample ``row`` of ``step``'s batch through the network: per layer its activations (the
    inputs ``X``, then ``A1 .. AL``) and errors (``E1 .. EL``), with their colour scales.

    Scales, each for this row alone: the inputs (standardised pixels, signed) run from the row's
    smallest to its largest value; a hidden layer from ``min(0, smallest)`` to its largest, so a
    ReLU unit that is off stays dark; the outputs are probabilities on the fixed 0..1. Errors use
    ``[-max |E|, max |E|]`` of the layer's row (each layer its own scale: the outputs' errors lie
    in -1..1, the hidden ones can be much smaller)."""
    L = step.n_layers
    n_rows = np.atleast_2d(step["X"]).shape[0]
    if not 0 <= row < n_rows:
        raise IndexError(f"row {row} is outside the batch's rows 0..{n_rows - 1}")
    columns = step.matrix("y_onehot").columns
    width = np.atleast_2d(step["y_onehot"]).shape[1]
    classes = tuple(columns) if columns is not None else tuple(str(c) for c in range(width))
    layers = []
    for l in range(L + 1):
        name = "X" if l == 0 else f"A{l}"
        values = _row_of(step, name, row)
        finite = values[np.isfinite(values)]
        lo = float(finite.min()) if finite.size else 0.0
        hi = float(finite.max()) if finite.size else 1.0
        if l == L:
            lo, hi = 0.0, 1.0
        elif l > 0:
            lo = min(lo, 0.0)
        if not hi > lo:
            hi = lo + 1.0  # a flat row: every unit at the dark end, not a division by zero
        errors = _row_of(step, f"E{l}", row) if l > 0 else None
        layers.append(
            LayerRow(
                name,
                values,
                lo,
                hi,
                f"E{l}" if l > 0 else None,
                errors,
                _error_limit(errors) if errors is not None else 1.0,
            )
        )
    label = _label(float(np.asarray(step["y"]).reshape(-1)[row]))
    return RowFlow(int(row), int(n_rows), label, classes, tuple(layers))


def glow_levels(layer: LayerRow) -> np.ndarray:
    """``(units,)`` brightness 0..1 of a layer's values on its scale (``low`` -> 0, ``high`` ->
    1); values that are not finite read 0."""
    t = (layer.values - layer.low) / (layer.high - layer.low)
    return np.clip(np.nan_to_num(t, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0)


def flow_position(step: UpdateStep, name: str | None) -> FlowPosition:
    """Which way ``step`` flows at its matrix ``name`` and how far it got: in the backward pass
    (errors, gradients, new weights) the layers whose error ``E`` is computed by then; before it
    (given, forward, softmax, cost) the layers whose activations are (the inputs always; layer
    ``l`` from ``Al`` on). Without a name, or one the step does not have: the forward pass done."""
    L = step.n_layers
    names = step.names
    if name is None or name not in names:
        return FlowPosition(FORWARD, (True,) * (L + 1))
    at = names.index(name)
    if step.matrix(name).stage in _BACKWARD_STAGES:
        reached = (False, *(names.index(f"E{l}") <= at for l in range(1, L + 1)))
        return FlowPosition(BACKWARD, reached)
    reached = (True, *(names.index(f"A{l}") <= at for l in range(1, L + 1)))
    return FlowPosition(FORWARD, reached)


def is_row_matrix(step: UpdateStep, name: str | None) -> bool:
    """Whether ``step``'s matrix ``name`` has one row per sample of the batch (``X``, ``Z1``,
    ``A1_bias``, ``E2``, the costs ...); weights, gradients and new weights do not."""
    if name is None or name not in step.names:
        return False
    return re.fullmatch(r"[WG]\d+(?:_new)?", name) is None
