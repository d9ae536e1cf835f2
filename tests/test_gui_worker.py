"""The training worker: signal order run synchronously, then threaded runs through the runner."""

from __future__ import annotations

import dataclasses
import threading

import pytest

from digitgui.core.training import PRESETS, Progress
from digitgui.gui.worker import (
    ProgressBatch,
    RunEnd,
    RunFailure,
    TrainingRunner,
    TrainingWorker,
    running_threads,
)

SHORT = dataclasses.replace(PRESETS["default"], iterations=60, eval_every=10)


def fake_train(n: int, *, fail_at: int | None = None, final_model="model"):
    """A stand-in for core.training.train with its calling convention: n records, then a final
    one with .model; stops early when should_stop() says so."""

    def train(config, *, should_stop=None, snapshot_interval=None, extra_train=None, live_lr=None):
        for i in range(1, n + 1):
            if fail_at == i:
                raise ValueError("the data could not be prepared")
            if should_stop is not None and should_stop() and i > 1:
                yield Progress(
                    iteration=i,
                    iterations=n,
                    cost=1.0 / i,
                    elapsed=0.0,
                    epoch=0.0,
                    model=final_model,
                    outcome="stopped",
                )
                return
            if i == n:
                yield Progress(
                    iteration=i,
                    iterations=n,
                    cost=1.0 / i,
                    elapsed=0.0,
                    epoch=0.0,
                    model=final_model,
                    outcome="completed",
                )
                return
            yield Progress(iteration=i, iterations=n, cost=1.0 / i, elapsed=0.0, epoch=0.0)

    return train


class Recorder:
    """Collects every signal of a worker, in order (direct connections: same thread)."""

    def __init__(self, worker: TrainingWorker) -> None:
        self.events: list[tuple[str, object]] = []
        worker.started.connect(lambda rid: self.events.append(("started", rid)))
        worker.progressed.connect(lambda b: self.events.append(("progressed", b)))
        worker.errored.connect(lambda f: self.events.append(("errored", f)))
        worker.finished.connect(lambda e: self.events.append(("finished", e)))

    def names(self) -> list[str]:
        return [name for name, _ in self.events]


def test_worker_signals_in_order_when_run_synchronously(qapp):
    worker = TrainingWorker(7, SHORT, train_fn=fake_train(50), batch_interval=0.0)
    rec = Recorder(worker)
    worker.run()
    names = rec.names()
    assert names[0] == "started" and rec.events[0][1] == 7
    assert names[-1] == "finished"
    assert set(names[1:-1]) == {"progressed"}
    records = [r for name, b in rec.events if name == "progressed" for r in b.records]
    assert [r.iteration for r in records] == list(range(1, 51))
    end = rec.events[-1][1]
    assert isinstance(end, RunEnd) and end.run_id == 7
    assert end.final is records[-1] and end.final.model == "model"
    assert all(b.run_id == 7 for name, b in rec.events if name == "progressed")


def test_worker_batches_records(qapp):
    worker = TrainingWorker(1, SHORT, train_fn=fake_train(200), batch_interval=3600.0)
    rec = Recorder(worker)
    worker.run()
    batches = [b for name, b in rec.events if name == "progressed"]
    # Nothing is due within an hour: everything arrives in the final flush.
    assert len(batches) == 1 and len(batches[0].records) == 200


def test_worker_error_emits_errored_then_finished(qapp):
    worker = TrainingWorker(3, SHORT, train_fn=fake_train(10, fail_at=5), batch_interval=0.0)
    rec = Recorder(worker)
    worker.run()
    assert rec.names()[0] == "started"
    assert rec.names()[-2:] == ["errored", "finished"]
    failure = rec.events[-2][1]
    assert isinstance(failure, RunFailure) and failure.run_id == 3
    assert "could not be prepared" in failure.message and "ValueError" in failure.details
    assert rec.events[-1][1].final is None


def test_worker_stop_requested_before_run_ends_after_one_iteration(qapp):
    worker = TrainingWorker(1, SHORT, train_fn=fake_train(1000), batch_interval=0.0)
    rec = Recorder(worker)
    worker.request_stop()
    worker.run()
    end = rec.events[-1][1]
    assert end.final.outcome == "stopped" and end.final.iteration == 2


def test_worker_drives_the_real_generator(qapp):
    worker = TrainingWorker(1, SHORT, batch_interval=0.0, snapshot_interval=0.0)
    rec = Recorder(worker)
    worker.run()
    records = [r for name, b in rec.events if name == "progressed" for r in b.records]
    assert records[-1].done and records[-1].outcome == "completed"
    assert [r.iteration for r in records] == list(range(1, SHORT.iterations + 1))
    assert all(r.snapshot is not None for r in records[:-1])


def test_pause_holds_the_run_and_resume_continues(qapp):
    worker = TrainingWorker(1, SHORT, train_fn=fake_train(10_000_000), batch_interval=0.0)
    first_batch = threading.Event()
    worker.progressed.connect(lambda b: first_batch.set(), type=_direct())
    worker.pause()
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        assert first_batch.wait(10), "the paused run should still report where it stopped"
        assert worker.paused and thread.is_alive()
    finally:
        worker.request_stop()  # also wakes the paused run
        thread.join(10)
    assert not thread.is_alive()


def _direct():
    from PySide6.QtCore import Qt

    return Qt.ConnectionType.DirectConnection


# --- the runner, with real threads ----------------------------------------------------------------


def test_runner_runs_a_short_training_in_a_thread(qtbot):
    runner = TrainingRunner()
    batches: list[ProgressBatch] = []
    runner.runProgressed.connect(batches.append)
    with qtbot.waitSignal(runner.runFinished, timeout=30_000) as blocker:
        runner.start(SHORT)
        assert runner.is_busy() and running_threads()
    end = blocker.args[0]
    assert end.final.outcome == "completed" and end.final.model is not None
    iterations = [r.iteration for b in batches for r in b.records]
    assert iterations == list(range(1, SHORT.iterations + 1))
    assert not runner.is_busy() and runner.state == "idle"
    assert not running_threads()


def test_runner_pause_resume_stop(qtbot):
    runner = TrainingRunner(train_fn=fake_train(100_000_000))
    states: list[str] = []
    runner.stateChanged.connect(states.append)
    with qtbot.waitSignal(runner.runProgressed, timeout=10_000):
        runner.start(SHORT)
    runner.pause()
    assert runner.state == "paused"
    runner.resume()
    with qtbot.waitSignal(runner.runProgressed, timeout=10_000):
        pass  # resumed: batches keep coming
    with qtbot.waitSignal(runner.runFinished, timeout=10_000) as blocker:
        runner.stop()
    assert blocker.args[0].final.outcome == "stopped"
    assert states == ["running", "paused", "running", "stopping", "idle"]


def test_runner_drops_messages_of_an_abandoned_run(qtbot):
    runner = TrainingRunner(train_fn=fake_train(100_000_000))
    finished: list[RunEnd] = []
    runner.runFinished.connect(finished.append)
    with qtbot.waitSignal(runner.runProgressed, timeout=10_000):
        first = runner.start(SHORT)
    runner.abandon()
    qtbot.waitUntil(lambda: not runner.is_busy(), timeout=10_000)
    assert finished == []  # the old run's finished message was dropped
    progressed: list[ProgressBatch] = []
    runner.runProgressed.connect(progressed.append)
    with qtbot.waitSignal(runner.runFinished, timeout=10_000):
        second = runner.start(SHORT)
        qtbot.waitUntil(lambda: bool(progressed), timeout=10_000)
        runner.stop()
    assert second != first
    assert {b.run_id for b in progressed} == {second}
    assert [e.run_id for e in finished] == [second]


def test_runner_shutdown_stops_and_waits(qtbot):
    runner = TrainingRunner(train_fn=fake_train(100_000_000))
    with qtbot.waitSignal(runner.runProgressed, timeout=10_000):
        runner.start(SHORT)
    assert runner.shutdown(10_000)
    assert not running_threads() and not runner.is_busy()


def test_runner_refuses_a_second_run(qtbot):
    runner = TrainingRunner(train_fn=fake_train(100_000_000))
    runner.start(SHORT)
    try:
        with pytest.raises(RuntimeError):
            runner.start(SHORT)
    finally:
        assert runner.shutdown(10_000)
