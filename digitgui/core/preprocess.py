"""From a drawing to an 8x8 digit made the way ``load_digits`` was made.

``load_digits`` is the test set of UCI optdigits: NIST forms scanned to binary bitmaps, each digit
normalised into a 32x32 frame and cut into 4x4 blocks whose on-pixels were counted (0..16). The
normalisation (NIST's second-generation code; see ``shared/notes/optdigits-and-drawn-digits.md``):

1. crop to the ink's bounding box;
2. scale x and y independently to exactly 20 px wide and 32 px tall (the aspect ratio is *not*
   kept), centred in the 32x32 frame (6 px margin left and right);
3. normalise stroke width by counting on-pixels: > 560 erode twice, 413..560 erode once,
   256..412 unchanged, 108..255 dilate once, < 108 dilate twice (4-neighbour morphology);
4. count on-pixels in each 4x4 block.

:func:`raster_to_digit` reproduces those steps on any raster, so a drawing reaches the network in
the same geometry as the digits it learned from. :func:`reduce_ink` is the same reduction for a
batch of rasters (the augmentation in :mod:`digitgui.core.augment` passes its distorted digits
through it). Every choice that differs from NIST, or that NIST left open, was measured on
pendigits.tra (``scripts/eval_variants.py``; the table is in ``docs/reduction.md``). The
departures, all fields of :class:`Reduction`:

- Step 2 resamples by exact area: a frame pixel is on when at least half of it is ink, which
  works the same for any raster size. Lines thinner than half a frame pixel (a 1-pixel pen on a
  big canvas) would vanish, so the threshold never exceeds half the coverage of the
  best-covered frame pixel.
- Step 2 never widens a digit more than it heightens it (``max_widen``): a digit narrower than
  the 20x32 box, typically a "1", keeps its proportions. load_digits' "1"s are bars 2-3 blocks
  wide, not 20 px blocks, so NIST cannot have stretched every thin digit to 20 px. This rebuilds
  load_digits as faithfully as the pure stretch, pendigits cannot tell (its digits are all
  square), and drawn "1"s with a flag are read as "1" far more often. A flat shape is heightened
  at most 3 times more than it is widened (``max_heighten``); every load_digits digit fills the
  height, so this only touches shapes far wider than tall (a dash). Measured with
  ``scripts/eval_variants.py`` (round-trip column and ``--shapes``).
- Step 3 erodes or dilates (at most twice, three times for a hair-thin pen) to the on-pixel count
  nearest 350 instead of NIST's bands (``stroke_target``): drawings with a thin pen land in the
  lower part of NIST's 256..412 band and stayed thinner than the data; +1.5 points on
  pendigits.tra.

Input rasters are validated first: NaN, infinities, values outside the documented range, fewer
than two dimensions or a side under 32 pixels raise ``ValueError`` with a sentence saying why.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "DEFAULT_REDUCTION",
    "EmptyDrawingError",
    "Reduction",
    "bitmap_to_digit",
    "bitmaps_to_digits",
    "digits_to_bitmaps",
    "frame_window",
    "normalize_bitmap",
    "normalize_bitmaps",
    "raster_to_digit",
    "reduce_ink",
]

FRAME = 32
MIN_SIDE = 32
#: Rasters larger than this (either side) are first summed in square blocks, so a 4000x3000
#: raster costs about what a 512x512 one does; the area resampling stays exact.
MAX_WORKING_SIDE = 512


class EmptyDrawingError(ValueError):
    """The raster holds no ink."""


@dataclass(frozen=True)
class Reduction:
    """How a binary raster becomes a 32x32 bitmap. The defaults are NIST's except ``max_widen``,
    ``max_heighten`` and ``stroke_target`` (see the module docstring); the other settings exist
    so that ``scripts/eval_variants.py`` can measure the alternatives."""

    #: Ink box inside the 32x32 frame: NIST stretches every digit to 20 wide, 32 tall.
    box_width: float = 20.0
    box_height: float = 32.0
    #: Keep the ink's aspect ratio (scaled to fit the box) instead of stretching to the box.
    keep_aspect: bool = False
    #: Largest ratio of the x scale factor to the y one. At 1, a digit narrower than the 20x32
    #: box (a "1") keeps its proportions; inf: NIST's pure stretch to 20 px.
    max_widen: float = 1.0
    #: Largest ratio of the y scale factor to the x one. A square digit needs 1.6 (32 / 20) to
    #: fill the height, as every load_digits digit does; only dash-like shapes much wider than
    #: tall are limited.
    max_heighten: float = 3.0
    #: A frame pixel is ink when at least this fraction of its area is ink in the raster.
    fill: float = 0.5
    #: On-pixel counts that trigger stroke-width normalisation: (dilate twice below, dilate once
    #: below, erode once above, erode twice above). None: no normalisation.
    stroke_limits: tuple[int, int, int, int] | None = (108, 256, 412, 560)
    #: Instead of NIST's bands: erode or dilate (up to twice; three times for a hair-thin pen) to
    #: bring the on-pixel count nearest to this number (load_digits' mean is 313). None: use
    #: ``stroke_limits``.
    stroke_target: float | None = 350.0


DEFAULT_REDUCTION = Reduction()


# --- Input validation ----------------------------------------------------------------------------


def _as_ink(image: np.ndarray) -> np.ndarray:
    """Validate a raster and binarise it: bool ``(h, w)``, True where there is ink."""
    a = np.asarray(image)
    if a.ndim != 2:
        raise ValueError(f"a drawing must be a 2-D raster, got shape {a.shape}")
    if min(a.shape) < MIN_SIDE:
        raise ValueError(
            f"a drawing must be at least {MIN_SIDE}x{MIN_SIDE} pixels, "
            f"got {a.shape[1]}x{a.shape[0]}"
        )
    if a.dtype == bool:
        return a
    if np.issubdtype(a.dtype, np.integer):
        if a.min() < 0 or a.max() > 255:
            raise ValueError("an integer raster must hold values 0..255")
        return a >= 128
    if np.issubdtype(a.dtype, np.floating):
        if np.isnan(a).any():
            raise ValueError("the raster contains NaN values")
        if a.min() < 0 or a.max() > 1:
            raise ValueError("a float raster must hold values 0..1 (no infinities)")
        return a >= 0.5
    raise ValueError(f"unsupported raster type {a.dtype}; use bool, uint8 (0..255) or float (0..1)")


# --- The reduction, for a batch of rasters -------------------------------------------------------


def _bounding_boxes(ink: np.ndarray) -> tuple[np.ndarray, ...]:
    """Half-open ink boxes of ``ink (n, h, w)`` bool: top, bottom, left, right, each ``(n,)``
    int. A raster without ink gets an empty box (all four 0)."""
    rows = ink.any(axis=2)
    cols = np.logical_or.reduce(ink, axis=1)
    h, w = ink.shape[1:]
    has_ink = rows.any(axis=1)
    top = np.argmax(rows, axis=1)
    bottom = np.where(has_ink, h - np.argmax(rows[:, ::-1], axis=1), 0)
    left = np.argmax(cols, axis=1)
    right = np.where(has_ink, w - np.argmax(cols[:, ::-1], axis=1), 0)
    return top, bottom, left, right


def _source_windows(
    top: np.ndarray,
    bottom: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    reduction: Reduction,
) -> tuple[np.ndarray, np.ndarray]:
    """For each ink box, the window of the raster that the whole 32x32 frame shows: its top-left
    corner ``(n, 2)`` as (y, x) and the raster pixels per frame pixel ``(n, 2)``."""
    h = (bottom - top).astype(np.float64)
    w = (right - left).astype(np.float64)
    sy = reduction.box_height / h  # frame pixels per raster pixel
    sx = reduction.box_width / w
    if reduction.keep_aspect:
        sy = sx = np.minimum(sy, sx)
    else:
        # A bar-shaped ink box (a "1" drawn as one line, a dash) keeps some of its shape instead
        # of becoming a solid block.
        sx, sy = (
            np.minimum(sx, reduction.max_widen * sy),
            np.minimum(sy, reduction.max_heighten * sx),
        )
    step = np.stack([1.0 / sy, 1.0 / sx], axis=1)
    centre = np.stack([(top + bottom) / 2.0, (left + right) / 2.0], axis=1)
    return centre - step * (FRAME / 2), step


def _resample_axis1(cum: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Ink between consecutive fractional ``edges (n, k + 1)`` along the summed axis, from
    running sums ``cum (m + 1, n, w)`` (:func:`_running_sum`: ``cum[j]`` = ink before row
    ``j``): ``(n, k, w)``."""
    m1, n, w = cum.shape
    e = np.clip(edges, 0, m1 - 1)
    j0 = np.minimum(e.astype(np.intp), m1 - 2)
    t = (e - j0)[:, :, None].astype(np.float32)
    # Each (sample, row) of `cum` is a contiguous run of w values: gather whole runs.
    flat = cum.reshape(m1 * n, w)
    base = (j0 * n + np.arange(n)[:, None]).ravel()
    at = np.take(flat, base, axis=0).reshape(n, -1, w).astype(np.float32, copy=False)
    hi = np.take(flat, base + n, axis=0).reshape(n, -1, w).astype(np.float32, copy=False)
    # Within one row the running sum grows linearly, so linear interpolation is exact.
    hi -= at
    hi *= t
    at += hi
    return np.subtract(at[:, 1:], at[:, :-1], out=hi[:, 1:])


def _running_sum(a: np.ndarray) -> np.ndarray:
    """``a (n, m, w)`` -> running sums along axis 1, starting at 0, laid out ``(m + 1, n, w)``
    with the summed axis first, so that each step of the sum adds one contiguous ``(n, w)``
    slice (a transposed view of that layout costs no copy). float32, or for a binary raster
    the smallest unsigned integer type that holds the count (uint8 for a canvas-sized raster:
    same-type adds on the raster's own bytes); float32 holds those counts exactly, so the
    results are the same. :func:`_resample_axis1` converts only the rows it reads."""
    n, m, w = a.shape
    t = np.ascontiguousarray(a.transpose(1, 0, 2))  # (m, n, w)
    if t.dtype == bool and m < 65_535:
        dtype = np.uint8 if m <= 255 else np.uint16
        t = t.view(np.uint8) if dtype == np.uint8 else t.astype(dtype)
    else:
        dtype = np.float32
    out = np.empty((m + 1, n, w), dtype=dtype)
    out[0] = 0
    if n * w < 64:  # one small picture: a single call beats a Python loop
        np.cumsum(t, axis=0, dtype=dtype, out=out[1:])
        return out
    # A loop of whole-slice adds: NumPy's cumsum along the outer axis is ~15x slower.
    for j in range(m):
        np.add(out[j], t[j], out=out[j + 1])
    return out


def _area_fractions(cover: np.ndarray, origin: np.ndarray, step: np.ndarray) -> np.ndarray:
    """Fraction of each 32x32 frame pixel covered by ink ``(n, 32, 32)``, given ink coverage
    ``cover (n, h, w)`` and each sample's window (``origin``, ``step`` from
    :func:`_source_windows`). Exact area resampling, done one axis at a time."""
    grid = np.arange(FRAME + 1, dtype=np.float64)
    # Window edges may lie outside the raster: the running sum is zero before the first row and
    # constant after the last, so clipping the edges to the raster gives the exact area.
    ys = origin[:, 0:1] + step[:, 0:1] * grid
    xs = origin[:, 1:2] + step[:, 1:2] * grid
    rows = _resample_axis1(_running_sum(cover), ys)  # (n, 32, w)
    cells = _resample_axis1(_running_sum(rows.transpose(0, 2, 1)), xs)  # (n, 32 x, 32 y)
    area = cells.transpose(0, 2, 1)
    return area / (step[:, 0] * step[:, 1]).astype(np.float32)[:, None, None]


# Stroke-width normalisation works on bit-packed frames: each 32-pixel row is one uint32 whose
# bit x is pixel x, so a 4-neighbour dilation or erosion is two shifts and two row offsets on
# (n, 32) integers instead of eight passes over (n, 32, 32) bools (~10x faster for a batch).


def _pack(frames: np.ndarray) -> np.ndarray:
    """``(n, 32, 32)`` bool -> ``(n, 32)`` uint32 rows, bit x = pixel x."""
    packed = np.packbits(frames, axis=2, bitorder="little")  # (n, 32, 4) bytes
    return np.ascontiguousarray(packed).view("<u4").reshape(len(frames), FRAME).astype(np.uint32)


def _unpack(rows: np.ndarray) -> np.ndarray:
    """Inverse of :func:`_pack`."""
    as_bytes = rows.astype("<u4").view(np.uint8).reshape(len(rows), FRAME, 4)
    return np.unpackbits(as_bytes, axis=2, bitorder="little").view(bool)


_BITS_IN_BYTE = np.array([bin(i).count("1") for i in range(256)], dtype=np.int32)


def _on_pixels(rows: np.ndarray) -> np.ndarray:
    """On-pixel count of each packed frame ``(n, 32)`` uint32: ``(n,)`` int."""
    n = len(rows)
    return _BITS_IN_BYTE[rows.view(np.uint8).reshape(n, -1)].sum(axis=1)


def _dilate(r: np.ndarray) -> np.ndarray:
    """4-neighbour dilation of packed frames ``(n, 32)``; nothing grows past the frame."""
    out = r | (r << 1) | (r >> 1)
    out[:, 1:] |= r[:, :-1]
    out[:, :-1] |= r[:, 1:]
    return out


def _erode(r: np.ndarray) -> np.ndarray:
    """4-neighbour erosion of packed frames ``(n, 32)``; outside the frame counts as background
    (the shifts bring in zeros at both side edges)."""
    out = r & (r << 1) & (r >> 1)
    out[:, 1:] &= r[:, :-1]
    out[:, :-1] &= r[:, 1:]
    out[:, 0] = 0
    out[:, -1] = 0
    return out


def _normalise_strokes(rows: np.ndarray, limits: tuple[int, int, int, int]) -> np.ndarray:
    """NIST's stroke-width normalisation of packed frames ``(n, 32)`` by on-pixel count."""
    thin2, thin1, thick1, thick2 = limits
    count = _on_pixels(rows)[:, None]
    e1, d1 = _erode(rows), _dilate(rows)
    out = np.where(count > thick1, np.where(count > thick2, _erode(e1), e1), rows)
    return np.where(count < thin1, np.where(count < thin2, _dilate(d1), d1), out)


def _nearest_stroke_width(rows: np.ndarray, target: float) -> np.ndarray:
    """Each packed frame of ``rows (n, 32)`` eroded or dilated (0..2 times) to the on-pixel
    count nearest ``target``; a third dilation for frames still under 256 on-pixels after two
    (a hair-thin pen), the lower end of load_digits' range."""
    e1, d1 = _erode(rows), _dilate(rows)
    d2 = _dilate(d1)
    candidates = np.stack([_erode(e1), e1, rows, d1, d2, _dilate(d2)])  # (6, n, 32)
    counts = np.stack([_on_pixels(c) for c in candidates])  # (6, n)
    miss = np.abs(counts - float(target))
    # An erosion that wipes the drawing out is never the answer.
    miss[counts == 0] = np.inf
    miss[5, counts[4] >= 256] = np.inf
    best = np.argmin(miss, axis=0)
    return candidates[best, np.arange(len(rows))]


def normalize_bitmaps(ink: np.ndarray, reduction: Reduction = DEFAULT_REDUCTION) -> np.ndarray:
    """Steps 1-3 for a batch: ``ink (n, h, w)`` bool (each with some ink) -> ``(n, 32, 32)`` bool.

    ``ink`` may also hold ink coverage in [0, 1] as floats (a block-summed large raster); the box
    is then that of the non-zero pixels."""
    ink = np.asarray(ink)
    if ink.ndim != 3:
        raise ValueError(f"expected rasters shaped (n, h, w), got {ink.shape}")
    if len(ink) == 0:
        return np.zeros((0, FRAME, FRAME), dtype=bool)
    boxes = _bounding_boxes(ink if ink.dtype == bool else ink > 0)
    empty = boxes[0] >= boxes[1]
    if empty.any():
        raise EmptyDrawingError(f"raster {int(np.argmax(empty))} of the batch is empty")
    origin, step = _source_windows(*boxes, reduction)
    cover = _area_fractions(ink, origin, step)
    # A drawing whose lines are thinner than half a frame pixel (a 1-pixel pen on a big canvas)
    # would vanish at `fill`: the threshold never exceeds half the best-covered pixel's coverage,
    # so some ink always survives. Drawings with any fully covered frame pixel are unaffected.
    level = np.minimum(reduction.fill, 0.5 * cover.max(axis=(1, 2)))[:, None, None]
    # float32 sums are exact to ~1e-6 of a pixel here; the tolerance keeps a frame pixel that is
    # exactly at the threshold on, as in exact arithmetic.
    frames = cover >= level - 1e-4
    if reduction.stroke_target is not None:
        frames = _unpack(_nearest_stroke_width(_pack(frames), reduction.stroke_target))
    elif reduction.stroke_limits is not None:
        frames = _unpack(_normalise_strokes(_pack(frames), reduction.stroke_limits))
    return frames


def bitmaps_to_digits(bitmaps: np.ndarray) -> np.ndarray:
    """On-pixels per 4x4 block: ``(n, 32, 32)`` bool -> ``(n, 8, 8)`` float 0..16."""
    b = np.asarray(bitmaps, dtype=bool).view(np.uint8).reshape(-1, 8, 4, 32)
    # Adding the 4 rows, then the 4 columns, of each block as whole slices is several times
    # faster than a sum over two small axes.
    rows = b[:, :, 0] + b[:, :, 1] + b[:, :, 2] + b[:, :, 3]  # (n, 8, 32), at most 4
    cols = rows.reshape(-1, 8, 8, 4)
    return (cols[..., 0] + cols[..., 1] + cols[..., 2] + cols[..., 3]).astype(np.float64)


def reduce_ink(ink: np.ndarray, reduction: Reduction = DEFAULT_REDUCTION) -> np.ndarray:
    """The whole reduction for a batch: ``ink (n, h, w)`` bool -> digits ``(n, 8, 8)`` 0..16.
    Raises :class:`EmptyDrawingError` if any raster has no ink."""
    return bitmaps_to_digits(normalize_bitmaps(ink, reduction))


# --- One drawing ---------------------------------------------------------------------------------


def _crop_to_working_size(ink: np.ndarray) -> np.ndarray:
    """``ink (h, w)`` bool cropped to its ink, block-summed into coverage fractions when larger
    than :data:`MAX_WORKING_SIDE`: ``(1, h', w')``."""
    rows = np.flatnonzero(ink.any(axis=1))
    cols = np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        raise EmptyDrawingError("the drawing is empty")
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = crop.shape
    k = -(-max(h, w) // MAX_WORKING_SIDE)
    if k == 1:
        return crop[None]
    # Summing k x k blocks keeps every block's exact ink area; the zero padding to a multiple of
    # k extends the box by less than one block (< 1/512 of its size).
    H, W = -(-h // k) * k, -(-w // k) * k
    padded = np.zeros((H, W), dtype=np.float32)
    padded[:h, :w] = crop
    return (padded.reshape(H // k, k, W // k, k).sum(axis=(1, 3)) / (k * k))[None]


def normalize_bitmap(image: np.ndarray, reduction: Reduction = DEFAULT_REDUCTION) -> np.ndarray:
    """The normalised 32x32 bool bitmap of one drawing (steps 1-3 above)."""
    return normalize_bitmaps(_crop_to_working_size(_as_ink(image)), reduction)[0]


def bitmap_to_digit(bitmap: np.ndarray) -> np.ndarray:
    """Count on-pixels of a 32x32 bitmap in each 4x4 block: an 8x8 float array of 0..16."""
    b = np.asarray(bitmap, dtype=bool)
    if b.shape != (FRAME, FRAME):
        raise ValueError(f"expected a 32x32 bitmap, got {b.shape}")
    return bitmaps_to_digits(b[None])[0]


def frame_window(
    image: np.ndarray, reduction: Reduction = DEFAULT_REDUCTION
) -> tuple[float, float, float, float] | None:
    """Where the 32x32 frame of the reduction lies on ``image``: ``(top, left, height, width)``
    in raster pixels (it may extend past the raster), or None when there is no ink. For drawing
    the 8x8 grid over a canvas."""
    ink = _as_ink(image)
    boxes = _bounding_boxes(ink[None])
    if boxes[0][0] >= boxes[1][0]:
        return None
    origin, step = _source_windows(*boxes, reduction)
    top, left = (float(v) for v in origin[0])
    height, width = (float(v) * FRAME for v in step[0])
    return top, left, height, width


def raster_to_digit(image: np.ndarray, reduction: Reduction = DEFAULT_REDUCTION) -> np.ndarray:
    """An 8x8 digit (float, values 0..16) from a drawing: any 2-D raster at least 32x32 with ink
    as high values (bool, uint8 0..255 or float 0..1). Raises :class:`EmptyDrawingError` when
    there is no ink and ``ValueError`` for rasters it cannot read (NaN, wrong shape or range)."""
    return bitmap_to_digit(normalize_bitmap(image, reduction))


# --- Back from digits to bitmaps -----------------------------------------------------------------


def digits_to_bitmaps(digits: np.ndarray) -> np.ndarray:
    """``load_digits`` rows turned back into 32x32 bitmaps: ``(n, 64)`` or ``(n, 8, 8)`` counts
    0..16 -> ``(n, 32, 32)`` bool with exactly each cell's count of on-pixels in its 4x4 block.

    Which pixels of a block are on is not recorded in the data; the ones chosen are those where a
    bilinear interpolation of the counts between block centres is highest, so strokes continue
    smoothly from block to block instead of forming checkerboards."""
    d = np.asarray(digits, dtype=np.float64).reshape(-1, 8, 8)
    if np.isnan(d).any() or d.min(initial=0) < 0 or d.max(initial=0) > 16:
        raise ValueError("digit values must lie in 0..16")
    counts = np.rint(d).astype(np.int64)
    field = _upsample_bilinear(d)  # (n, 32, 32)
    blocks = field.reshape(-1, 8, 4, 8, 4).transpose(0, 1, 3, 2, 4).reshape(-1, 8, 8, 16)
    # Rank of each pixel inside its block (0 = lowest); the top `count` ranks are ink. A stable
    # sort makes ties (flat regions) resolve the same way on every platform.
    order = np.argsort(-blocks, axis=-1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(16), axis=-1)
    on = rank < counts[..., None]
    return on.reshape(-1, 8, 8, 4, 4).transpose(0, 1, 3, 2, 4).reshape(-1, FRAME, FRAME)


def _upsample_bilinear(d: np.ndarray) -> np.ndarray:
    """``(n, 8, 8)`` -> ``(n, 32, 32)``: values at block centres, bilinear in between, zero
    beyond the outer centres' neighbours (the digit's surroundings are blank)."""
    padded = np.pad(d, ((0, 0), (1, 1), (1, 1)))
    # Pixel centre p (0..31) lies at block coordinate (p + 0.5) / 4 - 0.5, +1 for the padding.
    pos = (np.arange(FRAME) + 0.5) / 4 - 0.5 + 1
    i0 = np.floor(pos).astype(np.intp)
    t = pos - i0
    rows = padded[:, i0] * (1 - t)[None, :, None] + padded[:, i0 + 1] * t[None, :, None]
    return rows[:, :, i0] * (1 - t) + rows[:, :, i0 + 1] * t
