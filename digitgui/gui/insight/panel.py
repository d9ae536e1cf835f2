"""All insight views together, fed from the main window's signals."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QSplitter, QTabWidget, QWidget

from digitgui.core.data import DigitsSplit
from digitgui.core.model_io import DigitClassifier

from .attribution_view import AttributionView
from .guess_history import GuessHistoryView
from .hidden_units import HiddenActivationsView, WeightTilesView
from .nearest_view import NearestExamplesView
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
        self.hidden_units = QSplitter(Qt.Orientation.Vertical)
        self.hidden_units.setObjectName("hiddenUnitsView")
        self.hidden_units.addWidget(self.weight_tiles)
        self.hidden_units.addWidget(self.activations)
        self.hidden_units.setStretchFactor(0, 3)
        self.hidden_units.setStretchFactor(1, 2)

        self.test_set.digitRequested.connect(self.digitRequested)
        self.nearest.digitRequested.connect(self.digitRequested)
        self.weight_tiles.unitClicked.connect(self._on_weight_tiles_unitClicked)

    def tabs(self) -> list[tuple[str, QWidget]]:
        """``(title, widget)`` for each tab, in order."""
        return [
            ("Why this guess", self.attribution),
            ("Nearest examples", self.nearest),
            ("Test set", self.test_set),
            ("Hidden units", self.hidden_units),
            ("Guess history", self.guess_history),
            ("One update step", self.step_through),
        ]

    def add_tabs(self, tab_widget: QTabWidget) -> None:
        for title, widget in self.tabs():
            tab_widget.addTab(widget, title)

    def connect_window(self, window: QObject) -> None:
        """Connect the window's ``modelChanged``, ``digitChanged``, ``trainingProgress`` and
        ``trainingFinished`` signals to this panel."""
        window.modelChanged.connect(self.set_model)
        window.digitChanged.connect(self.set_digit)
        window.trainingProgress.connect(self.add_progress)
        window.trainingFinished.connect(self.training_finished)

    # slots ----------------------------------------------------------------------------------------

    def set_model(self, model: DigitClassifier | None) -> None:
        for view in (
            self.test_set,
            self.attribution,
            self.nearest,
            self.weight_tiles,
            self.activations,
            self.step_through,
        ):
            view.set_model(model)

    def set_digit(self, digit: np.ndarray | None) -> None:
        for view in (
            self.attribution,
            self.nearest,
            self.activations,
            self.guess_history,
            self.step_through,
        ):
            view.set_digit(digit)

    def add_progress(self, records: Iterable) -> None:
        records = list(records)
        self.weight_tiles.add_progress(records)
        self.activations.add_progress(records)
        self.guess_history.add_progress(records)

    def training_finished(self, record) -> None:
        """The final ``Progress`` of a run: its model becomes the one every view shows."""
        self.guess_history.add_progress([record])
        if record.model is not None:
            self.set_model(record.model)

    def _on_weight_tiles_unitClicked(self, unit: int) -> None:
        self.activations.select_unit(1, unit)
