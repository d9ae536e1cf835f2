"""Pen trajectories turned into training digits, drawn the way the canvas draws.

Training on ``load_digits`` alone teaches the network 13 people's handwriting, normalised by
NIST's code; a drawing on the canvas is a pen path. The pendigits development file
(``pendigits.tra``: 30 writers, 7,494 trajectories of 8 points) gives real pen paths. Each is
drawn once plainly with the app's default pen and ``variants`` more times with a varied pen and
geometry, then reduced by the canvas's own reduction
(:func:`~digitgui.core.preprocess.reduce_ink`). ``pendigits.tes`` (14 other writers) is never
trained on: it is drawn plainly, by the same :func:`draw_trajectories`, only to measure.

Thousands of drawings are drawn together (:func:`draw_polylines`: all of pendigits.tra five
times, 37,470 drawings, in about 10 s on one core where a drawing-by-drawing loop takes ~35 s;
``scripts/bench_handwriting.py``) and cached in the user's cache folder
(:func:`training_drawings`).

A varied drawing (all ranges drawn uniformly, per drawing):

- pen diameter 10..30 px on the 256 px canvas (the canvas's pen slider covers that range);
- every point moved by Gaussian noise, sd 2 in the file's 0..100 units;
- rotated by up to 10 degrees, sheared by up to 0.3 (slant), its width-to-height ratio changed
  by a log factor of up to 0.25 either way;
- half of them smoothed by a centripetal Catmull-Rom curve through the 8 points (a pen moves
  along a curve, the file keeps only 8 samples of it).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import cache
from .pendigits import DIGIT_SPAN, trajectories_to_canvas
from .preprocess import DEFAULT_REDUCTION, Reduction, reduce_ink
from .strokes import CANVAS_SIZE, DEFAULT_PEN_WIDTH

__all__ = [
    "DEFAULT_VARIATION",
    "DRAWING_VERSION",
    "TrainingDrawings",
    "Variation",
    "catmull_rom",
    "draw_polylines",
    "draw_trajectories",
    "ink_masks",
    "is_cached",
    "training_drawings",
    "trajectories_to_canvas",
    "vary_trajectories",
]

#: Bumped whenever a change here, in the pen (:mod:`digitgui.core.strokes`) or in the reduction
#: (:mod:`digitgui.core.preprocess`) changes the drawings: cached drawings of another version are
#: never used.
DRAWING_VERSION = 1


@dataclass(frozen=True)
class Variation:
    """Ranges of the random changes of a varied drawing (see the module docstring)."""

    pen: tuple[float, float] = (10.0, 30.0)
    noise: float = 2.0
    rotation: float = 10.0
    shear: float = 0.3
    aspect: float = 0.25
    smooth_fraction: float = 0.5
    #: Points per segment of a smoothed trajectory.
    smooth_steps: int = 6


DEFAULT_VARIATION = Variation()


def catmull_rom(points: np.ndarray, steps: int = 6, alpha: float = 0.5) -> np.ndarray:
    """Centripetal (``alpha`` 0.5) Catmull-Rom curves through trajectories ``(n, k, 2)``:
    ``(n, (k - 1) * steps + 1, 2)``, passing through every original point. The end segments use
    a mirrored phantom point."""
    P = np.asarray(points, dtype=np.float64)
    first = 2 * P[:, :1] - P[:, 1:2]
    last = 2 * P[:, -1:] - P[:, -2:-1]
    Q = np.concatenate([first, P, last], axis=1)  # (n, k + 2, 2)
    d = np.linalg.norm(np.diff(Q, axis=1), axis=2)  # (n, k + 1)
    # Repeated points would give zero knot spacing; a tiny floor keeps the curve defined.
    dt = np.maximum(d, 1e-6) ** alpha
    t = np.concatenate([np.zeros((len(P), 1)), np.cumsum(dt, axis=1)], axis=1)  # (n, k + 2)
    k = P.shape[1]
    u = np.arange(steps) / steps  # (steps,)
    out = np.empty((len(P), (k - 1) * steps + 1, 2))
    for s in range(k - 1):  # segment from P[s] (Q[s+1]) to P[s+1] (Q[s+2])
        p0, p1, p2, p3 = (Q[:, s + i, None, :] for i in range(4))
        t0, t1, t2, t3 = (t[:, s + i, None, None] for i in range(4))
        tt = t1 + (t2 - t1) * u[None, :, None]
        a1 = ((t1 - tt) * p0 + (tt - t0) * p1) / (t1 - t0)
        a2 = ((t2 - tt) * p1 + (tt - t1) * p2) / (t2 - t1)
        a3 = ((t3 - tt) * p2 + (tt - t2) * p3) / (t3 - t2)
        b1 = ((t2 - tt) * a1 + (tt - t0) * a2) / (t2 - t0)
        b2 = ((t3 - tt) * a2 + (tt - t1) * a3) / (t3 - t1)
        out[:, s * steps : (s + 1) * steps] = ((t2 - tt) * b1 + (tt - t1) * b2) / (t2 - t1)
    out[:, -1] = P[:, -1]
    return out


def vary_trajectories(
    points: np.ndarray,
    rng: np.random.Generator,
    variation: Variation = DEFAULT_VARIATION,
    canvas_size: int = CANVAS_SIZE,
) -> tuple[list[np.ndarray], np.ndarray]:
    """One varied drawing of each trajectory ``points (n, 8, 2)`` (pendigits units): canvas
    polylines (a list of ``(k_i, 2)`` arrays, smoothed ones longer) and pen widths ``(n,)``.
    Everything is drawn from ``rng``."""
    P = np.asarray(points, dtype=np.float64)
    n = len(P)
    v = variation
    pen = rng.uniform(*v.pen, n)
    noisy = P + rng.normal(0.0, v.noise, P.shape)
    angle = np.deg2rad(rng.uniform(-v.rotation, v.rotation, n))
    shear = rng.uniform(-v.shear, v.shear, n)
    log_aspect = rng.uniform(-v.aspect, v.aspect, n)
    smooth = rng.random(n) < v.smooth_fraction
    # Geometry about the box centre, y up: stretch, then shear, then rotate.
    c = noisy - 50.0
    sx, sy = np.exp(log_aspect / 2), np.exp(-log_aspect / 2)
    x = c[..., 0] * sx[:, None]
    y = c[..., 1] * sy[:, None]
    x = x + shear[:, None] * y
    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
    xr, yr = cos * x - sin * y, sin * x + cos * y
    moved = np.stack([xr, yr], axis=2) + 50.0
    canvas = trajectories_to_canvas(moved, canvas_size)
    curves = catmull_rom(canvas[smooth], v.smooth_steps) if smooth.any() else None
    lines: list[np.ndarray] = []
    j = 0
    for i in range(n):
        if smooth[i]:
            lines.append(curves[j])
            j += 1
        else:
            lines.append(canvas[i])
    return lines, pen


# --- The pen, for a batch ----------------------------------------------------------------------
#
# The canvas paints a stroke as capsules (round caps and joins) whose edge is anti-aliased, and
# the reduction keeps the pixels whose ink is at least half (``raster >= 128``): exactly the
# pixels whose centre lies within the pen's radius of the polyline. For thousands of training
# drawings, painting and then thresholding every pixel costs ~1 ms a drawing. Here each capsule
# is cut by the vertical line through each pixel centre, which gives the inked rows of that
# column as one interval in closed form; the intervals are painted with a running sum. The
# result is the same set of pixels as the canvas's (up to float rounding for a pixel centre
# within ~1e-6 px of the pen's edge; tests/test_handwriting.py measures it), and it then goes
# through the canvas's own reduction, :func:`~digitgui.core.preprocess.reduce_ink`.


def _capsule_spans(
    a0: np.ndarray, b0: np.ndarray, a1: np.ndarray, b1: np.ndarray, r: np.ndarray, at: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Where lines ``a = at`` cut capsules from ``(a0, b0)`` to ``(a1, b1)`` of radius ``r``:
    the cut ``[lo, hi]`` along ``b`` (NaN, or ``lo > hi``, where the line misses). All arrays
    broadcast; ``a`` and ``b`` are the two coordinates (x and y, in either order).

    A capsule is the union of two discs and the band between them; it is convex, so its cut is
    one interval: the union of the discs' cuts and the band's. Missing pieces are NaN, which
    ``fmin``/``fmax`` skip."""
    with np.errstate(invalid="ignore", divide="ignore"):
        r2 = r * r
        d0 = at - a0
        s = np.sqrt(r2 - d0 * d0)
        lo, hi = b0 - s, b0 + s
        d1 = at - a1
        s = np.sqrt(r2 - d1 * d1)
        np.fmin(lo, b1 - s, out=lo)
        np.fmax(hi, b1 + s, out=hi)
        # The band: points whose projection falls on the segment, (b - b0) db in [A, B], and
        # whose distance to the segment's line is at most r, (b - b0) da in [C - rL, C + rL].
        # A zero db or da divides to +-inf, which is the right bound (all or nothing).
        da, db = a1 - a0, b1 - b0
        length2 = da * da + db * db
        A = -d0 * da
        u, v = A / db, (A + length2) / db
        band_lo, band_hi = np.fmin(u, v), np.fmax(u, v)
        C = d0 * db
        rl = r * np.sqrt(length2)
        u, v = (C - rl) / da, (C + rl) / da
        np.fmax(band_lo, np.fmin(u, v), out=band_lo)
        np.fmin(band_hi, np.fmax(u, v), out=band_hi)
        band_lo += b0
        band_hi += b0
        # A degenerate segment's band is empty (its discs cover it); infinite bounds mean the
        # line misses the band.
        missed = ~((band_lo <= band_hi) & np.isfinite(band_lo) & np.isfinite(band_hi))
        band_lo[missed] = np.nan
        band_hi[missed] = np.nan
        np.fmin(lo, band_lo, out=lo)
        np.fmax(hi, band_hi, out=hi)
    return lo, hi


#: Capsule cuts computed per group: small enough for its temporaries to stay in the CPU cache.
_SEGMENT_COLUMNS = 65_536


def ink_masks(lines: np.ndarray, widths: np.ndarray, canvas_size: int = CANVAS_SIZE) -> np.ndarray:
    """The pixels a pen of diameter ``widths (n,)`` inks along each polyline of ``lines
    (n, k, 2)`` (canvas pixels, ``(x, y)``, y down) on a ``canvas_size`` canvas, as the canvas
    inks them (``render_strokes(...) >= 128``), each cropped to a box around its ink: bool
    ``(n, H, W)``, the crops aligned at their top-left corner and padded with no ink (a view
    of a ``(H, n, W)`` array, the layout :func:`~digitgui.core.preprocess.reduce_ink` sums
    in)."""
    L = np.asarray(lines, dtype=np.float64)
    n, k = L.shape[:2]
    if k == 1:  # a dot
        L = np.concatenate([L, L], axis=1)
    r = np.asarray(widths, dtype=np.float64).reshape(n) / 2.0
    p0, p1 = L[:, :-1].reshape(-1, 2), L[:, 1:].reshape(-1, 2)  # segments (m, 2)
    owner = np.repeat(np.arange(n), L.shape[1] - 1)
    rs = r[owner]
    last = canvas_size - 1
    # Columns and rows whose pixel centre (c + 0.5) can lie within a capsule.
    col0 = np.clip(np.ceil(np.minimum(p0[:, 0], p1[:, 0]) - rs - 0.5), 0, canvas_size)
    col1 = np.clip(np.floor(np.maximum(p0[:, 0], p1[:, 0]) + rs - 0.5), -1, last)
    row0 = np.clip(np.ceil(np.minimum(p0[:, 1], p1[:, 1]) - rs - 0.5), 0, canvas_size)
    row1 = np.clip(np.floor(np.maximum(p0[:, 1], p1[:, 1]) + rs - 0.5), -1, last)
    seg_shape = (n, L.shape[1] - 1)
    top = row0.reshape(seg_shape).min(axis=1).astype(np.intp)
    left = col0.reshape(seg_shape).min(axis=1).astype(np.intp)
    H = max(int((row1.reshape(seg_shape).max(axis=1) - top).max()) + 1, 1)
    W = max(int((col1.reshape(seg_shape).max(axis=1) - left).max()) + 1, 1)
    # Running-sum marks: +1 where a column's inked rows start, -1 after they end, laid out
    # (row, drawing, column) so that the sum down the rows adds contiguous slices. Overlaps of a
    # polyline's capsules add up to at most its number of segments.
    dtype = np.int8 if L.shape[1] < 127 else np.int32
    marks = np.zeros((H + 1, n, W), dtype=dtype)
    flat = marks.reshape(-1)
    # Cut segments of similar width together, so that few columns are cut in vain.
    span = (col1 - col0 + 1).astype(np.intp)
    order = np.argsort(span, kind="stable")
    start = 0
    while start < len(order):
        width = int(span[order[min(start + 1023, len(order) - 1)]])
        stop = min(start + max(1024, _SEGMENT_COLUMNS // max(width, 1)), len(order))
        group = order[start:stop]
        width = max(int(span[group].max()), 1)
        start = stop
        cols = col0[group, None] + np.arange(width)  # (g, width)
        lo, hi = _capsule_spans(
            p0[group, 0, None],
            p0[group, 1, None],
            p1[group, 0, None],
            p1[group, 1, None],
            rs[group, None],
            cols + 0.5,
        )
        first = np.clip(np.ceil(lo - 0.5), 0, canvas_size)
        final = np.clip(np.floor(hi - 0.5), -1, last)
        hit = (cols <= col1[group, None]) & (first <= final)  # False where NaN
        g, j = np.nonzero(hit)
        who = owner[group[g]]
        base = who * W + cols[g, j].astype(np.intp) - left[who]
        # ufunc.at takes its fast path only with an array of values of the target's type.
        one = np.ones(len(g), dtype=dtype)
        np.add.at(flat, base + (first[g, j].astype(np.intp) - top[who]) * (n * W), one)
        np.add.at(flat, base + (final[g, j].astype(np.intp) + 1 - top[who]) * (n * W), -one)
    for i in range(1, H):  # the running sum (NumPy's cumsum along axis 0 is ~15x slower)
        np.add(marks[i - 1], marks[i], out=marks[i])
    return (marks[:H] > 0).transpose(1, 0, 2)


def draw_polylines(
    lines: Sequence[np.ndarray] | np.ndarray,
    widths: np.ndarray | float = DEFAULT_PEN_WIDTH,
    canvas_size: int = CANVAS_SIZE,
    reduction: Reduction = DEFAULT_REDUCTION,
    chunk: int = 512,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Each polyline (canvas pixels ``(k_i, 2)``) drawn as one stroke of its pen width and
    reduced as a drawing on the canvas is: digits ``(n, 8, 8)`` 0..16. Polylines with the same
    number of points are drawn together, ``chunk`` at a time; ``progress(count)`` is called
    after each chunk."""
    n = len(lines)
    w = np.broadcast_to(np.asarray(widths, dtype=np.float64), (n,))
    out = np.empty((n, 8, 8))
    lengths = np.array([len(line) for line in lines], dtype=np.intp)
    for k in np.unique(lengths):
        which = np.flatnonzero(lengths == k)
        same = np.stack([np.asarray(lines[i], dtype=np.float64) for i in which])
        # A chunk's crops are padded to its largest: chunks of similar size waste little.
        extent = np.ptp(same, axis=1) + w[which, None]
        order = np.argsort(extent[:, 0] * extent[:, 1], kind="stable")
        for s in range(0, len(which), chunk):
            part = order[s : s + chunk]
            masks = ink_masks(same[part], w[which[part]], canvas_size)
            out[which[part]] = reduce_ink(masks, reduction)
            if progress is not None:
                progress(len(part))
    return out


def draw_trajectories(
    points: np.ndarray,
    pen_width: float = DEFAULT_PEN_WIDTH,
    canvas_size: int = CANVAS_SIZE,
    reduction: Reduction = DEFAULT_REDUCTION,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """pendigits trajectories ``(n, 8, 2)`` (0..100, y up) drawn plainly with the app's pen on the
    app's canvas and reduced: ``(n, 8, 8)`` digits 0..16. The evaluation on real handwriting
    and the plain training drawings both come from here."""
    canvas = trajectories_to_canvas(points, canvas_size)
    return draw_polylines(canvas, pen_width, canvas_size, reduction, progress=progress)


# --- pendigits.tra as training drawings, cached ------------------------------------------------


@dataclass(frozen=True, eq=False)
class TrainingDrawings:
    """pendigits.tra drawn as training digits: ``X (m, 64)`` raw 0..16, labels ``y (m,)``, the
    trajectory each drawing came from ``row (m,)`` and which drawing of it ``copy (m,)`` (0: the
    plain one, 1..: varied ones)."""

    X: np.ndarray
    y: np.ndarray
    row: np.ndarray
    copy: np.ndarray


def _cache_key(points: np.ndarray, labels: np.ndarray, variants: int, seed: int) -> str:
    recipe = {
        "version": DRAWING_VERSION,
        "variants": variants,
        "seed": seed,
        "variation": dataclasses.asdict(DEFAULT_VARIATION),
        "reduction": dataclasses.asdict(DEFAULT_REDUCTION),
        "canvas": CANVAS_SIZE,
        "pen": DEFAULT_PEN_WIDTH,
        "span": DIGIT_SPAN,
    }
    h = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode())
    h.update(np.ascontiguousarray(points, dtype=np.float64).tobytes())
    h.update(np.ascontiguousarray(labels, dtype=np.int64).tobytes())
    return h.hexdigest()[:24]


_CACHED = ("X", "y", "row", "copy")


def _read_cache(path: Path, key: str) -> TrainingDrawings | None:
    """The cached drawings, or None when the file is missing, of another recipe or damaged (a
    damaged cache is redrawn, never trusted)."""
    arrays = cache.read(path, key, _CACHED)
    if arrays is None:
        return None
    X, y, row, copy = (arrays[name] for name in _CACHED)
    m = len(y)
    if not (
        X.shape == (m, 64)
        and X.dtype == np.uint8
        and row.shape == copy.shape == (m,)
        and X.max(initial=0) <= 16
        and y.min(initial=0) >= 0
        and y.max(initial=0) <= 9
    ):
        return None
    return TrainingDrawings(X.astype(np.float64), y.astype(np.int64), row.astype(np.intp), copy)


def _write_cache(path: Path, key: str, d: TrainingDrawings) -> None:
    cache.write(
        path,
        key,
        {
            "X": d.X.astype(np.uint8),
            "y": d.y.astype(np.uint8),
            "row": d.row.astype(np.int32),
            "copy": d.copy.astype(np.uint8),
        },
    )


def make_training_drawings(
    points: np.ndarray,
    labels: np.ndarray,
    variants: int,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> TrainingDrawings:
    """Each trajectory of ``points (n, 8, 2)`` drawn once plainly and ``variants`` more times
    varied (see the module docstring), reduced: ``(n * (1 + variants))`` drawings."""
    P = np.asarray(points, dtype=np.float64)
    n = len(P)
    parts = [draw_trajectories(P, progress=progress).reshape(n, 64)]
    for v in range(1, variants + 1):
        lines, pens = vary_trajectories(P, np.random.default_rng([seed, v]))
        parts.append(draw_polylines(lines, pens, progress=progress).reshape(n, 64))
    return TrainingDrawings(
        X=np.concatenate(parts),
        y=np.tile(np.asarray(labels, dtype=np.int64), variants + 1),
        row=np.tile(np.arange(n), variants + 1),
        copy=np.repeat(np.arange(variants + 1), n),
    )


def _cache_path(variants: int, seed: int) -> tuple[Path, str, np.ndarray, np.ndarray]:
    from .pendigits import load_packed_pendigits

    points, labels = load_packed_pendigits("pendigits.tra")
    key = _cache_key(points, labels, variants, seed)
    return cache.cache_folder() / f"pendigits-tra-drawings-{key}.npz", key, points, labels


def is_cached(variants: int, seed: int = 0) -> bool:
    """Whether :func:`training_drawings` would read these drawings from the cache (False also
    when the packed pendigits cannot be read: training would then say why)."""
    try:
        path, key, _, _ = _cache_path(variants, seed)
    except ValueError:
        return False
    return _read_cache(path, key) is not None


def training_drawings(
    variants: int,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
    use_cache: bool = True,
) -> TrainingDrawings:
    """pendigits.tra (the packed copy shipped with digitgui) as training drawings: each
    trajectory once plainly and ``variants`` times varied. Cached in the user cache folder,
    keyed by :data:`DRAWING_VERSION`, the recipe and the data (:mod:`digitgui.core.cache`); a
    damaged cache is redrawn."""
    path, key, points, labels = _cache_path(variants, seed)
    if use_cache:
        cached = _read_cache(path, key)
        if cached is not None:
            return cached
    drawings = make_training_drawings(points, labels, variants, seed, progress)
    if use_cache:
        _write_cache(path, key, drawings)
    return drawings
