"""Helpers shared by the GUI tests (pytest puts this folder on sys.path)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt

#: A "7" in canvas pixels: a top bar and a diagonal.
SEVEN = [(70.0, 50.0), (180.0, 50.0), (110.0, 210.0)]


def drag(qtbot, canvas, points) -> list[QPoint]:
    """Press, move through and release at canvas points ``(x, y)`` on a ``DrawingCanvas`` with
    real mouse events; returns the widget points."""
    widget = [canvas.widget_point(x, y).toPoint() for x, y in points]
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=widget[0])
    for p in widget[1:]:
        qtbot.mouseMove(canvas, p)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=widget[-1])
    return widget
