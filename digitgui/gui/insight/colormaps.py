"""Colours of the insight views: ink, a diverging map for signed values, readable text.

Zero of the diverging map is the palette's ``Base`` colour (the background of views), so a value
of 0 disappears into the background in a light and in a dark theme alike; negative values go to
blue, positive to red (the two ends of ColorBrewer's RdBu, safe for red-green colour blindness).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor, QImage, QPalette

__all__ = [
    "NEGATIVE",
    "POSITIVE",
    "class_color",
    "contrasting_text",
    "diverging_rgb",
    "ink_rgb",
    "rgb_image",
    "style_plot",
    "symmetric_limit",
]

NEGATIVE = (33, 102, 172)  # RdBu blue
POSITIVE = (178, 24, 43)  # RdBu red

# Ten distinguishable colours for the ten classes (Tableau 10), used by the probability curves.
_CLASS_COLORS = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)


def class_color(digit: int) -> QColor:
    return QColor(_CLASS_COLORS[digit % 10])


def _rgb(color: QColor) -> np.ndarray:
    return np.array([color.red(), color.green(), color.blue()], dtype=np.float64)


def symmetric_limit(values: np.ndarray, percentile: float = 99.0) -> float:
    """A colour range ``[-limit, limit]`` for signed values: the given percentile of ``|values|``
    (one outlier must not wash every other value out), never 0."""
    a = np.abs(np.asarray(values, dtype=np.float64))
    limit = float(np.percentile(a, percentile)) if a.size else 0.0
    return limit if limit > 0 else (float(a.max()) if a.size and a.max() > 0 else 1.0)


def diverging_rgb(values: np.ndarray, limit: float, palette: QPalette) -> np.ndarray:
    """``values`` of any shape as RGB ``(..., 3)`` uint8: blue at ``-limit``, the palette's base
    colour at 0, red at ``+limit`` (values beyond are clipped)."""
    t = np.clip(np.asarray(values, dtype=np.float64) / limit, -1.0, 1.0)[..., None]
    base = _rgb(palette.color(QPalette.ColorRole.Base))
    end = np.where(t >= 0, np.array(POSITIVE, np.float64), np.array(NEGATIVE, np.float64))
    return np.rint(base + np.abs(t) * (end - base)).astype(np.uint8)


def ink_rgb(digit: np.ndarray, palette: QPalette) -> np.ndarray:
    """A raw digit (values 0..16) as RGB ``(..., 3)`` uint8: the palette's text colour for full
    ink on its base colour, as the drawing canvas shows ink."""
    t = np.clip(np.asarray(digit, dtype=np.float64) / 16.0, 0.0, 1.0)[..., None]
    base = _rgb(palette.color(QPalette.ColorRole.Base))
    ink = _rgb(palette.color(QPalette.ColorRole.Text))
    return np.rint(base + t * (ink - base)).astype(np.uint8)


def contrasting_text(rgb) -> QColor:
    """Black or white, whichever reads better on the colour ``rgb`` (r, g, b)."""
    r, g, b = (float(v) for v in rgb)
    luminance = 0.299 * r + 0.587 * g + 0.114 * b
    return QColor(0, 0, 0) if luminance > 140 else QColor(255, 255, 255)


def rgb_image(rgb: np.ndarray) -> QImage:
    """An ``(h, w, 3)`` uint8 array as a QImage that owns its pixels (copied)."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w, _ = rgb.shape
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def style_plot(plot: pg.PlotWidget, palette: QPalette) -> None:
    """Give a pyqtgraph plot the palette's background and text colours (pyqtgraph draws white on
    black by default, whatever the system theme)."""
    plot.setBackground(palette.color(QPalette.ColorRole.Base))
    text = palette.color(QPalette.ColorRole.Text)
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.setPen(pg.mkPen(palette.color(QPalette.ColorRole.Mid)))
        axis.setTextPen(pg.mkPen(text))
