"""Runs in the window: the runs table, the overlaid plot, lessons from the menu, and runs kept
across launches (digitgui.gui.training_tab, runs_table, cost_plot, training_controller)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMenu, QTableWidget

from digitgui.core import lessons as core_lessons
from digitgui.core.lessons import Lesson
from digitgui.core.runs import RunStore, default_runs_dir
from digitgui.core.training import PRESETS
from digitgui.gui.main_window import MainWindow
from digitgui.gui.worker import running_threads

TINY = dataclasses.replace(PRESETS["notebook"], iterations=60, eval_every=10)
ENDLESS = dataclasses.replace(PRESETS["default"], iterations=1_000_000, eval_every=50)


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


def train(qtbot, window: MainWindow, config) -> object:
    with qtbot.waitSignal(window.trainingFinished, timeout=60_000) as blocker:
        assert window.start_training(config)
    return blocker.args[0]


def test_start_training_adds_a_row_and_a_curve(qtbot, window):
    table = window.findChild(QTableWidget, "runsTable")
    assert table is not None and table.rowCount() == 0
    train(qtbot, window, TINY)
    train(qtbot, window, dataclasses.replace(TINY, lr=0.02))
    assert table.rowCount() == 2
    # Newest first; what differs from the preset; outcome and accuracy filled in.
    assert table.item(0, 2).text() == "lr 0.02, iters 60"
    assert table.item(0, 3).text() == "completed"
    assert table.item(0, 4).text().endswith("%")
    # Both runs are drawn, each with its own legend entry and colour.
    shown = window.cost_plot.shown_runs()
    assert len(shown) == 2 and shown[0].color != shown[1].color
    labels = [label.text for _sample, label in window.cost_plot.legend.items]
    assert labels == [r.name for r in shown]
    # The curves hold every iteration of each run.
    for run in shown:
        x, y = window.cost_plot._curves[run.id].train.getData()
        assert len(x) == 60 and np.isfinite(y).all()


def test_checkbox_hides_and_shows_a_runs_curves(qtbot, window):
    train(qtbot, window, TINY)
    train(qtbot, window, TINY)
    table = window.runs_table
    table.item(1, 0).setCheckState(Qt.CheckState.Unchecked)
    assert len(window.cost_plot.shown_runs()) == 1
    table.item(1, 0).setCheckState(Qt.CheckState.Checked)
    assert len(window.cost_plot.shown_runs()) == 2


def test_x_axis_switches_between_iterations_epochs_and_seconds(qtbot, window):
    run_config = dataclasses.replace(PRESETS["default"], iterations=80, eval_every=10, augment=0)
    train(qtbot, window, run_config)
    [run] = window.cost_plot.shown_runs()
    curve = window.cost_plot._curves[run.id].train
    x_it = curve.getData()[0]
    window.training_tab.set_x_axis("epoch")
    x_ep = curve.getData()[0]
    window.training_tab.set_x_axis("seconds")
    x_s = curve.getData()[0]
    assert x_it[-1] == 80
    # 64-row mini-batches over 1,257 rows: 80 updates are about 4 epochs.
    assert 3.5 < x_ep[-1] < 4.5
    assert 0 < x_s[-1] < 30 and np.all(np.diff(x_s) >= 0)
    assert "seconds" in window.cost_plot.acc_item.getAxis("bottom").labelText
    with pytest.raises(ValueError):
        window.cost_plot.set_x_axis("minutes")


def test_hover_lists_every_shown_run_at_that_x(qtbot, window):
    train(qtbot, window, TINY)
    train(qtbot, window, dataclasses.replace(TINY, lr=0.02))
    text = window.cost_plot.hover_text(30.2)
    lines = text.splitlines()
    assert len(lines) == 2
    assert all(":  it 30  " in line and "cost " in line for line in lines)
    window.cost_plot.show_hover(30.2)
    assert window.cost_plot.hover_label.isVisible()
    window.cost_plot.hide_hover()
    assert not window.cost_plot.hover_label.isVisible()


def test_a_diverged_run_is_drawn_and_says_so(qtbot, window):
    final = train(qtbot, window, dataclasses.replace(TINY, lr=1.0))
    assert final.outcome == "diverged"
    [run] = window.cost_plot.shown_runs()
    curves = window.cost_plot._curves[run.id]
    assert len(curves.train.getData()[0]) >= 3  # the few iterations before it blew up
    assert curves.end_label.isVisible()
    assert curves.end_label.textItem.toPlainText().startswith("diverged at iteration")
    assert window.runs_table.item(0, 3).text().startswith("diverged at")
    # Its network is not offered.
    window.runs_table.selectRow(0)
    assert not window.runs_panel.use_button.isEnabled()


def test_use_rename_delete_and_export(qtbot, window, tmp_path):
    train(qtbot, window, TINY)
    train(qtbot, window, dataclasses.replace(TINY, lr=0.02))
    table, panel = window.runs_table, window.runs_panel
    before = window.model()
    table.selectRow(1)  # the first run
    first = table.selected_runs()[0]
    assert panel.use_button.isEnabled()
    qtbot.mouseClick(panel.use_button, Qt.MouseButton.LeftButton)
    assert window.model() is not before
    assert "run “" in window.reader_label.text()

    table.item(1, 1).setText("my favourite")
    assert first.name == "my favourite"
    store = RunStore(default_runs_dir())
    assert "my favourite" in [r.name for r in store.runs]

    assert window.export_curves(table.runs(), tmp_path / "c.csv")
    assert len((tmp_path / "c.csv").read_text().splitlines()) == 1 + 2 * 60
    assert window.export_plot(tmp_path / "p.png") and (tmp_path / "p.png").stat().st_size > 1000
    assert window.export_plot(tmp_path / "p.svg")
    assert (tmp_path / "p.svg").read_text().lstrip().startswith("<?xml")
    assert not window.export_plot(tmp_path / "p.gif") and "png or .svg" in window.last_error

    table.selectRow(1)
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_Delete)
    assert table.rowCount() == 1
    assert [r.name for r in RunStore(default_runs_dir()).runs] == [table.runs()[0].name]


def test_runs_are_restored_at_the_next_launch_unshown(qtbot, window):
    train(qtbot, window, TINY)
    again = MainWindow(load_reference=False)
    qtbot.addWidget(again)
    try:
        assert again.runs_table.rowCount() == 1
        assert again.cost_plot.shown_runs() == []  # restored runs wait to be ticked
        again.runs_table.item(0, 0).setCheckState(Qt.CheckState.Checked)
        [run] = again.cost_plot.shown_runs()
        assert len(run.history) == 60
    finally:
        again.close()


def test_a_damaged_runs_file_is_reported_at_launch(qtbot):
    folder = default_runs_dir()
    folder.mkdir(parents=True)
    (folder / "runs.json").write_text("{broken")
    w = MainWindow(load_reference=False)
    qtbot.addWidget(w)
    try:
        assert "copy of the file was kept" in w.statusBar().currentMessage()
        assert list(folder.glob("runs.json.damaged-*"))
    finally:
        w.close()


def test_a_run_whose_model_file_is_missing_says_so(qtbot, window):
    train(qtbot, window, TINY)
    [run] = window.runs_table.runs()
    (default_runs_dir() / f"{run.id}.model.npz").unlink()
    run.model = None  # as after a restart
    assert not window.use_run(run)
    assert "missing" in window.last_error


def test_lessons_menu_has_the_lessons(window):
    menu = window.findChild(QMenu, "lessonsMenu")
    assert menu is not None
    titles = [a.text() for a in menu.actions()]
    assert len(titles) >= 6
    assert titles == [item.title for item in core_lessons.LESSONS]


def test_a_lesson_runs_from_the_menu_and_builds_the_overlay(qtbot, window):
    menu = window.findChild(QMenu, "lessonsMenu")
    action = next(a for a in menu.actions() if a.data() == "optimizer")
    model = window.model()
    with qtbot.waitSignal(window.controller.queueFinished, timeout=120_000):
        action.trigger()
        assert "Lesson:" in window.training_message.text()
    runs = window.cost_plot.shown_runs()
    assert [r.name for r in runs] == ["full-batch gradient descent", "mini-batch Adam"]
    assert all(r.outcome == "completed" and r.lesson == "optimizer" for r in runs)
    assert window.cost_plot.x_axis == "seconds"  # the lesson's axis
    assert window.model() is model  # lesson runs never replace the reading network
    text = window.training_message.text()
    assert "mini-batch Adam reached validation" in text and "20 times cheaper" in text


def test_stopping_a_lesson_keeps_the_finished_runs(qtbot, window, monkeypatch):
    small = Lesson(
        key="small",
        title="A small lesson",
        question="?",
        look_for="look",
        meaning="meaning",
        runs=(("first", TINY), ("endless", ENDLESS), ("never", TINY)),
    )
    monkeypatch.setattr("digitgui.gui.main_window.lesson", lambda key: small)
    done = []
    window.controller.queueFinished.connect(done.append)
    with qtbot.waitSignal(window.trainingFinished, timeout=60_000):
        assert window.start_lesson("small")
    qtbot.waitUntil(lambda: window.controller.live is not None, timeout=10_000)
    qtbot.waitUntil(lambda: len(window.controller.live.history) > 0, timeout=30_000)
    with qtbot.waitSignal(window.controller.queueFinished, timeout=30_000):
        window.stop_action.trigger()
    assert [r.name for r in window.controller.lesson_runs()] == ["first", "endless"]
    assert [r.outcome for r in window.controller.lesson_runs()] == ["completed", "stopped"]
    kept = [r.name for r in RunStore(default_runs_dir()).runs]
    assert kept == ["first", "endless"]
    assert done == [small]


def test_runs_file_written_by_the_window_is_plain_json(qtbot, window):
    train(qtbot, window, TINY)
    doc = json.loads((default_runs_dir() / "runs.json").read_text())
    assert doc["format"] == "digitgui-runs" and len(doc["runs"]) == 1
    assert doc["runs"][0]["config"]["lr"] == TINY.lr


def test_changing_the_learning_rate_while_training_is_marked_and_recorded(qtbot, window):
    with qtbot.waitSignal(window.trainingStarted, timeout=10_000):
        assert window.start_training(ENDLESS)
    run = window.controller.live
    qtbot.waitUntil(lambda: len(run.history) > 5, timeout=30_000)
    assert window.lr_action.isEnabled()
    assert window.change_learning_rate(0.0005)
    assert not window.change_learning_rate(-1)
    assert "positive" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: run.lr_changes != [], timeout=30_000)
    (iteration, lr) = run.lr_changes[0]
    assert lr == 0.0005 and iteration > 5
    qtbot.waitUntil(lambda: len(run.history) > iteration + 5, timeout=30_000)
    window.cost_plot.flush()
    lines = window.cost_plot._curves[run.id].lr_lines
    assert len(lines) == 1 and lines[0].value() == iteration
    with qtbot.waitSignal(window.trainingFinished, timeout=30_000):
        window.stop_action.trigger()
    kept = RunStore(default_runs_dir()).runs[-1]
    assert kept.lr_changes == [(iteration, 0.0005)]
    assert not window.lr_action.isEnabled()
    assert not window.change_learning_rate(0.1)  # no run: said, not raised


def test_the_window_keeps_runs_and_my_digits_in_its_data_dir(qtbot, tmp_path):
    w = MainWindow(load_reference=False, data_dir=tmp_path / "elsewhere")
    qtbot.addWidget(w)
    try:
        assert w.my_digits.collection.path.parent == tmp_path / "elsewhere"
        with qtbot.waitSignal(w.trainingFinished, timeout=60_000):
            assert w.start_training(TINY)
        assert (tmp_path / "elsewhere" / "runs" / "runs.json").exists()
        assert not default_runs_dir().exists()  # not the default folder
    finally:
        w.close()


def test_best_validation_marker_and_knows_nothing_line(qtbot, window):
    train(qtbot, window, TINY)
    [run] = window.cost_plot.shown_runs()
    curves = window.cost_plot._curves[run.id]
    iteration, cost, _acc = curves.best_check()
    val = run.history.column("val_cost")
    assert cost == np.nanmin(val)
    xs, ys = curves.best.getData()
    assert list(xs) == [iteration] and ys[0] == pytest.approx(cost)
    window.log_action.setChecked(True)
    xs, ys = curves.best.getData()
    assert ys[0] == pytest.approx(np.log10(cost))  # placed in the log axis' coordinates
    action = window.findChild(type(window.log_action), "chanceLineAction")
    assert action is not None and not window.cost_plot.chance_line.isVisible()
    action.setChecked(True)
    assert window.cost_plot.chance_line.isVisible()
    assert window.cost_plot.chance_line.value() == pytest.approx(np.log10(np.log(10)))
    window.log_action.setChecked(False)
    assert window.cost_plot.chance_line.value() == pytest.approx(np.log(10))


def test_a_diverged_run_alone_fills_the_x_axis(qtbot, window):
    config = dataclasses.replace(PRESETS["notebook"], lr=1.0)  # 20,000 planned
    final = train(qtbot, window, config)
    assert final.outcome == "diverged" and final.iteration < 50
    (_, x1), _ = window.cost_plot.cost_item.getViewBox().viewRange()
    assert x1 < 2 * final.iteration  # not a 0..20,000 axis with 14 points in its corner


def test_a_new_run_keeps_at_most_ten_runs_on_the_plot(qtbot, window, monkeypatch):
    from digitgui.gui import training_tab

    monkeypatch.setattr(training_tab, "MAX_SHOWN_RUNS", 2)  # as ten would, with fewer runs
    said: list[str] = []
    window.training_tab.statusMessage.connect(lambda text, _ms: said.append(text))
    for k in range(3):
        train(qtbot, window, dataclasses.replace(TINY, iterations=20, seed=k + 1))
    assert len(window.cost_plot.shown_runs()) == 2
    assert window.runs_table.rowCount() == 3  # the oldest stays in the table, unticked
    assert window.runs_table.item(2, 0).checkState() == Qt.CheckState.Unchecked
    assert any("2 latest runs" in text for text in said)
    window.runs_table.item(2, 0).setCheckState(Qt.CheckState.Checked)  # the user's choice
    assert len(window.cost_plot.shown_runs()) == 3


def test_a_finished_runs_curves_keep_their_extremes_at_a_fixed_downsampling(qtbot):
    """Finished runs are downsampled once (peak: each step's lowest and highest), not again at
    every zoom as the live run is: that took a quarter of a redraw with 10 long runs shown."""
    from digitgui.core.run_history import RunHistory
    from digitgui.core.runs import new_run
    from digitgui.gui.cost_plot import CostPlot
    from digitgui.gui.run_curves import FINISHED_POINTS

    n = 20_000
    it = np.arange(1, n + 1, dtype=float)
    cost = 2.3 * np.exp(-it / 900) + 0.01 + 0.02 * np.random.default_rng(0).random(n)
    nan = np.full(n, np.nan)
    run = new_run(TINY, "long")
    run.history = RunHistory.from_array(np.c_[it, it / 1000, it / 20, cost, nan, nan, nan])
    run.outcome = "completed"
    plot = CostPlot()
    qtbot.addWidget(plot)
    plot.resize(560, 420)
    plot.show()
    plot.show_runs([run])
    train = plot._curves[run.id].train
    assert not train.opts["autoDownsample"] and train.opts["downsample"] == n // FINISHED_POINTS
    plot.cost_item.setXRange(0, n / 2, padding=0)  # a zoom changes nothing of it
    _, y = train.getData()
    assert len(y) <= 2 * FINISHED_POINTS + 2
    assert y.max() == cost.max() and y.min() == cost.min()
    plot.set_live(run)  # the run being trained follows the zoom
    assert train.opts["autoDownsample"] and train.opts["clipToView"]
