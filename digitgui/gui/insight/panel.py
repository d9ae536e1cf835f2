"""All insight views together, fed from the main window's signals."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import QSplitter, QTabWidget, QVBoxLayout, QWidget

from digitgui.core.data import DigitsSplit
from digitgui.core.model_io import DigitClassifier

from .attribution_view import AttributionView
from .guess_history import GuessHistoryView
from .hidden_units import HiddenActivationsView, WeightTilesView, describe_hidden_member
from .nearest_view import NearestExamplesView
from .network_picker import NetworkPicker
from .scrolling import scroll_inside
from .step_through import StepThroughView
from .test_set_view import TestSetView

__all__ = ["InsightPanel"]


class InsightPanel(QObject):
    """Creates every insight view and keeps them in step with the model, the drawing and training.

    Typical use in the main window::

        self.insight = InsightPanel(self)
        self.insight.add_tabs(self.insightTabs)
        self.insight.connect_window(self)          # modelChanged, digitChanged, training...
        self.insight.digitRequested.connect(self._on_insight_digitRequested)

    ``digitRequested(digit)`` (raw (8, 8), 0..16): the user clicked a test or training digit to
    load it into the canvas.

    Only the views on screen do their work when the model, the drawing or a training snapshot
    changes; a hidden view gets the latest of each when it is shown. Recomputing six views on
    every pen move and every snapshot cost the pen its latency and the training thread its GIL.
    """

    digitRequested = Signal(object)

    def __init__(self, parent: QObject | None = None, split: DigitsSplit | None = None) -> None:
        super().__init__(parent)
        self.test_set = TestSetView(split=split)
        self.attribution = AttributionView()
        self.nearest = NearestExamplesView(split=split)
        self.weight_tiles = WeightTilesView()
        self.activations = HiddenActivationsView()
        self.guess_history = GuessHistoryView()
        self.step_through = StepThroughView(split=split)
        scroll_inside(self.step_through)  # narrow windows scroll it, not the window
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.weight_tiles)
        splitter.addWidget(self.activations)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        # One choice of network for both views: the bars are the units the tiles picture.
        self.hidden_picker = NetworkPicker(describe_hidden_member, name="hiddenNetworkPicker")
        self.hidden_picker.memberChanged.connect(self._on_hidden_picker_memberChanged)
        self.hidden_picker.setContentsMargins(9, 6, 9, 0)  # in line with the views' margins
        self.hidden_units = QWidget()
        self.hidden_units.setObjectName("hiddenUnitsView")
        hidden_layout = QVBoxLayout(self.hidden_units)
        hidden_layout.setContentsMargins(0, 0, 0, 0)
        hidden_layout.addWidget(self.hidden_picker)
        hidden_layout.addWidget(splitter, 1)

        self._model: DigitClassifier | None = None
        self._digit: np.ndarray | None = None
        # Per hidden view, what it missed: a key ("model", "digit", "snapshot") -> the call that
        # brings it up to date, in the order of the latest change of each.
        self._pending: dict[QWidget, OrderedDict[str, Callable[[], None]]] = {}
        for view in self._views():
            view.installEventFilter(self)

        self.test_set.digitRequested.connect(self.digitRequested)
        self.nearest.digitRequested.connect(self.digitRequested)
        self.weight_tiles.unitClicked.connect(self._on_weight_tiles_unitClicked)

    def tabs(self) -> list[tuple[str, QWidget]]:
        """``(title, widget)`` for each tab, in order."""
        return [(short, widget) for short, _, widget in self._tabs()]

    def _tabs(self) -> list[tuple[str, str, QWidget]]:
        # Short titles: all nine tabs of the window fit at 1280x800 without scroll arrows; the
        # full name is the tab's tooltip.
        return [
            (
                "Why",
                "Why this guess: which of your ink raised or lowered its score",
                self.attribution,
            ),
            ("Nearest", "Nearest examples: the training digits closest to yours", self.nearest),
            (
                "Test set",
                "Test set: accuracy, confusions and how honest the probabilities are",
                self.test_set,
            ),
            ("Units", "Hidden units: what each unit of the network looks for", self.hidden_units),
            (
                "History",
                "Guess history: how the guess changed while the network trained",
                self.guess_history,
            ),
            (
                "Step",
                "One update step: the notebook's matrices, step by step",
                self.step_through,
            ),
        ]

    def add_tabs(self, tab_widget: QTabWidget) -> None:
        for title, tip, widget in self._tabs():
            index = tab_widget.addTab(widget, title)
            tab_widget.setTabToolTip(index, tip)

    def connect_window(self, window: QObject) -> None:
        """Connect the window's ``modelChanged``, ``digitChanged``, ``trainingStarted`` (when it
        has one), ``trainingProgress`` and ``trainingFinished`` signals to this panel."""
        window.modelChanged.connect(self.set_model)
        started = getattr(window, "trainingStarted", None)
        if started is not None:
            started.connect(self.training_started)
        window.digitChanged.connect(self.set_digit)
        window.trainingProgress.connect(self.add_progress)
        window.trainingFinished.connect(self.training_finished)

    # slots ----------------------------------------------------------------------------------------

    def set_model(self, model: DigitClassifier | None) -> None:
        """The window reads with ``model`` now (opened, trained, Reset, chosen)."""
        self._model = model
        self.guess_history.follow_model(model)
        self._show_model()

    def _show_model(self) -> None:
        """Every model view shows the window's model (after the snapshots of a run)."""
        model = self._model
        self.hidden_picker.set_model(model)
        member = self.hidden_picker.member()
        for view in (self.weight_tiles, self.activations):
            view.set_member(member, refresh=False)  # the model below brings them up to date
        for view in (
            self.test_set,
            self.attribution,
            self.nearest,
            self.weight_tiles,
            self.activations,
            self.step_through,
        ):
            self._deliver(view, "model", lambda v=view: v.set_model(self._model))

    def set_digit(self, digit: np.ndarray | None) -> None:
        self._digit = digit
        for view in (
            self.attribution,
            self.nearest,
            self.activations,
            self.guess_history,
            self.step_through,
        ):
            self._deliver(view, "digit", lambda v=view: v.set_digit(self._digit))

    def add_progress(self, records: Iterable) -> None:
        records = list(records)
        # The history needs every snapshot, shown or not; storing them is cheap.
        self.guess_history.add_progress(records)
        self.step_through.add_progress(records)  # keeps the latest snapshot: "the paused run"
        live = [r for r in records if r.snapshot is not None or r.model is not None]
        if not live:
            return
        for view in (self.weight_tiles, self.activations):
            self._deliver(view, "snapshot", lambda v=view, r=live: v.add_progress(r))

    def _views(self) -> tuple[QWidget, ...]:
        return (
            self.test_set,
            self.attribution,
            self.nearest,
            self.weight_tiles,
            self.activations,
            self.guess_history,
            self.step_through,
        )

    def _deliver(self, view: QWidget, key: str, call: Callable[[], None]) -> None:
        if view.isVisible():
            call()
            return
        pending = self._pending.setdefault(view, OrderedDict())
        pending.pop(key, None)
        pending[key] = call

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Show and watched in self._pending:
            for call in self._pending.pop(watched).values():
                call()
        return super().eventFilter(watched, event)

    def training_started(self) -> None:
        """A new run: the guess history and the paused-run step start over."""
        self.guess_history.start_run()
        self.step_through.start_run()

    def training_finished(self, record) -> None:
        """The final ``Progress`` of a run. The views that followed its snapshots go back to the
        window's model: the run's own when the window installed it (``modelChanged`` comes
        first), the one from before the run after Stop or a divergence. The guess history keeps
        the run's curves."""
        self.guess_history.add_progress([record])
        self._show_model()

    def _on_hidden_picker_memberChanged(self, member: int) -> None:
        for view in (self.weight_tiles, self.activations):
            self._deliver(view, "member", lambda v=view: v.set_member(member))

    def _on_weight_tiles_unitClicked(self, unit: int) -> None:
        self.activations.select_unit(1, unit)
