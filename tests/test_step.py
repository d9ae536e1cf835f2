"""digitgui.core.step: one update step in either order, softmax as steps, the cost as read,
and each cell's arithmetic, checked against the notebook's own code."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from notebook_reference import W1_NEW, W2_NEW, W29, X29, Y29

from digitgui.core import step as st
from digitgui.core.data import load_digits_split
from digitgui.core.training import PRESETS, train


@pytest.fixture(scope="module")
def split():
    return load_digits_split(42)


def _notebook_first_iteration(X_train_poly, ytr_onehot):
    """Cell 30's loop body, once, as the notebook writes it (seed 42, lr 0.01)."""

    def get_z(X, w):
        return X @ w

    def relu(Z):
        return np.maximum(0, Z)

    def softmax(Z):
        e = np.exp(Z - np.max(Z, axis=-1, keepdims=True))
        return e / np.sum(e, axis=-1, keepdims=True)

    def X_bias(X):
        return np.hstack((np.ones((X.shape[0], 1)), X))

    def err_relu(A, err_next, w_next):
        return err_next @ w_next[1:].T * (A > 0)

    def grad(err, X):
        return X.T @ err / X.shape[0]

    lr = 0.01
    np.random.seed(42)  # noqa: NPY002 (the notebook's own draws)
    W1 = np.random.randn(X_train_poly.shape[1], 32)  # noqa: NPY002
    W2 = np.random.randn(33, 32)  # noqa: NPY002
    W3 = np.random.randn(33, 10)  # noqa: NPY002
    start = [W1.copy(), W2.copy(), W3.copy()]
    Z1 = get_z(X_train_poly, W1)
    A1 = relu(Z1)
    A1_bias = X_bias(A1)
    Z2 = get_z(A1_bias, W2)
    A2 = relu(Z2)
    A2_bias = X_bias(A2)
    Z3 = get_z(A2_bias, W3)
    A3 = softmax(Z3)
    cost = -np.mean(np.sum(ytr_onehot * np.log(A3 + 1e-8), axis=1))
    E3 = A3 - ytr_onehot
    G3 = grad(E3, A2_bias)
    W3 = W3 - lr * G3
    E2 = err_relu(A2, E3, W3)
    G2 = grad(E2, A1_bias)
    W2 = W2 - lr * G2
    E1 = err_relu(A1, E2, W2)
    G1 = grad(E1, X_train_poly)
    W1 = W1 - lr * G1
    return start, cost, {"E2": E2, "E1": E1, "G2": G2, "G1": G1}, [W1, W2, W3]


def test_notebook_order_step_is_the_notebook_loops_first_iteration(split):
    config = PRESETS["notebook"]
    model = st.fresh_model(config, split)
    X, Y, _ = st.training_batch(model, np.arange(len(split.y_train)), split)
    start, cost, middle, after = _notebook_first_iteration(np.hstack([np.ones((len(X), 1)), X]), Y)
    for w, w0 in zip(model.mlp.weights, start, strict=True):
        np.testing.assert_array_equal(w, w0)
    step = st.model_update_step(model, X, Y, config.lr, order="notebook")
    assert step.order == "notebook"
    assert step.matrix("E2").formula == "E2 = err_relu(A2, E3, W3_new)"
    assert step.matrix("E1").formula == "E1 = err_relu(A1, E2, W2_new)"
    assert step.cost == pytest.approx(cost, rel=1e-12)
    for name, value in middle.items():
        np.testing.assert_allclose(step[name], value, rtol=0, atol=1e-12)
    for new, expected in zip(step.new_weights, after, strict=True):
        np.testing.assert_allclose(new, expected, rtol=0, atol=1e-12)
    # digitgui's own training engine agrees for its first update.
    run = list(train(dataclasses.replace(config, iterations=1), split))
    for new, trained in zip(step.new_weights, run[-1].model.mlp.weights, strict=True):
        np.testing.assert_allclose(new, trained, rtol=0, atol=1e-12)
    # The textbook order differs there, measurably, and says by how much.
    textbook = st.model_update_step(model, X, Y, config.lr, order="backprop")
    assert textbook.matrix("E2").formula == "E2 = err_relu(A2, E3, W3)"
    rel = np.linalg.norm(step["G1"] - textbook["G1"]) / np.linalg.norm(textbook["G1"])
    assert step.differences["G1"] == pytest.approx(rel)
    assert step.differences["E3"] == 0 and step.differences["G3"] == 0
    assert step.differences["E2"] > 0


def test_cell_29_in_either_order():
    textbook = st.notebook_worked_example()
    np.testing.assert_allclose(textbook["W1_new"], W1_NEW, atol=5e-9, rtol=0)
    np.testing.assert_allclose(textbook["W2_new"], W2_NEW, atol=5e-9, rtol=0)
    notebook = st.notebook_worked_example("notebook")
    E2 = notebook["A2"] - Y29
    W2_new = W29 - 0.1 * notebook["G2"]
    A1 = notebook["A1"]
    np.testing.assert_allclose(notebook["E1"], E2 @ W2_new[1:].T * (A1 > 0), rtol=0, atol=1e-15)
    assert notebook.differences["E1"] == pytest.approx(
        np.linalg.norm(notebook["E1"] - textbook["E1"]) / np.linalg.norm(textbook["E1"])
    )
    np.testing.assert_array_equal(notebook["X"], X29)
    with pytest.raises(ValueError, match="order"):
        st.notebook_worked_example("sideways")


def test_softmax_and_cross_entropy_as_steps():
    step = st.notebook_worked_example()
    Z = step["Z2"]
    e = np.exp(Z - Z.max(axis=1, keepdims=True))
    np.testing.assert_allclose(step["e2"], e)
    assert np.all(step["e2"].max(axis=1) == 1.0)
    np.testing.assert_allclose(step["sum_e2"], e.sum(axis=1, keepdims=True))
    np.testing.assert_allclose(step["A2"], e / e.sum(axis=1, keepdims=True))
    p_true = step["A2"][np.arange(4), [2, 0, 1, 2]]
    np.testing.assert_allclose(step.row_costs, -np.log(p_true + 1e-8))
    assert step.cost == pytest.approx(step.row_costs.mean(), rel=1e-12)


def test_the_cost_never_reads_below_zero():
    assert st.format_cost(-9.94141e-09) == "~0 (the 1e-8 floor)"
    assert st.format_cost(-1e-08) == "~0 (the 1e-8 floor)"
    assert st.format_cost(5e-9) == "~0 (the 1e-8 floor)"
    assert st.format_cost(2.69104e-08) == "2.69104e-08"
    assert st.format_cost(1.10065) == "1.10065"
    assert abs(st.COST_CAP - 18.42) < 0.01
    # A confident, right network: p(true) ~ 1 on every row.
    W = [np.zeros((4, 3)), np.array([[0, 0, 40.0], [0, 0, 0], [0, 0, 0], [0, 0, 0]])]
    W[0][0] = 1
    sure = st.backprop_step(W, X29[:1], Y29[:1], 0.1)
    assert sure.cost < 0  # the notebook's formula: -log(1 + 1e-8)
    assert st.format_cost(sure.cost) == "~0 (the 1e-8 floor)"
    assert "~0" in st.cell_arithmetic(sure, "cost_rows2", 0, 0)
    # A confident, wrong one: capped at -ln(1e-8).
    wrong = st.backprop_step(W, X29[1:2], Y29[1:2], 0.1)
    assert wrong.row_costs[0] == pytest.approx(st.COST_CAP, abs=1e-3)
    assert "18.4" in st.cost_cap_note(wrong.row_costs)
    assert st.cost_cap_note(sure.row_costs) == ""


def test_cell_arithmetic_writes_out_the_sum():
    step = st.notebook_worked_example()
    text = st.cell_arithmetic(step, "Z1", 0, 0)
    assert text.startswith("Z1[0, 0] = ")
    assert "1*0 + 1.2*0.02 + (-0.4)*(-0.05) + 0.8*0.03 = 0.068" in text
    for m in step.matrices:
        value = np.atleast_2d(m.value)
        for i, j in ((0, 0), (value.shape[0] - 1, value.shape[1] - 1)):
            text = st.cell_arithmetic(step, m.name, i, j)
            assert text.startswith(f"{m.name}[{i}, {j}]")
            if m.op and not (m.op == "bias" and j == 0):
                shown = text.rsplit("= ", 1)[1].split(" ")[0]
                if shown not in ("~0",):
                    assert float(shown) == pytest.approx(value[i, j], rel=1e-5, abs=1e-12)
    assert "W2_new[1, 2] = W2[1, 2] - 0.1 * G2[1, 2]" in st.cell_arithmetic(step, "W2_new", 1, 2)
    many = st.cell_arithmetic(step, "sum_e2", 0, 0)
    assert many.startswith("sum_e2[0, 0] = sum of e2[0, :] = 1 + ")


def test_fresh_model_is_iteration_0_of_the_settings(split):
    config = dataclasses.replace(PRESETS["notebook"], hidden=(16,), seed=3)
    model = st.fresh_model(config, split)
    assert model.mlp.layer_sizes == (64, 16, 10)
    assert model.metadata["training"]["update_order"] == "notebook"
    np.testing.assert_array_equal(model.mean, split.mean)
