"""The one owner of the run in progress: starts runs and lesson queues, keeps their records.

:class:`TrainingController` lives in the GUI thread and holds no widget. It drives the
:class:`~digitgui.gui.worker.TrainingRunner`, turns the worker's batches into the live
:class:`~digitgui.core.runs.Run` record (its history is what the cost plot draws and what the
rate line is computed from), keeps finished runs in the :class:`~digitgui.core.runs.RunStore`,
and runs a lesson's queue one run after another. Views listen to its signals:

- ``runStarted(run)``; ``runProgressed(run, records)`` (the batch just added to ``run``);
- ``runFinished(run, final)`` (``final``: the last ``Progress``, or None after an error,
  ``run.outcome`` says which), after the run is kept;
- ``runFailed(run, failure)`` before ``runFinished`` when the run raised;
- ``runsChanged()``: the kept runs changed (added, renamed, deleted);
- ``queueFinished(lesson)`` when a lesson's last run ended (or the queue was stopped);
- ``stateChanged(str)``: "idle", "running", "paused" or "stopping".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, Signal

from digitgui.core.lessons import Lesson, handwriting_accuracy
from digitgui.core.runs import Run, RunStore, default_runs_dir, new_run, recent_rate
from digitgui.core.training import TrainConfig

from .worker import ProgressBatch, RunEnd, RunFailure, TrainingRunner

__all__ = [
    "OUTCOME_TEXT",
    "TrainingController",
    "format_duration",
    "open_run_store",
    "rate_line",
]

#: The headline of each way a run ends.
OUTCOME_TEXT = {
    "completed": "Training finished",
    "stopped": "Training stopped",
    "early_stopped": "Training stopped early",
    "diverged": "Training diverged",
}
#: Seconds of training time over which iterations per second are averaged.
RATE_WINDOW = 1.0


def open_run_store(data_dir=None) -> tuple[RunStore | None, list[str]]:
    """The kept runs in the data folder, and what to tell the user about them: problems met
    while reading, or (store None: runs kept for this session only) why there is no folder."""
    try:
        store = RunStore(default_runs_dir(data_dir))
    except (RuntimeError, OSError) as e:
        return None, [f"Runs are not kept after you quit: {e}"]
    return store, list(store.problems)


def format_duration(seconds: float) -> str:
    if seconds < 1:
        return "< 1 s"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}:{seconds:02d}"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}"


def rate_line(run: Run, state: str) -> str:
    """The line under the progress bar, a pure function of the run: iterations per second and
    time left (or "paused"), epochs for mini-batches, the latest validation accuracy."""
    parts = []
    total = run.config.iterations
    if state == "paused" and not run.finished:
        parts.append(f"paused at iteration {run.iterations_done:,} (F6 resumes)")
    elif run.finished:
        if run.rate:
            parts.append(f"{run.rate:,.0f} it/s")
        parts.append(f"{format_duration(run.seconds)} of training")
    else:
        rate = recent_rate(run.history, RATE_WINDOW)
        if rate:
            parts.append(f"{rate:,.0f} it/s")
            parts.append(f"ETA {format_duration((total - run.iterations_done) / rate)}")
    if len(run.history):
        epoch = run.history.column("epoch")[-1]
        # Full batch: every update is an epoch, and the count would repeat the iteration's.
        if epoch != run.history.column("iteration")[-1]:
            parts.append(f"epoch {epoch:,.1f}")
    acc = run.history.last("val_acc")
    if acc is not None:
        parts.append(f"val. acc. {100 * acc:.1f}%")
    return "  ·  ".join(parts)


class TrainingController(QObject):
    """See the module docstring. ``store`` may be None (no data folder): runs then live only as
    long as the window."""

    runStarted = Signal(object)
    runProgressed = Signal(object, object)
    runFailed = Signal(object, object)
    runFinished = Signal(object, object)
    runsChanged = Signal()
    queueFinished = Signal(object)
    stateChanged = Signal(str)

    def __init__(
        self,
        store: RunStore | None,
        parent: QObject | None = None,
        runner: TrainingRunner | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.runner = runner if runner is not None else TrainingRunner(self)
        #: The run in progress (None when idle).
        self.live: Run | None = None
        #: The latest run, in progress or ended (what the rate line describes).
        self.latest: Run | None = None
        #: Runs of this session that could not be kept (no data folder): still shown.
        self.unkept: list[Run] = []
        self.lesson: Lesson | None = None
        self._queue: list[tuple[str, TrainConfig]] = []
        self._lesson_runs: list[Run] = []
        self._extra: Callable | None = None
        self._paused_seconds = 0.0
        #: Why the last run could not be kept ("" if it was).
        self.keep_error = ""
        self.runner.runStarted.connect(self._on_runner_runStarted)
        self.runner.runProgressed.connect(self._on_runner_runProgressed)
        self.runner.runFailed.connect(self._on_runner_runFailed)
        self.runner.runFinished.connect(self._on_runner_runFinished)
        self.runner.stateChanged.connect(self.stateChanged)

    # state ----------------------------------------------------------------------------------------

    @property
    def state(self) -> str:
        return self.runner.state

    def is_busy(self) -> bool:
        return self.runner.is_busy()

    def runs(self) -> list[Run]:
        """Every run to list: the kept ones, then this session's unkept ones, then the live one."""
        runs = list(self.store.runs) if self.store is not None else []
        runs += self.unkept
        if self.live is not None:
            runs.append(self.live)
        return runs

    def queue_left(self) -> int:
        """Runs of the lesson not started yet."""
        return len(self._queue)

    def lesson_runs(self) -> list[Run]:
        return list(self._lesson_runs)

    # starting and stopping ------------------------------------------------------------------------

    def start(
        self,
        config: TrainConfig,
        extra_train=None,
        *,
        name: str | None = None,
        lesson: str = "",
    ) -> Run | None:
        """Start one run; None if a run is already going."""
        if self.runner.is_busy():
            return None
        run = new_run(config, name, lesson=lesson)
        run.color = self._next_color()
        self.live = self.latest = run
        self._paused_seconds = 0.0
        self.runner.start(config, extra_train=extra_train)
        return run

    def start_lesson(self, lesson: Lesson, extra_source: Callable | None = None) -> bool:
        """Queue a lesson's runs and start the first; False if a run is going."""
        if self.runner.is_busy():
            return False
        self.lesson = lesson
        self._queue = list(lesson.runs)
        self._lesson_runs = []
        self._extra = extra_source
        return self._start_next()

    def _start_next(self) -> bool:
        name, config = self._queue.pop(0)
        extra = self._extra() if self._extra is not None else None
        return self.start(config, extra, name=name, lesson=self.lesson.key) is not None

    def set_learning_rate(self, lr: float) -> None:
        """The run in progress trains with ``lr`` from its next update on; ``ValueError`` says
        why not (no run, or not a positive number)."""
        if self.live is None:
            raise ValueError("no run is training")
        self.runner.set_learning_rate(lr)

    def stop(self) -> None:
        """Stop the run in progress and whatever of a lesson is still queued."""
        self._queue.clear()
        self.runner.stop()

    def pause(self) -> None:
        self.runner.pause()

    def resume(self) -> None:
        self.runner.resume()

    def abandon(self) -> None:
        """Forget the run in progress at once (Reset): its late messages are dropped, it is not
        kept, and a lesson's queue ends."""
        self._queue.clear()
        self.lesson = None
        if self.runner.is_busy():
            self.runner.abandon()
        self.live = None
        self.latest = None

    def shutdown(self) -> bool:
        self._queue.clear()
        return self.runner.shutdown()

    # kept runs ------------------------------------------------------------------------------------

    def rename(self, run: Run, name: str) -> None:
        if self.store is not None and self.store.find(run.id) is not None:
            self.store.rename(run, name)
        else:
            name = " ".join(str(name).split())
            if not name:
                raise ValueError("a run's name cannot be empty")
            run.name = name
        self.runsChanged.emit()

    def delete(self, runs: Sequence[Run]) -> int:
        ids = {r.id for r in runs if r is not self.live}
        n = 0
        if self.store is not None:
            n = self.store.delete([r for r in runs if r.id in ids])
        before = len(self.unkept)
        self.unkept = [r for r in self.unkept if r.id not in ids]
        n += before - len(self.unkept)
        if self.latest is not None and self.latest.id in ids:
            self.latest = None
        if n:
            self.runsChanged.emit()
        return n

    def model(self, run: Run):
        """The run's network (ModelFileError says why it is not available)."""
        if run.model is None and self.store is not None:
            return self.store.model(run)
        if run.model is None:
            from digitgui.core.model_io import ModelFileError

            raise ModelFileError(f"{run.name}: its network is not available")
        return run.model

    def _next_color(self) -> int:
        return max((r.color for r in self.runs()), default=0) + 1

    # the runner's messages ------------------------------------------------------------------------

    def _on_runner_runStarted(self) -> None:
        if self.live is not None:
            self.runStarted.emit(self.live)

    def _on_runner_runProgressed(self, batch: ProgressBatch) -> None:
        run = self.live
        if run is None or not batch.records:
            return
        self._paused_seconds = batch.paused_seconds
        run.record_progress(batch.records, batch.paused_seconds)
        self.runProgressed.emit(run, list(batch.records))

    def _on_runner_runFailed(self, failure: RunFailure) -> None:
        run = self.live
        if run is not None:
            run.fail(failure.message)
            self.runFailed.emit(run, failure)

    def _on_runner_runFinished(self, end: RunEnd) -> None:
        run = self.live
        if run is None:
            return
        final = end.final
        if final is not None:
            run.finish(final, self._paused_seconds)
            if self.lesson is not None and self.lesson.handwriting and run.model is not None:
                try:
                    run.handwriting_acc = handwriting_accuracy(run.model)
                except Exception as e:  # the packed data missing: say so, keep the run
                    run.message += f" (not scored on handwriting: {e})"
        elif run.outcome == "running":
            run.fail("the run ended without a result")
        self._keep(run)
        self.live = None
        if self.lesson is not None:
            self._lesson_runs.append(run)
        self.runFinished.emit(run, final)
        self.runsChanged.emit()
        self._continue_queue(run)

    def _keep(self, run: Run) -> None:
        self.keep_error = ""
        if self.store is None:
            self.unkept.append(run)
            return
        try:
            self.store.add(run)
        except OSError as e:
            self.keep_error = f"the run could not be kept in {self.store.folder}: {e.strerror or e}"
            self.unkept.append(run)

    def _continue_queue(self, run: Run) -> None:
        if self.lesson is None:
            return
        if self._queue and run.outcome != "stopped" and self._start_next():
            return
        lesson, self.lesson = self.lesson, None
        self._queue.clear()
        self.queueFinished.emit(lesson)
