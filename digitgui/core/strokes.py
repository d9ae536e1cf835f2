"""The pen: strokes drawn onto a raster, without Qt.

The drawing canvas and ``digitgui eval --pendigits`` both paint through this module, so what the
network is evaluated on is made exactly like what a user draws. A stroke is a polyline with a
width; each segment is painted as a capsule (round caps and joins) whose edge is anti-aliased by
the pixel's distance to the segment.

Coordinates are canvas pixels as floats, ``(x, y)`` with ``y`` pointing down; pixel ``(row, col)``
covers ``[col, col + 1) x [row, row + 1)`` and is sampled at its centre.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

__all__ = ["CANVAS_SIZE", "DEFAULT_PEN_WIDTH", "Stroke", "draw_stroke", "render_strokes"]

#: Side of the square raster the canvas paints into, independent of screen size and scaling.
CANVAS_SIZE = 256
#: Default pen diameter in canvas pixels (about 1/13 of the canvas, like a felt-tip marker). On
#: pendigits.tra a 20 px pen was read better than 12 or 16 px (docs/reduction.md).
DEFAULT_PEN_WIDTH = 20.0


@dataclass(frozen=True, eq=False)
class Stroke:
    """One pen-down-to-pen-up path: ``points (k, 2)`` as ``(x, y)`` canvas pixels, and its width."""

    points: np.ndarray
    width: float = DEFAULT_PEN_WIDTH

    def __post_init__(self) -> None:
        pts = np.asarray(self.points, dtype=np.float64).reshape(-1, 2)
        if len(pts) == 0:
            raise ValueError("a stroke needs at least one point")
        if not np.all(np.isfinite(pts)):
            raise ValueError("stroke points must be finite numbers")
        if not (np.isfinite(self.width) and self.width > 0):
            raise ValueError("pen width must be a positive number")
        pts.flags.writeable = False
        object.__setattr__(self, "points", pts)
        object.__setattr__(self, "width", float(self.width))

    def to_list(self) -> list[list[float]]:
        return self.points.tolist()


def draw_segment(raster: np.ndarray, p0, p1, width: float) -> tuple[int, int, int, int] | None:
    """Paint the capsule from ``p0`` to ``p1`` (``(x, y)``) of diameter ``width`` into ``raster``
    (2-D ``uint8``, ink = 255), keeping the darker of old and new ink per pixel. Returns the
    touched box ``(row0, row1, col0, col1)`` (half-open) or None if it lies outside the raster."""
    h, w = raster.shape
    r = width / 2.0
    x0, y0 = float(p0[0]), float(p0[1])
    x1, y1 = float(p1[0]), float(p1[1])
    c0 = max(int(np.floor(min(x0, x1) - r - 1)), 0)
    c1 = min(int(np.ceil(max(x0, x1) + r + 1)), w)
    r0 = max(int(np.floor(min(y0, y1) - r - 1)), 0)
    r1 = min(int(np.ceil(max(y0, y1) + r + 1)), h)
    if c0 >= c1 or r0 >= r1:
        return None
    # Pixel centres relative to p0, in float32: half the memory traffic of float64, and far more
    # precision than an 8-bit coverage needs.
    px = np.arange(c0, c1, dtype=np.float32)[None, :] + np.float32(0.5 - x0)
    py = np.arange(r0, r1, dtype=np.float32)[:, None] + np.float32(0.5 - y0)
    dx, dy = x1 - x0, y1 - y0
    length2 = dx * dx + dy * dy
    if length2 > 0:
        # Position of the nearest point of the segment, as a fraction of its length.
        t = px * np.float32(dx / length2) + py * np.float32(dy / length2)
        np.clip(t, 0.0, 1.0, out=t)
        ex = px - t * np.float32(dx)
        ey = py - t * np.float32(dy)
        dist2 = ex * ex
        dist2 += ey * ey
    else:
        dist2 = px * px + py * py
    # Coverage falls from 1 to 0 across the pixel that straddles the edge: anti-aliasing.
    cover = np.float32(r + 0.5) - np.sqrt(dist2, out=dist2)
    np.clip(cover, 0.0, 1.0, out=cover)
    cover *= 255
    ink = np.rint(cover, out=cover).astype(np.uint8)
    box = raster[r0:r1, c0:c1]
    np.maximum(box, ink, out=box)
    return r0, r1, c0, c1


def draw_stroke(raster: np.ndarray, stroke: Stroke) -> None:
    """Paint a whole stroke into ``raster`` (``uint8``, modified in place)."""
    pts = stroke.points
    if len(pts) == 1:
        draw_segment(raster, pts[0], pts[0], stroke.width)
        return
    for a, b in itertools.pairwise(pts):
        draw_segment(raster, a, b, stroke.width)


def render_strokes(
    strokes: Iterable[Stroke], size: int | tuple[int, int] = CANVAS_SIZE
) -> np.ndarray:
    """A fresh ``uint8`` raster (``size`` square, or ``(height, width)``) with the strokes painted
    as ink 255 on 0."""
    shape = (size, size) if isinstance(size, int) else tuple(size)
    raster = np.zeros(shape, dtype=np.uint8)
    for s in strokes:
        draw_stroke(raster, s)
    return raster
