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
the same geometry as the digits it learned from.
"""

from __future__ import annotations

import numpy as np

__all__ = ["EmptyDrawingError", "bitmap_to_digit", "normalize_bitmap", "raster_to_digit"]

FRAME = 32
BOX_WIDTH = 20
BOX_HEIGHT = 32
MIN_SIDE = 32


class EmptyDrawingError(ValueError):
    """The raster holds no ink."""


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
        if a.size and (a.min() < 0 or a.max() > 255):
            raise ValueError("an integer raster must hold values 0..255")
        return a >= 128
    if np.issubdtype(a.dtype, np.floating):
        if np.isnan(a).any():
            raise ValueError("the raster contains NaN values")
        if a.size and (a.min() < 0 or a.max() > 1):
            raise ValueError("a float raster must hold values 0..1")
        return a >= 0.5
    raise ValueError(f"unsupported raster type {a.dtype}; use bool, uint8 (0..255) or float (0..1)")


def _resample(ink: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """Area-resample a binary crop to ``(out_h, out_w)`` and threshold at half coverage."""
    h, w = ink.shape
    f = ink.astype(np.float64)
    # Integral image: the ink covered by any axis-aligned box in O(1), for fractional boxes too.
    S = np.zeros((h + 1, w + 1))
    S[1:, 1:] = f.cumsum(0).cumsum(1)
    ys = np.linspace(0, h, out_h + 1)
    xs = np.linspace(0, w, out_w + 1)

    def integral(y: np.ndarray, x: np.ndarray) -> np.ndarray:
        # Bilinear interpolation of the integral image = exact area integral of the
        # piecewise-constant image up to (y, x).
        y0 = np.clip(np.floor(y).astype(int), 0, h - 1)
        x0 = np.clip(np.floor(x).astype(int), 0, w - 1)
        ty, tx = y - y0, x - x0
        a = S[y0][:, x0]
        b = S[y0][:, x0 + 1]
        c = S[y0 + 1][:, x0]
        d = S[y0 + 1][:, x0 + 1]
        ty, tx = ty[:, None], tx[None, :]
        return a * (1 - ty) * (1 - tx) + b * (1 - ty) * tx + c * ty * (1 - tx) + d * ty * tx

    I = integral(ys, xs)
    area = np.diff(np.diff(I, axis=0), axis=1)
    cell = (h / out_h) * (w / out_w)
    return area / cell >= 0.5 - 1e-9


def _dilate(b: np.ndarray) -> np.ndarray:
    out = b.copy()
    out[1:] |= b[:-1]
    out[:-1] |= b[1:]
    out[:, 1:] |= b[:, :-1]
    out[:, :-1] |= b[:, 1:]
    return out


def _erode(b: np.ndarray) -> np.ndarray:
    out = b.copy()
    out[1:] &= b[:-1]
    out[:-1] &= b[1:]
    out[:, 1:] &= b[:, :-1]
    out[:, :-1] &= b[:, 1:]
    out[0] = out[-1] = False
    out[:, 0] = out[:, -1] = False
    return out


def normalize_bitmap(ink: np.ndarray) -> np.ndarray:
    """The NIST normalisation of a binary raster: a 32x32 bool bitmap (steps 1-3 above)."""
    rows = np.flatnonzero(ink.any(axis=1))
    cols = np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        raise EmptyDrawingError("the drawing is empty")
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    box = _resample(crop, BOX_HEIGHT, BOX_WIDTH)
    frame = np.zeros((FRAME, FRAME), dtype=bool)
    left = (FRAME - BOX_WIDTH) // 2
    frame[:, left : left + BOX_WIDTH] = box
    count = int(frame.sum())
    if count > 560:
        frame = _erode(_erode(frame))
    elif count > 412:
        frame = _erode(frame)
    elif count < 108:
        frame = _dilate(_dilate(frame))
    elif count < 256:
        frame = _dilate(frame)
    return frame


def bitmap_to_digit(bitmap: np.ndarray) -> np.ndarray:
    """Count on-pixels of a 32x32 bitmap in each 4x4 block: an 8x8 float array of 0..16."""
    b = np.asarray(bitmap, dtype=bool)
    if b.shape != (FRAME, FRAME):
        raise ValueError(f"expected a 32x32 bitmap, got {b.shape}")
    return b.reshape(8, 4, 8, 4).sum(axis=(1, 3)).astype(np.float64)


def raster_to_digit(image: np.ndarray) -> np.ndarray:
    """An 8x8 digit (float, values 0..16) from a drawing: any 2-D raster at least 32x32 with ink
    as high values (bool, uint8 0..255 or float 0..1). Raises :class:`EmptyDrawingError` when
    there is no ink and ``ValueError`` for rasters it cannot read (NaN, wrong shape or range)."""
    ink = _as_ink(image)
    if not ink.any():
        raise EmptyDrawingError("the drawing is empty")
    return bitmap_to_digit(normalize_bitmap(ink))
