"""digitgui.core.step_flow: one sample of an update step followed through the network, read from
the step's own matrices, and which way the step flows at each of them."""

from __future__ import annotations

import numpy as np
import pytest

from digitgui.core import step as st
from digitgui.core.mlp import MLP
from digitgui.core.step_flow import (
    BACKWARD,
    FORWARD,
    flow_position,
    glow_levels,
    is_row_matrix,
    row_flow,
)


@pytest.fixture(scope="module")
def three_layer_step():
    """A 64-32-32-10 network (the notebook's sizes) stepping on four random inputs."""
    rng = np.random.default_rng(3)
    mlp = MLP.create((64, 32, 32, 10), "relu", "he", seed=1)
    X = rng.normal(size=(4, 64))
    y = np.array([3, 0, 9, 3])
    return st.update_step(mlp.weights, X, np.eye(10)[y], 0.05, labels=y)


def test_each_layer_is_the_steps_own_row(three_layer_step):
    step = three_layer_step
    for row in range(4):
        flow = row_flow(step, row)
        assert flow.sizes == (64, 32, 32, 10)
        assert flow.row == row and flow.n_rows == 4
        assert flow.label == str(int(step["y"][row, 0]))
        assert flow.classes == tuple(str(c) for c in range(10))
        np.testing.assert_array_equal(flow.layers[0].values, step["X"][row])
        for l in (1, 2, 3):
            layer = flow.layers[l]
            assert (layer.name, layer.error_name) == (f"A{l}", f"E{l}")
            np.testing.assert_array_equal(layer.values, step[f"A{l}"][row])
            np.testing.assert_array_equal(layer.errors, step[f"E{l}"][row])
            assert layer.error_limit == pytest.approx(np.abs(step[f"E{l}"][row]).max())
        assert flow.layers[0].errors is None and flow.layers[0].error_name is None
    # Rows differ, so do their flows (a flow that ignored ``row`` would not).
    assert not np.array_equal(
        row_flow(step, 0).layers[1].values, row_flow(step, 2).layers[1].values
    )
    with pytest.raises(IndexError):
        row_flow(step, 4)


def test_the_values_are_copies(three_layer_step):
    flow = row_flow(three_layer_step, 1)
    flow.layers[1].values[:] = 123.0
    assert not np.any(three_layer_step["A1"][1] == 123.0)


def test_glow_scales(three_layer_step):
    flow = row_flow(three_layer_step, 0)
    inputs, hidden, outputs = flow.layers[0], flow.layers[1], flow.layers[-1]
    # Inputs: the row's own min..max; hidden (ReLU): 0..max, so an off unit is dark.
    assert (inputs.low, inputs.high) == (inputs.values.min(), inputs.values.max())
    levels = glow_levels(inputs)
    assert levels[np.argmin(inputs.values)] == 0.0 and levels[np.argmax(inputs.values)] == 1.0
    assert hidden.low == 0.0 and hidden.high == hidden.values.max()
    np.testing.assert_allclose(glow_levels(hidden), hidden.values / hidden.values.max())
    assert np.all(glow_levels(hidden)[hidden.values == 0] == 0)
    # Outputs: probabilities on the fixed 0..1, not stretched to the row's largest.
    assert (outputs.low, outputs.high) == (0.0, 1.0)
    np.testing.assert_allclose(glow_levels(outputs), outputs.values)


def test_a_dead_layer_and_zero_errors_do_not_divide_by_zero():
    # All weights zero: A1 is all 0 (a flat row), and E1 is 0 everywhere (W2 is zero).
    W = [np.zeros((4, 3)), np.zeros((4, 3))]
    step = st.backprop_step(W, np.ones((2, 3)), np.eye(3)[[0, 1]], 0.1)
    flow = row_flow(step, 0)
    assert flow.layers[1].high > flow.layers[1].low
    np.testing.assert_array_equal(glow_levels(flow.layers[1]), 0.0)
    assert flow.layers[1].error_limit == 1.0
    # A flat input row sits at the dark end, without NaNs.
    np.testing.assert_array_equal(glow_levels(flow.layers[0]), 0.0)


def test_the_notebook_example_names_its_classes():
    step = st.notebook_worked_example()
    flow = row_flow(step, 0)
    assert flow.classes == ("1", "2", "3")
    assert [row_flow(step, r).label for r in range(4)] == ["3", "1", "2", "3"]
    assert flow.sizes == (3, 3, 3)


def test_forward_glows_layer_by_layer_and_errors_flow_back(three_layer_step):
    step = three_layer_step
    at = {name: flow_position(step, name) for name in step.names}
    for name in ("X", "W1", "X_with_bias", "Z1"):
        assert at[name].direction == FORWARD and at[name].reached == (True, False, False, False)
    assert at["A1"].reached == (True, True, False, False)
    assert at["Z3"].reached == (True, True, True, False)
    assert at["e3"].reached == (True, True, True, False)  # softmax not done yet
    assert at["A3"].reached == (True, True, True, True)
    assert at["cost_rows3"] == at["A3"]
    for name in ("E3", "G3", "W3_new"):
        assert at[name].direction == BACKWARD and at[name].reached == (False, False, False, True)
    assert at["E2"].reached == (False, False, True, True)
    assert at["W1_new"].reached == (False, True, True, True)
    # No matrix chosen (or one the step lacks): the forward pass, done.
    assert flow_position(step, None) == flow_position(step, "Q9")
    assert flow_position(step, None).reached == (True,) * 4


def test_which_matrices_have_a_row_per_sample(three_layer_step):
    per_sample = {n for n in three_layer_step.names if is_row_matrix(three_layer_step, n)}
    assert {"X", "y", "y_onehot", "X_with_bias", "Z1", "A2_bias", "e3", "sum_e3"} <= per_sample
    assert {"cost_rows3", "E1", "E3"} <= per_sample
    for name in ("W1", "W3", "G2", "W2_new"):
        assert not is_row_matrix(three_layer_step, name)
    assert not is_row_matrix(three_layer_step, None)
    # The notebook's example has as many rows as W1 (4): the name decides, not the shape.
    example = st.notebook_worked_example()
    assert example["W1"].shape[0] == 4 and not is_row_matrix(example, "W1")
