"""Distorted copies of ``load_digits`` digits, made the way drawings reach the network.

``load_digits`` holds the digits of 13 writers, normalised by NIST's code. A drawing on the canvas
is someone else's handwriting, with another slant, other proportions and another pen. Each copy
made here is a training digit redrawn with a random geometry and stroke width and then passed
through the *same* reduction as a drawing (:func:`~digitgui.core.preprocess.reduce_ink`), so the
network learns from inputs that live where drawings live.

How one copy is made:

1. the digit's 8x8 counts are read as a smooth ink density: bilinear interpolation between block
   centres, in the 32x32 frame the digit came from;
2. that density is sampled on a working grid through a random affine map (rotation, shear, scale,
   aspect, translation) plus, optionally, a smooth random displacement (elastic distortion);
3. ink is where the density exceeds a random threshold: a low threshold makes thick strokes, a
   high one thin strokes;
4. the binary picture goes through the reduction, exactly as a drawing does.

Step 2 is linear in the 64 counts, so for one geometry it is a ``(grid pixels, 64)`` matrix;
digits are distorted in groups sharing a geometry and each group costs one matrix product.
Everything is drawn from ``numpy.random.default_rng(seed)``: the same call gives the same arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from .preprocess import DEFAULT_REDUCTION, Reduction, reduce_ink

__all__ = [
    "DEFAULT_DISTORTIONS",
    "Distortions",
    "augment_digits",
    "distort_digits",
    "distorted_copies",
]


@dataclass(frozen=True)
class Distortions:
    """Ranges of the random distortions (each drawn uniformly per copy or per group)."""

    #: Largest rotation either way, degrees.
    rotation: float = 12.0
    #: Largest horizontal shear either way (x shift per unit of height): slant.
    shear: float = 0.35
    #: Largest change of size either way, as a log factor (0.15: x0.86 .. x1.16).
    scale: float = 0.15
    #: Largest change of the width-to-height ratio either way, as a log factor.
    aspect: float = 0.35
    #: Largest shift either way, in working-grid pixels.
    translation: float = 1.0
    #: Range of the ink threshold as a fraction of a full block (16): stroke width.
    threshold: tuple[float, float] = (0.3, 0.6)
    #: Largest displacement of the elastic distortion, in frame pixels (0: none).
    elastic: float = 0.0
    #: Largest change of proportions either way: each axis is warped by t -> t + a t (1 - t)
    #: across the frame, |a| <= warp, so e.g. the loop of a 9 grows while its tail shrinks.
    warp: float = 0.0
    #: Side of the square working grid the distorted digit is drawn on (28 measured as good as
    #: 32 on pendigits.tra, at three quarters of the cost).
    grid: int = 28
    #: Digits that share one geometry (one matrix product); the stroke width is drawn per digit.
    group: int = 32
    #: Height of the undistorted 32x32 frame as a fraction of the grid. The ink density reaches
    #: half a block beyond the frame; at 0.7, 97% of copies stay clear of the grid's edge even
    #: rotated, sheared and enlarged (at 0.8, 22% lost a sliver there).
    frame_size: float = 0.7


DEFAULT_DISTORTIONS = Distortions()

FRAME = 32
#: Geometries whose matrices exist at once (each is grid * grid * 65 floats: 200 KB at 28).
_GROUPS_PER_CHUNK = 32


def _sampling_matrices(rng: np.random.Generator, d: Distortions, k: int) -> np.ndarray:
    """``k`` random geometries as matrices ``(k, grid * grid, 65)``: picture = matrix @ counts
    (the counts with a zero appended)."""
    G = d.grid
    angle = np.deg2rad(rng.uniform(-d.rotation, d.rotation, k))
    shear = rng.uniform(-d.shear, d.shear, k)
    scale = np.exp(rng.uniform(-d.scale, d.scale, k))
    aspect = np.exp(rng.uniform(-d.aspect, d.aspect, k))
    shift = rng.uniform(-d.translation, d.translation, (k, 2, 1))
    size = d.frame_size * G / FRAME * scale
    sx, sy = size * np.sqrt(aspect), size / np.sqrt(aspect)
    # Grid -> frame is the inverse of frame -> grid = rotate(shear(stretch(p))), so it is
    # unstretch(unshear(unrotate(q))), written out per geometry.
    c, s = np.cos(angle), np.sin(angle)
    inverse = np.empty((k, 2, 2))
    inverse[:, 0, 0] = (c + shear * s) / sx
    inverse[:, 0, 1] = (s - shear * c) / sx
    inverse[:, 1, 0] = -s / sy
    inverse[:, 1, 1] = c / sy
    centre = (np.arange(G) + 0.5) - G / 2
    px, py = np.meshgrid(centre, centre)  # (G, G), x along columns
    grid = np.stack([px.ravel(), py.ravel()])  # (2, G*G)
    src = inverse @ (grid - shift)  # (k, 2, G*G): frame pixels from the frame's centre
    if d.elastic > 0:
        src += _elastic_fields(rng, d, k, grid)
    if d.warp > 0:
        src = _proportion_warp(src, rng.uniform(-d.warp, d.warp, (k, 2, 1)))
    # Frame position -> block coordinates (block centres at integers 0..7).
    b = (src + FRAME / 2) / 4 - 0.5
    corner = np.floor(b)
    t = (b - corner).astype(np.float32)
    corner = corner.astype(np.intp)
    # Column 64 collects the weights of corners outside the 8x8 blocks (blank paper: the digit
    # rows get a zero there), so every corner has a distinct place and no masking is needed.
    M = np.zeros((k, G * G, 65), dtype=np.float32)
    row = (np.arange(k)[:, None] * (G * G) + np.arange(G * G)) * 65  # (k, G*G)
    flat = M.reshape(-1)
    for dy in (0, 1):
        for dx in (0, 1):
            x = corner[:, 0] + dx
            y = corner[:, 1] + dy
            w = (t[:, 0] if dx else 1 - t[:, 0]) * (t[:, 1] if dy else 1 - t[:, 1])
            column = np.where((x >= 0) & (x < 8) & (y >= 0) & (y < 8), y * 8 + x, 64)
            # Corners of one pixel inside the blocks are distinct; outside ones only ever meet
            # in column 64, whose value is multiplied by zero.
            flat[row + column] = w
    return M


def _proportion_warp(v: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Frame coordinates ``v`` (from the centre) warped by ``t -> t + a t (1 - t)`` with ``t`` the
    position across the frame (0..1); linear beyond the frame, monotone for ``|a| < 1``."""
    t = v / FRAME + 0.5
    inside = t + a * t * (1 - t)
    warped = np.where(t < 0, t * (1 + a), np.where(t > 1, 1 + (t - 1) * (1 - a), inside))
    return (warped - 0.5) * FRAME


def _elastic_fields(
    rng: np.random.Generator, d: Distortions, k: int, grid: np.ndarray
) -> np.ndarray:
    """``k`` smooth random displacements ``(k, 2, G*G)`` at the grid points ``grid (2, G*G)``:
    random offsets on a 3x3 lattice of control points across the grid, interpolated bilinearly."""
    G = d.grid
    o = rng.uniform(-d.elastic, d.elastic, size=(k, 2, 3, 3))
    u = np.clip((grid[0] + G / 2) / G * 2, 0, 2 - 1e-9)
    v = np.clip((grid[1] + G / 2) / G * 2, 0, 2 - 1e-9)
    i, j = v.astype(np.intp), u.astype(np.intp)
    tv, tu = v - i, u - j
    return (
        o[:, :, i, j] * (1 - tv) * (1 - tu)
        + o[:, :, i, j + 1] * (1 - tv) * tu
        + o[:, :, i + 1, j] * tv * (1 - tu)
        + o[:, :, i + 1, j + 1] * tv * tu
    )


def distort_digits(
    X: np.ndarray, rng: np.random.Generator, distortions: Distortions = DEFAULT_DISTORTIONS
) -> np.ndarray:
    """Randomly distorted binary pictures of digits ``X (n, 64)`` (counts 0..16):
    ``(n, grid, grid)`` bool. A digit with any ink keeps some ink."""
    # One BLAS thread: on a small shared machine a second one mostly waits (notes/training-speed).
    with threadpool_limits(limits=1, user_api="blas"):
        return _distort(X, rng, distortions)


def _distort(X: np.ndarray, rng: np.random.Generator, d: Distortions) -> np.ndarray:
    """:func:`distort_digits` with BLAS left as the caller set it: entering ``threadpool_limits``
    costs about 0.7 ms, as much as distorting 32 digits, and training already runs on one BLAS
    thread when it makes copies a chunk at a time."""
    X = np.asarray(X, dtype=np.float32).reshape(-1, 64)
    n, G, size = len(X), d.grid, d.group
    k = -(-n // size)
    padded = np.zeros((k * size, 65), dtype=np.float32)
    padded[:n, :64] = X
    groups = padded.reshape(k, size, 65)
    density = np.empty((k, size, G * G), dtype=np.float32)
    for start in range(0, k, _GROUPS_PER_CHUNK):
        stop = min(start + _GROUPS_PER_CHUNK, k)
        M = _sampling_matrices(rng, d, stop - start)
        np.matmul(groups[start:stop], M.transpose(0, 2, 1), out=density[start:stop])
    density = density.reshape(k * size, G * G)[:n]
    lo, hi = d.threshold
    level = 16 * rng.uniform(lo, hi, size=(n, 1)).astype(np.float32)
    # A faint digit must keep some ink whatever the threshold: never demand more than half of
    # its densest point.
    np.minimum(level, 0.5 * density.max(axis=1, keepdims=True), out=level)
    return (density >= level).reshape(n, G, G)


def augment_digits(
    X: np.ndarray,
    y: np.ndarray,
    copies: int = 1,
    seed: int | None = 0,
    distortions: Distortions = DEFAULT_DISTORTIONS,
    reduction: Reduction = DEFAULT_REDUCTION,
) -> tuple[np.ndarray, np.ndarray]:
    """``copies`` distorted copies of each digit of ``X (n, 64)`` (raw counts 0..16), passed
    through the drawing reduction: ``X_aug (n * copies, 64)`` in 0..16 and ``y_aug (n * copies,)``.
    Copy ``k`` of every digit comes before copy ``k + 1``. Same ``seed``, same result."""
    X = np.asarray(X, dtype=np.float64).reshape(-1, 64)
    y = np.asarray(y).reshape(-1)
    if len(X) != len(y):
        raise ValueError(f"{len(X)} digits but {len(y)} labels")
    if copies < 0:
        raise ValueError("copies must be >= 0")
    if len(X) and (np.isnan(X).any() or X.min() < 0 or X.max() > 16):
        raise ValueError("digit values must lie in 0..16")
    if copies == 0 or len(X) == 0:
        return np.zeros((0, 64)), np.zeros((0,), dtype=y.dtype)
    rng = np.random.default_rng(seed)
    with threadpool_limits(limits=1, user_api="blas"):
        out = distorted_copies(np.tile(X, (copies, 1)), rng, distortions, reduction)
    return out, np.tile(y, copies)


def distorted_copies(
    X: np.ndarray,
    rng: np.random.Generator,
    distortions: Distortions = DEFAULT_DISTORTIONS,
    reduction: Reduction = DEFAULT_REDUCTION,
) -> np.ndarray:
    """One distorted copy of each digit of ``X (n, 64)`` (raw counts 0..16, not validated),
    passed through the drawing reduction: ``(n, 64)`` float64 in 0..16; blank digits stay blank.
    Everything is drawn from ``rng``. Training calls this a chunk at a time between updates, so
    it leaves BLAS threads as the caller set them (:func:`augment_digits` uses one)."""
    X = np.asarray(X, dtype=np.float64).reshape(-1, 64)
    blank = X.max(axis=1, initial=0) <= 0
    out = np.zeros((len(X), 64))
    if not blank.all():
        pictures = _distort(X[~blank], rng, distortions)
        out[~blank] = reduce_ink(pictures, reduction).reshape(-1, 64)
    return out
