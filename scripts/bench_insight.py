"""How long the insight views' work takes on the GUI thread (issue 5: the test-set view for 270
digits and the nearest-examples search must stay under 50 ms).

    .venv/bin/python scripts/bench_insight.py [--calls 60] [--blas-threads 1]

Each line: the median and 90th percentile of ``calls`` separate timings, the median's ratio to a
baseline measured in the same run (one ``predict_proba`` of the 270 test digits: the least any
test-set view must do), and the median's share of the 50 ms budget. The machine is shared: compare
ratios, not milliseconds, between runs; the 90th percentile shows how often another process
preempts the work. Views are timed offscreen including a synchronous repaint.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from collections.abc import Callable

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

BUDGET_MS = 50.0


def timings_ms(fn: Callable[[], object], calls: int) -> np.ndarray:
    """``calls`` separate timings of ``fn`` in milliseconds, after one warm-up call (first calls
    fault memory in and fill caches)."""
    fn()
    out = np.empty(calls)
    for i in range(calls):
        t0 = time.perf_counter()
        fn()
        out[i] = (time.perf_counter() - t0) * 1e3
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=60, help="timed calls per line")
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=None,
        help="limit BLAS threads, e.g. 1 as during training (default: BLAS's own choice)",
    )
    args = parser.parse_args(argv)
    if args.blas_threads is not None:
        from threadpoolctl import threadpool_limits

        # Kept for the whole run: OpenBLAS's thread count is process-wide.
        limiter = threadpool_limits(limits=args.blas_threads, user_api="blas")  # noqa: F841

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])

    from digitgui.core import insight
    from digitgui.core.data import load_digits_split
    from digitgui.core.model_io import load_default
    from digitgui.core.training import PRESETS, train
    from digitgui.gui.insight import (
        AttributionView,
        GuessHistoryView,
        NearestExamplesView,
        TestSetView,
        WeightTilesView,
    )

    split = load_digits_split(42)
    model = load_default()
    digit = split.X_test[17].reshape(8, 8)
    other = split.X_test[18].reshape(8, 8)
    index = insight.NearestExamples(model, split)
    X, Y, _ = insight.training_batch(model, range(64), split)
    records = list(
        train(dataclasses.replace(PRESETS["default"], iterations=400), snapshot_interval=0.0)
    )
    history = insight.GuessHistory(max_snapshots=400)
    history.add_records(records)

    def view(widget):
        widget.resize(900, 700)
        widget.show()
        app.processEvents()
        return widget

    test_view = view(TestSetView(split=split))
    nearest_view = view(NearestExamplesView(split=split))
    nearest_view.set_model(model)
    attribution_view = view(AttributionView())
    attribution_view.set_model(model)
    tiles_view = view(WeightTilesView())
    history_view = view(GuessHistoryView())
    history_view.add_progress(records)
    digits = [digit, other]

    def alternate(fn):
        state = {"i": 0}

        def call():
            state["i"] ^= 1
            fn(digits[state["i"]])

        return call

    def shown(widget, fn):
        def call():
            fn()
            widget.repaint()

        return call

    baseline = float(np.median(timings_ms(lambda: model.predict_proba(split.X_test), args.calls)))
    cases = [
        ("test-set report, core (270 digits)", lambda: insight.evaluate_test_set(model, split)),
        (
            "test-set view: set_model + repaint",
            shown(test_view, lambda: test_view.set_model(model)),
        ),
        (
            "nearest examples: build index (1,257 rows)",
            lambda: insight.NearestExamples(model, split),
        ),
        ("nearest examples: query, k=6", alternate(lambda d: index.query(d, 6))),
        (
            "nearest view: set_digit + repaint",
            shown(nearest_view, alternate(nearest_view.set_digit)),
        ),
        ("attribution, core (explain)", alternate(lambda d: insight.explain(model, d))),
        (
            "attribution view: set_digit + repaint",
            shown(attribution_view, alternate(attribution_view.set_digit)),
        ),
        ("dead units over 1,257 training digits", lambda: insight.unit_activity(model)),
        (
            "weight tiles view: set_model + repaint",
            shown(tiles_view, lambda: tiles_view.set_model(model)),
        ),
        ("guess history: new digit, 400 snapshots", alternate(history.set_digit)),
        (
            "guess history view: set_digit + repaint",
            shown(history_view, alternate(history_view.set_digit)),
        ),
        ("one update step, batch of 64", lambda: insight.model_update_step(model, X, Y, 0.01)),
    ]
    blas = "default" if args.blas_threads is None else args.blas_threads
    print(f"BLAS threads: {blas}; {args.calls} calls per line")
    print(f"baseline: predict_proba of 270 test digits, median {baseline:.3f} ms")
    print(f"{'':44} {'median':>10} {'p90':>10} {'x baseline':>11} {'of 50 ms':>9}")
    over = []
    for name, fn in cases:
        t = timings_ms(fn, args.calls)
        ms, p90 = float(np.median(t)), float(np.percentile(t, 90))
        print(
            f"{name:44} {ms:7.3f} ms {p90:7.3f} ms {ms / baseline:10.1f}x "
            f"{100 * ms / BUDGET_MS:8.1f}%"
        )
        if ms > BUDGET_MS:
            over.append(name)
    for w in (test_view, nearest_view, attribution_view, tiles_view, history_view):
        w.close()
    if over:
        print("median over the 50 ms budget: " + "; ".join(over))
    return 0


if __name__ == "__main__":
    sys.exit(main())
