"""The notebook's functions and the MLP: worked example, gradients, layout."""

from __future__ import annotations

import numpy as np
import pytest
from notebook_reference import W1_NEW, W2_NEW, W29, X29, Y29

from digitgui.core.mlp import (
    MLP,
    Workspace,
    X_bias,
    cost_softmax,
    err_mse,
    err_relu,
    err_sigmoid,
    err_softmax,
    get_z,
    grad,
    relu,
    sigmoid,
    softmax,
    update_weight,
)


def test_notebook_worked_example_with_the_notebook_functions():
    W1, W2 = W29.copy(), W29.copy()
    X_with_bias = X_bias(X29)
    A1 = relu(get_z(X_with_bias, W1))
    A1_bias = X_bias(A1)
    A2 = softmax(get_z(A1_bias, W2))
    E2 = err_softmax(A2, Y29)
    W2_new = update_weight(W2, 0.1, grad(E2, A1_bias))
    E1 = err_relu(A1, E2, W2)
    W1_new = update_weight(W1, 0.1, grad(E1, X_with_bias))
    # The notebook prints 8 decimals: agreement to 1e-8 is agreement with every printed digit.
    np.testing.assert_allclose(W1_new, W1_NEW, atol=1e-8, rtol=0)
    np.testing.assert_allclose(W2_new, W2_NEW, atol=1e-8, rtol=0)


def test_mlp_step_reproduces_the_worked_example():
    # Cell 29 pulls E1 back through the *old* W2: that is textbook backprop, i.e. MLP.step.
    mlp = MLP([W29.copy(), W29.copy()])
    mlp.step(X29, Y29, lr=0.1)
    np.testing.assert_allclose(mlp.weights[0], W1_NEW, atol=1e-8, rtol=0)
    np.testing.assert_allclose(mlp.weights[1], W2_NEW, atol=1e-8, rtol=0)


def test_out_parameter_gives_the_same_numbers():
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((5, 4)) * 10
    for f in (relu, softmax, sigmoid):
        out = np.empty_like(Z)
        res = f(Z, out=out)
        assert res is out
        np.testing.assert_array_equal(out, f(Z))
    w = rng.standard_normal((5, 3))
    g = rng.standard_normal((5, 3))
    expected = w - 0.1 * g
    update_weight(w, 0.1, g, out=w)
    np.testing.assert_array_equal(w, expected)


def test_softmax_rows_sum_to_one_and_survive_huge_logits():
    Z = np.array([[1000.0, 0.0, -1000.0], [1.0, 2.0, 3.0]])
    A = softmax(Z)
    assert np.all(np.isfinite(A))
    np.testing.assert_allclose(A.sum(axis=1), 1.0)
    assert A[0, 0] == pytest.approx(1.0)


def test_sigmoid_and_its_error():
    Z = np.array([[-800.0, 0.0, 800.0]])
    np.testing.assert_allclose(sigmoid(Z), [[0.0, 0.5, 1.0]])
    A = np.array([[0.2, 0.5]])
    w_next = np.array([[9.0], [1.0], [2.0]])  # row 0 (bias) must not take part
    E = err_sigmoid(A, np.array([[1.0]]), w_next)
    np.testing.assert_allclose(E, [[1.0 * 0.2 * 0.8, 2.0 * 0.5 * 0.5]])
    np.testing.assert_allclose(err_mse(np.array([1.0, 2.0]), np.array([0.5, 2.0])), [1.0, 0.0])


def test_cost_softmax_is_the_mean_cross_entropy():
    A = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    Y = np.array([[1, 0, 0], [0, 0, 1]])
    assert cost_softmax(Y, A) == pytest.approx(-(np.log(0.7 + 1e-8) + np.log(0.8 + 1e-8)) / 2)


def _numeric_grads(mlp: MLP, X, Y, h=1e-6):
    grads = []
    for w in mlp.weights:
        g = np.zeros_like(w)
        for idx in np.ndindex(w.shape):
            old = w[idx]
            w[idx] = old + h
            plus = cost_softmax(Y, mlp.predict_proba(X))
            w[idx] = old - h
            minus = cost_softmax(Y, mlp.predict_proba(X))
            w[idx] = old
            g[idx] = (plus - minus) / (2 * h)
        grads.append(g)
    return grads


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_gradients_match_central_differences_for_every_parameter(activation):
    rng = np.random.default_rng(3)
    mlp = MLP.create((5, 4, 3, 3), activation=activation, init="glorot", seed=1)
    for w in mlp.weights:  # non-zero biases so row 0 is checked too
        w[0] = rng.normal(0, 0.3, w.shape[1])
    X = rng.standard_normal((7, 5))
    Y = np.eye(3)[rng.integers(0, 3, 7)]
    cost, grads = mlp.loss_and_grads(X, Y)
    assert cost == pytest.approx(cost_softmax(Y, mlp.predict_proba(X)))
    numeric = _numeric_grads(mlp, X, Y)
    assert [g.shape for g in grads] == [w.shape for w in mlp.weights]
    for g, n in zip(grads, numeric, strict=True):
        np.testing.assert_allclose(g, n, rtol=1e-5, atol=1e-8)


def test_notebook_order_differs_from_textbook_order():
    """Updating W_l before pulling the error through it (the notebook) is not backprop."""
    rng = np.random.default_rng(5)
    mlp = MLP.create((6, 5, 4), init="he", seed=2)
    X = rng.standard_normal((8, 6))
    Y = np.eye(4)[rng.integers(0, 4, 8)]
    textbook = mlp.copy()
    textbook.step(X, Y, lr=0.5)

    notebook = mlp.copy()
    ws = Workspace(notebook.layer_sizes, len(X))
    ws.set_input(X_bias(X))
    ws.forward(notebook.weights, Y)
    grads = [np.empty_like(w) for w in notebook.weights]

    def update(l, g):
        update_weight(notebook.weights[l], 0.5, g, out=notebook.weights[l])

    ws.backward(notebook.weights, Y, grads, update=update)
    # The last layer sees the same gradient either way; the first one does not.
    np.testing.assert_allclose(notebook.weights[1], textbook.weights[1])
    assert not np.allclose(notebook.weights[0], textbook.weights[0])


def test_notebook_init_draws_what_the_notebook_draws():
    # The notebook's own legacy global-seed calls, on purpose.
    np.random.seed(42)  # noqa: NPY002
    expected = [np.random.randn(65, 32), np.random.randn(33, 32), np.random.randn(33, 10)]  # noqa: NPY002
    state = np.random.get_state()[1].copy()  # noqa: NPY002
    mlp = MLP.create((64, 32, 32, 10), init="notebook", seed=42)
    for w, e in zip(mlp.weights, expected, strict=True):
        np.testing.assert_array_equal(w, e)
    # ... without disturbing NumPy's global random state.
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # noqa: NPY002


@pytest.mark.parametrize("init", ["he", "glorot"])
def test_scaled_inits_have_zero_bias_and_fan_in_scale(init):
    mlp = MLP.create((400, 300, 10), init=init, seed=0)
    w = mlp.weights[0]
    assert w.shape == (401, 300)
    assert np.all(w[0] == 0)
    expected_sd = np.sqrt(2 / 400) if init == "he" else np.sqrt(2 / (400 + 300))
    assert w[1:].std() == pytest.approx(expected_sd, rel=0.05)
    again = MLP.create((400, 300, 10), init=init, seed=0)
    np.testing.assert_array_equal(again.weights[1], mlp.weights[1])


def test_layout_and_validation():
    mlp = MLP.create((64, 32, 32, 10), seed=0)
    assert mlp.layer_sizes == (64, 32, 32, 10)
    assert [w.shape for w in mlp.weights] == [(65, 32), (33, 32), (33, 10)]
    p = mlp.predict_proba(np.zeros((3, 64)))
    assert p.shape == (3, 10)
    np.testing.assert_allclose(p.sum(axis=1), 1)
    with pytest.raises(ValueError, match="expected inputs of shape"):
        mlp.predict_proba(np.zeros((3, 65)))
    with pytest.raises(ValueError, match="rows but the layer before"):
        MLP([np.zeros((65, 32)), np.zeros((32, 10))])
    with pytest.raises(ValueError, match="unknown activation"):
        MLP([np.zeros((65, 10))], activation="tanh")
    with pytest.raises(ValueError, match="unknown init"):
        MLP.create((4, 2), init="zeros")


def test_workspace_cost_shortcut_equals_cost_softmax():
    rng = np.random.default_rng(1)
    mlp = MLP.create((8, 6, 5), seed=4)
    X = rng.standard_normal((20, 8))
    y = rng.integers(0, 5, 20)
    Y = np.eye(5)[y]
    ws = Workspace(mlp.layer_sizes, 20)
    ws.set_input(X_bias(X))
    full = ws.forward(mlp.weights, Y)
    short = ws.forward(mlp.weights, y_index=y)
    assert short == full
    np.testing.assert_allclose(ws.output, mlp.predict_proba(X))
