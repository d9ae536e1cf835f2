"""The "One update step" view: its sources, the update order, softmax and the cost as steps,
readable matrices, the keys a presenter remote sends, and the network strip."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from digitgui.core import step as st
from digitgui.core.data import load_digits_split
from digitgui.core.mlp import MLP
from digitgui.core.model_io import DigitClassifier, load_default
from digitgui.core.training import PRESETS
from digitgui.gui.insight import StepThroughView

NO = Qt.KeyboardModifier.NoModifier


@pytest.fixture(scope="module")
def split():
    return load_digits_split(42)


@pytest.fixture(scope="module")
def model():
    return load_default()


def _view(qtbot, split=None) -> StepThroughView:
    view = StepThroughView(split=split)
    qtbot.addWidget(view)
    view.resize(1100, 640)
    view.show()
    qtbot.waitExposed(view)
    return view


def test_cell_29_in_the_notebooks_order_and_back(qtbot):
    view = _view(qtbot)
    assert view.order() == "backprop"  # what cell 29 itself does
    assert view.step().matrix("E1").formula == "E1 = err_relu(A1, E2, W2)"
    view.order_combo.setCurrentIndex(view.order_combo.findData("notebook"))
    step = view.step()
    assert step.order == "notebook"
    assert step.matrix("E1").formula == "E1 = err_relu(A1, E2, W2_new)"
    np.testing.assert_allclose(step["E1"], st.notebook_worked_example("notebook")["E1"])
    text = view.order_label.text()
    assert "W2_new" in text and "relative norm" in text
    assert f"{step.differences['G1']:.3g}" in text
    view.show_matrix("E1")
    assert "differs by" in view.pane.meaning.text()
    view.set_order("backprop")
    assert view.step().order == "backprop"


def test_presenter_keys_step_one_line(qtbot):
    view = _view(qtbot)
    view.step_list.setFocus()
    names = view.step().names
    start = names.index("X_with_bias")
    for key, expected in (
        (Qt.Key.Key_PageDown, start + 1),
        (Qt.Key.Key_Right, start + 2),
        (Qt.Key.Key_PageUp, start + 1),
        (Qt.Key.Key_Left, start),
    ):
        qtbot.keyClick(view.step_list, key, NO)
        assert view.step_list.currentRow() == expected, key
    view.table.setFocus()
    qtbot.keyClick(view.table, Qt.Key.Key_PageDown, NO)
    assert view.step_list.currentRow() == start + 1
    view.show_matrix("W1_new")
    qtbot.keyClick(view.step_list, Qt.Key.Key_PageDown, NO)  # the last line stays
    assert view.current_name() == "W1_new"


def test_a_fresh_network_with_the_current_settings(qtbot, split):
    view = _view(qtbot, split)
    config = dataclasses.replace(PRESETS["notebook"], hidden=(16,), seed=5)
    view.set_config_source(lambda: config)
    view.set_source("fresh")
    assert view.order() == "notebook" and view.lr_spin.value() == pytest.approx(0.01)
    expected = MLP.create(config.layer_sizes, config.activation, config.init, config.seed)
    np.testing.assert_array_equal(view.step()["W1"], expected.weights[0])
    assert "fresh network (iteration 0)" in view.title.text()
    assert view.strip.sizes() == (64, 16, 10)

    def broken():
        raise ValueError("learning rate must be a positive number")

    view.set_config_source(broken)
    assert view.step() is None and "not valid" in view.title.text()


def test_the_paused_run_steps_its_latest_snapshot(qtbot, split, model):
    view = _view(qtbot, split)
    view.set_source("paused")
    assert view.step() is None and "Pause" in view.title.text()
    snap = model.member(0)
    view.add_progress([SimpleNamespace(iteration=7, snapshot=snap, model=None)])
    qtbot.waitUntil(lambda: view.step() is not None, timeout=3000)
    assert "iteration 7" in view.title.text()
    X, Y, _ = st.training_batch(snap, np.arange(4), split)
    want = st.model_update_step(snap, X, Y, view.lr_spin.value(), order=view.order())
    np.testing.assert_allclose(view.step()["G1"], want["G1"])
    view.start_run()
    assert view.step() is None


def test_softmax_steps_and_a_cost_never_below_zero(qtbot, split):
    # A network sure of class 4 whatever it sees: p(4) ~ 1.
    W1 = np.zeros((65, 2))
    W2 = np.zeros((3, 10))
    W2[0, 4] = 40.0
    sure = DigitClassifier(MLP([W1, W2]), split.mean, split.scale)
    view = _view(qtbot, split)
    view.set_model(sure)
    view.set_source("drawing")
    view.set_digit(split.X_test[0].reshape(8, 8))
    view.label_spin.setValue(4)
    step = view.step()
    assert step.cost < 0  # the notebook's -log(1 + 1e-8)
    assert "-9" not in view.cost_label.text() and "-1e-08" not in view.cost_label.text()
    assert "~0 (the 1e-8 floor)" in view.cost_label.text()
    for name in ("e2", "sum_e2", "A2", "cost_rows2"):
        assert name in step.names
    view.show_matrix("cost_rows2")
    assert view.table.item(0, 0).text() == "~0"
    view.label_spin.setValue(3)  # sure and wrong: at the cap
    assert "18.4" in view.cost_label.text()


def test_readable_matrices(qtbot, split, model):
    view = _view(qtbot)
    view.show_matrix("y_onehot")
    table = view.table
    headers = [table.horizontalHeaderItem(j).text() for j in range(3)]
    assert headers == ["class 1", "class 2", "class 3"]
    assert table.verticalHeaderItem(0).text() == "0 (y=3)"
    view.show_matrix("A1_bias")
    assert "bias column" in view.pane.scale_label.text()
    view.show_matrix("A2")
    note = view.pane.scale_label.text()
    assert "0..1" in note and "near-equal" in note
    view.show_matrix("W2_new")
    assert view.pane.before_box.isVisible() and view.pane.delta_box.isVisible()
    np.testing.assert_allclose(
        view.pane.delta_table.value(), view.step()["W2_new"] - view.step()["W2"]
    )
    # W and W_new share one colour scale: equal values, equal colours.
    assert "shared" in view.pane.scale_label.text()
    view.show_matrix("Z1")
    assert not view.pane.before_box.isVisible()
    table.setCurrentCell(0, 0)
    assert "1*0 + 1.2*0.02 + (-0.4)*(-0.05) + 0.8*0.03 = 0.068" in view.pane.arithmetic.text()

    # A 65-wide row as the 8x8 it is, and the strip shows where a matrix lives.
    view = _view(qtbot, split)
    view.set_model(model)
    view.set_source("training")
    view.show_matrix("X_with_bias")
    assert view.pane.pixels_box.isVisible()
    view.table.setCurrentCell(2, 5)
    np.testing.assert_allclose(view.pane.pixels.values().ravel(), view.step()["X_with_bias"][2, 1:])
    view.show_matrix("W1")
    view.table.setCurrentCell(3, 7)  # a column of a 65-row matrix
    np.testing.assert_allclose(view.pane.pixels.values().ravel(), view.step()["W1"][1:, 7])
    assert view.strip.objectName() == "networkStrip"
    assert view.strip.sizes() == model.mlp.layer_sizes
    for name, place in (("G2", ("weights", 2)), ("Z3", ("layer", 3)), ("X", ("layer", 0))):
        view.show_matrix(name)
        assert view.strip.highlighted() == place


def test_the_window_steps_a_fresh_network_of_its_settings(qtbot):
    from digitgui.gui.main_window import MainWindow

    window = MainWindow(load_default())
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(window.insight_views_ready, timeout=30_000)
    view = window.insight.step_through
    window.insight_tabs.setCurrentWidget(view)
    view.set_source("fresh")
    config = window.training_panel.config()
    assert view.strip.sizes() == config.layer_sizes
    assert view.step() is not None
    QApplication.processEvents()
    window.close()


def test_the_pixels_stay_on_the_picked_row_when_the_matrix_changes(qtbot, split, model):
    view = _view(qtbot, split)
    view.set_model(model)
    view.set_source("training")
    view.show_matrix("X_with_bias")
    view.table.setCurrentCell(2, 5)
    view.show_matrix("X")  # the same sample's raw row: row 2 still, not row 0
    np.testing.assert_allclose(view.pane.pixels.values().ravel(), view.step()["X"][2])
