"""Render every insight view (issue 5) offscreen and save PNGs in docs/.

    .venv/bin/python scripts/screenshot_insight.py [--out docs]

Uses the shipped model, a "7" drawn with the canvas's own strokes and reduction, and a short
run of the default preset (with a snapshot every iteration) for the live views.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtWidgets import QApplication, QWidget

REPO = Path(__file__).resolve().parent.parent


def drawn_seven() -> np.ndarray:
    """A '7' drawn as the canvas would record it, reduced like load_digits."""
    from digitgui.core.preprocess import raster_to_digit
    from digitgui.core.strokes import Stroke, render_strokes

    strokes = [
        Stroke(np.array([[70, 60], [120, 58], [185, 55]])),
        Stroke(np.array([[185, 55], [160, 110], [135, 160], [115, 205]])),
        Stroke(np.array([[110, 130], [175, 128]])),
    ]
    return raster_to_digit(render_strokes(strokes))


def save(widget: QWidget, app: QApplication, path: Path, size: tuple[int, int]) -> None:
    widget.resize(*size)
    widget.show()
    for _ in range(3):
        app.processEvents()
    if not widget.grab().save(str(path)):
        raise SystemExit(f"could not write {path}")
    print(path.relative_to(REPO) if path.is_relative_to(REPO) else path)
    widget.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    app = QApplication.instance() or QApplication(sys.argv[:1])
    from digitgui.core.model_io import load_default
    from digitgui.core.training import PRESETS, train
    from digitgui.gui.insight import (
        AttributionView,
        GuessHistoryView,
        HiddenActivationsView,
        NearestExamplesView,
        StepThroughView,
        TestSetView,
        WeightTilesView,
    )

    model = load_default()
    digit = drawn_seven()
    out = args.out

    view = TestSetView()
    view.set_model(model)
    save(view, app, out / "insight-test-set.png", (900, 760))

    view = AttributionView()
    view.set_model(model)
    view.set_digit(digit)
    view.select_cell(1, 5)
    save(view, app, out / "insight-attribution.png", (820, 480))

    view = NearestExamplesView()
    view.set_model(model)
    view.set_digit(digit)
    save(view, app, out / "insight-nearest.png", (760, 330))

    records = list(
        train(dataclasses.replace(PRESETS["default"], iterations=300), snapshot_interval=0.0)
    )
    final = records[-1]

    view = WeightTilesView()
    view.set_model(final.model)
    view.select_unit(0)
    save(view, app, out / "insight-weight-tiles.png", (760, 560))

    view = HiddenActivationsView()
    view.set_model(final.model)
    view.set_digit(digit)
    save(view, app, out / "insight-activations.png", (760, 420))

    view = GuessHistoryView()
    view.set_digit(digit)
    view.add_progress(records)
    view.select_iteration(40)
    save(view, app, out / "insight-guess-history.png", (760, 420))

    view = StepThroughView()
    view.show_matrix("W1_new")
    save(view, app, out / "insight-step-through.png", (900, 520))

    view = StepThroughView()
    view.set_model(model)
    view.set_source("training")
    view.show_matrix("E2")
    save(view, app, out / "insight-step-through-batch.png", (900, 520))
    return 0


if __name__ == "__main__":
    sys.exit(main())
