"""Zoom and presentation mode: everything readable from the back row.

:class:`Zoom` scales the window's font (every widget that does not set its own follows; the
painted views derive their fonts from it) and the runs plot's axes, ticks and legend, in steps
from 0.8x to 2.5x (Ctrl+= / Ctrl+- / Ctrl+0). Presentation mode (F11 here: View menu) zooms to
at least :data:`PRESENTATION_ZOOM` and folds the secondary panes away (the training settings
and the runs table), so the plot takes at least half the window's height; leaving it restores
what was there.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

__all__ = [
    "MAX_ZOOM",
    "MIN_ZOOM",
    "PRESENTATION_ZOOM",
    "ZOOM_STEPS",
    "SplitFollower",
    "Zoom",
    "fit_to_screen",
    "zoom_present",
    "zoom_reset",
    "zoom_step",
]

ZOOM_STEPS = (0.8, 0.9, 1.0, 1.15, 1.3, 1.5, 1.75, 2.0, 2.25, 2.5)
MIN_ZOOM, MAX_ZOOM = ZOOM_STEPS[0], ZOOM_STEPS[-1]
PRESENTATION_ZOOM = 1.75


class Zoom:
    """The zoom of window ``w`` (a :class:`~digitgui.gui.main_window.MainWindow`)."""

    def __init__(self, w) -> None:
        self.w = w
        self.base = QFont(w.font())
        if self.base.pointSizeF() <= 0:  # a font given in pixels
            self.base.setPointSizeF(9.0)
        self.factor = 1.0
        self.presenting = False
        self._folded: tuple[bool, list[int]] | None = None

    def set(self, factor: float) -> float:
        """Zoom to ``factor`` (clamped to 0.8x..2.5x); returns the factor applied."""
        factor = min(MAX_ZOOM, max(MIN_ZOOM, float(factor)))
        self.factor = factor
        font = QFont(self.base)
        font.setPointSizeF(self.base.pointSizeF() * factor)
        self.w.setFont(font)
        self.w.cost_plot.set_font(font)
        self.w.drawing_area.follow_font()
        return factor

    def step(self, direction: int) -> float:
        """One step bigger (+1) or smaller (-1)."""
        if direction > 0:
            bigger = [z for z in ZOOM_STEPS if z > self.factor + 1e-9]
            return self.set(bigger[0] if bigger else MAX_ZOOM)
        smaller = [z for z in ZOOM_STEPS if z < self.factor - 1e-9]
        return self.set(smaller[-1] if smaller else MIN_ZOOM)

    def present(self, on: bool) -> None:
        """Presentation mode on or off (see the module docstring)."""
        on = bool(on)
        if on == self.presenting:
            return
        self.presenting = on
        tab = self.w.training_tab
        if on:
            self._folded = (tab.training_panel.isVisible(), tab.plot_splitter.sizes())
            self._zoom_before = self.factor
            self.set(max(self.factor, PRESENTATION_ZOOM))
            tab.show_settings(False)
            tab.runs_panel.hide()
        else:
            settings, sizes = self._folded or (True, [])
            tab.runs_panel.show()
            tab.show_settings(settings)
            if sizes:
                tab.plot_splitter.setSizes(sizes)
            self.set(getattr(self, "_zoom_before", 1.0))


def zoom_step(w, direction: int) -> float:
    """One zoom step bigger (+1) or smaller (-1); the status bar says the zoom."""
    factor = w.zoom.step(direction)
    w.statusBar().showMessage(f"Zoom {factor:.0%}", 2000)
    return factor


def zoom_reset(w) -> None:
    w.zoom.set(1.0)
    w.statusBar().showMessage("Zoom 100%", 2000)


def zoom_present(w, on: bool) -> None:
    """Presentation mode (View menu, F11): large text, the plot large, side panes folded."""
    w.zoom.present(on)
    w.presentation_action.setChecked(on)


def fit_to_screen(w, width: int = 1280, height: int = 800) -> None:
    """Size the window to ``width`` x ``height``, or to the screen's available area (minus
    room for the frame) when that is smaller, and centre it there."""
    screen = w.screen() or QApplication.primaryScreen()
    area = screen.availableGeometry() if screen is not None else None
    # A larger font makes the pages wider: use more of a large screen before anything scrolls.
    width = max(width, _natural_total(w))
    if area is not None and not area.isEmpty():
        width = min(width, area.width() - 16)
        height = min(height, area.height() - 40)
    w.resize(max(width, w.minimumSizeHint().width()), height)
    if area is not None and not area.isEmpty():
        frame = w.frameGeometry()
        frame.moveCenter(area.center())
        w.move(frame.topLeft())
    # Lay the window out first: before it is shown the splitter still has its default width
    # and would clip the sizes to it.
    w.layout().activate()
    w.splitter.setSizes(_split(w))
    if getattr(w, "split_follower", None) is None:
        w.split_follower = SplitFollower(w)


class SplitFollower(QObject):
    """Keeps the drawing side / tabs split of window ``w`` at :func:`_split`'s rule as the
    window is resized (maximised, snapped to half a screen) and as another tab is shown, until
    the user drags the handle or
    a remembered split is restored (``following`` False): Qt would share the new width by its
    own rule, leaving the tab titles behind scroll arrows after a window grew."""

    def __init__(self, w) -> None:
        super().__init__(w)
        self.w = w
        self.following = True
        w.installEventFilter(self)
        w.splitter.splitterMoved.connect(self._on_splitter_moved)
        # A wide page (the Step tab) takes the width it needs when it is shown.
        w.splitter.widget(1).currentChanged.connect(self._follow)

    def _on_splitter_moved(self, *_args) -> None:
        self.following = False

    def _follow(self, *_args) -> None:
        if self.following:
            self.w.splitter.setSizes(_split(self.w))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.w and event.type() == QEvent.Type.Resize and self.following:
            self.w.layout().activate()
            self._follow()
        return False


def _natural_width(page) -> int:
    """The width ``page`` needs to show without scrolling: a page that scrolls inside itself
    (``insight/scrolling.py``) needs its content's minimum."""
    from PySide6.QtWidgets import QScrollArea

    area = page.findChild(QScrollArea, f"{page.objectName() or 'page'}Scroll")
    inner = area.widget() if area is not None and area.parent() is page else None
    return (inner or page).minimumSizeHint().width()


def _tabs_wanted(w) -> int:
    """The width the tab side wants: the page showing without scrolling sideways, plus the tab
    frame."""
    tabs = w.splitter.widget(1)
    page = tabs.currentWidget() if hasattr(tabs, "currentWidget") else None
    return _natural_width(page) + 12 if page is not None else 0


def _natural_total(w) -> int:
    drawing = w.splitter.widget(0).minimumSizeHint().width()
    return drawing + _tabs_wanted(w) + w.splitter.handleWidth() + 8


def _split(w) -> list[int]:
    """The drawing side 54% of the width, at least its minimum (the canvas keeps its size on a
    narrow window), less when the tab showing would otherwise have to scroll sideways."""
    total = w.splitter.width() if w.splitter.isVisible() else w.width()
    total -= w.splitter.handleWidth()
    drawing = w.splitter.widget(0).minimumSizeHint().width()
    left = max(drawing, min(round(total * 0.54), total - _tabs_wanted(w)))
    return [left, max(0, total - left)]
