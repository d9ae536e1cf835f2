"""The notebook's functions and the MLP: worked example, gradients, layout."""

from __future__ import annotations

import numpy as np
import pytest
from notebook_reference import W1_NEW, W2_NEW, W29, X29, Y29

from digitgui.core.mlp import (
    ACTIVATIONS,
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


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_workspace_passes_compute_what_the_notebook_functions_compute(activation):
    """The workspace writes the notebook's functions out, in place and feature-major: the same
    activations, output, cost and gradients as the functions called the notebook's way."""
    rng = np.random.default_rng(7)
    mlp = MLP.create((6, 5, 4, 3), activation=activation, init="glorot", seed=3)
    for w in mlp.weights:
        w[0] = rng.normal(0, 0.3, w.shape[1])
    W = mlp.weights
    X = rng.standard_normal((9, 6))
    y = rng.integers(0, 3, 9)
    Y = np.eye(3)[y]
    act, err = ACTIVATIONS[activation]
    X0 = X_bias(X)
    A1 = act(get_z(X0, W[0]))
    A2 = act(get_z(X_bias(A1), W[1]))
    A3 = softmax(get_z(X_bias(A2), W[2]))
    E3 = err_softmax(A3, Y)
    E2 = err(A2, E3, W[2])
    E1 = err(A1, E2, W[1])
    expected = [grad(E1, X0), grad(E2, X_bias(A1)), grad(E3, X_bias(A2))]

    ws = Workspace(mlp.layer_sizes, 9, activation=activation)
    ws.set_input(X0)
    assert ws.forward(W, y_index=y) == pytest.approx(cost_softmax(Y, A3), rel=1e-12)
    # A hidden layer's pre-activation is written where its activation lives, then activated.
    assert ws.Z[0].base is ws.A_bias[1].base
    np.testing.assert_allclose(ws.A_bias[1][:, 1:], A1, rtol=1e-12)
    np.testing.assert_allclose(ws.A_bias[2][:, 1:], A2, rtol=1e-12)
    np.testing.assert_allclose(ws.output, A3, rtol=1e-12)
    grads = [np.empty_like(w) for w in W]
    ws.backward(W, Y, grads)
    for g, e in zip(grads, expected, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-15)
    # The errors went over the activations and the output, which the backward pass consumed.
    for e_ws, e in zip(ws.E, (E1, E2, E3), strict=True):
        np.testing.assert_allclose(e_ws, e, rtol=1e-10, atol=1e-15)
    assert ws.E[0].base is ws.A_bias[1].base and ws.E[-1] is ws.output


def test_workspace_cost_reads_classes_changed_in_place():
    """The cost's index into the output is kept between passes only for read-only classes: a
    writable array changed in place is read again."""
    rng = np.random.default_rng(2)
    mlp = MLP.create((8, 6, 5), seed=4)
    ws = Workspace(mlp.layer_sizes, 20)
    ws.set_input(X_bias(rng.standard_normal((20, 8))))
    y = rng.integers(0, 5, 20)
    first = ws.forward(mlp.weights, y_index=y)
    y[:] = (y + 1) % 5
    second = ws.forward(mlp.weights, y_index=y)
    assert second != first
    assert second == cost_softmax(np.eye(5)[y], ws.output)
    frozen = y.copy()
    frozen.flags.writeable = False
    assert ws.forward(mlp.weights, y_index=frozen) == second
    assert ws.forward(mlp.weights, y_index=frozen) == second  # from the kept index
    other = (frozen + 2) % 5
    assert ws.forward(mlp.weights, y_index=other) == cost_softmax(np.eye(5)[other], ws.output)


def test_a_training_pass_allocates_no_array_the_size_of_a_layer():
    """Forward, cost, backward and update run on the workspace's own arrays: a pass over 8,000
    rows allocates nothing near the 2 MB of one hidden layer's activations (or the 256 KB of its
    ReLU mask); NumPy's own iteration buffers (about 64 KB) are all that comes and goes."""
    import tracemalloc

    from digitgui.core.optim import GradientDescent

    rng = np.random.default_rng(0)
    n = 8000
    mlp = MLP.create((64, 32, 32, 10), seed=0)
    y = rng.integers(0, 10, n)
    y.flags.writeable = False
    Y = np.eye(10)[y]
    ws = Workspace(mlp.layer_sizes, n)
    ws.set_input(X_bias(rng.standard_normal((n, 64))))
    grads = [np.empty_like(w) for w in mlp.weights]
    opt = GradientDescent(mlp.weights, 0.01)
    ws.forward(mlp.weights, y_index=y)
    ws.backward(mlp.weights, Y, grads, update=opt.update)
    tracemalloc.start()
    try:
        for _ in range(2):
            ws.forward(mlp.weights, y_index=y)
            ws.backward(mlp.weights, Y, grads, update=opt.update)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 200_000
