"""Views that look inside the network (issue 5); the maths is in :mod:`digitgui.core.insight`.

Each view works on its own and is driven through a few public methods (``set_model``,
``set_digit``, ``add_progress``); views that can load a digit into the canvas emit
``digitRequested(digit)``. :class:`InsightPanel` builds all of them and wires them to the main
window's signals.
"""

import pyqtgraph as pg

# NumPy (row, column) images must not be shown transposed; this has to be set before any
# pyqtgraph widget exists (shared/notes/qt-and-environment.md).
pg.setConfigOptions(imageAxisOrder="row-major")

from .attribution_view import AttributionView  # noqa: E402
from .guess_history import GuessHistoryView  # noqa: E402
from .hidden_units import HiddenActivationsView, WeightTilesView  # noqa: E402
from .nearest_view import NearestExamplesView  # noqa: E402
from .panel import InsightPanel  # noqa: E402
from .step_through import StepThroughView  # noqa: E402
from .test_set_view import TestSetView  # noqa: E402

__all__ = [
    "AttributionView",
    "GuessHistoryView",
    "HiddenActivationsView",
    "InsightPanel",
    "NearestExamplesView",
    "StepThroughView",
    "TestSetView",
    "WeightTilesView",
]
