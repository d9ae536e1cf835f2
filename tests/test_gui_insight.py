"""The insight views (issue 5) with pytest-qt: each opens, shows the core's numbers for a known
model (the shipped one, or a short run of the default preset), and reacts to a click."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PySide6.QtCore import QObject, QPoint, QPointF, Qt, Signal
from PySide6.QtWidgets import QTabWidget, QWidget

from digitgui.core import insight
from digitgui.core.calibration import format_probability
from digitgui.core.data import load_digits_split
from digitgui.core.model_io import load_default
from digitgui.core.training import PRESETS, train
from digitgui.gui.insight import (
    AttributionView,
    GuessHistoryView,
    HiddenActivationsView,
    InsightPanel,
    NearestExamplesView,
    StepThroughView,
    TestSetView,
    WeightTilesView,
)
from digitgui.gui.insight.digit_tiles import DigitTile

LEFT = Qt.MouseButton.LeftButton


@pytest.fixture(scope="module")
def split():
    return load_digits_split(42)


@pytest.fixture(scope="module")
def model():
    return load_default()


@pytest.fixture(scope="module")
def run():
    """A short run with a snapshot on every record (the final one carries the model)."""
    config = dataclasses.replace(PRESETS["default"], iterations=30, eval_every=10)
    return list(train(config, snapshot_interval=0.0))


def _open(qtbot, widget: QWidget, size=(900, 700)) -> QWidget:
    qtbot.addWidget(widget)
    widget.resize(*size)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _point(p: QPointF) -> QPoint:
    return p.toPoint()


def _n_points(curve) -> int:
    x, _ = curve.getData()
    return 0 if x is None else len(x)


# --- test set -------------------------------------------------------------------------------------


def test_test_set_view_shows_the_report_and_loads_a_clicked_digit(qtbot, model, split):
    view = _open(qtbot, TestSetView(split=split))
    view.set_model(model)
    report = insight.evaluate_test_set(model, split)
    n_right = int(np.trace(report.confusion))
    assert f"{n_right} of 270" in view.accuracy_label.text()
    assert format_probability(report.accuracy) in view.accuracy_label.text()
    np.testing.assert_array_equal(view.matrix.counts(), report.confusion)
    for d in range(10):
        assert view.table.item(d, 1).text() == format_probability(report.recall[d])
        assert view.table.item(d, 2).text() == format_probability(report.precision[d])
    # How honest the probabilities are, on the same digits.
    assert view.reliability.table().n == report.n
    np.testing.assert_array_equal(view.reliability.table().counts, report.report.reliability.counts)
    assert f"calibration error {report.report.ece:.3f}" in view.calibration_label.text()
    assert "surest 95%" in view.calibration_label.text()

    # Click a diagonal cell: its digits fill the gallery.
    t = p = 3
    qtbot.mouseClick(view.matrix, LEFT, pos=_point(view.matrix.cell_rect(t, p).center()))
    assert view.matrix.selected_cell == (t, p)
    rows = report.rows_in_cell(t, p)
    np.testing.assert_array_equal(view.gallery_rows(), rows)
    qtbot.waitUntil(lambda: len(view.gallery.tiles()) == len(rows))
    assert f"{len(rows)} test digits" in view.gallery_label.text()

    # An off-diagonal cell whose mirror image differs: rows and columns are not mixed up.
    t, p = next(
        (t, p)
        for t in range(10)
        for p in range(10)
        if report.confusion[t, p] > report.confusion[p, t]
    )
    qtbot.mouseClick(view.matrix, LEFT, pos=_point(view.matrix.cell_rect(t, p).center()))
    assert view.matrix.selected_cell == (t, p)
    np.testing.assert_array_equal(view.gallery_rows(), report.rows_in_cell(t, p))
    assert f"True {t}, read as {p}" in view.gallery_label.text()

    qtbot.mouseClick(view.matrix, LEFT, pos=_point(view.matrix.cell_rect(3, 3).center()))
    tile = view.gallery.tiles()[2]
    qtbot.waitUntil(tile.isVisible)
    with qtbot.waitSignal(view.digitRequested, timeout=2000) as blocker:
        qtbot.mouseClick(tile, LEFT, pos=_point(tile.image_center()))
    np.testing.assert_array_equal(blocker.args[0], split.X_test[rows[2]].reshape(8, 8))


def test_test_set_view_opens_on_the_most_frequent_confusion(qtbot, model, split):
    view = _open(qtbot, TestSetView(split=split))
    view.set_model(model)
    mistakes = insight.evaluate_test_set(model, split).confusion.copy()
    np.fill_diagonal(mistakes, 0)
    t, p = view.matrix.selected_cell
    assert t != p and mistakes[t, p] == mistakes.max() > 0


# --- why this guess -------------------------------------------------------------------------------


def test_attribution_view_shows_guess_runner_up_and_map(qtbot, model, split):
    view = _open(qtbot, AttributionView(), (800, 500))
    assert "No model" in view.summary.text()
    view.set_model(model)
    digit = split.X_test[40].reshape(8, 8)
    view.set_digit(digit)
    probs = model.predict_proba(digit)
    guess, runner_up = np.argsort(probs)[::-1][:2]
    text = view.summary.text()
    assert f"<b>{guess}</b>" in text and f"runner-up <b>{runner_up}</b>" in text
    expected = insight.explain(model, digit)
    np.testing.assert_allclose(view.map.values(), expected.contribution)

    # Click the cell with the strongest contribution: its numbers appear.
    r, c = np.unravel_index(np.argmax(np.abs(expected.contribution)), (8, 8))
    with qtbot.waitSignal(view.map.cellClicked, timeout=2000) as blocker:
        qtbot.mouseClick(view.map, LEFT, pos=_point(view.map.cell_rect(r, c).center()))
    assert blocker.args == [r, c]
    assert f"{expected.contribution[r, c]:+.3f}" in view.cell_info.text()

    view.show_combo.setCurrentIndex(1)  # the gradient itself
    np.testing.assert_allclose(view.map.values(), expected.gradient)
    view.compare_combo.setCurrentIndex(1)  # against the runner-up
    assert view.attribution().versus == runner_up
    np.testing.assert_allclose(
        view.map.values(), insight.explain(model, digit, versus=runner_up).gradient
    )
    view.set_target_class(int(runner_up))
    assert view.attribution().target == runner_up and view.attribution().versus == guess

    view.set_digit(None)
    assert view.attribution() is None
    assert "Draw a digit" in view.summary.text()


# --- nearest examples -----------------------------------------------------------------------------


def test_nearest_examples_view_shows_neighbours_and_loads_a_clicked_one(qtbot, model, split):
    view = _open(qtbot, NearestExamplesView(split=split, k=5), (800, 320))
    view.set_model(model)
    digit = split.X_test[100].reshape(8, 8)
    view.set_digit(digit)
    expected = insight.NearestExamples(model, split).query(digit, 5)
    tiles = view.gallery.tiles()
    assert [t.content.title for t in tiles] == [f"label {label}" for label in expected.labels]
    assert tiles[0].content.subtitle == f"distance {expected.distances[0]:.2f}"

    qtbot.waitUntil(tiles[1].isVisible)
    with qtbot.waitSignal(view.digitRequested, timeout=2000) as blocker:
        qtbot.mouseClick(tiles[1], LEFT, pos=_point(tiles[1].image_center()))
    np.testing.assert_array_equal(blocker.args[0], expected.digits[1])

    view.k_spin.setValue(8)
    assert len(view.gallery.tiles()) == 8


# --- hidden units ---------------------------------------------------------------------------------


def test_weight_tiles_show_dead_units_and_react_to_a_click(qtbot, model, split):
    view = _open(qtbot, WeightTilesView(), (760, 560))
    view.set_model(model)
    activity = insight.unit_activity(model)
    h1, h2 = model.mlp.layer_sizes[1:3]
    assert f"layer 1: {activity.n_dead[0]} of {h1}" in view.dead_label.text()
    assert f"layer 2: {activity.n_dead[1]} of {h2}" in view.dead_label.text()
    with qtbot.waitSignal(view.unitClicked, timeout=2000) as blocker:
        qtbot.mouseClick(view.grid, LEFT, pos=_point(view.grid.tile_rect(9).center()))
    assert blocker.args == [9]
    assert view.unit_info.text().startswith("Unit 9:")
    assert f"bias {model.mlp.weights[0][0, 9]:+.3f}" in view.unit_info.text()


def test_weight_tiles_follow_training_snapshots(qtbot, run):
    view = _open(qtbot, WeightTilesView(), (760, 560))
    view.add_progress(run[:5])  # the first snapshot of a quiet spell is shown at once
    assert "iteration" in view.status.text()
    view.add_progress(run[5:-1])  # later ones wait for the timer; the newest wins
    last = run[-2]
    qtbot.waitUntil(lambda: f"iteration {last.iteration:,}" in view.status.text(), timeout=3000)
    np.testing.assert_array_equal(
        view.activity().active_fraction[0], insight.unit_activity(last.snapshot).active_fraction[0]
    )
    view.add_progress(run[-1:])  # the final model is never held back
    assert view.status.text() == f"training: iteration {run[-1].iteration:,}"


def test_dead_units_are_marked_on_tiles_and_activation_bars(qtbot, split):
    model = load_default().copy()
    model.mlp.weights[0][0, 4] = -1000.0  # unit 4 of layer 1 can never fire
    tiles = _open(qtbot, WeightTilesView(), (760, 560))
    tiles.set_model(model)
    assert tiles.activity().dead[0][4]
    assert tiles.grid.dead_units()[4]
    bars = _open(qtbot, HiddenActivationsView(), (760, 420))
    bars.set_model(model)
    bars.set_digit(split.X_test[0])
    np.testing.assert_array_equal(bars.dead_marked(1), np.flatnonzero(tiles.activity().dead[0]))
    assert bars.activations()[0][4] == 0


def test_activation_bars_show_every_hidden_layer_and_react_to_a_click(qtbot, model, split):
    view = _open(qtbot, HiddenActivationsView(), (760, 420))
    view.set_model(model)
    digit = split.X_test[9].reshape(8, 8)
    view.set_digit(digit)
    expected = insight.hidden_activations(model, digit)
    assert len(view.plots()) == 2
    for layer, a in enumerate(expected, start=1):
        np.testing.assert_allclose(view.bar_heights(layer), a)
    active = int((expected[0] > 0).sum())
    h1 = model.mlp.layer_sizes[1]
    assert f"layer 1: {active} of {h1} units active" in view.summary.text()

    unit = int(np.argmax(expected[1]))
    plot = view.plots()[1]
    vb = plot.getPlotItem().vb
    scene_point = vb.mapViewToScene(QPointF(unit, expected[1][unit] / 2))
    with qtbot.waitSignal(view.unitClicked, timeout=2000) as blocker:
        qtbot.mouseClick(plot.viewport(), LEFT, pos=plot.mapFromScene(scene_point))
    assert blocker.args == [2, unit]
    assert f"activation {expected[1][unit]:.3f}" in view.unit_info.text()


# --- history of a guess ---------------------------------------------------------------------------


def test_guess_history_plots_the_drawings_probabilities_per_snapshot(qtbot, run, split):
    view = _open(qtbot, GuessHistoryView(), (760, 420))
    digit = split.X_test[1].reshape(8, 8)
    view.set_digit(digit)
    view.add_progress(run)
    its, probs = insight.guess_history(run, digit)
    qtbot.waitUntil(lambda: _n_points(view.curves[0]) == len(its), timeout=3000)
    for d, curve in enumerate(view.curves):
        x, y = curve.getData()
        np.testing.assert_array_equal(x, its)
        np.testing.assert_allclose(y, probs[:, d])

    vb = view.plot.getPlotItem().vb
    target = int(its[len(its) // 2])
    # pyqtgraph applies auto-range and layout lazily: map the click only once the view shows
    # every snapshot and its geometry has stopped changing, or the click can miss the plot.
    geometry = []

    def settled() -> bool:
        (x0, x1), _ = vb.viewRange()
        geometry.append((vb.sceneBoundingRect(), x0, x1))
        return x0 <= its[0] and x1 >= its[-1] and len(geometry) > 1 and geometry[-1] == geometry[-2]

    qtbot.waitUntil(settled, timeout=3000)
    scene_point = vb.mapViewToScene(QPointF(target, 0.5))
    with qtbot.waitSignal(view.iterationSelected, timeout=2000) as blocker:
        qtbot.mouseClick(view.plot.viewport(), LEFT, pos=view.plot.mapFromScene(scene_point))
    assert blocker.args == [target]
    row = int(np.flatnonzero(its == target)[0])
    guess = int(np.argmax(probs[row]))
    assert f"At iteration {target:,}" in view.status.text()
    assert f"{guess}: {format_probability(probs[row, guess])}" in view.status.text()

    view.add_progress(run[:1])  # iteration 1 again: a new run starts the plot afresh
    qtbot.waitUntil(lambda: _n_points(view.curves[0]) == 1, timeout=3000)


def test_guess_history_keeps_the_run_when_the_final_record_comes_twice(qtbot, run, split):
    # The window sends the final record in its last progress batch and again with
    # trainingFinished; the second must not start a "new run" of one snapshot.
    tabs = QTabWidget()
    _open(qtbot, tabs, (760, 420))
    panel = InsightPanel(tabs, split=split)
    panel.add_tabs(tabs)
    window = _FakeWindow()
    panel.connect_window(window)
    window.digitChanged.emit(split.X_test[1].reshape(8, 8))
    window.trainingStarted.emit()
    window.trainingProgress.emit(run)
    window.modelChanged.emit(run[-1].model)
    window.trainingFinished.emit(run[-1])
    view = panel.guess_history
    np.testing.assert_array_equal(view.history().iterations, [r.iteration for r in run])
    tabs.setCurrentWidget(view)
    assert f"{len(run)} snapshots" in view.status.text()
    # Another model (Reset, a file): the curves of the run's network go.
    window.modelChanged.emit(load_default())
    assert len(view.history()) == 0
    # A new run starts afresh.
    window.trainingProgress.emit(run[:3])
    window.trainingStarted.emit()
    assert len(view.history()) == 0


def test_guess_history_of_one_snapshot_has_a_sensible_axis(qtbot, run, split):
    view = _open(qtbot, GuessHistoryView(), (760, 420))
    view.set_digit(split.X_test[1].reshape(8, 8))
    view.add_progress([dataclasses.replace(run[-1], iteration=20_000, iterations=20_000)])
    qtbot.waitUntil(lambda: _n_points(view.curves[0]) == 1, timeout=3000)
    (x0, x1), _ = view.plot.getPlotItem().vb.viewRange()
    assert x0 <= 0 and 20_000 <= x1 <= 21_000  # not 19999.6..20000.4
    axis = view.plot.getPlotItem().getAxis("bottom")
    assert not axis.autoSIPrefix and axis.autoSIPrefixScale == 1.0
    assert view.status.text().endswith("· 1 snapshot")
    assert view.curves[0].opts["symbol"] is not None  # one point is drawn as a point


# --- step through ---------------------------------------------------------------------------------


def test_step_through_shows_the_notebook_example_and_steps_on_click(qtbot):
    view = _open(qtbot, StepThroughView(), (900, 520))
    assert view.current_name() == "X_with_bias"
    with qtbot.waitSignal(view.stepChanged, timeout=2000) as blocker:
        qtbot.mouseClick(view.next_button, LEFT)
    assert blocker.args == ["Z1"]
    view.show_matrix("W1_new")
    printed = [  # notebook cell 29's printout of W1_new, first and last rows
        ["-0.00016792", "-0.00125257", "-0.00100040"],
        ["0.02933990", "0.02062628", "-0.02024931"],
    ]
    table = view.table
    assert [table.item(0, j).text() for j in range(3)] == printed[0]
    assert [table.item(3, j).text() for j in range(3)] == printed[1]
    assert not view.next_button.isEnabled()
    qtbot.mouseClick(view.prev_button, LEFT)
    assert view.current_name() == "G1"


def test_step_through_a_training_batch_and_the_drawing(qtbot, model, split):
    view = _open(qtbot, StepThroughView(split=split), (900, 520))
    view.set_model(model)
    view.set_source("training")
    view.first_row_spin.setValue(10)
    view.batch_size_spin.setValue(3)
    step = view.step()
    assert {"Z3", "A3", "E3", "G3", "W3_new", "E1", "G1", "W1_new"} <= set(step.names)
    X, Y, _ = insight.training_batch(model, [10, 11, 12], split)
    expected = insight.model_update_step(model, X, Y, view.lr_spin.value())
    view.show_matrix("G2")
    np.testing.assert_allclose(view.table.value(), expected["G2"])

    view.set_source("drawing")
    assert view.step() is None and "Draw a digit" in view.title.text()
    digit = split.X_test[5].reshape(8, 8)
    view.set_digit(digit)
    assert view.label_spin.value() == model.predict(digit)
    view.label_spin.setValue(3)
    X, Y = insight.digit_batch(model, digit, [3])
    np.testing.assert_allclose(
        view.step()["E3"], insight.model_update_step(model, X, Y, view.lr_spin.value())["E3"]
    )


# --- all together ---------------------------------------------------------------------------------


class _FakeWindow(QObject):
    modelChanged = Signal(object)
    digitChanged = Signal(object)
    trainingStarted = Signal()
    trainingProgress = Signal(object)
    trainingFinished = Signal(object)


def test_panel_wires_views_to_the_window_and_exposes_object_names(qtbot, model, split, run):
    tabs = QTabWidget()
    tabs.setObjectName("insightTabs")
    _open(qtbot, tabs, (900, 700))
    panel = InsightPanel(tabs, split=split)
    panel.add_tabs(tabs)
    window = _FakeWindow()
    panel.connect_window(window)
    for name in (
        "testSetView",
        "confusionMatrix",
        "attributionView",
        "nearestExamples",
        "weightTiles",
        "hiddenActivations",
        "guessHistoryPlot",
        "stepThroughView",
    ):
        assert tabs.findChild(QWidget, name) is not None, name

    window.modelChanged.emit(model)
    digit = split.X_test[0].reshape(8, 8)
    window.digitChanged.emit(digit)
    # Only the tab on screen (the first, "Why this guess") has done its work; the others catch
    # up with the latest model and drawing when they are shown.
    assert panel.attribution.attribution().predicted == model.predict(digit)
    assert panel.test_set.report() is None and panel.nearest.neighbours() is None
    tabs.setCurrentWidget(panel.test_set)
    assert panel.test_set.report() is not None
    tabs.setCurrentWidget(panel.nearest)
    assert panel.nearest.neighbours() is not None
    expected = insight.NearestExamples(model, split).query(digit, panel.nearest.k_spin.value())
    np.testing.assert_array_equal(panel.nearest.neighbours().indices, expected.indices)

    # As the window does at the end of a completed run: the last batch holds the final record,
    # then the window installs its model, then says the run finished (the record again).
    window.trainingProgress.emit(run)
    window.modelChanged.emit(run[-1].model)
    window.trainingFinished.emit(run[-1])
    assert len(panel.guess_history.history()) == len(run)  # collected even while hidden
    tabs.setCurrentWidget(panel.hidden_units)
    assert panel.weight_tiles.status.text() == "trained model"

    with qtbot.waitSignal(panel.digitRequested, timeout=2000) as blocker:
        panel.nearest.gallery.digitClicked.emit(0)
    np.testing.assert_array_equal(blocker.args[0], panel.nearest.neighbours().digits[0])


def test_a_few_nearest_tiles_grow_into_a_large_pane_and_many_keep_their_size(qtbot, model, split):
    """Issue 13 item 11: six 72 px tiles sat in the corner of a large empty pane."""
    view = _open(qtbot, NearestExamplesView(split=split, k=6), (560, 560))
    view.set_model(model)
    view.set_digit(split.X_test[100].reshape(8, 8))
    qtbot.waitUntil(lambda: view.gallery.tiles()[0].image_side > DigitTile.IMAGE_SIDE)
    tiles = view.gallery.tiles()
    assert len({t.image_side for t in tiles}) == 1
    area = view.gallery.viewport().rect()
    for t in tiles:  # all still in sight: grown, not pushed behind a scroll bar
        assert area.contains(t.geometry().translated(-view.gallery.widget().pos()))
    view.k_spin.setValue(24)  # many: the base size, and the gallery scrolls
    qtbot.waitUntil(lambda: view.gallery.tiles()[0].image_side == DigitTile.IMAGE_SIDE)
