"""Issue 13 item 10: a light/dark switch while the app runs (QApplication.setPalette, as a desktop
does on a live theme switch) recolours the plots: nothing keeps the old palette's colours."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from digitgui.gui.insight.guess_history import GuessHistoryView
from digitgui.gui.insight.hidden_units import HiddenActivationsView
from digitgui.gui.palette import contrast_ratio


def dark_palette() -> QPalette:
    p = QPalette()
    for role, color in (
        (QPalette.ColorRole.Window, "#202326"),
        (QPalette.ColorRole.WindowText, "#fcfcfc"),
        (QPalette.ColorRole.Base, "#141618"),
        (QPalette.ColorRole.Text, "#fcfcfc"),
        (QPalette.ColorRole.Button, "#292c30"),
        (QPalette.ColorRole.ButtonText, "#fcfcfc"),
        (QPalette.ColorRole.Mid, "#5a5e63"),
        (QPalette.ColorRole.Highlight, "#3daee9"),
    ):
        p.setColor(role, QColor(color))
    return p


@pytest.fixture
def switch(qapp):
    before = QPalette(qapp.palette())
    light = QPalette(before)
    light.setColor(QPalette.ColorRole.Base, QColor("#ffffff"))
    light.setColor(QPalette.ColorRole.Text, QColor("#000000"))
    qapp.setPalette(light)

    def to_dark() -> None:
        qapp.setPalette(dark_palette())
        QApplication.processEvents()

    yield to_dark
    qapp.setPalette(before)


def background(plot) -> QColor:
    return plot.backgroundBrush().color()


def axis_text(plot) -> QColor:
    return plot.getAxis("left").textPen().color()


def test_the_guess_history_plot_follows_a_dark_switch(qtbot, switch):
    view = GuessHistoryView()
    qtbot.addWidget(view)
    view.show()
    assert background(view.plot).lightness() > 200
    switch()
    bg = background(view.plot)
    assert bg.lightness() < 60
    assert contrast_ratio(axis_text(view.plot), bg) >= 4.5


def test_the_activation_plots_follow_a_dark_switch(qtbot, switch):
    from digitgui.core.model_io import load_default

    view = HiddenActivationsView()
    qtbot.addWidget(view)
    view.set_model(load_default())
    view.show()
    plots = view.plots()
    assert plots and background(plots[0]).lightness() > 200
    switch()
    for plot in plots:
        assert background(plot).lightness() < 60
        assert contrast_ratio(axis_text(plot), background(plot)) >= 4.5


def test_the_step_list_rows_stay_readable_after_a_dark_switch(qtbot, switch):
    """The uncoloured rows ("given" matrices) take the list's text colour at paint time; before,
    each kept the light palette's black and read 1.1:1 on the dark list."""
    from digitgui.core.data import load_digits_split
    from digitgui.core.model_io import load_default
    from digitgui.gui.insight.step_through import StepThroughView

    view = StepThroughView(split=load_digits_split())
    qtbot.addWidget(view)
    view.set_model(load_default())
    view.set_digit(load_digits_split().X_test[0].reshape(8, 8))
    view.show()
    rows = view.step_list
    assert rows.count() > 5
    switch()
    base = rows.palette().color(QPalette.ColorRole.Base)
    assert base.lightness() < 60
    for i in range(rows.count()):
        brush = rows.item(i).foreground()
        own = brush.style() != brush.style().NoBrush
        color = brush.color() if own else rows.palette().color(QPalette.ColorRole.Text)
        assert contrast_ratio(color, base) >= 3, rows.item(i).text()
