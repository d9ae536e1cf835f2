"""Presentation mode and zoom (issue 16 item 1): readable from the back row."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QAction, QFontMetrics

from digitgui.gui.main_window import MainWindow
from digitgui.gui.presentation import MAX_ZOOM, MIN_ZOOM, PRESENTATION_ZOOM, zoom_present


@pytest.fixture
def window(qtbot):
    w = MainWindow(load_reference=False)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()


def tick_pixels(w) -> int:
    axis = w.cost_plot.cost_item.getAxis("left")
    font = axis.style["tickFont"] or w.cost_plot.font()  # None: pyqtgraph's default, the widget's
    return QFontMetrics(font).height()


@pytest.mark.parametrize("size", [(1280, 800), (1024, 768)])
def test_presentation_mode_makes_the_plot_large_and_its_ticks_readable(qtbot, window, size):
    window.resize(*size)
    qtbot.wait(20)
    action = window.findChild(QAction, "presentationAction")
    assert action is not None and action.isCheckable() and action.shortcut().toString() == "F11"
    base_point = window.font().pointSizeF()
    action.trigger()
    qtbot.wait(50)
    assert window.zoom.presenting and window.zoom.factor >= PRESENTATION_ZOOM
    assert window.font().pointSizeF() == pytest.approx(base_point * window.zoom.factor)
    assert (window.width(), window.height()) == size  # the window did not outgrow the screen
    assert window.cost_plot.height() >= window.height() / 2
    assert tick_pixels(window) >= 20
    assert not window.training_panel.isVisible() and not window.runs_panel.isVisible()
    action.trigger()  # off: what was there comes back
    qtbot.wait(50)
    assert window.zoom.factor == 1.0 and window.training_panel.isVisible()
    assert window.runs_panel.isVisible()


def test_zoom_keys_step_and_stay_in_bounds(window):
    for _ in range(20):
        window.zoom_in_action.trigger()
    assert window.zoom.factor == MAX_ZOOM
    for _ in range(20):
        window.zoom_out_action.trigger()
    assert window.zoom.factor == MIN_ZOOM
    window.zoom_reset_action.trigger()
    assert window.zoom.factor == 1.0
    shortcuts = {k.toString() for k in window.zoom_in_action.shortcuts()}
    assert "Ctrl+=" in shortcuts and window.zoom_out_action.shortcut().toString() == "Ctrl+-"


def test_zoom_scales_the_plot_and_the_reader_line(window):
    before_ticks, before_reader = tick_pixels(window), window.reader_label.font().pointSizeF()
    window.zoom.set(2.0)
    assert tick_pixels(window) > 1.6 * before_ticks
    assert window.reader_label.font().pointSizeF() == pytest.approx(2 * before_reader)


def test_presentation_mode_is_remembered(qtbot, window):
    zoom_present(window, True)
    window.close()
    again = MainWindow(load_reference=False)
    qtbot.addWidget(again)
    try:
        assert again.zoom.presenting and again.presentation_action.isChecked()
        zoom_present(again, False)
        assert again.zoom.factor == 1.0
    finally:
        again.close()
