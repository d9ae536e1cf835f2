"""What a training worker tells the GUI thread, whichever way it trains (a thread,
:class:`~digitgui.gui.worker.TrainingWorker`, or a child process,
:class:`~digitgui.gui.training_process.ProcessWorker`): the messages and the four signals.

Signal order of one run: ``started``, ``progressed`` zero or more times, ``errored`` at most once,
``finished`` always (with the final record, or None after an error).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

__all__ = ["ProgressBatch", "RunEnd", "RunFailure", "RunSignals"]


@dataclass(frozen=True)
class ProgressBatch:
    """Progress records of run ``run_id`` (a tuple of frozen ``Progress``), and the total time the
    run has spent paused so far: ``record.elapsed - paused_seconds`` is training time."""

    run_id: int
    records: tuple
    paused_seconds: float = 0.0


@dataclass(frozen=True)
class RunFailure:
    """An exception inside a run: a one-line ``message`` and the traceback as ``details``."""

    run_id: int
    message: str
    details: str = ""


@dataclass(frozen=True)
class RunEnd:
    """The end of a run: ``final`` is the last record (with ``.model``) or None after an error."""

    run_id: int
    final: object | None


class RunSignals(QObject):
    """The signals every training worker emits."""

    started = Signal(object)  # run id
    progressed = Signal(object)  # ProgressBatch
    errored = Signal(object)  # RunFailure
    finished = Signal(object)  # RunEnd
