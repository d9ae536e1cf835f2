"""The training generator: the notebook's numbers, stopping, divergence, optimizers."""

from __future__ import annotations

import dataclasses
import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from digitgui.core.data import load_digits_split
from digitgui.core.training import PRESETS, Progress, TrainConfig, train

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
    assert "5 of 1000" in final.message
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
