"""Runs in a training process, driven by the runner as the app drives them: the same signals as
a thread's, the controls, and every way the child can fail."""

from __future__ import annotations

import dataclasses
import sys

import pytest

from digitgui.core.training import PRESETS
from digitgui.gui import training_process
from digitgui.gui.worker import ProgressBatch, RunEnd, RunFailure, TrainingRunner, running_threads

SHORT = dataclasses.replace(PRESETS["notebook"], iterations=60, eval_every=10)
LONG = dataclasses.replace(PRESETS["notebook"], iterations=10**7)


def test_the_runner_trains_in_a_process_by_default(qtbot):
    runner = TrainingRunner()
    assert runner.in_process
    batches: list[ProgressBatch] = []
    runner.runProgressed.connect(batches.append)
    with qtbot.waitSignal(runner.runFinished, timeout=60_000) as blocker:
        runner.start(SHORT)
        assert runner.is_busy() and running_threads()
    end = blocker.args[0]
    assert isinstance(end, RunEnd) and end.final.outcome == "completed"
    assert end.final is batches[-1].records[-1]  # the final record also ends the last batch
    assert [r.iteration for b in batches for r in b.records] == list(range(1, 61))
    assert any(r.snapshot is not None for b in batches for r in b.records)
    assert not runner.is_busy() and runner.state == "idle" and not running_threads()


def test_pause_stops_the_records_and_stop_ends_the_run_with_its_model(qtbot):
    runner = TrainingRunner()
    batches: list[ProgressBatch] = []
    runner.runProgressed.connect(batches.append)
    with qtbot.waitSignal(runner.runProgressed, timeout=60_000):
        runner.start(LONG)
    runner.pause()

    def count() -> int:
        return sum(len(b.records) for b in batches)

    # What was on its way arrives (the child sees the pause after its current update); then
    # nothing more. A child that never paused would keep the count moving for all 20 looks.
    seen, settled = count(), False
    for _ in range(20):
        qtbot.wait(400)
        settled, seen = count() == seen, count()
        if settled:
            break
    assert settled  # paused: nothing new for 400 ms
    runner.set_learning_rate(LONG.lr / 2)
    runner.resume()
    qtbot.waitUntil(lambda: sum(len(b.records) for b in batches) > seen, timeout=10_000)
    with qtbot.waitSignal(runner.runFinished, timeout=30_000) as blocker:
        runner.stop()
    final = blocker.args[0].final
    assert final.outcome == "stopped" and final.model is not None
    assert batches[-1].paused_seconds > 0  # the pause took effect in the child, and was counted
    changes = [r.lr_changed for b in batches for r in b.records if r.lr_changed is not None]
    assert changes == [LONG.lr / 2]
    with pytest.raises(ValueError):
        runner.set_learning_rate(0.1)  # no run
    assert not running_threads()


def test_shutdown_ends_a_running_process(qtbot):
    runner = TrainingRunner()
    with qtbot.waitSignal(runner.runProgressed, timeout=60_000):
        runner.start(LONG)
    assert runner.shutdown(15_000)
    assert not running_threads() and not runner.is_busy()


def test_an_abandoned_process_run_sends_nothing_more(qtbot):
    runner = TrainingRunner()
    finished: list[RunEnd] = []
    runner.runFinished.connect(finished.append)
    with qtbot.waitSignal(runner.runProgressed, timeout=60_000):
        runner.start(LONG)
    runner.abandon()
    qtbot.waitUntil(lambda: not runner.is_busy(), timeout=30_000)
    assert finished == [] and not running_threads()


class _BadConfig:
    def to_dict(self) -> dict:
        return {**SHORT.to_dict(), "hidden": [0]}


def _failure(qtbot, runner, config=SHORT) -> tuple[RunFailure, RunEnd]:
    failures: list[RunFailure] = []
    runner.runFailed.connect(failures.append)
    with qtbot.waitSignal(runner.runFinished, timeout=60_000) as blocker:
        runner.start(config)
    assert len(failures) == 1 and "\n" not in failures[0].message
    assert blocker.args[0].final is None and not running_threads()
    return failures[0], blocker.args[0]


def test_an_error_inside_the_child_arrives_as_one_sentence_with_its_traceback(qtbot):
    failure, _ = _failure(qtbot, TrainingRunner(), _BadConfig())
    assert "hidden" in failure.message.lower() and "Traceback" in failure.details


def test_a_child_that_dies_is_a_failure_with_its_last_words(qtbot, monkeypatch):
    code = "import sys; sys.stderr.write('MemoryError: out of memory\\n'); sys.exit(3)"
    monkeypatch.setattr(training_process, "child_command", lambda: [sys.executable, "-c", code])
    failure, _ = _failure(qtbot, TrainingRunner())
    assert "ended unexpectedly (exit code 3): MemoryError: out of memory" in failure.message


def test_a_child_that_cannot_start_is_a_failure(qtbot, monkeypatch, tmp_path):
    missing = str(tmp_path / "no-python")
    monkeypatch.setattr(training_process, "child_command", lambda: [missing, "-m", "x"])
    failure, _ = _failure(qtbot, TrainingRunner())
    assert "could not start" in failure.message and missing in failure.message


def test_a_child_writing_garbage_is_a_failure(qtbot, monkeypatch):
    code = (
        "import sys; sys.stdout.buffer.write(b'\\xff' * 64); sys.stdout.flush(); sys.stdin.read()"
    )
    monkeypatch.setattr(training_process, "child_command", lambda: [sys.executable, "-c", code])
    failure, _ = _failure(qtbot, TrainingRunner())
    assert "unreadable" in failure.message


def test_a_thread_runner_still_trains_in_a_thread(qtbot):
    runner = TrainingRunner(in_process=False)
    with qtbot.waitSignal(runner.runFinished, timeout=60_000) as blocker:
        runner.start(SHORT)
    assert blocker.args[0].final.outcome == "completed"
    with pytest.raises(ValueError):
        TrainingRunner(train_fn=lambda *a, **k: iter(()), in_process=True)
