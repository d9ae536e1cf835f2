"""digitgui.core.insight: test-set report, attribution, nearest digits, hidden units, guess
history and the step-through of one update, checked against independent computations."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import pytest
from notebook_reference import W1_NEW, W2_NEW

from digitgui.core import insight
from digitgui.core.data import load_digits_split
from digitgui.core.mlp import MLP, X_bias, get_z
from digitgui.core.model_io import DigitClassifier, load_default
from digitgui.core.training import PRESETS, train


@pytest.fixture(scope="module")
def split():
    return load_digits_split(42)


@pytest.fixture(scope="module")
def shipped():
    return load_default()


def _classifier(split, seed=0, activation="relu", clip=None, hidden=(32, 32)) -> DigitClassifier:
    mlp = MLP.create((64, *hidden, 10), activation=activation, init="he", seed=seed)
    return DigitClassifier(mlp, split.scaler.mean_, split.scaler.scale_, clip)


@pytest.fixture(scope="module")
def short_run():
    """A short training run with a snapshot on every record."""
    config = dataclasses.replace(PRESETS["default"], iterations=25, eval_every=5)
    return list(train(config, snapshot_interval=0.0))


# --- step through ---------------------------------------------------------------------------------


def test_worked_example_reproduces_the_notebooks_printed_weights():
    step = insight.notebook_worked_example()
    np.testing.assert_allclose(step["W1_new"], W1_NEW, atol=5e-9, rtol=0)
    np.testing.assert_allclose(step["W2_new"], W2_NEW, atol=5e-9, rtol=0)


def test_worked_example_names_follow_the_notebook_in_order():
    step = insight.notebook_worked_example()
    computed = [m.name for m in step.matrices if m.stage != "given"]
    assert computed == [
        "X_with_bias",
        "Z1",
        "A1",
        "A1_bias",
        "Z2",
        "e2",
        "sum_e2",
        "A2",
        "cost_rows2",
        "E2",
        "G2",
        "W2_new",
        "E1",
        "G1",
        "W1_new",
    ]
    assert step.matrix("E1").formula == "E1 = err_relu(A1, E2, W2)"
    # OneHotEncoder's columns are the sorted labels 1, 2, 3: y = [3, 1, 2, 3].
    np.testing.assert_array_equal(step["y_onehot"].argmax(axis=1), [2, 0, 1, 2])
    assert step.matrix("y_onehot").columns == ("1", "2", "3")
    np.testing.assert_array_equal(step["y"].ravel(), [3, 1, 2, 3])
    np.testing.assert_allclose(step["A2"].sum(axis=1), 1.0)
    assert step.cost_after < step.cost


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_model_step_matches_the_mlps_own_gradients_and_update(split, activation):
    model = _classifier(split, seed=3, activation=activation, clip=5.0)
    X, Y, labels = insight.training_batch(model, np.arange(10, 26), split)
    step = insight.model_update_step(model, X, Y, lr=0.05)
    assert [f"W{l}_new" for l in (3, 2, 1)] == [n for n in step.names if n.endswith("_new")]

    cost, grads = model.mlp.loss_and_grads(X, Y)
    assert step.cost == pytest.approx(cost, rel=1e-12)
    for l, g in enumerate(grads, start=1):
        np.testing.assert_allclose(step[f"G{l}"], g, rtol=1e-10, atol=1e-14)
    stepped = model.mlp.copy()
    stepped.step(X, Y, 0.05)
    for new, expected in zip(step.new_weights, stepped.weights, strict=True):
        np.testing.assert_allclose(new, expected, rtol=1e-12, atol=1e-15)
    # The model shown is not changed by looking at one of its steps.
    for w, original in zip(
        model.mlp.weights, _classifier(split, 3, activation).mlp.weights, strict=True
    ):
        np.testing.assert_array_equal(w, original)
    np.testing.assert_array_equal(labels, split.y_train[10:26])


def test_training_batch_standardises_like_the_model_and_checks_rows(split, shipped):
    X, Y, labels = insight.training_batch(shipped, [0, 5, 7], split)
    np.testing.assert_allclose(X, shipped.standardize(split.X_train[[0, 5, 7]]))
    np.testing.assert_array_equal(Y.argmax(axis=1), labels)
    with pytest.raises(ValueError, match="training rows"):
        insight.training_batch(shipped, [len(split.y_train)], split)
    with pytest.raises(ValueError, match="labels"):
        insight.digit_batch(shipped, split.X_train[:2], [1])


# --- test set -------------------------------------------------------------------------------------


def test_test_set_report_agrees_with_training_metadata_and_cells(split, shipped):
    report = insight.evaluate_test_set(shipped, split)
    assert report.n == len(split.y_test) == 270
    # The training run measured this accuracy through another path (training_loop.accuracy).
    assert report.accuracy == pytest.approx(shipped.metadata["accuracy"]["test"], abs=1e-12)
    total = 0
    for t in range(10):
        for p in range(10):
            rows = report.rows_in_cell(t, p)
            assert len(rows) == report.confusion[t, p]
            assert np.all(split.y_test[rows] == t)
            assert np.all(shipped.predict(split.X_test[rows]) == p) if len(rows) else True
            total += len(rows)
    assert total == 270
    np.testing.assert_array_equal(report.digits[5], split.X_test[5].reshape(8, 8))
    diag = np.diag(report.confusion)
    np.testing.assert_allclose(report.recall, diag / report.confusion.sum(axis=1))


# --- attribution ----------------------------------------------------------------------------------


def _log_probs(model, rows):
    return np.log(model.predict_proba(rows))


def _scores(model, rows):
    activations = model.mlp.forward(model.standardize(rows))
    return get_z(X_bias(activations[-2]), model.mlp.weights[-1])


def _central_difference(f, x, eps=1e-5):
    g = np.zeros(64)
    for i in range(64):
        up, down = x.copy(), x.copy()
        up[0, i] += eps
        down[0, i] -= eps
        g[i] = (f(up) - f(down)) / (2 * eps)
    return g


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_input_gradient_matches_central_differences(split, activation):
    model = _classifier(split, seed=1, activation=activation)
    x = split.X_test[3:4].astype(np.float64)
    target, versus = 4, 9
    cases = {
        ("log_probability", None): lambda r: _log_probs(model, r)[0, target],
        ("score", None): lambda r: _scores(model, r)[0, target],
        ("score", versus): lambda r: _scores(model, r)[0, target] - _scores(model, r)[0, versus],
        ("log_probability", versus): lambda r: (
            _log_probs(model, r)[0, target] - _log_probs(model, r)[0, versus]
        ),
    }
    for (objective, vs), f in cases.items():
        g = insight.input_gradient(model, x, target, vs, objective)[0]
        numeric = _central_difference(f, x)
        np.testing.assert_allclose(g, numeric, rtol=1e-5, atol=1e-8, err_msg=objective)
        assert np.abs(g).max() > 1e-4  # a real signal, not an all-zero map


def test_clipped_pixels_have_zero_gradient(split):
    model = _classifier(split, seed=2, clip=2.0)
    x = split.X_test[0:1].astype(np.float64).copy()
    z = (x - model.mean) / model.scale
    clipped = np.abs(z[0]) >= 2.0
    assert clipped.any() and not clipped.all()
    g = insight.input_gradient(model, x, 3, objective="log_probability")[0]
    numeric = _central_difference(lambda r: _log_probs(model, r)[0, 3], x)
    np.testing.assert_array_equal(g[clipped], 0.0)
    np.testing.assert_allclose(g, numeric, rtol=1e-5, atol=1e-8)
    assert insight.explain(model, x.reshape(8, 8)).clipped.reshape(-1).tolist() == clipped.tolist()


def test_explain_gives_guess_runner_up_and_gradient_times_ink(split, shipped):
    digit = split.X_test[11].reshape(8, 8)
    a = insight.explain(shipped, digit)
    probs = shipped.predict_proba(digit)
    order = np.argsort(probs)[::-1]
    assert (a.predicted, a.runner_up) == (order[0], order[1])
    assert a.target == a.predicted and a.versus is None
    assert a.runner_up_probability == pytest.approx(probs[order[1]])
    np.testing.assert_allclose(a.contribution, digit * a.gradient)
    assert np.all(a.contribution[digit == 0] == 0)
    g = insight.input_gradient(shipped, digit, a.predicted)[0].reshape(8, 8)
    np.testing.assert_allclose(a.gradient, g)
    with pytest.raises(ValueError):
        insight.explain(shipped, digit, target=3, versus=3)


def _ensemble(split, clip=None) -> DigitClassifier:
    members = [
        MLP.create((64, 16, 12, 10), activation="relu", init="he", seed=s) for s in (3, 4, 5)
    ]
    return DigitClassifier(members, split.scaler.mean_, split.scaler.scale_, clip, temperature=1.5)


def test_an_ensembles_gradient_is_its_networks_mean_or_the_one_picked(split):
    model = _ensemble(split, clip=3.0)
    x = split.X_test[7:8].astype(np.float64)
    each = [insight.input_gradient(model.member(k), x, 2, 5)[0] for k in range(3)]
    assert not np.allclose(each[0], each[1])  # three different networks
    np.testing.assert_allclose(insight.input_gradient(model, x, 2, 5)[0], np.mean(each, axis=0))
    for k in range(3):
        np.testing.assert_allclose(insight.input_gradient(model, x, 2, 5, member=k)[0], each[k])

    # The mean is the gradient of the networks' mean score (central differences).
    def mean_score(r):
        return np.mean([_scores(model.member(k), r)[0, [2, 5]] @ [1, -1] for k in range(3)])

    numeric = _central_difference(mean_score, x)
    np.testing.assert_allclose(np.mean(each, axis=0), numeric, rtol=1e-5, atol=1e-8)
    with pytest.raises(IndexError):
        insight.input_gradient(model, x, 2, member=3)


def test_explain_an_ensemble_keeps_the_whole_models_probabilities(split):
    model = _ensemble(split)
    digit = split.X_test[21].reshape(8, 8)
    whole = insight.explain(model, digit)
    np.testing.assert_allclose(whole.probabilities, model.predict_proba(digit))
    assert whole.member is None and whole.target == model.predict(digit)
    one = insight.explain(model, digit, member=1)
    assert one.member == 1 and one.target == whole.target
    np.testing.assert_allclose(one.probabilities, whole.probabilities)
    np.testing.assert_allclose(
        one.gradient, insight.input_gradient(model, digit, whole.target, member=1)[0].reshape(8, 8)
    )


def test_contributions_add_up_to_the_score_change_of_a_linear_relu_piece(split):
    # Without clipping and with all biases zero, a ReLU network is positively homogeneous in its
    # standardised input, so gradient x standardised input sums exactly to the score; checking it
    # ties the backward pass to the forward pass with no finite differences.
    model = _classifier(split, seed=5)
    for w in model.mlp.weights:
        w[0] = 0.0
    x = split.X_test[20:21]
    g_std = insight.input_gradient(model, x, 6)[0] * model.scale
    z = model.standardize(x)[0]
    assert float(g_std @ z) == pytest.approx(_scores(model, x)[0, 6], rel=1e-10)


# --- nearest examples -----------------------------------------------------------------------------


def test_nearest_examples_match_brute_force(split, shipped):
    index = insight.NearestExamples(shipped, split)
    Z = shipped.standardize(split.X_train)
    for row in (0, 50, 200):
        digit = split.X_test[row].reshape(8, 8)
        nb = index.query(digit, k=7)
        dist = np.linalg.norm(Z - shipped.standardize(digit)[0], axis=1)
        expected = np.argsort(dist, kind="stable")[:7]
        np.testing.assert_array_equal(nb.indices, expected)
        np.testing.assert_allclose(nb.distances, dist[expected], rtol=1e-12)
        np.testing.assert_array_equal(nb.labels, split.y_train[expected])
        np.testing.assert_array_equal(nb.digits, split.X_train[expected].reshape(-1, 8, 8))


def test_a_training_digit_is_its_own_nearest_example(split, shipped):
    index = insight.NearestExamples(shipped, split)
    nb = index.query(split.X_train[123].reshape(8, 8), k=3)
    assert nb.distances[0] == pytest.approx(0.0, abs=1e-9)
    np.testing.assert_array_equal(nb.digits[0], split.X_train[123].reshape(8, 8))
    assert len(index.query(split.X_train[0], k=10_000).indices) == len(split.y_train)


# --- hidden units ---------------------------------------------------------------------------------


def test_weight_tiles_lay_out_first_layer_columns_as_pictures(shipped):
    tiles = insight.weight_tiles(shipped)
    W0 = shipped.mlp.weights[0]
    assert tiles.shape == (W0.shape[1], 8, 8)
    for j, r, c in [(0, 0, 0), (5, 2, 7), (31, 7, 3)]:
        assert tiles[j, r, c] == W0[1 + 8 * r + c, j]


def test_hidden_activations_are_the_forward_pass(split, shipped):
    digit = split.X_test[7]
    acts = insight.hidden_activations(shipped, digit)
    full = shipped.mlp.forward(shipped.standardize(digit))
    assert [a.shape for a in acts] == [(h,) for h in shipped.mlp.layer_sizes[1:-1]]
    for a, expected in zip(acts, full[1:-1], strict=True):
        np.testing.assert_array_equal(a, expected[0])


def test_dead_units_are_found_and_counted(split):
    model = _classifier(split, seed=4, clip=5.0)
    # A bias of -1000 outweighs anything 64 clipped inputs can add: unit 3 can never fire.
    model.mlp.weights[0][0, 3] = -1000.0
    activity = insight.unit_activity(model, split.X_train)
    assert activity.dead[0][3]
    assert activity.active_fraction[0][3] == 0
    np.testing.assert_array_equal(activity.dead[0], activity.active_fraction[0] == 0)
    A1 = model.mlp.forward(model.standardize(split.X_train))[1]
    np.testing.assert_allclose(activity.active_fraction[0], (A1 > 0).mean(axis=0))
    assert activity.n_dead[0] == int((~(A1 > 0).any(axis=0)).sum())
    assert activity.n_digits == len(split.X_train)
    sig = insight.unit_activity(_classifier(split, seed=4, activation="sigmoid"), split.X_train)
    assert sig.n_dead == [0, 0]


# --- history of a guess ---------------------------------------------------------------------------


def test_guess_history_follows_the_snapshots(split, short_run):
    digit = split.X_test[2].reshape(8, 8)
    its, probs = insight.guess_history(short_run, digit)
    assert len(its) == len(short_run)  # every record carries a snapshot (or the final model)
    for i, record in enumerate(short_run):
        model = record.snapshot if record.snapshot is not None else record.model
        np.testing.assert_allclose(probs[i], model.predict_proba(digit))
    np.testing.assert_allclose(probs[-1], short_run[-1].model.predict_proba(digit))

    history = insight.GuessHistory()
    history.add_records(short_run[:10])
    assert history.probabilities is None
    history.set_digit(digit)
    history.add_records(short_run[10:])
    np.testing.assert_array_equal(history.iterations, its)
    np.testing.assert_allclose(history.probabilities, probs)
    other = split.X_test[3].reshape(8, 8)
    history.set_digit(other)
    np.testing.assert_allclose(history.probabilities, insight.guess_history(short_run, other)[1])


def test_snapshot_probabilities_batched_equal_one_by_one(split, short_run):
    digit = split.X_test[4]
    models = [r.snapshot for r in short_run[:-1]]
    expected = np.array([m.predict_proba(digit) for m in models])
    np.testing.assert_allclose(insight.snapshot_probabilities(models, digit), expected, rtol=1e-12)
    # Models of another shape cannot share one batched product.
    mixed = [models[0], _classifier(split, seed=1, hidden=(16,)), models[1]]
    expected = np.array([m.predict_proba(digit) for m in mixed])
    np.testing.assert_allclose(insight.snapshot_probabilities(mixed, digit), expected, rtol=1e-12)
    history = insight.GuessHistory()
    for i, m in enumerate(mixed, start=1):
        history.add(i, m)
    history.set_digit(digit)
    np.testing.assert_allclose(history.probabilities, expected, rtol=1e-12)
    assert insight.snapshot_probabilities([], digit).shape == (0, 10)


def test_guess_history_thins_long_runs_and_restarts_with_a_new_run(split, shipped):
    history = insight.GuessHistory(max_snapshots=8)
    history.set_digit(split.X_test[0])
    for it in range(1, 101):
        history.add(it, shipped)
    assert 4 <= len(history) <= 8
    its = history.iterations
    assert its[0] == 1 and its[-1] == 100 and np.all(np.diff(its) > 0)
    assert history.probabilities.shape == (len(history), 10)
    history.add(1, shipped)  # iteration 1 again: a new run
    np.testing.assert_array_equal(history.iterations, [1])


# --- layering -------------------------------------------------------------------------------------


def test_insight_core_does_not_import_qt():
    code = (
        "import sys, digitgui.core.insight; "
        "sys.exit(1 if any(m.startswith(('PySide6', 'pyqtgraph')) for m in sys.modules) else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
