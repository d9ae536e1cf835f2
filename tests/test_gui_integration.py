"""The window with its insight views and "My digits": wiring, not the views themselves."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from gui_helpers import SEVEN, drag
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from digitgui.core.data import load_digits_split
from digitgui.core.my_digits import DigitCollection, default_collection_path
from digitgui.core.training import PRESETS
from digitgui.gui.main_window import MainWindow
from digitgui.gui.worker import running_threads

VIEW_NAMES = (
    "testSetView",
    "confusionMatrix",
    "attributionView",
    "nearestExamples",
    "weightTiles",
    "guessHistoryPlot",
    "stepThroughView",
    "myDigitsView",
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


def test_every_view_is_in_the_window(window):
    for name in VIEW_NAMES:
        assert window.findChild(QWidget, name) is not None, name
    titles = [window.insight_tabs.tabText(i) for i in range(window.insight_tabs.count())]
    assert titles[:2] == ["Training", "Model"]
    assert "My digits" in titles and "Why" in titles


def test_views_follow_the_drawing(qtbot, window):
    view = window.insight.attribution
    window.insight_tabs.setCurrentWidget(view)
    drag(qtbot, window.canvas, SEVEN)
    digit = window.canvas.digit8x8()
    qtbot.waitUntil(lambda: view.attribution() is not None, timeout=5000)
    np.testing.assert_array_equal(view.attribution().digit, digit)
    window.canvas.clear()
    qtbot.waitUntil(lambda: view.attribution() is None, timeout=5000)


def test_a_hidden_view_catches_up_when_shown(qtbot, window):
    view = window.insight.attribution
    assert window.insight_tabs.currentWidget() is not view
    drag(qtbot, window.canvas, SEVEN)
    assert view.attribution() is None  # no work for a view nobody sees
    window.insight_tabs.setCurrentWidget(view)
    np.testing.assert_array_equal(view.attribution().digit, window.canvas.digit8x8())


def test_a_requested_test_digit_is_shown_and_read_exactly(qtbot, window):
    split = load_digits_split()
    digit = split.X_test[5].reshape(8, 8)
    window.insight.digitRequested.emit(digit)
    np.testing.assert_array_equal(window.canvas.digit8x8(), digit)
    np.testing.assert_allclose(window.probabilities(), window.model().predict_proba(digit))
    assert not window.canvas.is_empty() and window.canvas.strokes() == []
    # Drawing afterwards starts a new drawing rather than adding to the shown digit.
    drag(qtbot, window.canvas, SEVEN)
    assert window.canvas.loaded_digit() is None
    assert len(window.canvas.strokes()) == 1
    assert not np.array_equal(window.canvas.digit8x8(), digit)


def test_undo_removes_a_shown_digit(window):
    window.insight.digitRequested.emit(load_digits_split().X_test[0].reshape(8, 8))
    assert window.canvas.undo()
    assert window.canvas.is_empty() and window.probabilities() is None


def test_digit_key_on_the_canvas_adds_to_my_digits(qtbot, window):
    drag(qtbot, window.canvas, SEVEN)
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, Qt.Key.Key_7)
    path = default_collection_path()
    qtbot.waitUntil(path.exists, timeout=5000)
    entries = list(DigitCollection(path))
    assert [e.label for e in entries] == [7]
    np.testing.assert_array_equal(entries[0].digit, window.canvas.digit8x8())


def test_training_uses_my_digits_when_asked(qtbot, window, monkeypatch):
    view = window.my_digits
    digit = load_digits_split().X_train[0].reshape(8, 8)
    for _ in range(12):
        view.add_digit(digit, 4)
    window.findChild(QWidget, "useMyDigitsCheck").setChecked(True)
    seen = {}
    original = window.training_runner().start

    def spy(config, extra_train=None):
        seen["extra"] = extra_train
        return original(config, extra_train=extra_train)

    monkeypatch.setattr(window.training_runner(), "start", spy)
    with qtbot.waitSignal(window.trainingFinished, timeout=60_000):
        window.start_training(dataclasses.replace(PRESETS["default"], iterations=5, augment=0))
    X, y = seen["extra"]
    assert len(y) > 0 and set(y.tolist()) == {4}
    assert X.shape[1] == 64


def test_delete_and_undo_in_the_gallery_act_on_my_digits_not_the_canvas(qtbot, window):
    view = window.my_digits
    for label in (1, 2):
        view.add_digit(load_digits_split().X_train[label].reshape(8, 8), label)
    drag(qtbot, window.canvas, SEVEN)
    window.insight_tabs.setCurrentWidget(view)
    gallery = window.findChild(QWidget, "myDigitsGallery")
    view.select_rows([0])
    gallery.setFocus()
    qtbot.waitUntil(gallery.hasFocus, timeout=5000)
    qtbot.keyClick(gallery, Qt.Key.Key_Delete)
    assert len(view.collection) == 1
    assert len(window.canvas.strokes()) == 1  # the window's Delete (clear canvas) did not fire
    qtbot.keyClick(gallery, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(view.collection) == 2
    assert len(window.canvas.strokes()) == 1  # nor did its Ctrl+Z (undo stroke)
    # With the focus on the canvas the same keys act on the drawing.
    window.canvas.setFocus()
    qtbot.waitUntil(window.canvas.hasFocus, timeout=5000)
    qtbot.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.canvas.is_empty() and len(view.collection) == 2
