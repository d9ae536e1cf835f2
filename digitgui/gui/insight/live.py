"""Following a training run from batches of progress records without redrawing on every one."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QObject, QTimer, Signal

from digitgui.core.model_io import DigitClassifier

__all__ = ["LatestSnapshot"]


class LatestSnapshot(QObject):
    """Passes on the newest model of a run at most once per ``interval_ms``.

    Feed it the records of the window's ``trainingProgress`` (lists of ``Progress``); records that
    carry a ``snapshot`` or the final ``model`` count. The first snapshot after a quiet spell goes
    out at once, later ones wait for the timer and only the newest is sent, so a view redraws a few
    times a second however often snapshots arrive. The final model is never held back.
    ``modelReady(iteration, model)``.
    """

    modelReady = Signal(int, object)

    def __init__(self, interval_ms: int = 250, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._pending: tuple[int, DigitClassifier] | None = None

    def add_progress(self, records: Iterable) -> None:
        final = None
        for r in records:
            if r.model is not None:
                final = (r.iteration, r.model)
            elif r.snapshot is not None:
                self._pending = (r.iteration, r.snapshot)
        if final is not None:
            self._pending = None
            self._timer.stop()
            self.modelReady.emit(*final)
        elif self._pending is not None and not self._timer.isActive():
            self._send()

    def _send(self) -> None:
        iteration, model = self._pending
        self._pending = None
        self._timer.start()
        self.modelReady.emit(iteration, model)

    def _on_timer_timeout(self) -> None:
        if self._pending is not None:
            self._send()
