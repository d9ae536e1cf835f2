"""What a screen reader gets from the window (issue 13, item 8) with pytest-qt: every
interactive widget has a name, and the guess, painted, is also there as text."""

from __future__ import annotations

import pytest
from gui_helpers import SEVEN, drag
from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractScrollArea,
    QAbstractSpinBox,
    QComboBox,
    QGraphicsView,
    QHeaderView,
    QLabel,
    QLineEdit,
    QScrollBar,
    QSlider,
    QTabBar,
    QWidget,
)

from digitgui.gui.accessibility import name_widgets, spoken_name
from digitgui.gui.main_window import MainWindow
from digitgui.gui.worker import running_threads

INTERACTIVE = (
    QAbstractButton,
    QComboBox,
    QAbstractSpinBox,
    QLineEdit,
    QSlider,
    QAbstractItemView,
    QGraphicsView,
    QTabBar,
)
# Parts Qt builds into other widgets; a screen reader meets them through their owner.
QT_PARTS = (
    "qt_tableview_cornerbutton",
    "qt_menubar_ext_button",
    "ScrollLeftButton",
    "ScrollRightButton",
)


@pytest.fixture
def window(qtbot):
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    qtbot.waitUntil(w.insight_views_ready, timeout=30_000)
    yield w
    w.close()
    assert not running_threads()


def _buddy_text(widget: QWidget) -> str:
    for label in widget.window().findChildren(QLabel):
        if label.buddy() is widget:
            return label.text().replace("&", "").strip()
    return ""


def _interactive(window: QWidget) -> list[QWidget]:
    found = []
    for w in window.findChildren(QWidget):
        if w.window() is not window or isinstance(w, (QLabel, QScrollBar, QHeaderView)):
            continue
        parent = w.parentWidget()
        if w.objectName() in QT_PARTS or w.objectName() == "focusRing":
            continue
        if isinstance(w, QLineEdit) and isinstance(parent, (QAbstractSpinBox, QComboBox)):
            continue
        if isinstance(parent, QAbstractScrollArea) and w is parent.viewport():
            continue
        takes_tab = bool(w.focusPolicy() & Qt.FocusPolicy.TabFocus)
        if isinstance(w, INTERACTIVE) or (takes_tab and type(w).__name__ != "QTabWidget"):
            found.append(w)
    return found


def _name(widget: QWidget) -> str:
    """What a screen reader calls the widget: its accessible name, its buddy label, or (for a
    button or a tab bar) its text."""
    if widget.accessibleName():
        return widget.accessibleName()
    if _buddy_text(widget):
        return _buddy_text(widget)
    if isinstance(widget, QAbstractButton):
        return widget.text().replace("&", "").strip()
    if isinstance(widget, QTabBar) and widget.count():
        return widget.tabText(widget.currentIndex())
    return ""


def test_every_interactive_widget_has_a_name(qtbot, window):
    tabs = window.insight_tabs
    # Every tab once, so that the views that build their widgets when first shown have done so.
    for i in range(tabs.count()):
        tabs.setCurrentIndex(i)
        qtbot.wait(10)
    widgets = _interactive(window)
    assert len(widgets) > 50
    unnamed = [
        f"{type(w).__name__} {w.objectName() or '(no object name)'}"
        for w in widgets
        if not _name(w)
    ]
    assert not unnamed, f"{len(unnamed)} of {len(widgets)} widgets have no name: {unnamed}"
    # Not named after a neighbour: the slider is the pen's width, not the group "Draw a digit".
    assert "pen" in _name(window.pen_slider).lower()
    assert "canvas" in _name(window.canvas).lower()
    assert window.insight.activations.plots(), "the Units tab built its plots"
    for plot in window.insight.activations.plots():
        assert plot.accessibleName().startswith("Layer")
    # The accessible interface, which the platform's bridge reads, agrees (combo boxes excepted:
    # on Linux Qt names a combo by its value and its label comes from a buddy relation).
    for w in widgets:
        if isinstance(w, QComboBox):
            continue
        interface = QAccessible.queryAccessibleInterface(w)
        assert interface is not None and interface.text(QAccessible.Text.Name), w.objectName()
    # The helper names what the views did not, and names nothing twice.
    assert name_widgets(window) == 0
    assert spoken_name(window.cost_plot)


def test_the_guess_and_its_probability_are_text(qtbot, window):
    chart = window.probability_chart
    assert "Draw a digit" in chart.accessibleName()  # the hint, before there is a guess
    drag(qtbot, window.canvas, SEVEN)
    assert chart.predicted() == 7
    value = chart.value_texts()[7]
    spoken = chart.spoken_text()
    assert spoken.startswith(("Guess: 7", "Not sure: 7"))
    assert value in spoken
    assert spoken in chart.accessibleName()
    interface = QAccessible.queryAccessibleInterface(chart)
    assert spoken in interface.text(QAccessible.Text.Name)
    # All ten probabilities, as printed by the bars.
    description = chart.accessibleDescription()
    for d, text in enumerate(chart.value_texts()):
        assert f"{d}: {text}" in description
    assert chart.headline.accessibleName() == spoken
    # What the network sees, as numbers.
    assert window.digit_view.accessibleDescription().startswith("Row 0:")
    window.canvas.clear()
    assert "Guess" not in chart.accessibleName()
    assert window.digit_view.accessibleDescription().startswith("Empty")
