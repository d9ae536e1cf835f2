"""The main window with pytest-qt: drawing, training, files, settings, shortcuts."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from gui_helpers import SEVEN, drag
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QMessageBox,
    QSlider,
    QTableWidget,
    QWidget,
)

from digitgui.core.model_io import DigitClassifier, load_default
from digitgui.core.preprocess import raster_to_digit
from digitgui.core.reading import read_digit
from digitgui.core.strokes import Stroke
from digitgui.core.training import NOTEBOOK_ORDER_EXPLANATION, PRESETS
from digitgui.gui.main_window import MainWindow
from digitgui.gui.worker import running_threads

SHORT = dataclasses.replace(PRESETS["default"], iterations=120, eval_every=10)
ENDLESS = dataclasses.replace(PRESETS["default"], iterations=1_000_000, eval_every=50)
NOTEBOOK_COST_AT_1000 = 0.10841846755807866  # printed by shared/seed/notebook.txt


@pytest.fixture
def window(qtbot):
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()
    assert not running_threads()


def click(qtbot, window: MainWindow, name: str) -> None:
    button = window.findChild(QAbstractButton, name)
    assert button is not None and button.isEnabled(), f"{name} should be enabled"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_public_object_names(window):
    for name in (
        "drawingCanvas",
        "probabilityChart",
        "costPlot",
        "trainButton",
        "stopButton",
        "clearButton",
        "presetCombo",
        "insightTabs",
    ):
        assert window.findChild(QWidget, name) is not None, name
    assert window.canvas.objectName() == "drawingCanvas"


def test_empty_canvas_shows_a_hint_not_an_answer(window):
    assert window.canvas.digit8x8() is None
    assert window.probabilities() is None
    assert window.digit_view.digit() is None


def test_drawing_gives_the_8x8_and_the_models_probabilities(qtbot, window):
    digits = []
    window.digitChanged.connect(digits.append)
    drag(qtbot, window.canvas, SEVEN)
    digit = window.canvas.digit8x8()
    np.testing.assert_array_equal(digit, raster_to_digit(window.canvas.raster()))
    np.testing.assert_array_equal(window.digit_view.digit(), digit)
    np.testing.assert_array_equal(digits[-1], digit)
    probs = window.probabilities()
    np.testing.assert_allclose(probs, load_default().predict_proba(digit))
    assert probs.shape == (10,) and probs.sum() == pytest.approx(1.0)
    assert window.probability_chart.predicted() == int(np.argmax(probs))
    with qtbot.waitSignal(window.digitChanged, timeout=2000) as blocker:
        qtbot.mouseClick(window.clear_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0] is None and window.probabilities() is None


def test_training_run_emits_progress_fills_the_plot_and_replaces_the_model(qtbot, window):
    drag(qtbot, window.canvas, SEVEN)
    shipped = window.model()
    window.training_panel.set_config(SHORT)
    batches, models = [], []
    window.trainingProgress.connect(batches.append)
    window.modelChanged.connect(models.append)
    with qtbot.waitSignal(window.trainingStarted, timeout=10_000):
        click(qtbot, window, "trainButton")
    assert not window.train_action.isEnabled()
    with qtbot.waitSignal(window.trainingFinished, timeout=60_000) as blocker:
        pass
    final = blocker.args[0]
    assert final.outcome == "completed" and final.iteration == SHORT.iterations
    iterations = [r.iteration for batch in batches for r in batch]
    assert iterations == list(range(1, SHORT.iterations + 1))
    # The plot holds every iteration's cost and the validation measurements.
    np.testing.assert_array_equal(window.cost_plot.train.x, np.arange(1, SHORT.iterations + 1))
    np.testing.assert_allclose(window.cost_plot.train.y, [r.cost for b in batches for r in b])
    assert len(window.cost_plot.val) == SHORT.iterations // 10 + 1
    x, _ = window.cost_plot.train_curve.getData()
    assert len(x) == SHORT.iterations  # drawn, not only buffered
    # The new model reads the drawing and is described in the status bar.
    assert window.model() is final.model is not shipped
    assert models[-1] is final.model
    np.testing.assert_allclose(
        window.probabilities(), final.model.predict_proba(window.canvas.digit8x8())
    )
    assert final.model.description in window.model_label.text()
    assert window.progress_bar.value() == SHORT.iterations
    assert window.train_action.isEnabled()


def test_probabilities_follow_the_network_while_it_trains(qtbot, window):
    drag(qtbot, window.canvas, SEVEN)
    digit = window.canvas.digit8x8()
    shipped = window.probabilities()
    snapshots = []
    window.trainingProgress.connect(
        lambda records: snapshots.extend(r.snapshot for r in records if r.snapshot is not None)
    )

    def showing_a_snapshot() -> bool:
        shown = window.probabilities()
        return any(np.allclose(shown, s.predict_proba(digit)) for s in snapshots[-20:])

    window.start_training(ENDLESS)
    qtbot.waitUntil(lambda: len(snapshots) >= 3 and showing_a_snapshot(), timeout=30_000)
    assert not np.allclose(window.probabilities(), shipped)
    with qtbot.waitSignal(window.trainingFinished, timeout=30_000):
        window.stop_action.trigger()


def test_notebook_preset_plot_matches_the_notebooks_printed_cost(qtbot, window):
    combo = window.findChild(QComboBox, "presetCombo")
    combo.setCurrentIndex(combo.findData("notebook"))
    explanation = window.training_panel.explanation
    assert explanation.isVisible() and explanation.toolTip() == NOTEBOOK_ORDER_EXPLANATION
    window.training_panel.show_explanation(True)
    assert NOTEBOOK_ORDER_EXPLANATION[:40] in explanation.text()
    config = dataclasses.replace(PRESETS["notebook"], iterations=1000)
    with qtbot.waitSignal(window.trainingFinished, timeout=120_000):
        assert window.start_training(config)
    x, y = window.cost_plot.train.x, window.cost_plot.train.y
    assert x[-1] == 1000
    assert y[-1] == pytest.approx(NOTEBOOK_COST_AT_1000, rel=1e-6)


def test_pause_resume_stop(qtbot, window):
    window.training_panel.set_config(ENDLESS)
    with qtbot.waitSignal(window.trainingProgress, timeout=30_000):
        click(qtbot, window, "trainButton")
    click(qtbot, window, "pauseButton")
    assert window.training_runner().state == "paused"
    assert window.pause_action.text().replace("&", "") == "Resume"
    qtbot.wait(300)  # any refresh still queued has run: the line must not go back to a rate
    rate = window.rate_label.text()
    assert "paused at iteration" in rate and "ETA" not in rate and "it/s" not in rate
    click(qtbot, window, "pauseButton")
    assert window.training_runner().state == "running"
    with qtbot.waitSignal(window.trainingProgress, timeout=30_000):
        pass  # progress resumes
    with qtbot.waitSignal(window.trainingFinished, timeout=30_000) as blocker:
        click(qtbot, window, "stopButton")
    final = blocker.args[0]
    assert final.outcome == "stopped" and final.iteration < ENDLESS.iterations
    # Stop keeps the network in use; the stopped one is offered, not installed.
    assert window.model() is not final.model
    assert window.train_action.isEnabled() and not window.stop_action.isEnabled()
    click(qtbot, window, "useRunButton")
    assert window.model() is final.model
    assert "stopped" in window.model_label.text()


def test_reset_during_training_discards_the_run(qtbot, window):
    shipped = window.model()
    finished = []
    window.trainingFinished.connect(finished.append)
    window.training_panel.set_config(ENDLESS)
    with qtbot.waitSignal(window.trainingProgress, timeout=30_000):
        click(qtbot, window, "trainButton")
    click(qtbot, window, "resetButton")
    qtbot.waitUntil(lambda: not window.training_runner().is_busy(), timeout=30_000)
    assert finished == []
    assert window.model() is shipped
    assert len(window.cost_plot.train) == 0 and window.progress_bar.value() == 0
    assert window.train_action.isEnabled()


def test_reset_after_training_returns_to_the_previous_model(qtbot, window):
    shipped = window.model()
    with qtbot.waitSignal(window.trainingFinished, timeout=60_000):
        window.start_training(SHORT)
    assert window.model() is not shipped
    with qtbot.waitSignal(window.modelChanged, timeout=2000) as blocker:
        click(qtbot, window, "resetButton")
    assert blocker.args[0] is shipped and window.model() is shipped
    assert len(window.cost_plot.train) == 0


def test_divergence_keeps_a_finite_model_and_says_so(qtbot, window):
    config = dataclasses.replace(PRESETS["notebook"], optimizer="momentum", lr=10.0, iterations=300)
    with qtbot.waitSignal(window.trainingFinished, timeout=60_000) as blocker:
        window.start_training(config)
    final = blocker.args[0]
    assert final.outcome == "diverged"
    assert "diverged" in window.training_message.text()
    assert all(np.isfinite(w).all() for w in window.model().mlp.weights)
    assert np.isfinite(window.cost_plot.train.y).all()


def test_handwriting_without_the_packed_pendigits_fails_in_one_sentence_and_keeps_the_model(
    qtbot, window, tmp_path, monkeypatch
):
    gone = tmp_path / "pendigits.npz"
    monkeypatch.setattr("digitgui.core.pendigits.packed_pendigits_path", lambda: gone)
    # The patch reaches this process only: the run trains in a thread here (a training
    # process's own failures are tested in test_gui_training_process.py).
    window.training_runner().in_process = False
    before = window.model()
    config = dataclasses.replace(PRESETS["handwriting"], iterations=20, eval_every=10)
    window.start_training(config)  # fails before its first update: no final record
    qtbot.waitUntil(lambda: window.training_message.text().startswith("Training"), timeout=30_000)
    qtbot.waitUntil(lambda: not running_threads(), timeout=30_000)
    text = window.training_message.text()
    assert text.startswith("Training failed:") and str(gone) in text and "\n" not in text
    assert window.model() is before


def test_the_first_handwriting_run_says_it_is_drawing_the_pen_trajectories(qtbot, window):
    config = dataclasses.replace(PRESETS["handwriting"], handwriting=2, iterations=20)
    with qtbot.waitSignal(window.trainingFinished, timeout=120_000):
        assert window.start_training(config)
        assert "Drawing the 7,494 pen trajectories" in window.training_message.text()
    with qtbot.waitSignal(window.trainingFinished, timeout=60_000):
        window.start_training(config)  # drawn once: the cache serves the second run
        assert "Preparing the data" in window.training_message.text()


def test_invalid_settings_are_refused_next_to_the_field(qtbot, window):
    panel = window.training_panel
    panel.hidden_edit.setText("32,0")
    assert not window.train_action.isEnabled()
    assert panel.hidden_error.isVisible() and "at least 1" in panel.hidden_error.text()
    assert panel.preset_name() == "custom"
    panel.hidden_edit.setText("16,8")
    assert window.train_action.isEnabled() and not panel.hidden_error.isVisible()
    assert panel.config().hidden == (16, 8)
    # A letter is not silently blocked: the field says what is wrong with it.
    panel.hidden_edit.setFocus()
    qtbot.keyClicks(panel.hidden_edit, "a")
    assert panel.hidden_edit.text() == "16,8a"
    assert panel.hidden_error.isVisible() and "whole numbers" in panel.hidden_error.text()
    assert not window.train_action.isEnabled()
    panel.hidden_edit.setText("32,")
    assert panel.hidden_error.isVisible() and "both sides" in panel.hidden_error.text()


def test_save_and_open_a_model(qtbot, window, tmp_path):
    path = tmp_path / "model.npz"
    assert window.save_model(path)
    saved = DigitClassifier.load(path)
    for a, b in zip(saved.mlp.weights, window.model().mlp.weights, strict=True):
        np.testing.assert_array_equal(a, b)
    with qtbot.waitSignal(window.modelChanged, timeout=2000):
        assert window.open_model(path)
    assert "model.npz" in window.model_label.text()


def test_bad_model_file_gets_a_dialog_and_keeps_the_model(qtbot, window, tmp_path):
    path = tmp_path / "broken.npz"
    path.write_bytes(b"this is not a model")
    before = window.model()
    assert not window.open_model(path)
    assert window.model() is before
    assert "not a digitgui model file" in window.last_error
    dialogs = [d for d in window.findChildren(QMessageBox, "errorDialog") if d.isVisible()]
    assert dialogs and "not a digitgui model file" in dialogs[-1].text()
    dialogs[-1].close()


def test_export_drawing_as_png(qtbot, window, tmp_path):
    path = tmp_path / "drawing.png"
    assert not window.export_drawing(path)  # empty canvas: refused with a message
    drag(qtbot, window.canvas, SEVEN)
    assert window.export_drawing(path)
    from digitgui.cli import main

    # The exported file reads back through `digitgui predict` as the same digit.
    assert main(["predict", str(path), "--json"]) == 0


def test_settings_persist_between_windows(qtbot, window):
    config = dataclasses.replace(SHORT, hidden=(16, 8), lr=0.02, name="custom")
    window.training_panel.set_config(config, "custom")
    window.canvas.set_pen_width(24)
    window.resize(1000, 650)
    window.log_action.setChecked(True)
    window.close()
    again = MainWindow()
    qtbot.addWidget(again)
    assert again.training_panel.config() == config
    assert again.training_panel.preset_name() == "custom"
    assert again.canvas.pen_width() == 24
    assert again.log_action.isChecked() and again.cost_plot.log_y()
    # The offscreen test screen is 800 px wide, so Qt narrows any restored window; the height
    # (the default is 800) shows the geometry came back.
    assert again.height() == 650
    again.close()


def test_warning_follows_the_models_reading_of_the_drawing(qtbot, window):
    # Hatching (no digit) and a clean 7; the model's "not sure" threshold between the two.
    hatch = [Stroke(np.array([[40.0, y], [216.0, y + 10]]), 14.0) for y in range(40, 220, 30)]
    seven = [Stroke(np.array([[70.0, 50.0], [180.0, 50.0], [110.0, 210.0]]), 18.0)]
    shipped = load_default()
    soft = DigitClassifier(shipped.mlp, shipped.mean, shipped.scale, shipped.clip, temperature=3.0)
    window.canvas.set_strokes(hatch)
    hatch_digit = window.canvas.digit8x8()
    window.canvas.set_strokes(seven)
    seven_digit = window.canvas.digit8x8()
    low = read_digit(soft, hatch_digit).confidence
    high = read_digit(soft, seven_digit).confidence
    assert low < high
    model = DigitClassifier(
        shipped.mlp,
        shipped.mean,
        shipped.scale,
        shipped.clip,
        temperature=3.0,
        confidence_threshold=(low + high) / 2,
    )
    window.set_model(model, "test")

    window.canvas.set_strokes(hatch)
    reading = read_digit(model, hatch_digit)
    assert not reading.sure
    assert window.novelty_label.isVisible()
    assert window.novelty_label.text() == reading.warning
    assert (
        window.probability_chart.headline_text()
        == reading.headline
        == (f"{reading.guess} or {reading.runner_up}?")
    )
    window.canvas.clear()
    assert not window.novelty_label.isVisible()
    assert window.probability_chart.headline_text() == ""
    window.canvas.set_strokes(seven)
    assert read_digit(model, seven_digit).sure
    assert not window.novelty_label.isVisible()
    assert window.probability_chart.headline_text() == "7"


def test_every_control_has_a_tooltip(window):
    kinds = (QAbstractButton, QComboBox, QAbstractSpinBox, QLineEdit, QSlider)
    areas = [window.findChild(QWidget, "drawingArea"), window.insight_tabs.widget(0)]
    missing = []
    for area in areas:
        for w in area.findChildren(QWidget):
            if isinstance(w, kinds) and not w.toolTip() and w.parent() is not None:
                # Spin boxes' inner line edits inherit the spin box's tooltip.
                if isinstance(w, QLineEdit) and isinstance(w.parent(), QAbstractSpinBox):
                    continue
                if isinstance(w, QLineEdit) and isinstance(w.parent(), QComboBox):
                    continue
                missing.append(w.objectName() or type(w).__name__)
    assert missing == []
    for name in ("drawingCanvas", "probabilityChart", "costPlot", "digitView"):
        assert window.findChild(QWidget, name).toolTip()


def test_keyboard_shortcuts(qtbot, window):
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    drag(qtbot, window.canvas, SEVEN)
    drag(qtbot, window.canvas, [(60.0, 130.0), (200.0, 130.0)])
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(window.canvas.strokes()) == 1
    before = window.canvas.pen_width()
    qtbot.keyClick(window.canvas, Qt.Key.Key_BracketRight)
    assert window.canvas.pen_width() == before + 2
    qtbot.keyClick(window.canvas, Qt.Key.Key_BracketLeft)
    assert window.canvas.pen_width() == before
    qtbot.keyClick(window.canvas, Qt.Key.Key_Delete)
    assert window.canvas.is_empty()
    qtbot.keyClick(window.canvas, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert window.cost_plot.log_y()


def test_help_lists_shortcuts_and_about_box(qtbot, window):
    window.shortcuts_action.trigger()
    dialog = window.findChild(QWidget, "shortcutsDialog")
    assert dialog is not None and dialog.isVisible()
    table = dialog.findChild(QTableWidget)
    rows = {table.item(r, 0).text(): table.item(r, 1).text() for r in range(table.rowCount())}
    assert rows["Train"].startswith("F5") and rows["Undo stroke"] and rows["Clear drawing"]
    assert rows["Quit"] == "Ctrl+Q"
    dialog.close()
    window.about_action.trigger()
    about = window.findChild(QMessageBox, "aboutDialog")
    assert about is not None and about.isVisible() and "load_digits" in about.text()
    about.close()
