"""Kept runs (digitgui.core.runs) and lessons (digitgui.core.lessons): records, the store's
crash-safety, restore, the bound, and the lessons' sizes."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from digitgui.core.lessons import LESSONS, handwriting_sample, lesson, summarize
from digitgui.core.model_io import ModelFileError
from digitgui.core.runs import (
    HISTORY_COLUMNS,
    Run,
    RunHistory,
    RunStore,
    describe_difference,
    new_run,
    write_curves_csv,
)
from digitgui.core.training import PRESETS, train


def _trained(config, name=None) -> Run:
    """A run record filled from a real (tiny) training run."""
    run = new_run(config, name)
    batch = []
    for record in train(config):
        if record.done:
            run.record_progress(batch, paused_seconds=0.0)
            run.finish(record)
        else:
            batch.append(record)
    return run


@pytest.fixture(scope="module")
def tiny_run() -> Run:
    return _trained(dataclasses.replace(PRESETS["notebook"], iterations=30, eval_every=10))


def test_describe_difference_names_what_changed() -> None:
    nb = PRESETS["notebook"]
    assert describe_difference(nb) == ""
    changed = dataclasses.replace(nb, lr=0.1, init="he")
    assert describe_difference(changed) == "init he, lr 0.1"
    full = dataclasses.replace(PRESETS["default"], batch_size=None, hidden=(64, 32))
    assert describe_difference(full) == "hidden 64-32, batch full"
    # A name that is no preset is compared with the default preset.
    assert "lr 0.5" in describe_difference(dataclasses.replace(nb, name="mine", lr=0.5))


def test_history_grows_and_keeps_nan_for_unmeasured() -> None:
    h = RunHistory(capacity=16)
    for i in range(1, 101):
        h.append(i, i / 10, i / 5, 1.0 / i, val_cost=0.5 if i % 10 == 0 else None)
    assert len(h) == 100
    assert h.column("iteration")[-1] == 100
    assert np.isnan(h.column("val_acc")).all()
    assert len(h.measured()) == 0
    assert h.last("val_cost") == 0.5
    assert h.last("val_acc") is None
    with pytest.raises(ValueError, match="columns"):
        RunHistory.from_array(np.zeros((3, 2)))


def test_a_run_records_its_training(tiny_run: Run) -> None:
    run = tiny_run
    assert run.outcome == "completed"
    assert run.iterations_done == 30
    assert len(run.history) == 30  # the final record carries the last update's cost
    assert run.history.column("iteration")[0] == 1
    # The notebook's cost at iteration 1, before its update (as `train` yields it).
    first = next(iter(train(dataclasses.replace(PRESETS["notebook"], iterations=2))))
    assert run.history.column("cost")[0] == first.cost
    assert run.seconds > 0 and run.rate is not None and run.rate > 0
    assert 0 < run.val_acc <= 1 and run.model is not None
    assert len(run.history.measured()) >= 3  # iterations 1, 10, 20


def test_store_round_trip_restores_runs_curves_and_models(tmp_path, tiny_run) -> None:
    store = RunStore(tmp_path / "runs")
    assert store.runs == [] and store.problems == []
    store.add(tiny_run)
    store.rename(tiny_run, "  my   first run ")
    again = RunStore(tmp_path / "runs")
    assert again.problems == []
    [run] = again.runs
    assert run.name == "my first run"
    assert run.config == tiny_run.config
    assert run.val_acc == tiny_run.val_acc and run.outcome == "completed"
    np.testing.assert_array_equal(run.history.array, tiny_run.history.array)
    model = again.model(run)
    digits = np.arange(64, dtype=float).reshape(1, 64) % 17
    np.testing.assert_allclose(model.predict_proba(digits), tiny_run.model.predict_proba(digits))
    with pytest.raises(ValueError, match="empty"):
        again.rename(run, "   ")


def test_store_bound_removes_the_oldest_with_their_files(tmp_path, tiny_run) -> None:
    store = RunStore(tmp_path, max_runs=2)
    runs = []
    for i in range(3):
        r = new_run(tiny_run.config, f"run {i}")
        r.history, r.model, r.outcome = tiny_run.history, tiny_run.model, "completed"
        runs.append(r)
        removed = store.add(r)
    assert [r.name for r in removed] == ["run 0"]
    assert [r.name for r in store.runs] == ["run 1", "run 2"]
    assert not (tmp_path / f"{runs[0].id}.model.npz").exists()
    assert not (tmp_path / f"{runs[0].id}.history.npz").exists()
    assert [r.name for r in RunStore(tmp_path).runs] == ["run 1", "run 2"]
    # Colours are stable slots, different for each kept run.
    assert len({r.color for r in store.runs}) == 2


def test_delete_is_explicit_and_not_merged_back(tmp_path, tiny_run) -> None:
    store = RunStore(tmp_path)
    a = new_run(tiny_run.config, "a")
    b = new_run(tiny_run.config, "b")
    for r in (a, b):
        r.history, r.outcome = tiny_run.history, "stopped"
        store.add(r)
    assert store.delete([a]) == 1
    assert store.delete([a]) == 0
    assert [r.name for r in RunStore(tmp_path).runs] == ["b"]


def test_runs_added_by_another_window_are_kept_on_save(tmp_path, tiny_run) -> None:
    first, second = RunStore(tmp_path), RunStore(tmp_path)
    a, b = new_run(tiny_run.config, "a"), new_run(tiny_run.config, "b")
    for r in (a, b):
        r.history, r.outcome = tiny_run.history, "completed"
    first.add(a)
    second.add(b)  # must not drop the run the first store wrote
    assert sorted(r.name for r in RunStore(tmp_path).runs) == ["a", "b"]


def test_a_running_run_is_not_kept(tmp_path, tiny_run) -> None:
    with pytest.raises(ValueError, match="ended"):
        RunStore(tmp_path).add(new_run(tiny_run.config))


@pytest.mark.parametrize(
    "content",
    [b"{not json", b'{"format": "something else"}', b"\xff\xfe", b'{"format": "digitgui-runs"}'],
)
def test_a_damaged_index_is_kept_aside_and_reported(tmp_path, tiny_run, content) -> None:
    (tmp_path / "runs.json").write_bytes(content)
    store = RunStore(tmp_path)
    assert store.runs == []
    assert len(store.problems) == 1 and "copy of the file was kept" in store.problems[0]
    [aside] = tmp_path.glob("runs.json.damaged-*")
    assert aside.read_bytes() == content
    # Keeping a new run afterwards rewrites the index; the damaged copy stays.
    run = new_run(tiny_run.config)
    run.history, run.outcome = tiny_run.history, "completed"
    store.add(run)
    assert len(RunStore(tmp_path).runs) == 1
    assert aside.read_bytes() == content


def test_one_bad_entry_loses_nothing_else(tmp_path, tiny_run) -> None:
    store = RunStore(tmp_path)
    run = new_run(tiny_run.config, "good")
    run.history, run.outcome, run.model = tiny_run.history, "completed", tiny_run.model
    store.add(run)
    doc = json.loads((tmp_path / "runs.json").read_text())
    bad = dict(doc["runs"][0], id="bad-one")
    bad["config"] = dict(bad["config"], lr=-1)
    doc["runs"].append(bad)
    (tmp_path / "runs.json").write_text(json.dumps(doc))
    again = RunStore(tmp_path)
    assert [r.name for r in again.runs] == ["good"]
    assert len(again.problems) == 1 and "learning rate" in again.problems[0]
    assert len(list(tmp_path.glob("runs.json.damaged-*"))) == 1


def test_missing_model_and_curves_are_reported_not_fatal(tmp_path, tiny_run) -> None:
    store = RunStore(tmp_path)
    run = new_run(tiny_run.config, "lost files")
    run.history, run.outcome, run.model = tiny_run.history, "completed", tiny_run.model
    run.iterations_done = 30
    store.add(run)
    (tmp_path / f"{run.id}.model.npz").unlink()
    (tmp_path / f"{run.id}.history.npz").write_bytes(b"garbage")
    again = RunStore(tmp_path)
    [restored] = again.runs
    assert len(restored.history) == 0
    assert "cannot be read" in again.problems[0]
    with pytest.raises(ModelFileError, match="missing"):
        again.model(restored)


def test_a_diverged_run_keeps_its_curve_but_no_model(tmp_path) -> None:
    config = dataclasses.replace(PRESETS["notebook"], lr=1.0, iterations=200)
    run = _trained(config)
    assert run.outcome == "diverged" and run.model is None
    assert 0 < len(run.history) < 200
    assert not math.isfinite(run.history.column("cost")[-1]) or run.history.column("cost")[-1] > 1
    store = RunStore(tmp_path)
    store.add(run)
    with pytest.raises(ModelFileError, match="diverged"):
        RunStore(tmp_path).model(RunStore(tmp_path).runs[0])


def test_curves_csv(tmp_path, tiny_run) -> None:
    path = write_curves_csv([tiny_run], tmp_path / "curves.csv")
    lines = path.read_text().splitlines()
    assert lines[0] == "run_id,run_name," + ",".join(HISTORY_COLUMNS)
    assert len(lines) == 1 + len(tiny_run.history)
    first = lines[1].split(",")
    assert first[2] == "1" and float(first[5]) == tiny_run.history.column("cost")[0]
    assert first[6] != ""  # validation measured at iteration 1
    assert lines[2].split(",")[6] == ""  # and not at iteration 2


def test_lr_changes_are_recorded() -> None:
    @dataclasses.dataclass(frozen=True)
    class Rec:
        iteration: int
        elapsed: float
        epoch: float
        cost: float
        val_cost: float | None = None
        val_acc: float | None = None
        train_acc: float | None = None
        lr_changed: float | None = None
        done: bool = False

    run = new_run(PRESETS["notebook"])
    run.record_progress([Rec(1, 0.1, 1, 2.0), Rec(2, 0.2, 2, 1.5, lr_changed=0.05)], 0.05)
    assert run.lr_changes == [(2, 0.05)]
    # From the end of the first update, pauses excluded.
    assert run.seconds == pytest.approx(0.1)
    assert list(run.history.column("seconds")) == pytest.approx([0.0, 0.1])
    again = Run.from_json(json.loads(json.dumps(run.to_json())))
    assert again.lr_changes == [(2, 0.05)]


def test_lessons_are_small_and_differ_in_one_thing() -> None:
    assert len(LESSONS) >= 6
    keys = {item.key for item in LESSONS}
    for needed in ("update-order", "init", "optimizer", "learning-rate", "activation", "copies"):
        assert needed in keys
    for item in LESSONS:
        assert len(item.runs) >= 2
        assert item.x_axis in ("iteration", "epoch", "seconds")
        # Under a minute on this machine: full-batch updates run at ~1,200/s, mini-batch
        # ones faster; 20,000 updates leave a wide margin.
        assert item.updates <= 20_000, item.key
        assert item.look_for and item.meaning
    sweep = lesson("learning-rate")
    rates = [c.lr for _, c in sweep.runs]
    assert min(rates) == 0.001 and max(rates) == 1.0
    with pytest.raises(KeyError, match="known"):
        lesson("nope")


def test_the_largest_learning_rate_of_the_sweep_diverges_and_the_summary_says_so() -> None:
    item = lesson("learning-rate")
    name, config = item.runs[-1]
    run = _trained(config, name)
    assert run.outcome == "diverged"
    assert "lr 1 diverged at iteration" in summarize(item, [run])


def test_handwriting_sample_is_fixed_and_small() -> None:
    digits, y = handwriting_sample()
    again, _ = handwriting_sample()
    assert digits is again  # drawn once per process
    assert digits.shape == (600, 8, 8) and set(np.unique(y)) == set(range(10))
    assert digits.max() <= 16 and not digits.flags.writeable


def test_recent_rate_uses_the_last_second_of_training_time() -> None:
    from digitgui.core.runs import recent_rate

    h = RunHistory()
    assert recent_rate(h) is None
    for i in range(1, 301):  # 100 it/s for 2 s, then 200 it/s for 0.5 s
        h.append(i, i / 100 if i <= 200 else 2 + (i - 200) / 200, i, 1.0)
    assert recent_rate(h, window=0.5) == pytest.approx(200)
    assert 100 < recent_rate(h, window=1.0) < 200


def test_a_live_learning_rate_takes_effect_at_the_next_update_and_is_recorded() -> None:
    from digitgui.core.training import LiveRate

    config = dataclasses.replace(PRESETS["notebook"], iterations=40, eval_every=10)
    live = LiveRate()
    baseline = [r.cost for r in train(config) if not r.done]
    run = new_run(config)
    costs, records = [], []
    for record in train(config, live_lr=live):
        if record.done:
            run.record_progress(records)
            run.finish(record)
            break
        records.append(record)
        costs.append(record.cost)
        if record.iteration == 10:
            live.set(0.002)
    changed = [r for r in records if r.lr_changed is not None]
    assert [(r.iteration, r.lr_changed) for r in changed] == [(11, 0.002)]
    assert run.lr_changes == [(11, 0.002)]
    # Identical up to iteration 11's forward pass (the old rate's updates), then different.
    assert costs[:11] == baseline[:11]
    assert costs[11] != baseline[11]
    with pytest.raises(ValueError, match="positive"):
        live.set(-1)
    with pytest.raises(ValueError, match="positive"):
        live.set(float("nan"))


def test_a_live_learning_rate_reaches_every_network_of_an_ensemble() -> None:
    from digitgui.core.training import LiveRate

    config = dataclasses.replace(
        PRESETS["default"], iterations=30, eval_every=10, augment=0, members=2
    )
    live = LiveRate()
    live.set(0.05)  # before the first update: the run starts with it
    records = [r for r in train(config, live_lr=live) if not r.done]
    assert [(r.iteration, r.lr_changed) for r in records if r.lr_changed] == [(1, 0.05)]
