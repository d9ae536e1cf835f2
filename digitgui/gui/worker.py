"""Training off the GUI thread: with Qt, the only place (with :mod:`.training_process`) that
drives the core's training.

A real run trains in a child process (:class:`~digitgui.gui.training_process.ProcessWorker`: a
thread would share the interpreter lock with the window and train at 0.57 of headless speed).
:class:`TrainingWorker`, the same run in a thread, serves runs given a ``train_fn`` (the tests'
fakes). It is thin: it drives :func:`digitgui.core.training.train` (which limits BLAS
to one thread), checks a stop flag, waits while paused, batches progress records and always emits
``finished``. It never touches a widget and does no maths. :class:`TrainingRunner` lives in the
GUI thread, owns the ``QThread`` and forwards only the messages of the current run: each run has
an id, and messages that arrive late from an older run are dropped.

The messages and the signal order are in :mod:`.run_messages`.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot

from digitgui.core.train_process import relay
from digitgui.core.training_loop import LiveRate

from .run_messages import ProgressBatch, RunEnd, RunFailure, RunSignals
from .training_process import ProcessWorker

__all__ = [
    "ProgressBatch",
    "RunEnd",
    "RunFailure",
    "TrainingRunner",
    "TrainingWorker",
    "running_threads",
    "stop_all",
]

#: Progress records are sent to the GUI thread at most this often (s). A cross-thread signal costs
#: ~6 us; one per iteration would be affordable only if nothing were drawn from it.
BATCH_INTERVAL = 0.03
#: A copy of the network travels with a record at most this often (s), for the live probabilities.
SNAPSHOT_INTERVAL = 0.1

#: Every training thread (or process worker) started and not yet cleaned up, with its worker.
_live: dict[QThread | ProcessWorker, TrainingWorker | ProcessWorker] = {}


def running_threads() -> list[QThread | ProcessWorker]:
    """Training threads and processes started and not yet finished (the test suite fails a test
    leaving any)."""
    return [t for t in _live if t.isRunning()]


def stop_all(timeout_ms: int = 10_000) -> bool:
    """Stop every training thread and wait for it (a safety net for tests); True if all ended."""
    ok = True
    for thread, worker in list(_live.items()):
        worker.request_stop()
        thread.quit()
        ok = thread.wait(timeout_ms) and ok
    return ok


class TrainingWorker(RunSignals):
    """Runs one training generator. Call :meth:`run` in its thread (or directly, in tests).

    ``request_stop``, ``pause`` and ``resume`` may be called from any thread: they only set
    ``threading.Event`` flags, because a queued slot on this object would not run while the
    training loop keeps its thread busy.
    """

    def __init__(
        self,
        run_id: int,
        config,
        *,
        extra_train: tuple[np.ndarray, np.ndarray] | None = None,
        train_fn: Callable | None = None,
        batch_interval: float | None = None,
        snapshot_interval: float | None = SNAPSHOT_INTERVAL,
    ) -> None:
        super().__init__()
        self.run_id = run_id
        self.config = config
        self.extra_train = extra_train
        self._train_fn = train_fn
        self.batch_interval = BATCH_INTERVAL if batch_interval is None else batch_interval
        self.snapshot_interval = snapshot_interval
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        #: The learning rate the user may change while the run trains (any thread).
        self.live_lr = LiveRate()

    def request_stop(self) -> None:
        self._stop.set()
        self._running.set()  # a paused run must wake up to notice

    def pause(self) -> None:
        if not self._stop.is_set():
            self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def set_learning_rate(self, lr: float) -> None:
        self.live_lr.set(lr)

    @Slot()
    def run(self) -> None:
        self.started.emit(self.run_id)
        final = None
        try:
            train = self._train_fn
            if train is None:
                from digitgui.core.training import train
            run = train(
                self.config,
                should_stop=self._stop.is_set,
                snapshot_interval=self.snapshot_interval,
                extra_train=self.extra_train,
                live_lr=self.live_lr,
            )
            final = relay(run, self._send, self._running, self.batch_interval)
        except Exception as e:
            message = str(e) or type(e).__name__
            self.errored.emit(RunFailure(self.run_id, message, traceback.format_exc()))
        finally:
            self.finished.emit(RunEnd(self.run_id, final))

    def _send(self, records: list, paused_total: float) -> None:
        if records:
            self.progressed.emit(ProgressBatch(self.run_id, tuple(records), paused_total))


class TrainingRunner(QObject):
    """Starts, pauses, stops and cleans up training runs; lives in the GUI thread.

    Re-emits the current run's messages: ``runStarted()``, ``runProgressed(ProgressBatch)``,
    ``runFailed(RunFailure)``, ``runFinished(RunEnd)``; ``stateChanged(str)`` with "idle",
    "running", "paused" or "stopping".
    """

    runStarted = Signal()
    runProgressed = Signal(object)
    runFailed = Signal(object)
    runFinished = Signal(object)
    stateChanged = Signal(str)

    def __init__(
        self,
        parent: QObject | None = None,
        train_fn: Callable | None = None,
        *,
        in_process: bool | None = None,
    ) -> None:
        super().__init__(parent)
        self._train_fn = train_fn
        #: Runs train in a child process (:mod:`digitgui.gui.training_process`) unless a
        #: ``train_fn`` is given (tests' fakes) or ``in_process`` is False.
        self.in_process = train_fn is None if in_process is None else in_process
        if self.in_process and train_fn is not None:
            raise ValueError("a train_fn runs in a thread, not in a training process")
        self._run_id = 0
        self._worker: TrainingWorker | ProcessWorker | None = None
        self._thread: QThread | ProcessWorker | None = None
        self._state = "idle"

    @property
    def state(self) -> str:
        return self._state

    @property
    def run_id(self) -> int:
        return self._run_id

    def is_busy(self) -> bool:
        """A run is in progress (running, paused or stopping)."""
        return self._thread is not None

    def start(self, config, extra_train=None) -> int:
        """Start a run of ``config`` (a ``TrainConfig``); returns its id."""
        if self._thread is not None:
            raise RuntimeError("a training run is already in progress")
        self._run_id += 1
        if self.in_process:
            worker = ProcessWorker(
                self._run_id,
                config,
                extra_train=extra_train,
                batch_interval=BATCH_INTERVAL,
                snapshot_interval=SNAPSHOT_INTERVAL,
            )
            thread = worker  # what the bookkeeping waits for: the child process
        else:
            worker = TrainingWorker(
                self._run_id, config, extra_train=extra_train, train_fn=self._train_fn
            )
            thread = QThread()
            thread.setObjectName(f"digitgui-training-{self._run_id}")
            worker.moveToThread(thread)
            # Bound methods of QObjects: run executes in the worker's thread, the _on_* slots in
            # the GUI thread (a lambda here would run in the worker thread).
            thread.started.connect(worker.run)
        worker.started.connect(self._on_worker_started)
        worker.progressed.connect(self._on_worker_progressed)
        worker.errored.connect(self._on_worker_errored)
        worker.finished.connect(self._on_worker_finished)
        self._worker, self._thread = worker, thread
        _live[thread] = worker
        if self.in_process:
            worker.start()
        else:
            thread.start()
        self._set_state("running")
        return self._run_id

    def pause(self) -> None:
        if self._worker is not None and self._state == "running":
            self._worker.pause()
            self._set_state("paused")

    def resume(self) -> None:
        if self._worker is not None and self._state == "paused":
            self._worker.resume()
            self._set_state("running")

    def set_learning_rate(self, lr: float) -> None:
        """The run in progress uses ``lr`` from its next update on (``ValueError`` for a rate
        that is not a positive number, or when no run is going)."""
        if self._worker is None or self._state == "stopping":
            raise ValueError("no run is training")
        self._worker.set_learning_rate(lr)

    def stop(self) -> None:
        """Ask the run to end after its current iteration; ``runFinished`` follows."""
        if self._worker is not None and self._state != "stopping":
            self._worker.request_stop()
            self._set_state("stopping")

    def abandon(self) -> None:
        """Stop the run and drop everything it still sends (no ``runFinished``)."""
        self.stop()
        self._run_id += 1  # late messages of the old run no longer match

    def shutdown(self, timeout_ms: int = 15000) -> bool:
        """Stop the run and wait for its thread (closing the window). True when no thread is
        left running."""
        if self._thread is None:
            return True
        self.abandon()
        thread = self._thread
        thread.quit()  # takes effect when run() returns to the thread's event loop
        ok = thread.wait(timeout_ms)
        if ok:
            self._release()
            self._set_state("idle")
        return ok

    # slots (GUI thread) ---------------------------------------------------------------------------

    def _current(self, run_id: int) -> bool:
        return run_id == self._run_id

    def _on_worker_started(self, run_id: int) -> None:
        if self._current(run_id):
            self.runStarted.emit()

    def _on_worker_progressed(self, batch: ProgressBatch) -> None:
        if self._current(batch.run_id):
            self.runProgressed.emit(batch)

    def _on_worker_errored(self, failure: RunFailure) -> None:
        if self._current(failure.run_id):
            self.runFailed.emit(failure)

    def _on_worker_finished(self, end: RunEnd) -> None:
        if self._worker is not None and end.run_id == self._worker.run_id:
            self._thread.quit()
            self._thread.wait()
            self._release()
            self._set_state("idle")
        if self._current(end.run_id):
            self.runFinished.emit(end)

    def _release(self) -> None:
        if self._thread is not None:
            _live.pop(self._thread, None)
        self._worker = None
        self._thread = None

    def _set_state(self, state: str) -> None:
        if state != self._state:
            self._state = state
            self.stateChanged.emit(state)
