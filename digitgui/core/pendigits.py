"""Real handwriting: UCI pendigits, drawn with the app's own pen.

Each pendigits sample is a pen trajectory resampled to 8 points, ``x`` and ``y`` in 0..100 with
``y`` pointing up. :func:`pendigits_strokes` turns a sample into one :class:`Stroke` on a canvas
the size of the app's, and :func:`pendigits_digits` passes it through
:func:`~digitgui.core.preprocess.raster_to_digit`, exactly as a drawing on the canvas is.

Both files ship with digitgui, packed as ``resources/pendigits.npz``
(:func:`load_packed_pendigits`; ``scripts/pack_pendigits.py`` rebuilds it from the text files,
which :func:`load_pendigits` reads). They have different jobs:

- ``pendigits.tra`` (30 writers) is the development set: :mod:`digitgui.core.handwriting` may
  train on it, and settings may be chosen by it.
- ``pendigits.tes`` (14 other writers) is never trained on and never used to choose anything:
  it is only for the final measurement (``digitgui eval``).
"""

from __future__ import annotations

import functools
import os
import warnings
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .model_io import resource_path
from .preprocess import DEFAULT_REDUCTION, Reduction
from .strokes import CANVAS_SIZE, DEFAULT_PEN_WIDTH, Stroke

__all__ = [
    "PACKED_KEYS",
    "PENDIGITS_FILES",
    "PendigitsResourceError",
    "load_packed_pendigits",
    "load_pendigits",
    "packed_pendigits_path",
    "pendigits_digits",
    "pendigits_strokes",
    "resolve_pendigits",
    "trajectories_to_canvas",
]

PENDIGITS_FILES = ("pendigits.tes", "pendigits.tra")
#: Fraction of the canvas side the drawn digit spans (a user's digit rarely fills the canvas).
DIGIT_SPAN = 0.7
#: The packed copy of both files, in the shipped resources.
PACKED_FILE = "pendigits.npz"
#: Each file's arrays in :data:`PACKED_FILE`: trajectories ``(n, 8, 2)`` and labels ``(n,)``.
PACKED_KEYS = {
    "pendigits.tra": ("tra_points", "tra_labels"),
    "pendigits.tes": ("tes_points", "tes_labels"),
}
_REBUILD = "reinstall digitgui or rebuild it with `python scripts/pack_pendigits.py`"
#: What reading a damaged ``.npz`` may raise (a bad zip, a truncated member, a bad ``.npy``).
_NPZ_ERRORS = (
    OSError,
    EOFError,
    ValueError,
    KeyError,
    zipfile.BadZipFile,
    zlib.error,
)


class PendigitsResourceError(ValueError):
    """The packed pendigits file is missing or damaged; the message says so in one sentence."""


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


def packed_pendigits_path() -> Path:
    """Where the packed pendigits file is: in the package's resources (see
    :func:`~digitgui.core.model_io.resource_path`)."""
    return resource_path(PACKED_FILE)


def load_packed_pendigits(name: str) -> tuple[np.ndarray, np.ndarray]:
    """``name`` ("pendigits.tra" or "pendigits.tes") from the packed copy shipped with digitgui:
    trajectories ``(n, 8, 2)`` float64 as ``(x, y)`` with y up, labels ``(n,)`` int64, as
    :func:`load_pendigits` reads them from the text file.

    Raises :class:`PendigitsResourceError` if the packed file is missing or damaged, and
    ``ValueError`` for any other ``name``."""
    if name not in PACKED_KEYS:
        known = " or ".join(PACKED_KEYS)
        raise ValueError(f"unknown pendigits file {name!r}: expected {known}")
    path = packed_pendigits_path()
    try:
        st = path.stat()
    except OSError:
        raise PendigitsResourceError(
            f"{path}: the packed pendigits data is missing; {_REBUILD}"
        ) from None
    points, labels = _read_packed(str(path), st.st_mtime_ns, st.st_size, name)
    # Fresh arrays on every call: the cached ones stay as read.
    return points.astype(np.float64), labels.astype(np.int64)


@functools.lru_cache(maxsize=4)
def _read_packed(path: str, mtime_ns: int, size: int, name: str) -> tuple[np.ndarray, np.ndarray]:
    """One file's validated arrays from the packed archive at ``path``, as stored. Keyed by the
    file's modification time and size too, so a rewritten file is read again."""
    points_key, labels_key = PACKED_KEYS[name]

    def damaged(detail: str) -> PendigitsResourceError:
        return PendigitsResourceError(
            f"{path}: the packed pendigits data is damaged ({detail}); {_REBUILD}"
        )

    # The file is opened here, not by np.load: when a member cannot be read, NumPy leaves the
    # member's stream open, and with it the file unless its owner closes it.
    try:
        f = open(path, "rb")  # noqa: SIM115 (closed by the with below)
    except OSError as e:
        raise PendigitsResourceError(
            f"{path}: the packed pendigits data cannot be opened ({e.strerror}); {_REBUILD}"
        ) from None
    with f:
        try:
            archive = np.load(f, allow_pickle=False)
        except _NPZ_ERRORS:
            # NumPy's and zipfile's own messages can run to several sentences; the kind of damage
            # is what matters here.
            detail = "an empty file" if size == 0 else "not a readable .npz archive"
            raise damaged(detail) from None
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise damaged("a single .npy array, not a .npz archive")
        with archive:
            missing = [k for k in (points_key, labels_key) if k not in archive.files]
            if missing:
                raise damaged(f"no {' and no '.join(missing)} array for {name}")
            try:
                points, labels = archive[points_key], archive[labels_key]
            except _NPZ_ERRORS:
                raise damaged(
                    f"the {name} arrays cannot be read, the file may be cut short"
                ) from None
    if points.dtype.kind not in "iu" or labels.dtype.kind not in "iu":
        raise damaged(f"{name}'s points and labels must be whole numbers")
    if points.ndim != 3 or points.shape[1:] != (8, 2) or len(points) == 0:
        raise damaged(f"{points_key} has shape {points.shape}, expected (n, 8, 2)")
    if labels.shape != (len(points),):
        raise damaged(f"{labels_key} has shape {labels.shape}, expected ({len(points)},)")
    if points.min() < 0 or points.max() > 100:
        raise damaged(f"{points_key} holds values outside 0..100")
    if labels.min() < 0 or labels.max() > 9:
        raise damaged(f"{labels_key} holds labels other than the digits 0..9")
    points.flags.writeable = False
    labels.flags.writeable = False
    return points, labels


def trajectories_to_canvas(
    points: np.ndarray, canvas_size: int = CANVAS_SIZE, span: float = DIGIT_SPAN
) -> np.ndarray:
    """pendigits coordinates ``(..., k, 2)`` (0..100, y up) as canvas pixels (y down): the
    0..100 box scaled to ``span`` of the canvas side and centred."""
    pts = np.asarray(points, dtype=np.float64)
    side = span * canvas_size
    margin = (canvas_size - side) / 2
    xy = np.empty_like(pts)
    xy[..., 0] = margin + pts[..., 0] / 100.0 * side
    xy[..., 1] = margin + (100.0 - pts[..., 1]) / 100.0 * side
    return xy


def pendigits_strokes(
    points: np.ndarray,
    canvas_size: int = CANVAS_SIZE,
    pen_width: float = DEFAULT_PEN_WIDTH,
    span: float = DIGIT_SPAN,
) -> Stroke:
    """One sample's 8 points ``(8, 2)`` as a stroke on the canvas
    (:func:`trajectories_to_canvas`)."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    return Stroke(trajectories_to_canvas(pts, canvas_size, span), pen_width)


def pendigits_digits(
    points: np.ndarray,
    canvas_size: int = CANVAS_SIZE,
    pen_width: float = DEFAULT_PEN_WIDTH,
    progress: Callable[[int], None] | None = None,
    reduction: Reduction = DEFAULT_REDUCTION,
) -> np.ndarray:
    """Every sample of ``points (n, 8, 2)`` drawn with the app's pen and reduced exactly as a
    drawing on the canvas is: ``(n, 8, 8)`` digits 0..16. Batched
    (:func:`digitgui.core.handwriting.draw_trajectories`, the same code that makes the
    training drawings); ``tests/test_handwriting.py`` checks it against
    :func:`~digitgui.core.strokes.render_strokes` and
    :func:`~digitgui.core.preprocess.raster_to_digit`, the canvas's own path."""
    from .handwriting import draw_trajectories  # it imports this module

    return draw_trajectories(points, pen_width, canvas_size, reduction, progress=progress)
