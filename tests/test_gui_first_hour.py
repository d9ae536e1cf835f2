"""A user's first hour with the window (QA report): the first screen, Stop, the guess history."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from gui_helpers import SEVEN, drag
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QComboBox

from digitgui.core.training import PRESETS
from digitgui.gui.main_window import MainWindow
from digitgui.gui.worker import running_threads

ENDLESS = dataclasses.replace(PRESETS["default"], iterations=1_000_000, eval_every=50)
# Long enough for several snapshots (one every 0.1 s), short enough for a test.
SNAPPY = dataclasses.replace(PRESETS["default"], iterations=1500, eval_every=100)
DIVERGING = dataclasses.replace(PRESETS["notebook"], iterations=300, lr=50.0)


@pytest.fixture
def window(qtbot):
    w = MainWindow(load_reference=False)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w._connect_insight_views()  # the guess history follows the window (no load_digits wait)
    yield w
    w.close()
    assert not running_threads()


def click(qtbot, window: MainWindow, name: str) -> None:
    button = window.findChild(QAbstractButton, name)
    assert button is not None and button.isVisible() and button.isEnabled(), name
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def stop_after_snapshots(qtbot, window: MainWindow, n: int = 3):
    """Train ENDLESS until ``n`` snapshots came, press Stop; the final record."""
    snapshots = []
    window.trainingProgress.connect(
        lambda records: snapshots.extend(r for r in records if r.snapshot is not None)
    )
    window.training_panel.set_config(ENDLESS)
    click(qtbot, window, "trainButton")
    qtbot.waitUntil(lambda: len(snapshots) >= n, timeout=30_000)
    with qtbot.waitSignal(window.trainingFinished, timeout=30_000) as blocker:
        click(qtbot, window, "stopButton")
    qtbot.waitUntil(lambda: not window.training_runner().is_busy(), timeout=10_000)
    return blocker.args[0]


# --- 3. the first screen --------------------------------------------------------------------------


def test_first_screen_agrees_with_the_form_and_says_how_to_start(qtbot, window):
    total = window.training_panel.config().iterations
    bar = window.progress_bar
    assert (bar.value(), bar.maximum()) == (0, total)
    assert bar.text() == f"0 / {total:,} iterations"
    assert "Train (F5)" in window.training_message.text()
    # The empty plot spans the run to come, its iterations unscaled.
    (x0, x1), _ = window.cost_plot.cost_item.getViewBox().viewRange()
    assert x0 <= 0 and total <= x1 < total * 1.1
    for item in (window.cost_plot.cost_item, window.cost_plot.acc_item):
        axis = item.getAxis("bottom")
        assert not axis.autoSIPrefix and axis.autoSIPrefixScale == 1.0
        assert "x0" not in axis.labelString() and "×" not in axis.labelString()

    # Idle, the bar and the axis follow the preset and the iterations.
    combo = window.findChild(QComboBox, "presetCombo")
    combo.setCurrentIndex(combo.findData("notebook"))
    assert bar.maximum() == PRESETS["notebook"].iterations == 20_000
    assert bar.text() == "0 / 20,000 iterations"
    (_, x1), _ = window.cost_plot.cost_item.getViewBox().viewRange()
    assert 20_000 <= x1 < 22_000
    window.training_panel.iterations_spin.setValue(5000)
    assert bar.maximum() == 5000 and bar.text() == "0 / 5,000 iterations"

    # The hint goes when a run starts and comes back with Reset.
    with qtbot.waitSignal(window.trainingFinished, timeout=60_000):
        assert window.start_training(dataclasses.replace(PRESETS["default"], iterations=50))
    assert "Train (F5)" not in window.training_message.text()
    assert bar.maximum() == 50
    window.training_panel.iterations_spin.setValue(4000)
    assert bar.maximum() == 50  # the bar shows the finished run, not the form
    click(qtbot, window, "resetButton")
    assert "Train (F5)" in window.training_message.text()
    assert bar.maximum() == window.training_panel.config().iterations


# --- 1. Stop keeps the network in use -------------------------------------------------------------


def test_stop_keeps_the_network_in_use_and_offers_the_stopped_one(qtbot, window):
    drag(qtbot, window.canvas, SEVEN)
    shipped = window.model()
    shipped_probs = window.probabilities().copy()
    assert not window.use_run_button.isVisible() and not window.use_run_action.isEnabled()
    final = stop_after_snapshots(qtbot, window)
    assert final.outcome == "stopped"
    # The shipped model still reads the drawing, and the guess panel says so.
    assert window.model() is shipped
    np.testing.assert_allclose(window.probabilities(), shipped_probs)
    assert "shipped model" in window.reader_label.text()
    assert "Use this network" in window.training_message.text()
    # The stopped network is one click away...
    models = []
    window.modelChanged.connect(models.append)
    click(qtbot, window, "useRunButton")
    assert window.model() is final.model and models == [final.model]
    np.testing.assert_allclose(
        window.probabilities(), final.model.predict_proba(window.canvas.digit8x8())
    )
    assert "stopped at iteration" in window.reader_label.text()
    assert not window.use_run_button.isVisible()
    # ...and Reset goes back.
    click(qtbot, window, "resetButton")
    assert window.model() is shipped and "shipped model" in window.reader_label.text()


def test_a_diverged_run_never_replaces_the_network(qtbot, window):
    drag(qtbot, window.canvas, SEVEN)
    shipped = window.model()
    with qtbot.waitSignal(window.trainingFinished, timeout=60_000) as blocker:
        assert window.start_training(DIVERGING)
    assert blocker.args[0].outcome == "diverged"
    qtbot.waitUntil(lambda: not window.training_runner().is_busy(), timeout=10_000)
    assert window.model() is shipped
    assert "shipped model" in window.reader_label.text()
    assert not window.use_run_action.isEnabled() and not window.use_run_button.isVisible()


def test_a_completed_run_still_replaces_the_network(qtbot, window):
    shipped = window.model()
    with qtbot.waitSignal(window.trainingFinished, timeout=60_000) as blocker:
        assert window.start_training(dataclasses.replace(PRESETS["default"], iterations=60))
    assert window.model() is blocker.args[0].model is not shipped
    assert "trained just now" in window.reader_label.text()
    assert not window.use_run_button.isVisible()


# --- 2. the guess history outlives the run --------------------------------------------------------


def test_guess_history_keeps_the_run_and_follows_the_model(qtbot, window):
    history = window.insight.guess_history
    drag(qtbot, window.canvas, SEVEN)
    kept = []
    window.trainingProgress.connect(
        lambda records: kept.extend(
            r.iteration for r in records if r.snapshot is not None or r.model is not None
        )
    )
    with qtbot.waitSignal(window.trainingFinished, timeout=60_000):
        assert window.start_training(SNAPPY)
    assert len(kept) >= 3
    window.insight_tabs.setCurrentWidget(history)  # the views work when on screen
    np.testing.assert_array_equal(history.history().iterations, kept)  # not wiped at the end
    assert f"{len(kept)} snapshots" in history.status.text()
    # Another drawing: the same snapshots read it.
    window.canvas.clear()
    drag(qtbot, window.canvas, [(80.0, 60.0), (170.0, 200.0)])
    assert len(history.history()) == len(kept)
    assert history.history().probabilities.shape == (len(kept), 10)

    # Reset goes back to the shipped model: the history of the trained one goes with it.
    window.reset_action.trigger()
    assert len(history.history()) == 0
    assert "snapshot" not in history.status.text()


def test_guess_history_after_stop_and_a_new_run(qtbot, window):
    history = window.insight.guess_history
    drag(qtbot, window.canvas, SEVEN)
    final = stop_after_snapshots(qtbot, window)
    window.insight_tabs.setCurrentWidget(history)
    n = len(history.history())
    assert n >= 3 and history.history().iterations[-1] == final.iteration
    assert "not in use" in history.status.text()
    assert window.use_run_action.isEnabled()
    window.use_run_action.trigger()  # the run's network: its curves stay
    assert len(history.history()) == n and "not in use" not in history.status.text()
    with qtbot.waitSignal(window.trainingStarted, timeout=30_000):
        assert window.start_training(dataclasses.replace(PRESETS["default"], iterations=40))
    assert len(history.history()) == 0 or history.history().iterations[0] < final.iteration
    qtbot.waitUntil(lambda: not window.training_runner().is_busy(), timeout=60_000)
    assert history.history().iterations[-1] == 40


def test_every_tab_is_fully_visible_at_1280x800(qtbot, window):
    window.resize(1280, 800)
    qtbot.wait(50)
    tabs = window.insight_tabs
    bar = tabs.tabBar()
    assert tabs.count() == 9
    # Every tab's rectangle lies inside the visible bar: no scroll arrows needed.
    for i in range(tabs.count()):
        rect = bar.tabRect(i)
        assert rect.right() <= bar.width(), f"{tabs.tabText(i)} is cut off"
        assert tabs.tabToolTip(i), f"{tabs.tabText(i)} has no tooltip"
    assert bar.sizeHint().width() <= tabs.width()
    assert "Why this guess" in tabs.tabToolTip(tabs.indexOf(window.insight.attribution))


def test_keeping_a_drawing_with_a_digit_key_is_confirmed_outside_my_digits(qtbot, window):
    window.insight_tabs.setCurrentIndex(0)  # the Training tab, not My digits
    drag(qtbot, window.canvas, SEVEN)
    with qtbot.waitSignal(window.my_digits.digitAdded, timeout=2000):
        qtbot.keyClick(window.canvas, Qt.Key.Key_7)
    message = window.statusBar().currentMessage()
    assert message.startswith("Kept your drawing as a 7 in My digits")


def test_the_rate_line_never_repeats_the_iteration_as_a_full_batch_epoch():
    from digitgui.core.runs import new_run
    from digitgui.core.training import PRESETS
    from digitgui.gui.training_controller import rate_line

    full, mini = new_run(PRESETS["notebook"]), new_run(PRESETS["default"])
    for i in range(1, 3438):
        full.history.append(i, i / 1000, float(i), 0.1)
        mini.history.append(i, i / 1000, i * 1234.56 / 3437, 0.1)
    for run in (full, mini):
        run.iterations_done, run.seconds = 3437, 3.437
    assert "epoch" not in rate_line(full, "running")
    assert "epoch 1,234.6" in rate_line(mini, "running")
    assert "1,000 it/s" in rate_line(mini, "running") and "ETA" in rate_line(mini, "running")
    assert rate_line(mini, "paused").startswith("paused at iteration 3,437")


def test_the_notebook_note_folds_so_the_plot_keeps_its_height(qtbot):
    from digitgui.core.training import PRESETS

    w = MainWindow(load_reference=False)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    try:
        default_height = w.cost_plot.height()
        w.training_panel.set_config(PRESETS["notebook"], "notebook")
        qtbot.wait(50)
        note = w.training_panel.explanation
        assert note.isVisible() and "Why it matters" in note.text()
        assert w.cost_plot.height() >= 0.7 * default_height
        assert w.cost_plot.height() >= 200
        w.training_panel.show_explanation(True)
        assert "Less" in note.text() and "20,000 iterations" in note.text()
    finally:
        w.close()


def test_log_cost_ticks_are_whole_decades_written_alike_and_never_crowded():
    from digitgui.gui.cost_plot import CostAxis, decade_label

    axis = CostAxis("left")
    axis.setLogMode(False, True)
    for lo, hi, pixels in ((-5.2, 1.3, 300), (-5.2, 1.3, 100), (-8, 2, 60), (-1.5, -0.2, 200)):
        (step, major), (_, minor) = axis.tickValues(lo, hi, pixels)
        assert all(v == int(v) for v in major)
        # Labels at least CostAxis.LABEL_PIXELS apart: never overprinted.
        px_per_decade = pixels / (hi - lo)
        assert step * px_per_decade >= CostAxis.LABEL_PIXELS or len(major) <= 1
        labels = axis.tickStrings(major + minor, 1, step)
        assert labels[: len(major)] == [decade_label(int(v)) for v in major]
        assert all(label == "" for label in labels[len(major) :])
    assert decade_label(-5) == "10⁻⁵" and decade_label(0) == "10⁰"


def test_the_first_window_fits_a_small_screen(qtbot):
    from digitgui.gui.presentation import fit_to_screen

    w = MainWindow(load_reference=False)
    qtbot.addWidget(w)
    area = w.screen().availableGeometry()
    fit_to_screen(w, area.width() + 500, area.height() + 500)
    assert w.height() <= area.height()
    assert w.width() <= max(area.width(), w.minimumSizeHint().width())
    w.close()


def test_the_title_names_the_open_model_and_the_shipped_one_is_one_click_away(qtbot, tmp_path):
    w = MainWindow(load_reference=False)
    qtbot.addWidget(w)
    try:
        assert w.windowTitle() == "digitgui" and not w.shipped_action.isEnabled()
        path = tmp_path / "mine.npz"
        assert w.save_model(path) and w.open_model(path)
        assert w.windowTitle() == "digitgui – mine.npz"
        assert w.shipped_action.isEnabled()
        w.shipped_action.trigger()
        assert w.windowTitle() == "digitgui" and "shipped" in w.model_label.text()
        assert not w.shipped_action.isEnabled()
    finally:
        w.close()


# --- 11. smaller things (the Model tab, plurals, folders, remembered choices, tidy panes) ---------


def test_model_tab_says_the_training_settings_in_words(qtbot):
    from digitgui.core.model_io import load_default
    from digitgui.gui.model_text import model_details_html

    model = load_default()
    notebook = PRESETS["notebook"].to_dict()
    model.metadata["training"] = notebook  # plain gradient descent, the notebook's order
    text = model_details_html(model, "test")
    assert "=" not in text.split("Trained with")[1]  # no key=value dump
    assert "gradient descent" in text and "notebook&#x27;s" in text
    assert "momentum" not in text.lower()  # not used by plain gradient descent
    model.metadata["training"] = PRESETS["default"].to_dict()
    text = model_details_html(model, "test")
    assert "Update order: textbook" in text and "backprop" not in text
    assert "Adam" in text and "momentum" not in text.lower()
    model.metadata["training"] = dict(notebook, optimizer="momentum")
    assert "momentum 0.9" in model_details_html(model, "test")


def test_counts_are_said_with_their_plural():
    import pathlib
    import re

    from digitgui.gui.model_text import plural

    assert plural(1, "digit") == "1 digit" and plural(6, "digit") == "6 digits"
    assert plural(2, "distorted copy", "distorted copies") == "2 distorted copies"
    owned = ["my_digits_view.py", "window_files.py", "insight/guess_history.py"]
    gui = pathlib.Path(__file__).resolve().parent.parent / "digitgui" / "gui"
    for name in owned:
        assert not re.search(r"\w\(s\)", (gui / name).read_text()), name


def test_the_first_file_dialog_opens_in_a_documents_folder(qtbot, window, monkeypatch, tmp_path):
    from PySide6.QtCore import QStandardPaths

    from digitgui.gui.window_files import last_folder

    monkeypatch.chdir(tmp_path)
    folder = last_folder(window)
    assert folder and folder != str(tmp_path)
    expected = {
        QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation),
        QStandardPaths.writableLocation(QStandardPaths.StandardLocation.HomeLocation),
    }
    assert folder in expected


def test_use_my_digits_in_training_is_remembered(qtbot):
    from PySide6.QtWidgets import QCheckBox

    first = MainWindow(load_reference=False)
    qtbot.addWidget(first)
    check = first.findChild(QCheckBox, "useMyDigitsCheck")
    assert not check.isChecked()
    check.setChecked(True)
    first.close()
    second = MainWindow(load_reference=False)
    qtbot.addWidget(second)
    assert second.findChild(QCheckBox, "useMyDigitsCheck").isChecked()
    second.close()


def test_hidden_units_say_the_dead_units_once(qtbot):
    from digitgui.core.model_io import load_default
    from digitgui.gui.insight.panel import InsightPanel

    panel = InsightPanel()
    qtbot.addWidget(panel.hidden_units)
    model = load_default()
    panel.weight_tiles.set_model(model)
    panel.activations.set_model(model)
    panel.activations.set_digit(np.full((8, 8), 8.0))
    texts = [
        label.text() for label in panel.hidden_units.findChildren(type(panel.activations.summary))
    ]
    assert sum("Dead units" in t or "never die" in t for t in texts) == 1


def test_why_this_guess_puts_its_explanation_under_the_numbers(qtbot):
    from digitgui.gui.insight.attribution_view import AttributionView

    view = AttributionView()
    qtbot.addWidget(view)
    view.resize(900, 700)
    view.show()
    qtbot.waitExposed(view)
    info = view.cell_info
    note = next(
        label
        for label in view.findChildren(type(info))
        if label.text().startswith("Computed by backpropagation")
    )
    gap = (
        note.mapTo(view, note.rect().topLeft()).y() - info.mapTo(view, info.rect().bottomLeft()).y()
    )
    assert gap < 40
