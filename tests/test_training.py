"""The training generator: the notebook's numbers, stopping, divergence, optimizers."""

from __future__ import annotations

import dataclasses
import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from digitgui.core.data import load_digits_split
from digitgui.core.training import COPY_CHUNK, PRESETS, Progress, TrainConfig, train

# The notebook's printed costs (shared/seed/notebook.txt, cell 30).
NOTEBOOK_COSTS = {
    1000: 0.10841846755807866,
    2000: 0.004399206130531385,
    3000: 0.0017630665129825228,
}


def run(config: TrainConfig, **kwargs) -> list[Progress]:
    return list(train(config, **kwargs))


def test_notebook_preset_prints_the_notebooks_first_costs():
    config = dataclasses.replace(PRESETS["notebook"], iterations=3000)
    records = run(config)
    assert [r.iteration for r in records] == list(range(1, 3001))
    for it, expected in NOTEBOOK_COSTS.items():
        assert records[it - 1].cost == pytest.approx(expected, rel=1e-6)
    final = records[-1]
    assert final.done and final.outcome == "completed"
    assert all(not r.done for r in records[:-1])


def test_records_are_immutable_and_the_last_one_carries_the_model():
    records = run(dataclasses.replace(PRESETS["default"], iterations=30, augment=0))
    with pytest.raises(dataclasses.FrozenInstanceError):
        records[0].cost = 0.0
    final = records[-1]
    assert final.model is not None
    assert final.model.mlp.layer_sizes == (64, *PRESETS["default"].hidden, 10)
    assert 0 <= final.train_acc <= 1 and 0 <= final.test_acc <= 1
    meta = final.model.metadata
    assert meta["training"]["iterations"] == 30
    assert meta["accuracy"]["val"] == final.val_acc
    # Validation is measured on the first, every eval_every-th and the last iteration.
    measured = [r.iteration for r in records if r.val_acc is not None]
    assert measured[0] == 1 and measured[-1] == 30
    assert records[1].val_acc is None


def test_stop_request_ends_after_the_current_iteration_with_a_model():
    calls = []

    def should_stop():
        calls.append(1)
        return len(calls) >= 5

    records = run(
        dataclasses.replace(PRESETS["notebook"], iterations=1000), should_stop=should_stop
    )
    final = records[-1]
    assert final.iteration == 5 and final.outcome == "stopped"
    assert "5 of 1,000" in final.message
    assert final.model is not None


def test_stop_from_another_thread_via_an_event():
    stop = threading.Event()
    gen = train(dataclasses.replace(PRESETS["notebook"], iterations=5000), should_stop=stop.is_set)
    first = next(gen)
    stop.set()
    rest = list(gen)
    assert first.iteration == 1
    assert rest[-1].outcome == "stopped" and rest[-1].iteration <= 3


def test_divergence_stops_at_once_and_keeps_the_last_finite_weights():
    config = dataclasses.replace(PRESETS["notebook"], lr=50.0, iterations=500)
    records = run(config)
    final = records[-1]
    assert final.outcome == "diverged"
    assert final.iteration < 500
    assert not np.isfinite(final.cost)
    assert all(np.isfinite(r.cost) for r in records[:-1])
    assert f"iteration {final.iteration}" in final.message
    assert "smaller learning rate" in final.message
    for w in final.model.mlp.weights:
        assert np.all(np.isfinite(w))
    # The kept weights are the newest known to give a finite cost: those that entered iteration
    # k - 1, i.e. the weights after k - 2 updates. Full-batch training is deterministic, so a run
    # of k - 2 iterations must end with exactly these weights.
    k = final.iteration
    assert k >= 3
    reference = run(dataclasses.replace(config, iterations=k - 2))[-1].model.mlp.weights
    for kept, ref in zip(final.model.mlp.weights, reference, strict=True):
        np.testing.assert_array_equal(kept, ref)


def test_early_stopping_restores_the_best_validation_weights():
    config = dataclasses.replace(
        PRESETS["default"],
        augment=0,
        iterations=3000,
        lr=0.05,
        early_stopping=True,
        patience=3,
        eval_every=10,
    )
    records = run(config)
    final = records[-1]
    assert final.outcome == "early_stopped"
    best = min(r.val_cost for r in records[:-1] if r.val_cost is not None)
    assert final.val_cost == pytest.approx(best, rel=1e-12)


def test_mini_batches_are_seeded():
    base = dataclasses.replace(PRESETS["default"], augment=0, iterations=40)
    a = [r.cost for r in run(base)]
    b = [r.cost for r in run(base)]
    c = [r.cost for r in run(dataclasses.replace(base, seed=base.seed + 1))]
    assert a == b
    assert a != c


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "adam"])
def test_every_optimizer_learns(optimizer):
    lr = {"gd": 0.1, "momentum": 0.05, "adam": 0.01}[optimizer]
    config = TrainConfig(optimizer=optimizer, lr=lr, iterations=150, batch_size=128, seed=1)
    records = run(config)
    assert records[-1].cost < records[0].cost / 4
    assert records[-1].val_acc > 0.85


def test_l2_shrinks_weights():
    base = TrainConfig(optimizer="gd", lr=0.1, iterations=200, seed=2)
    plain = run(base)[-1].model.mlp.weights
    decayed = run(dataclasses.replace(base, l2=0.05))[-1].model.mlp.weights
    assert np.linalg.norm(decayed[0][1:]) < 0.9 * np.linalg.norm(plain[0][1:])
    # The bias row is not decayed: it keeps a comparable size.
    assert np.linalg.norm(decayed[0][0]) > 0.1 * np.linalg.norm(plain[0][0])


def test_extra_training_rows_are_used():
    split = load_digits_split()
    extra = (np.full((10, 64), 16.0), np.full(10, 3))
    final = run(TrainConfig(iterations=5), split=split, extra_train=extra)[-1]
    assert final.model.metadata["data"]["rows_trained_on"] == 1257 + 10
    # The scaler now includes the extra rows (all pixels 16), so its mean moved up.
    assert np.all(final.model.mean > split.scaler.mean_ - 1e-12)


def test_snapshots_are_independent_copies():
    records = run(TrainConfig(iterations=20, batch_size=64), snapshot_interval=0.0)
    snaps = [r.snapshot for r in records[:-1]]
    assert all(s is not None for s in snaps)
    assert not np.array_equal(snaps[0].mlp.weights[0], snaps[-1].mlp.weights[0])
    assert snaps[0].mlp.weights[0] is not snaps[1].mlp.weights[0]


def test_blas_threads_are_limited_while_training_and_restored_after():
    def blas_threads():
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    before = blas_threads()
    gen = train(TrainConfig(iterations=50))
    next(gen)
    assert all(n == 1 for n in blas_threads())
    gen.close()
    assert blas_threads() == before


def test_config_validation_and_replace():
    c = dataclasses.replace(PRESETS["notebook"], iterations=1000)
    assert c.iterations == 1000 and c.init == "notebook"
    with pytest.raises(ValueError, match="learning rate"):
        TrainConfig(lr=-1)
    with pytest.raises(ValueError, match="hidden layer sizes"):
        TrainConfig(hidden=(32, 0))
    with pytest.raises(ValueError, match="optimizer must be one of"):
        TrainConfig(optimizer="sgd")
    with pytest.raises(ValueError, match="iterations"):
        TrainConfig(iterations=0)
    assert TrainConfig.from_dict(c.to_dict()) == c
    assert TrainConfig.from_dict({**c.to_dict(), "from_the_future": 1}) == c


def test_default_preset_reaches_97_percent_validation_accuracy():
    final = run(PRESETS["default"])[-1]
    assert final.outcome == "completed"
    assert final.val_acc >= 0.97
    assert final.test_acc >= 0.97


# --- distorted copies streamed in during mini-batch training -------------------------------------

STREAMED = dataclasses.replace(PRESETS["default"], hidden=(16,), iterations=200)


def test_streamed_runs_start_on_the_originals_and_are_reproducible():
    assert STREAMED.augment >= 1 and STREAMED.batch_size is not None
    first = run(STREAMED)
    # The first epoch shuffles only the original rows: no copy exists before the first update.
    assert first[0].epoch == pytest.approx(STREAMED.batch_size / 1257)
    again = run(STREAMED)
    assert [r.cost for r in again] == [r.cost for r in first]
    for a, b in zip(again[-1].model.mlp.weights, first[-1].model.mlp.weights, strict=True):
        np.testing.assert_array_equal(a, b)
    other = run(dataclasses.replace(STREAMED, seed=STREAMED.seed + 1))
    assert [r.cost for r in other] != [r.cost for r in first]


def test_every_distorted_copy_is_trained_on_by_the_end():
    final = run(STREAMED)[-1]
    data = final.model.metadata["data"]
    assert data["train_rows"] == 1257
    assert data["rows_trained_on"] == 1257 * (1 + STREAMED.augment)


def test_streamed_copies_leave_the_scaler_as_the_splits():
    split = load_digits_split()
    model = run(dataclasses.replace(STREAMED, iterations=20), split=split)[-1].model
    np.testing.assert_array_equal(model.mean, split.scaler.mean_)
    np.testing.assert_array_equal(model.scale, split.scaler.scale_)


def test_streamed_copies_with_extra_rows_fit_the_scaler_on_originals_and_extra_rows():
    from sklearn.preprocessing import StandardScaler

    split = load_digits_split()
    extra = (split.X_test[:30], split.y_test[:30])
    final = run(dataclasses.replace(STREAMED, iterations=20), split=split, extra_train=extra)[-1]
    expected = StandardScaler().fit(np.concatenate([split.X_train, extra[0]]))
    np.testing.assert_allclose(final.model.mean, expected.mean_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(final.model.scale, expected.scale_, rtol=0, atol=1e-12)


def test_stop_early_in_a_streamed_run_ends_cleanly_with_a_model():
    split = load_digits_split()
    calls = []

    def should_stop():
        calls.append(1)
        return len(calls) >= 3

    records = run(PRESETS["default"], split=split, should_stop=should_stop)
    final = records[-1]
    assert final.outcome == "stopped" and final.iteration == 3
    assert final.model is not None
    proba = final.model.predict_proba(split.X_test)
    assert proba.shape == (len(split.y_test), 10) and np.all(np.isfinite(proba))
    # Stopped before the first chunk of copies was due: only the original rows were used.
    assert final.model.metadata["data"]["rows_trained_on"] == 1257


def test_full_batch_runs_make_every_copy_first():
    config = TrainConfig(batch_size=None, augment=1, iterations=3, hidden=(8,))
    final = run(config)[-1]
    assert final.model.metadata["data"]["rows_trained_on"] == 2 * 1257
    assert [r.epoch for r in run(config)] == [1.0, 2.0, 3.0]


# --- ensembles and calibration --------------------------------------------------------------------

SMALL = dataclasses.replace(
    PRESETS["default"], hidden=(16,), iterations=60, eval_every=20, augment=0
)


def test_networks_of_an_ensemble_train_side_by_side_as_runs_of_their_own_seeds():
    config = dataclasses.replace(SMALL, members=3, seed=5)
    records = run(config)
    assert [r.iteration for r in records] == list(range(1, 61))
    model = records[-1].model
    assert model.n_members == 3
    singles = [run(dataclasses.replace(SMALL, seed=5 + k))[-1].model for k in range(3)]
    for member, single in zip(model.members, singles, strict=True):
        for a, b in zip(member.weights, single.mlp.weights, strict=True):
            np.testing.assert_array_equal(a, b)
    # The cost of an iteration is the mean of the networks' costs; accuracies are the ensemble's.
    assert records[0].cost == pytest.approx(
        np.mean(
            [run(dataclasses.replace(SMALL, seed=5 + k, iterations=1))[0].cost for k in range(3)]
        )
    )
    split = load_digits_split(42)
    expected = np.mean(model.predict(split.X_test) == split.y_test)
    assert records[-1].test_acc == pytest.approx(expected)
    assert len(model.metadata["members_accuracy"]) == 3
    assert model.metadata["training"]["members"] == 3


def test_an_ensemble_with_distorted_copies_makes_each_copy_once_and_shares_it():
    config = dataclasses.replace(SMALL, members=2, augment=1, iterations=40)
    final = run(config)[-1]
    assert final.model.n_members == 2 and final.outcome == "completed"


def test_stopping_an_ensemble_ends_every_network_at_the_same_iteration():
    stop = threading.Event()
    config = dataclasses.replace(SMALL, members=3, iterations=10_000)
    records = []
    for r in train(config, should_stop=stop.is_set):
        records.append(r)
        if r.iteration == 25:
            stop.set()
    final = records[-1]
    assert final.outcome == "stopped" and final.model.n_members == 3
    assert final.iteration == 26


def test_a_diverging_network_ends_the_ensemble_with_its_message():
    config = dataclasses.replace(SMALL, members=2, lr=1e6, optimizer="gd", iterations=300)
    final = run(config)[-1]
    assert final.outcome == "diverged"
    assert "smaller learning rate" in final.message
    assert all(np.isfinite(w).all() for m in final.model.members for w in m.weights)


def test_ensemble_snapshots_hold_every_network():
    config = dataclasses.replace(SMALL, members=2, iterations=30)
    snaps = [r.snapshot for r in train(config, snapshot_interval=0.0) if r.snapshot is not None]
    assert snaps and all(s.n_members == 2 for s in snaps)


def test_calibration_fits_a_temperature_of_at_least_one_and_a_not_sure_threshold():
    config = dataclasses.replace(SMALL, members=2, calibrate=True, iterations=200)
    model = run(config)[-1].model
    cal = model.metadata["calibration"]
    assert model.temperature >= 1.0 and model.temperature == cal["temperature"]
    assert cal["temperature_fitted"] > 0
    assert 0 < model.confidence_threshold <= 1
    # On the calibration rows (here the load_digits validation rows): two thirds of the misread
    # ones below it, unless that would flag more than 4% of the correctly read ones.
    split = load_digits_split(42)
    conf = model.predict_proba(split.X_val)
    right = conf.argmax(axis=1) == split.y_val
    conf = conf.max(axis=1)
    on_correct = np.mean(conf[right] < model.confidence_threshold)
    on_misread = np.mean(conf[~right] < model.confidence_threshold)
    assert on_correct <= 0.04 + 1e-9
    assert on_misread >= 2 / 3 - 1e-9 or on_correct >= 0.03
    assert cal["not_sure_on_correct"] == pytest.approx(on_correct)
    assert cal["not_sure_on_misread"] == pytest.approx(on_misread)


def test_handwriting_rows_hold_out_every_drawing_of_the_held_out_trajectories(monkeypatch):
    from digitgui.core import handwriting, training

    n_traj = 200
    rng = np.random.default_rng(0)

    class FakeSet:
        row = np.tile(np.arange(n_traj), 3)
        copy = np.repeat(np.arange(3), n_traj)
        X = rng.integers(0, 17, (3 * n_traj, 64)).astype(np.float64)
        y = np.tile(rng.integers(0, 10, n_traj), 3)

    asked = {}

    def fake(variants, **_):
        asked["variants"] = variants
        return FakeSet

    monkeypatch.setattr(handwriting, "training_drawings", fake)
    (X, _), (Xh, _) = training.handwriting_rows(3)
    assert asked["variants"] == 2
    held = training.handwriting_holdout(n_traj)
    assert held.sum() == int(training.HANDWRITING_HOLDOUT * n_traj)
    assert len(Xh) == 3 * held.sum() and len(X) == 3 * (~held).sum()
    held_rows = {tuple(r) for r in FakeSet.X[held[FakeSet.row]]}
    assert not any(tuple(r) in held_rows for r in X)


def test_handwriting_and_members_are_validated():
    with pytest.raises(ValueError, match="handwriting"):
        dataclasses.replace(SMALL, handwriting=-1)
    with pytest.raises(ValueError, match="members"):
        dataclasses.replace(SMALL, members=0)
    assert PRESETS["handwriting"].members == 5 and PRESETS["handwriting"].calibrate
    assert PRESETS["handwriting"].lr_schedule == "cosine"
    with pytest.raises(ValueError, match="lr_schedule"):
        dataclasses.replace(SMALL, lr_schedule="step")


def test_a_cosine_schedule_lowers_the_learning_rate_to_nearly_zero_by_the_end(monkeypatch):
    from digitgui.core import optim

    seen = []
    real_step = optim.Adam.step

    def step(self, grads):
        seen.append(self.lr)
        return real_step(self, grads)

    monkeypatch.setattr(optim.Adam, "step", step)
    run(dataclasses.replace(SMALL, lr_schedule="cosine", iterations=50, lr=0.01))
    assert seen[0] == pytest.approx(0.01)
    assert seen[25] == pytest.approx(0.005, rel=0.1)
    assert seen[-1] < 0.0002
    assert all(a >= b for a, b in zip(seen, seen[1:], strict=False))  # noqa: RUF007


# --- the pieces of the loop, alone ------------------------------------------------------------


def test_the_batch_sampler_shows_every_ready_row_once_per_epoch():
    from digitgui.core.training import prepare_data
    from digitgui.core.training_loop import BatchSampler

    config = dataclasses.replace(PRESETS["default"], batch_size=100, augment=0)
    data = prepare_data(config, load_digits_split(42))
    sampler = BatchSampler(config, data)
    n = len(data.y_train)
    seen, it = [], 0
    while len(seen) < n:
        it += 1
        batch = sampler.next(it, n)
        seen.extend(batch.y.tolist())
        assert batch.Y.shape == (len(batch.y), 10)
        np.testing.assert_array_equal(np.argmax(batch.Y, axis=1), batch.y)
    assert sorted(seen) == sorted(data.y_train.tolist())
    assert batch.epoch == pytest.approx(1.0)
    assert sampler.rows_trained_on == n


def test_the_copy_stream_makes_each_chunk_after_its_due_update():
    from digitgui.core.training import prepare_data
    from digitgui.core.training_loop import CopyStream, copy_schedule

    config = dataclasses.replace(PRESETS["default"], augment=1, copy_spacing=5)
    data = prepare_data(config, load_digits_split(42), stream=True)
    stream = CopyStream(config, data)
    due = copy_schedule(config, data.copies.n_chunks)
    assert due[:3] == [5, 10, 15]
    assert stream.before_update(5) == data.n_ready  # chunk 0 is due after update 5
    assert stream.before_update(6) == data.n_ready + COPY_CHUNK
    assert stream.before_update(10_000) == len(data.y_train)


def test_the_divergence_guard_puts_back_the_last_finite_weights():
    from digitgui.core.training_loop import DivergenceGuard

    W = [np.ones((3, 2))]
    guard = DivergenceGuard(dataclasses.replace(SMALL, lr=0.5), W)
    assert guard.check(1, 0.3) is None
    W[0][:] = np.nan
    message = guard.check(2, float("nan"))
    assert "iteration 2" in message and "smaller learning rate than 0.5" in message
    np.testing.assert_array_equal(W[0], np.ones((3, 2)))


def test_early_stopping_keeps_the_best_weights_and_counts_patience():
    from digitgui.core.training_loop import EarlyStopping

    early = EarlyStopping(dataclasses.replace(SMALL, early_stopping=True, patience=2))
    W = [np.zeros(2)]
    early.observe(1.0, W)
    W[0][:] = 5
    early.observe(2.0, W)
    assert not early.stop
    early.observe(float("nan"), W)  # a NaN is no measurement
    early.observe(3.0, W)
    assert early.stop
    early.restore(W)
    np.testing.assert_array_equal(W[0], [0, 0])
    off = EarlyStopping(SMALL)
    off.observe(1.0, W)
    off.observe(2.0, W)
    assert not off.stop


def test_progress_records_are_built_with_keywords():
    with pytest.raises(TypeError):
        Progress(1, 10, 0.5, 0.0, 1.0)  # type: ignore[misc]


def test_the_copy_schedule_is_part_of_the_config_and_validated():
    assert PRESETS["default"].to_dict()["copy_spacing"] == 8
    with pytest.raises(ValueError, match="copy_spacing"):
        dataclasses.replace(SMALL, copy_spacing=-1)
    with pytest.raises(ValueError, match="copy_span"):
        dataclasses.replace(SMALL, copy_span=0)


def test_a_run_that_blows_up_without_overflowing_is_reported_as_diverged():
    # Adam at lr 1e9 saturates the softmax on wrong classes: finite costs around 16, chance
    # accuracy, never NaN. It used to end "completed".
    config = dataclasses.replace(PRESETS["default"], lr=1e9, iterations=600, augment=0)
    final = run(config)[-1]
    assert final.outcome == "diverged"
    assert final.iteration == 100  # judged once a tenth of the run (at least 100 updates) is done
    assert "saturated" in final.message and "smaller learning rate than 1e+09" in final.message


def test_a_slow_but_sane_run_is_not_called_diverged():
    # A tiny learning rate stays near chance for long, but its outputs are not saturated.
    config = dataclasses.replace(PRESETS["default"], lr=1e-7, iterations=300, augment=0)
    assert run(config)[-1].outcome == "completed"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"hidden": "32"}, "whole layer sizes"),
        ({"hidden": (32.5,)}, "whole layer sizes"),
        ({"seed": -5}, "seed"),
        ({"batch_size": 1.5}, "batch size"),
        ({"batch_size": "64"}, "batch size"),
        ({"augment": 0.5}, "augment"),
        ({"augment": 100_000}, "from 0 to 50"),
        ({"lr": True}, "learning rate"),
        ({"hidden": (4096, 4096, 4096, 4096)}, "too large"),
    ],
)
def test_every_setting_is_validated_with_a_sentence_naming_it(change, words):
    with pytest.raises(ValueError, match=words):
        dataclasses.replace(SMALL, **change)


def test_every_record_carries_the_cost_of_its_own_forward_pass():
    """Record i's cost is the forward pass of iteration i, before its update: the notebook's
    iteration, written with the notebook's functions, gives the same number at every one."""
    from digitgui.core.data import one_hot
    from digitgui.core.mlp import (
        MLP,
        X_bias,
        cost_softmax,
        err_relu,
        err_softmax,
        get_z,
        grad,
        relu,
        softmax,
        update_weight,
    )

    config = dataclasses.replace(PRESETS["notebook"], iterations=40)
    records = run(config)
    assert [r.iteration for r in records] == list(range(1, 41))
    split = load_digits_split(42)
    X = X_bias(split.scaler.transform(split.X_train))
    Y = one_hot(split.y_train, 10, np.float64)
    W1, W2, W3 = MLP.create(config.layer_sizes, init="notebook", seed=config.seed).weights
    lr = config.lr
    for record in records:
        A1 = relu(get_z(X, W1))
        A2 = relu(get_z(X_bias(A1), W2))
        A3 = softmax(get_z(X_bias(A2), W3))
        assert record.cost == pytest.approx(cost_softmax(Y, A3), rel=1e-12)
        E3 = err_softmax(A3, Y)
        W3 = update_weight(W3, lr, grad(E3, X_bias(A2)))
        E2 = err_relu(A2, E3, W3)
        W2 = update_weight(W2, lr, grad(E2, X_bias(A1)))
        E1 = err_relu(A1, E2, W2)
        W1 = update_weight(W1, lr, grad(E1, X))
    for kept, ours in zip(records[-1].model.mlp.weights, (W1, W2, W3), strict=True):
        np.testing.assert_allclose(kept, ours, rtol=1e-12, atol=1e-12)


def test_full_batch_updates_share_one_batch_with_read_only_classes():
    from digitgui.core.training import prepare_data
    from digitgui.core.training_loop import BatchSampler

    config = dataclasses.replace(PRESETS["notebook"], iterations=10)
    data = prepare_data(config, load_digits_split(42))
    sampler = BatchSampler(config, data)
    first, second = sampler.next(1, data.n_ready), sampler.next(2, data.n_ready)
    assert first.ws is second.ws and first.y is second.y
    assert (first.epoch, second.epoch) == (1.0, 2.0)
    np.testing.assert_array_equal(first.y, data.y_train)
    assert not first.y.flags.writeable  # the workspace may keep the cost's index for it


@pytest.mark.parametrize("numpy_major", ["2", "1"])
def test_a_run_silences_numpy_overflow_only_inside_its_own_passes(monkeypatch, numpy_major):
    """A diverging run reports in words, without NumPy warnings (which this suite turns into
    errors), and the caller's NumPy error state is the same between records and after."""
    if numpy_major == "1":  # the np.errstate-per-pass path taken under NumPy 1.x
        monkeypatch.setattr(np, "__version__", "1.26.4")
    before = np.geterr()
    gen = train(dataclasses.replace(PRESETS["notebook"], lr=50.0, iterations=500))
    next(gen)
    assert np.geterr() == before
    final = list(gen)[-1]
    assert final.outcome == "diverged"
    assert np.geterr() == before


# --- training accuracy beside validation (issue 16 item 6) ---------------------------------------


def test_training_accuracy_counts_the_batches_since_the_previous_check():
    from digitgui.core.training_loop import TrainingAccuracy

    out = np.eye(10)[[1, 2, 3, 4]]  # reads 1, 2, 3, 4
    every = TrainingAccuracy(every_batch=True)
    assert every.observe(out, np.array([1, 2, 0, 0]), check=False) is None
    assert every.observe(out, np.array([1, 2, 3, 4]), check=True) == 6 / 8
    assert every.observe(out, np.array([0, 0, 0, 4]), check=True) == 1 / 4  # counted afresh
    full = TrainingAccuracy(every_batch=False)  # a full-batch run: its pass at the check only
    assert full.observe(out, np.array([0, 0, 0, 0]), check=False) is None
    assert full.observe(out, np.array([1, 2, 3, 0]), check=True) == 3 / 4


def test_checks_carry_training_accuracy_and_a_full_batch_run_measures_every_row():
    from digitgui.core.mlp import MLP

    config = dataclasses.replace(PRESETS["notebook"], iterations=30, eval_every=10)
    records = list(train(config))
    checks = [r for r in records[:-1] if r.val_acc is not None]
    assert [r.iteration for r in checks] == [1, 10, 20, 30][: len(checks)]
    assert all(
        (r.train_acc is None) == (r.val_acc is None) for r in records[:-1]
    )  # measured exactly at the checks
    # Iteration 1's pass is the initial network's, over every training row.
    split = load_digits_split(42)
    W = MLP.create(config.layer_sizes, config.activation, config.init, config.seed)
    X = (split.X_train - split.mean) / split.scale
    expected = np.mean(np.argmax(W.predict_proba(X), axis=1) == split.y_train)
    assert checks[0].train_acc == pytest.approx(expected, abs=1e-12)
    final = records[-1]
    assert final.train_acc == final.model.metadata["accuracy"]["train"]


def test_a_history_kept_before_training_accuracy_reads_with_it_missing():
    from digitgui.core.run_history import HISTORY_COLUMNS, RunHistory

    old = np.array([[1, 0.0, 0.1, 2.3, 2.2, 0.1], [2, 0.1, 0.2, 2.0, np.nan, np.nan]])
    h = RunHistory.from_array(old)
    assert len(h) == 2 and h.array.shape[1] == len(HISTORY_COLUMNS)
    assert np.isnan(h.column("train_acc")).all()
    np.testing.assert_array_equal(h.column("val_acc")[:1], [0.1])
