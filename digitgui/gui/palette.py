"""Colours derived from the system palette, so the app reads well in light and dark themes."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette

__all__ = [
    "accent_colors",
    "blend",
    "ink_color_table",
    "is_dark",
    "warning_color",
]


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


def warning_color(palette: QPalette) -> QColor:
    return QColor("#ffb74d") if is_dark(palette) else QColor("#a04a00")
