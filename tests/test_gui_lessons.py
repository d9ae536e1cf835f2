"""File > Save/Open lesson, Export handout and Copy as command line (issue 16 item 7)."""

from __future__ import annotations

import dataclasses
import shlex

import numpy as np
import pytest
from gui_helpers import SEVEN, drag
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication

from digitgui.core.training import PRESETS
from digitgui.gui import lesson_actions
from digitgui.gui.main_window import MainWindow
from digitgui.gui.worker import running_threads

TINY = dataclasses.replace(PRESETS["notebook"], iterations=40, eval_every=10)


@pytest.fixture
def window(qtbot):
    w = MainWindow(load_reference=False)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()
    assert not running_threads()


def test_the_file_menu_has_the_lesson_actions(window):
    names = ("saveLessonAction", "openLessonAction", "exportHandoutAction", "copyCommandAction")
    for name in names:
        assert window.findChild(QAction, name) is not None, name


def test_a_saved_lesson_reopens_to_the_same_screen_and_numbers(qtbot, window, tmp_path):
    config = dataclasses.replace(TINY, lr=0.02, l2=0.001, name="custom")
    window.training_panel.set_config(config, "custom")
    drag(qtbot, window.canvas, SEVEN)
    window.training_tab.set_x_axis("epoch")
    window.log_action.setChecked(True)
    window.insight_tabs.setCurrentIndex(1)
    strokes = window.canvas.strokes()
    path = tmp_path / "class.digitgui-lesson.json"
    assert lesson_actions.save_lesson_as(window, path)
    with qtbot.waitSignal(window.trainingFinished, timeout=60_000) as first:
        assert window.start_training()

    again = MainWindow(load_reference=False)
    qtbot.addWidget(again)
    try:
        assert lesson_actions.open_lesson(again, path)
        assert again.training_panel.config() == window.training_panel.config()
        assert again.cost_plot.x_axis == "epoch" and again.cost_plot.log_y()
        assert again.insight_tabs.currentIndex() == 1
        for a, b in zip(again.canvas.strokes(), strokes, strict=True):
            np.testing.assert_allclose(a.points, b.points, atol=0.01)
        with qtbot.waitSignal(again.trainingFinished, timeout=60_000) as second:
            assert again.start_training()
        assert second.args[0].cost == first.args[0].cost  # identical numbers
        assert second.args[0].val_acc == first.args[0].val_acc
    finally:
        again.close()


def test_a_bad_lesson_file_changes_nothing(window, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "digitgui-lesson", "version": 7}')
    before = window.training_panel.config()
    assert not lesson_actions.open_lesson(window, bad)
    assert "version 7 is not supported" in window.last_error
    assert window.training_panel.config() == before


def test_copy_as_command_line_reproduces_the_latest_run(qtbot, window):
    with qtbot.waitSignal(window.trainingFinished, timeout=60_000):
        assert window.start_training(dataclasses.replace(TINY, lr=0.03))
    window.findChild(QAction, "copyCommandAction").trigger()
    text = QApplication.clipboard().text()
    words = shlex.split(text)
    assert words[:4] == ["digitgui", "train", "--preset", "notebook"]
    assert words[words.index("--lr") + 1] == "0.03"
    assert words[words.index("--iterations") + 1] == "40"


@pytest.mark.parametrize("suffix", [".png", ".pdf"])
def test_export_handout_writes_a_page_and_the_curves(qtbot, window, tmp_path, suffix):
    with qtbot.waitSignal(window.trainingFinished, timeout=60_000):
        assert window.start_training(TINY)
    path = tmp_path / f"handout{suffix}"
    assert lesson_actions.export_handout(window, path)
    data = path.read_bytes()
    assert data[:4] == (b"\x89PNG" if suffix == ".png" else b"%PDF")
    csv = path.with_suffix(".csv").read_text().splitlines()
    assert len(csv) == 1 + 40
    assert not lesson_actions.export_handout(window, tmp_path / "h.gif")
    assert ".png or .pdf" in window.last_error
