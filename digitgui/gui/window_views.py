"""The window's insight views and My digits tab, built for a :class:`MainWindow` ``w``.

Their data (load_digits, ~1 s with the scikit-learn import) is loaded by the novelty reference's
background thread (:mod:`digitgui.gui.reference`); the window polls for it and connects the views
once it is there, so it appears at once.
"""

from __future__ import annotations

import numpy as np

from digitgui.core.my_digits import default_collection_path

from .accessibility import name_widgets
from .insight import InsightPanel
from .my_digits_view import MyDigitsView
from .reference import novelty_reference_future

__all__ = ["build_insight_views", "connect_insight_views", "on_reference_poll_timeout"]


def build_insight_views(w, deferred: bool) -> None:
    """The insight views and "My digits" as tabs. Their data (load_digits, ~1 s with the
    scikit-learn import) is loaded by the novelty reference's background thread; with
    ``deferred`` they are connected once that is done, so the window appears at once."""
    w.insight = InsightPanel(w)
    w.insight.add_tabs(w.insight_tabs)
    w.insight.step_through.set_config_source(w.training_panel.config)  # "a fresh network"
    w.insight.digitRequested.connect(lambda digit: _on_insight_digitRequested(w, digit))
    try:
        collection_path = default_collection_path(w.data_dir)
    except RuntimeError as e:  # the test suite without a data folder
        w.my_digits = MyDigitsView(None, unavailable_reason=str(e))
    else:
        w.my_digits = MyDigitsView.open(collection_path)
    w.my_digits.set_canvas(w.canvas)
    w.my_digits.set_model(w.model())
    w.modelChanged.connect(w.my_digits.set_model)
    w.set_extra_training_source(w.my_digits.extra_training_data)
    # Keeping a drawing with a digit key works from any tab: say so where it is seen.
    w.my_digits.digitAdded.connect(lambda entry: _on_my_digits_digitAdded(w, entry))
    w.insight_tabs.addTab(w.my_digits, "My digits")
    w.insight_tabs.setTabToolTip(
        w.insight_tabs.count() - 1,
        "Your own labelled digits: add the drawing with keys 0-9, train and test on them",
    )
    w._insight_connected = False
    if not deferred:
        connect_insight_views(w)
    name_widgets(w)  # every interactive widget tells a screen reader what it is


def connect_insight_views(w) -> None:
    if w._insight_connected:
        return
    w._insight_connected = True
    w.insight.connect_window(w)
    w.insight.set_model(w.model())
    w.insight.set_digit(w._digit)


def _on_my_digits_digitAdded(w, entry) -> None:
    where = "held out for testing" if entry.held_out else "for training"
    w.statusBar().showMessage(
        f"Kept your drawing as a {entry.label} in My digits ({where}); Ctrl+Z there undoes it.",
        6000,
    )


def _on_insight_digitRequested(w, digit: np.ndarray) -> None:
    w.canvas.load_digit(digit)
    w.statusBar().showMessage(
        "Showing a load_digits digit on the canvas; draw, Clear or Undo to start your own.",
        6000,
    )


def on_reference_poll_timeout(w) -> None:
    future = novelty_reference_future()
    if not future.done():
        return
    w._reference_poll.stop()
    try:
        w._reference = future.result()
    except Exception as e:  # the app works without it; say why
        w.statusBar().showMessage(f"The comparison with load_digits is unavailable: {e}", 10000)
        return
    connect_insight_views(w)
