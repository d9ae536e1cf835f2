"""Colours derived from the system palette, so the app reads well in light and dark themes."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette

__all__ = [
    "accent_colors",
    "blend",
    "contrast_ratio",
    "ink_color_table",
    "is_dark",
    "readable_on",
    "relative_luminance",
    "run_color",
    "warning_color",
]

#: WCAG 2 AA contrast for body text.
MIN_TEXT_CONTRAST = 4.5


def blend(a: QColor, b: QColor, t: float) -> QColor:
    """The colour ``t`` of the way from ``a`` (t = 0) to ``b`` (t = 1)."""
    t = min(max(t, 0.0), 1.0)
    return QColor.fromRgbF(
        a.redF() + (b.redF() - a.redF()) * t,
        a.greenF() + (b.greenF() - a.greenF()) * t,
        a.blueF() + (b.blueF() - a.blueF()) * t,
        1.0,
    )


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Base).lightnessF() < 0.5


def ink_color_table(palette: QPalette) -> list[int]:
    """256 ARGB values from paper (``Base``, ink 0) to ink (``Text``, ink 255), for an indexed
    image of the canvas raster."""
    paper = palette.color(QPalette.ColorRole.Base)
    ink = palette.color(QPalette.ColorRole.Text)
    return [blend(paper, ink, i / 255).rgba() for i in range(256)]


def accent_colors(palette: QPalette) -> dict[str, QColor]:
    """Curve colours: training cost, validation cost, validation accuracy. Mid-saturation hues
    that keep their contrast on both a white and a near-black background."""
    dark = is_dark(palette)
    return {
        "train": palette.color(QPalette.ColorRole.Highlight).lighter(130 if dark else 100),
        "val": QColor("#f0a030") if dark else QColor("#d0700a"),
        "acc": QColor("#50c878") if dark else QColor("#208040"),
    }


#: Colours of runs' curves (Okabe-Ito and Tableau hues, told apart with common colour-vision
#: deficiencies), darker on light backgrounds and lighter on dark ones.
_RUN_HUES = (
    "#0072b2",
    "#e69f00",
    "#009e73",
    "#cc79a7",
    "#d55e00",
    "#56b4e9",
    "#8c6d31",
    "#7f7f7f",
    "#bcbd22",
    "#9467bd",
)


def run_color(slot: int, palette: QPalette | None = None) -> QColor:
    """The colour of the run in colour ``slot`` (slots cycle through ten hues)."""
    color = QColor(_RUN_HUES[(int(slot) - 1) % len(_RUN_HUES)])
    if palette is not None and is_dark(palette):
        return color.lighter(135)
    return color


def warning_color(palette: QPalette) -> QColor:
    return QColor("#ffb74d") if is_dark(palette) else QColor("#a04a00")


def relative_luminance(color: QColor) -> float:
    """WCAG 2 relative luminance of an opaque colour, 0 (black) to 1 (white)."""

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * linear(color.redF())
        + 0.7152 * linear(color.greenF())
        + 0.0722 * linear(color.blueF())
    )


def contrast_ratio(a: QColor, b: QColor) -> float:
    """WCAG 2 contrast ratio of two colours, 1 (same) to 21 (black on white)."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def readable_on(color: QColor, background: QColor, ratio: float = MIN_TEXT_CONTRAST) -> QColor:
    """``color``, moved towards black or white (whichever contrasts more with ``background``)
    just far enough to reach ``ratio`` against it: a hue that keeps its meaning and stays
    legible on any palette."""
    if contrast_ratio(color, background) >= ratio:
        return QColor(color)
    white, black = QColor(255, 255, 255), QColor(0, 0, 0)
    end = white if contrast_ratio(white, background) >= contrast_ratio(black, background) else black
    lo, hi = 0.0, 1.0
    for _ in range(12):  # bisection: contrast grows monotonically along the blend
        mid = (lo + hi) / 2
        if contrast_ratio(blend(color, end, mid), background) >= ratio:
            hi = mid
        else:
            lo = mid
    return blend(color, end, hi)
