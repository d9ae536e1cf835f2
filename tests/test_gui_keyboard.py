"""Keyboard use of the window (issue 13, item 7) with pytest-qt: no keyboard trap, tabs switch
from anywhere, a visible focus ring on the widgets that paint themselves, cells, tiles and
gallery digits picked with the keys, the shortcuts dialog read to its end from the keyboard, and
menus first on Alt+letter."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from gui_helpers import SEVEN, drag
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QDialog,
    QLabel,
    QTableWidget,
    QWidget,
)

from digitgui.core.calibration import reliability_table
from digitgui.core.data import load_digits_split
from digitgui.core.model_io import load_default
from digitgui.core.training import PRESETS, train
from digitgui.gui.accessibility import hidden_focus_rings
from digitgui.gui.canvas import MAX_PEN_WIDTH, DrawingCanvas
from digitgui.gui.insight import (
    AttributionView,
    HiddenActivationsView,
    NearestExamplesView,
    TestSetView,
    WeightTilesView,
)
from digitgui.gui.main_window import MainWindow
from digitgui.gui.reliability_diagram import ReliabilityDiagram
from digitgui.gui.worker import running_threads

NO = Qt.KeyboardModifier.NoModifier
CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
ALT = Qt.KeyboardModifier.AltModifier


@pytest.fixture(scope="module")
def split():
    return load_digits_split(42)


@pytest.fixture(scope="module")
def model():
    return load_default()


@pytest.fixture
def window(qtbot):
    w = MainWindow(load_reference=False)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=5000)
    yield w
    w.close()
    assert not running_threads()


def _open(qtbot, widget: QWidget, size=(760, 560)) -> QWidget:
    qtbot.addWidget(widget)
    widget.resize(*size)
    widget.show()
    qtbot.waitExposed(widget)
    widget.activateWindow()
    qtbot.waitUntil(widget.isActiveWindow, timeout=5000)
    return widget


def _focus(qtbot, widget: QWidget) -> None:
    widget.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(widget.hasFocus, timeout=2000)


def _focused() -> QWidget | None:
    return QApplication.focusWidget()


def _is_highlight(widget: QWidget, point: QPoint) -> bool:
    """Whether ``widget`` paints the palette's highlight colour at ``point`` (the focus ring)."""
    image = widget.grab().toImage()
    scale = image.devicePixelRatio()
    pixel = QColor(image.pixel(int(point.x() * scale), int(point.y() * scale)))
    ring = widget.palette().color(QPalette.ColorRole.Highlight)
    return all(abs(a - b) <= 8 for a, b in zip(pixel.getRgb()[:3], ring.getRgb()[:3], strict=True))


def _edge(widget: QWidget) -> QPoint:
    """A point on the left edge of ``widget``, half-way down: where the focus ring runs."""
    return QPoint(0, widget.height() // 2)


# --- no keyboard trap, tabs from anywhere ---------------------------------------------------------


def _show_tab(window: MainWindow, widget: QWidget) -> None:
    window.insight_tabs.setCurrentIndex(window.insight_tabs.indexOf(widget))


@pytest.mark.parametrize(
    ("key", "modifiers"),
    [
        (Qt.Key.Key_Tab, NO),
        (Qt.Key.Key_Backtab, SHIFT),
        (Qt.Key.Key_Escape, NO),
        (Qt.Key.Key_Tab, CTRL),
        (Qt.Key.Key_Backtab, CTRL | SHIFT),
        (Qt.Key.Key_PageDown, CTRL),
        (Qt.Key.Key_PageUp, CTRL),
    ],
)
def test_the_matrix_table_of_one_update_step_lets_the_focus_go(qtbot, window, key, modifiers):
    step = window.insight.step_through
    _show_tab(window, step)
    _focus(qtbot, step.table)
    qtbot.keyClick(step.table, key, modifiers)
    assert _focused() is not None and _focused() is not step.table
    if modifiers & CTRL:
        # The window's Next/Previous tab: another tab shows, the focus on its tab bar.
        assert window.insight_tabs.currentWidget() is not step
        assert _focused() is window.insight_tabs.tabBar()
    elif key == Qt.Key.Key_Escape:
        assert _focused() is step.step_list


def test_ctrl_tab_and_ctrl_page_keys_switch_tabs_from_the_canvas(qtbot, window):
    tabs = window.insight_tabs
    n = tabs.count()
    tabs.setCurrentIndex(0)
    _focus(qtbot, window.canvas)
    presses = [
        (Qt.Key.Key_Tab, CTRL, 1),
        (Qt.Key.Key_PageDown, CTRL, 2),
        (Qt.Key.Key_PageUp, CTRL, 1),
        (Qt.Key.Key_Backtab, CTRL | SHIFT, 0),
        (Qt.Key.Key_PageUp, CTRL, n - 1),  # round the end
        (Qt.Key.Key_Tab, CTRL, 0),
    ]
    for key, modifiers, expected in presses:
        qtbot.keyClick(window.canvas, key, modifiers)
        assert tabs.currentIndex() == expected, (key, modifiers)
        # Drawing keys (0-9 add the drawing) keep working: the focus stays on the canvas.
        assert _focused() is window.canvas
    names = {a.text().replace("&", "") for a in window.actions()}
    assert {"Next tab", "Previous tab"} <= names


# --- focus ring -----------------------------------------------------------------------------------


def test_the_canvas_shows_a_focus_ring(qtbot, window):
    canvas = window.canvas
    target = canvas._target_rect()
    edge = QPoint(int(target.left()) + 1, int(target.center().y()))
    _focus(qtbot, window.pen_slider)
    assert not _is_highlight(canvas, edge)
    _focus(qtbot, canvas)
    assert _is_highlight(canvas, edge)


def test_the_plots_show_a_focus_ring(qtbot, window):
    history = window.insight.guess_history
    for tab, plot in ((window.training_tab, window.cost_plot), (history, history.plot)):
        _show_tab(window, tab)
        qtbot.waitUntil(plot.isVisible, timeout=2000)
        _focus(qtbot, window.canvas)
        assert not _is_highlight(plot, _edge(plot)), plot.objectName()
        _focus(qtbot, plot)
        assert _is_highlight(plot, _edge(plot)), plot.objectName()


def test_an_exported_plot_has_no_focus_ring(qtbot, window):
    plot = window.cost_plot
    _focus(qtbot, plot)
    with hidden_focus_rings(plot):
        assert not _is_highlight(plot, _edge(plot))
    assert _is_highlight(plot, _edge(plot))


def test_the_guess_takes_the_focus_with_a_ring(qtbot, window):
    chart = window.probability_chart
    assert chart.focusPolicy() & Qt.FocusPolicy.TabFocus
    _focus(qtbot, chart)
    assert _is_highlight(chart, _edge(chart))


# --- cells, tiles and gallery digits from the keyboard -------------------------------------------


def test_confusion_matrix_cells_and_their_digits_from_the_keyboard(qtbot, model, split):
    view = _open(qtbot, TestSetView(split=split), (900, 760))
    view.set_model(model)
    matrix = view.matrix
    assert matrix.focusPolicy() & Qt.FocusPolicy.TabFocus
    _focus(qtbot, matrix)
    assert _is_highlight(matrix, _edge(matrix))
    qtbot.keyClick(matrix, Qt.Key.Key_Home)
    assert matrix.selected_cell == (0, 0)
    with qtbot.waitSignal(matrix.cellClicked, timeout=2000) as blocker:
        qtbot.keyClick(matrix, Qt.Key.Key_Down)
    assert blocker.args == [1, 0]
    qtbot.keyClick(matrix, Qt.Key.Key_Down)
    qtbot.keyClick(matrix, Qt.Key.Key_Right)
    assert matrix.selected_cell == (2, 1)
    for _ in range(20):  # stops at the edges
        qtbot.keyClick(matrix, Qt.Key.Key_Right)
    assert matrix.selected_cell == (2, 9)
    for key in (Qt.Key.Key_Home, Qt.Key.Key_Down, Qt.Key.Key_Down, Qt.Key.Key_Right):
        qtbot.keyClick(matrix, key)
    qtbot.keyClick(matrix, Qt.Key.Key_Right)
    assert matrix.selected_cell == (2, 2)
    # The gallery follows the cell: the 2s read correctly.
    assert "True 2, read correctly" in view.gallery_label.text()
    rows = view.gallery_rows()
    assert len(rows) > 3

    gallery = view.gallery
    assert gallery.focusPolicy() & Qt.FocusPolicy.TabFocus
    _focus(qtbot, gallery)
    assert gallery.current_index() == 0
    assert gallery.tiles()[0].has_focus_mark()
    assert _is_highlight(gallery.tiles()[0], _edge(gallery.tiles()[0]))
    qtbot.keyClick(gallery, Qt.Key.Key_Right)
    qtbot.keyClick(gallery, Qt.Key.Key_Right)
    assert gallery.current_index() == 2
    assert gallery.tiles()[2].has_focus_mark() and not gallery.tiles()[0].has_focus_mark()
    with qtbot.waitSignal(view.digitRequested, timeout=2000) as blocker:
        qtbot.keyClick(gallery, Qt.Key.Key_Return)
    np.testing.assert_array_equal(blocker.args[0], view.report().digits[rows[2]])
    qtbot.keyClick(gallery, Qt.Key.Key_End)
    assert gallery.current_index() == len(rows) - 1
    with qtbot.waitSignal(gallery.digitClicked, timeout=2000) as blocker:
        qtbot.keyClick(gallery, Qt.Key.Key_Space)
    assert blocker.args == [len(rows) - 1]
    # The recall/precision table is read with the keys too, and Tab leaves it.
    assert view.table.focusPolicy() & Qt.FocusPolicy.TabFocus
    assert not view.table.tabKeyNavigation()


def test_nearest_examples_load_from_the_keyboard(qtbot, model, split):
    view = _open(qtbot, NearestExamplesView(split=split), (760, 420))
    view.set_model(model)
    view.set_digit(split.X_test[3])
    _focus(qtbot, view.gallery)
    qtbot.keyClick(view.gallery, Qt.Key.Key_Right)
    with qtbot.waitSignal(view.digitRequested, timeout=2000) as blocker:
        qtbot.keyClick(view.gallery, Qt.Key.Key_Enter)
    np.testing.assert_array_equal(blocker.args[0], view.neighbours().digits[1])


def test_weight_tiles_from_the_keyboard(qtbot, model):
    view = _open(qtbot, WeightTilesView())
    view.set_model(model)
    grid = view.grid
    assert grid.focusPolicy() & Qt.FocusPolicy.TabFocus
    _focus(qtbot, grid)
    assert _is_highlight(grid, _edge(grid))
    with qtbot.waitSignal(view.unitClicked, timeout=2000) as blocker:
        qtbot.keyClick(grid, Qt.Key.Key_Right)  # from no selection: the first tile
    assert blocker.args == [0]
    qtbot.keyClick(grid, Qt.Key.Key_Right)
    qtbot.keyClick(grid, Qt.Key.Key_Down)
    columns = grid._columns()
    assert grid.selected_unit == 1 + columns
    assert view.unit_info.text().startswith(f"Unit {1 + columns}:")
    qtbot.keyClick(grid, Qt.Key.Key_End)
    assert grid.selected_unit == model.mlp.layer_sizes[1] - 1


def test_activation_bars_from_the_keyboard(qtbot, model, split):
    view = _open(qtbot, HiddenActivationsView(), (760, 420))
    view.set_model(model)
    view.set_digit(split.X_test[9].reshape(8, 8))
    plot = view.plots()[1]
    _focus(qtbot, plot)
    assert _is_highlight(plot, _edge(plot))
    with qtbot.waitSignal(view.unitClicked, timeout=2000) as blocker:
        qtbot.keyClick(plot, Qt.Key.Key_Right)
    assert blocker.args == [2, 0]
    qtbot.keyClick(plot, Qt.Key.Key_Right)
    assert view.selected_unit() == (2, 1)
    assert view.unit_info.text().startswith("Layer 2, unit 1:")
    qtbot.keyClick(plot, Qt.Key.Key_End)
    assert view.selected_unit() == (2, model.mlp.layer_sizes[2] - 1)


def test_attribution_cells_from_the_keyboard(qtbot, model, split):
    view = _open(qtbot, AttributionView())
    view.set_model(model)
    view.set_digit(split.X_test[0])
    _focus(qtbot, view.map)
    assert _is_highlight(view.map, _edge(view.map))
    qtbot.keyClick(view.map, Qt.Key.Key_Down)  # from no selection: the first cell
    qtbot.keyClick(view.map, Qt.Key.Key_Down)
    qtbot.keyClick(view.map, Qt.Key.Key_Right)
    assert view.map.selected_cell == (1, 1)
    assert view.cell_info.text().startswith("Row 1, column 1:")


def test_reliability_bars_from_the_keyboard(qtbot, model, split):
    probs = model.predict_proba(split.X_test)
    table = reliability_table(probs, split.y_test)
    diagram = _open(qtbot, ReliabilityDiagram(), (420, 460))
    diagram.set_table(table, "test")
    _focus(qtbot, diagram)
    assert _is_highlight(diagram, _edge(diagram))
    qtbot.keyClick(diagram, Qt.Key.Key_End)
    last = int(np.flatnonzero(table.counts)[-1])
    assert diagram.current_bin() == last
    assert f"{int(table.counts[last]):,} drawing" in diagram.accessibleDescription()
    qtbot.keyClick(diagram, Qt.Key.Key_Left)
    assert diagram.current_bin() == int(np.flatnonzero(table.counts)[-2])


def test_guess_history_steps_through_snapshots_from_the_keyboard(qtbot, window):
    config = dataclasses.replace(PRESETS["default"], iterations=30, eval_every=10)
    run = list(train(config, snapshot_interval=0.0))
    view = window.insight.guess_history
    _show_tab(window, view)
    drag(qtbot, window.canvas, SEVEN)
    view.set_digit(window.canvas.digit8x8())
    view.add_progress(run)
    its = view.history().iterations
    assert len(its) >= 3
    _focus(qtbot, view.plot)
    with qtbot.waitSignal(view.iterationSelected, timeout=2000) as blocker:
        qtbot.keyClick(view.plot, Qt.Key.Key_Left)  # from the newest, one back
    assert blocker.args == [int(its[-2])]
    qtbot.keyClick(view.plot, Qt.Key.Key_Home)
    assert f"At iteration {int(its[0]):,}" in view.status.text()
    qtbot.keyClick(view.plot, Qt.Key.Key_Escape)
    assert "At iteration" not in view.status.text()


# --- the shortcuts dialog -------------------------------------------------------------------------


@pytest.fixture
def large_font(qapp):
    """An 18 pt application font (as on a desktop with large text), restored afterwards."""
    before = qapp.font()
    font = qapp.font()
    font.setPointSizeF(18)
    qapp.setFont(font)
    yield
    qapp.setFont(before)


def test_the_shortcuts_dialog_is_read_to_its_end_from_the_keyboard(qtbot, large_font, window):
    qtbot.keyClick(window.canvas, Qt.Key.Key_F1)
    dialog = window.findChild(QDialog, "shortcutsDialog")
    assert dialog is not None
    qtbot.waitExposed(dialog)
    table = dialog.findChild(QTableWidget)
    qtbot.waitUntil(lambda: _focused() is table, timeout=2000)
    last = table.model().index(table.rowCount() - 1, 1)
    qtbot.keyClick(table, Qt.Key.Key_End, CTRL)
    assert table.viewport().rect().contains(table.visualRect(last))
    # Every column fits: nothing is cut off at the right.
    assert table.horizontalHeader().length() <= table.viewport().width()
    # The list names the tab keys and the keys of cells and tiles.
    texts = [table.item(r, 0).text() for r in range(table.rowCount())]
    assert "Next tab" in texts and "Previous tab" in texts
    assert any("Arrow keys" in table.item(r, 1).text() for r in range(table.rowCount()))
    # Tab goes on to Close; Escape closes.
    qtbot.keyClick(table, Qt.Key.Key_Tab)
    assert isinstance(_focused(), QAbstractButton)
    qtbot.keyClick(_focused(), Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=2000)


# --- menus first on Alt+letter -------------------------------------------------------------------


def _mnemonic(text: str) -> str | None:
    i = text.replace("&&", "").find("&")
    return None if i < 0 else text.replace("&&", "")[i + 1].lower()


def test_menu_letters_are_unique_in_the_window(window):
    menus = [_mnemonic(a.text()) for a in window.menuBar().actions() if a.text()]
    letters = [m for m in menus if m]
    for widget in window.findChildren(QLabel):
        if widget.buddy() is not None and _mnemonic(widget.text()):
            letters.append(_mnemonic(widget.text()))
    for widget in window.findChildren(QAbstractButton):
        if _mnemonic(widget.text()):
            letters.append(_mnemonic(widget.text()))
    clashes = sorted({c for c in letters if letters.count(c) > 1})
    assert not clashes, f"Alt+{', Alt+'.join(clashes)} mean two things"


@pytest.mark.parametrize(("key", "menu"), [(Qt.Key.Key_H, "Help"), (Qt.Key.Key_E, "Edit")])
def test_alt_letters_open_their_menus(qtbot, window, key, menu):
    window.insight_tabs.setCurrentIndex(0)  # the training form, with its own Alt+letters
    _focus(qtbot, window.canvas)
    qtbot.keyClick(window.canvas, key, ALT)
    popup = QApplication.activePopupWidget()
    try:
        assert popup is not None and popup.title().replace("&", "") == menu
    finally:
        if popup is not None:
            popup.close()


# --- the canvas's pen -----------------------------------------------------------------------------


def test_the_canvas_ignores_a_pen_width_that_is_no_number(qtbot):
    canvas = DrawingCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(256, 256)
    canvas.show()
    qtbot.waitExposed(canvas)
    before = canvas.pen_width()
    canvas.set_pen_width(math.nan)
    assert canvas.pen_width() == before
    canvas.set_pen_width(math.inf)
    assert canvas.pen_width() == MAX_PEN_WIDTH
    canvas.set_pen_width(math.nan)
    assert math.isfinite(canvas.pen_width())
    drag(qtbot, canvas, SEVEN)  # a NaN-wide stroke crashed the process here
    assert canvas.digit8x8() is not None
