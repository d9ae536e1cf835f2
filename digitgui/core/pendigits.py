"""Real handwriting for evaluation: UCI pendigits drawn with the app's own pen.

Each pendigits sample is a pen trajectory resampled to 8 points, ``x`` and ``y`` in 0..100 with
``y`` pointing up. :func:`pendigits_strokes` turns a sample into one :class:`Stroke` on a canvas
the size of the app's, and :func:`pendigits_digits` passes it through
:func:`~digitgui.core.preprocess.raster_to_digit`, exactly as a drawing on the canvas is. These
files are for measuring only; digitgui never trains on them.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .preprocess import DEFAULT_REDUCTION, Reduction, raster_to_digit
from .strokes import CANVAS_SIZE, DEFAULT_PEN_WIDTH, Stroke, render_strokes

__all__ = [
    "PENDIGITS_FILES",
    "load_pendigits",
    "pendigits_digits",
    "pendigits_strokes",
    "resolve_pendigits",
]

PENDIGITS_FILES = ("pendigits.tes", "pendigits.tra")
#: Fraction of the canvas side the drawn digit spans (a user's digit rarely fills the canvas).
DIGIT_SPAN = 0.7


def resolve_pendigits(path: str | os.PathLike) -> Path:
    """A pendigits file: ``path`` itself, or ``pendigits.tes`` (the final evaluation set) inside a
    folder."""
    p = Path(path)
    if p.is_dir():
        p = p / PENDIGITS_FILES[0]
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such pendigits file")
    return p


def load_pendigits(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read a pendigits CSV: trajectories ``(n, 8, 2)`` as ``(x, y)`` with y up, labels ``(n,)``."""
    p = resolve_pendigits(path)
    try:
        with warnings.catch_warnings():
            # An empty file is reported below in words, not as NumPy's "no data" warning.
            warnings.simplefilter("ignore", UserWarning)
            table = np.loadtxt(p, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
    except ValueError as e:
        raise ValueError(f"{p}: not a pendigits CSV file ({e})") from None
    if table.size == 0:
        raise ValueError(f"{p}: holds no samples")
    if table.shape[1] != 17:
        raise ValueError(f"{p}: expected 17 columns (8 points and a label), got {table.shape[1]}")
    if not np.all(np.isfinite(table)):
        raise ValueError(f"{p}: contains values that are not numbers")
    points = table[:, :16].reshape(-1, 8, 2)
    labels = table[:, 16]
    if np.any(labels != np.round(labels)) or labels.min() < 0 or labels.max() > 9:
        raise ValueError(f"{p}: labels must be digits 0..9")
    return points, labels.astype(np.int64)


def pendigits_strokes(
    points: np.ndarray,
    canvas_size: int = CANVAS_SIZE,
    pen_width: float = DEFAULT_PEN_WIDTH,
    span: float = DIGIT_SPAN,
) -> Stroke:
    """One sample's 8 points ``(8, 2)`` as a stroke on the canvas: ``y`` flipped to point down,
    the 0..100 box scaled to ``span`` of the canvas side and centred."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    side = span * canvas_size
    margin = (canvas_size - side) / 2
    xy = np.empty_like(pts)
    xy[:, 0] = margin + pts[:, 0] / 100.0 * side
    xy[:, 1] = margin + (100.0 - pts[:, 1]) / 100.0 * side
    return Stroke(xy, pen_width)


def pendigits_digits(
    points: np.ndarray,
    canvas_size: int = CANVAS_SIZE,
    pen_width: float = DEFAULT_PEN_WIDTH,
    progress: Callable[[int], None] | None = None,
    reduction: Reduction = DEFAULT_REDUCTION,
) -> np.ndarray:
    """Every sample of ``points (n, 8, 2)`` drawn and reduced exactly as a drawing on the canvas
    is (:func:`~digitgui.core.strokes.render_strokes`, then
    :func:`~digitgui.core.preprocess.raster_to_digit`): ``(n, 8, 8)`` digits 0..16."""
    out = np.empty((len(points), 8, 8))
    for i, sample in enumerate(points):
        raster = render_strokes([pendigits_strokes(sample, canvas_size, pen_width)], canvas_size)
        out[i] = raster_to_digit(raster, reduction)
        if progress is not None:
            progress(1)
    return out
