"""A training run in a child process, seen from the GUI thread (:mod:`digitgui.core.train_process`
says why and what travels between them).

:class:`ProcessWorker` has the signals of :class:`~digitgui.gui.worker.TrainingWorker`
(``started``, ``progressed``, ``errored``, ``finished``, in the same order and with the same
objects) and its controls, so :class:`~digitgui.gui.worker.TrainingRunner` drives either. It uses
a ``QProcess``: the child's output arrives as signals in the GUI thread, no thread of ours waits
on it. ``finished`` comes when the child has exited, so no process outlives its run.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer

from digitgui.core.train_process import (
    FrameReader,
    WireError,
    child_command,
    decode_progress,
    encode,
    encode_rows,
)

from .run_messages import ProgressBatch, RunEnd, RunFailure, RunSignals

__all__ = ["ProcessWorker"]

#: The end of the child's standard error kept for a failure's details (characters).
STDERR_TAIL = 20_000
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


def child_environment() -> QProcessEnvironment:
    """This process's environment, with the digitgui package importable and BLAS at one thread
    (the child trains next to the GUI thread on a small machine)."""
    env = QProcessEnvironment.systemEnvironment()
    path = env.value("PYTHONPATH", "")
    env.insert("PYTHONPATH", _PACKAGE_ROOT + (os.pathsep + path if path else ""))
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.insert(name, "1")
    return env


class ProcessWorker(RunSignals):
    """One training run in a child process. Call :meth:`start` once; the controls may be called
    any time after (they are ignored once the child has gone)."""

    def __init__(
        self,
        run_id: int,
        config,
        *,
        extra_train=None,
        batch_interval: float,
        snapshot_interval: float | None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.run_id = run_id
        self.config = config
        self.extra_train = extra_train
        self.batch_interval = batch_interval
        self.snapshot_interval = snapshot_interval
        self._reader = FrameReader()
        self._stderr = ""
        self._final = None
        self._ended = False  # the child said "end"
        self._failed = False  # an error was reported
        self._done = False  # finished was emitted
        self._paused = False
        self._stop_requested = False
        self.process = QProcess(self)
        self.process.setProcessChannelMode(QProcess.ProcessChannelMode.SeparateChannels)
        self.process.setProcessEnvironment(child_environment())
        self.process.readyReadStandardOutput.connect(self._on_stdout)
        self.process.readyReadStandardError.connect(self._on_stderr)
        self.process.finished.connect(self._on_process_finished)
        self.process.errorOccurred.connect(self._on_process_errorOccurred)

    def start(self) -> None:
        program, *args = child_command()
        self.process.start(program, args)
        header = {
            "type": "start",
            "config": self.config.to_dict(),
            "snapshot_interval": self.snapshot_interval,
            "batch_interval": self.batch_interval,
        }
        self._send(encode(header, encode_rows(self.extra_train)))

    # controls (the same as TrainingWorker's) ------------------------------------------------------

    def request_stop(self) -> None:
        self._stop_requested = True
        self._paused = False
        self._send(encode({"type": "stop"}))

    def pause(self) -> None:
        if not self._stop_requested:
            self._paused = True
            self._send(encode({"type": "pause"}))

    def resume(self) -> None:
        self._paused = False
        self._send(encode({"type": "resume"}))

    def set_learning_rate(self, lr: float) -> None:
        lr = float(lr)
        if not (lr > 0 and lr != float("inf")):
            raise ValueError(f"the learning rate must be a positive number, got {lr!r}")
        self._send(encode({"type": "lr", "value": lr}))

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def stop_requested(self) -> bool:
        return self._stop_requested

    # what QThread offers the runner's bookkeeping ----------------------------------------------

    def isRunning(self) -> bool:  # QThread's name: the runner's bookkeeping takes either
        return self.process.state() != QProcess.ProcessState.NotRunning

    def quit(self) -> None:
        """Nothing to do: the child exits by itself after its run (QThread's ``quit``)."""

    def wait(self, timeout_ms: int = 15_000) -> bool:
        """Wait for the child to exit; kill it if it has not after ``timeout_ms``. True when it
        exited by itself."""
        if not self.isRunning():
            return True
        if self.process.waitForFinished(timeout_ms):
            return True
        self.process.kill()
        self.process.waitForFinished(2000)
        return False

    # the child's messages ------------------------------------------------------------------------

    def _send(self, data: bytes) -> None:
        if self.isRunning():  # starting or running: QProcess keeps what is written until then
            self.process.write(data)

    def _on_stdout(self) -> None:
        try:
            frames = self._reader.feed(self.process.readAllStandardOutput().data())
        except WireError as e:
            self._fail(f"the training process sent something unreadable ({e})")
            self.process.kill()
            return
        for header, blob in frames:
            self._on_frame(header, blob)

    def _on_frame(self, header: dict, blob: bytes) -> None:
        kind = header["type"]
        if kind == "started":
            self.started.emit(self.run_id)
        elif kind == "progress":
            try:
                records = decode_progress(header, blob)
            except (WireError, ValueError) as e:
                self._fail(f"the training process sent a damaged record ({e})")
                self.process.kill()
                return
            if records and records[-1].done:
                self._final = records[-1]
            batch = ProgressBatch(self.run_id, tuple(records), float(header["paused_seconds"]))
            self.progressed.emit(batch)
        elif kind == "error":
            self._fail(str(header.get("message", "")), str(header.get("details", "")))
        elif kind == "end":
            self._ended = True

    def _fail(self, message: str, details: str = "") -> None:
        if not self._failed:
            self._failed = True
            self.errored.emit(RunFailure(self.run_id, message, details))

    def _on_stderr(self) -> None:
        text = self.process.readAllStandardError().data().decode(errors="replace")
        self._stderr = (self._stderr + text)[-STDERR_TAIL:]

    def _on_process_errorOccurred(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            # Reported from the event loop: QProcess says so inside start(), before the runner
            # has finished starting the run.
            QTimer.singleShot(0, self._on_failed_to_start)

    def _on_failed_to_start(self) -> None:
        self._fail(
            f"the training process could not start ({self.process.errorString()}): "
            f"{' '.join(child_command())}"
        )
        self._finish()

    def _on_process_finished(self, exit_code: int, status: QProcess.ExitStatus) -> None:
        self._on_stdout()
        self._on_stderr()
        if not self._ended:
            how = (
                f"exit code {exit_code}"
                if status == QProcess.ExitStatus.NormalExit
                else "it crashed"
            )
            last = self._stderr.strip().splitlines()[-1:] or [""]
            reason = f": {last[0]}" if last[0] else ""
            self._fail(f"the training process ended unexpectedly ({how}){reason}", self._stderr)
        self._finish()

    def _finish(self) -> None:
        if not self._done:
            self._done = True
            self.finished.emit(RunEnd(self.run_id, self._final))
