#!/usr/bin/env python3
"""Benchmark of the desktop app (not a test): everything measured in one run, against baselines
measured in the same run, so the ratios mean something on a shared machine.

1. Training speed inside the app vs. headless (the same generator with no GUI, as ``digitgui
   train`` runs it), for the notebook preset (full batch) and the default preset (mini-batches),
   with a test digit on the canvas (the probabilities follow the network) and, in turn, the
   Training tab (live cost plot), the Units tab (weight tiles), the Step tab (network strip,
   stepping the run as it trains) in front, and presentation mode. The app trains in a child
   process; the same run in a thread (what the app did before) is measured alongside.
   Rounds are interleaved; medians are reported. Target: ratio >= 0.95.
2. The GUI event loop's stalls during in-app training: a 5 ms timer records how late each tick
   is. Target: 99th percentile < 50 ms.
3. Pen-to-probabilities latency: a drag of mouse moves 16 ms apart (a 60 Hz mouse); for each move,
   the time until the probability chart has painted an answer that includes it. Target: median
   < 10 ms.
4. Launch to first painted window, in a fresh interpreter, through the ``digitgui`` command's code
   path. Target: < 2 s (scripts/bench_launch.py measures it against a bare window under Xvfb).
5. Redraw of the runs plot with 10 runs of 20,000 iterations shown (curves downsampled and
   clipped to the view), against the redraw of one such run in the same run. Target: < 20 ms.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/bench_gui.py`` (add ``--quick`` for
fewer rounds). Offscreen painting skips the compositor, so real-display latencies are a little
higher.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("DIGITGUI_SETTINGS", str(Path(tempfile.mkdtemp()) / "bench.ini"))
# The runs the benchmark trains are kept in a throw-away folder, never the user's.
os.environ.setdefault("DIGITGUI_DATA_DIR", tempfile.mkdtemp(prefix="digitgui-bench-"))

REPO = Path(__file__).resolve().parent.parent


def iteration_rate(records) -> float:
    """Iterations per second between the first and the last record (set-up time excluded)."""
    first, last = records[0], records[-1]
    return (last.iteration - first.iteration) / (last.elapsed - first.elapsed)


def headless_rate(config) -> float:
    from digitgui.core.training import train

    records = list(train(config))
    return iteration_rate(records[:-1])


def app_rate(window, app, config, watch_loop: bool = False) -> tuple[float, list[float]]:
    """Train in the window; returns iterations/s and, with ``watch_loop``, the event loop's
    tick delays (ms). The 5 ms watch timer wakes the GUI thread 200 times a second, which the app
    never does, so rates are measured without it."""
    from PySide6.QtCore import QEventLoop, Qt, QTimer

    loop = QEventLoop()  # not app.exec(): QApplication.quit() closes every window in Qt 6
    records: list = []
    delays: list[float] = []
    state = {"last": None}
    tick = QTimer()
    tick.setTimerType(Qt.TimerType.PreciseTimer)
    tick.setInterval(5)

    def on_tick() -> None:
        now = time.perf_counter()
        if state["last"] is not None:
            delays.append(max(0.0, (now - state["last"]) * 1000 - 5))
        state["last"] = now

    def on_progress(batch) -> None:
        records.extend(batch)

    def on_finished(_final) -> None:
        tick.stop()
        loop.quit()

    tick.timeout.connect(on_tick)
    window.trainingProgress.connect(on_progress)
    window.trainingFinished.connect(on_finished)
    window.start_training(config)
    if watch_loop:
        tick.start()
    loop.exec()
    window.trainingProgress.disconnect(on_progress)
    window.trainingFinished.disconnect(on_finished)
    return iteration_rate(records), delays


def pen_latency(window, app, strokes: int = 12, moves: int = 24) -> list[float]:
    """Per mouse move (and release): ms until the chart painted an answer including it."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    canvas, chart = window.canvas, window.probability_chart
    emits: list[float] = []
    paints: list[float] = []
    sends: list[float] = []
    original_paint = chart.paintEvent

    def timed_paint(event) -> None:
        original_paint(event)
        paints.append(time.perf_counter())

    chart.paintEvent = timed_paint
    canvas.drawingChanged.connect(lambda _digit: emits.append(time.perf_counter()))

    def pump(seconds: float) -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.0005)

    for s in range(strokes):
        canvas.clear()
        pump(0.05)
        x0 = 60 + 10 * (s % 4)
        points = [(x0 + 5 * i, 40 + 7 * i + 20 * ((i // 6) % 2)) for i in range(moves)]
        widget = [canvas.widget_point(x, y).toPoint() for x, y in points]
        QTest.mousePress(
            canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, widget[0]
        )
        pump(0.016)
        for p in widget[1:]:
            sends.append(time.perf_counter())
            QTest.mouseMove(canvas, p)
            pump(0.016)  # a 60 Hz mouse
        sends.append(time.perf_counter())
        QTest.mouseRelease(
            canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, widget[-1]
        )
        pump(0.05)
    chart.paintEvent = original_paint

    latencies = []
    for t in sends:
        e = next((e for e in emits if e >= t), None)
        p = next((p for p in paints if e is not None and p >= e), None)
        if p is not None:
            latencies.append((p - t) * 1000)
    return latencies


FIRST_PAINT_CHILD = r"""
import sys, time
from digitgui.cli import build_parser
build_parser().parse_args([])  # the command's own start: argument parsing first
from PySide6.QtCore import QEvent, QObject
from digitgui.gui.app import create_app, create_window

class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            print(time.time(), flush=True)
            sys.exit(0)
        return False

app = create_app()
window = create_window()
watch = FirstPaint()
window.installEventFilter(watch)
window.show()
app.exec()
"""


def launch_time() -> float:
    """Seconds from starting a fresh interpreter to the main window's first paint event."""
    env = dict(os.environ)
    start = time.time()
    out = subprocess.run(
        [sys.executable, "-c", FIRST_PAINT_CHILD],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
        check=True,
    ).stdout
    return float(out.split()[0]) - start


def pen_only(strokes: int) -> int:
    """Pen-to-probabilities latency with the shipped model, and with one of its networks alone
    (what the reading cost before the ensemble and the calibration), interleaved."""
    from digitgui.core.model_io import DigitClassifier, load_default
    from digitgui.gui.app import create_app, create_window

    app = create_app()
    window = create_window()
    window.show()
    app.processEvents()
    shipped = load_default()
    single = DigitClassifier(shipped.members[0], shipped.mean, shipped.scale, shipped.clip)
    models = {f"shipped ({shipped.n_members} networks, calibrated)": shipped, "one network": single}
    results: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(3):
        for name, model in models.items():
            window.set_model(model, name)
            app.processEvents()
            results[name] += pen_latency(window, app, strokes=max(1, strokes // 3))
    base = statistics.median(results["one network"])
    print("3. pen to painted probabilities (moves 16 ms apart), median / p90:")
    for name, lat in results.items():
        med = statistics.median(lat)
        print(
            f"   {name:36s} {med:5.1f} ms / {percentile(lat, 90):5.1f} ms "
            f"({len(lat)} moves; {med / base:.2f}x one network)"
        )
    window.close()
    return 0


def synthetic_runs(n: int, iterations: int = 20_000) -> list:
    """``n`` finished runs with ``iterations`` rows of noisy, falling costs (what a full run's
    history holds), for timing the plot alone."""
    import numpy as np

    from digitgui.core.runs import RunHistory, new_run
    from digitgui.core.training import PRESETS

    rng = np.random.default_rng(0)
    runs = []
    it = np.arange(1, iterations + 1, dtype=float)
    for k in range(n):
        cost = 2.3 * np.exp(-it / (800 + 300 * k)) + 0.01 + 0.02 * rng.random(iterations)
        val = np.full(iterations, np.nan)
        acc = np.full(iterations, np.nan)
        val[::100] = cost[::100] * 1.5
        acc[::100] = 1 - cost[::100] / 2.5
        rows = np.c_[it, it / 1200, it / 20, cost, val, acc]
        run = new_run(PRESETS["notebook"], f"run {k + 1}")
        run.history = RunHistory.from_array(rows)
        run.outcome, run.color, run.iterations_done = "completed", k + 1, iterations
        runs.append(run)
    return runs


def plot_redraw_ms(runs: list, rounds: int = 15) -> float:
    """Median time (ms) to redraw a 560x420 runs plot showing ``runs`` after a zoom change
    (what panning, a new point or a resize costs)."""
    from PySide6.QtWidgets import QApplication

    from digitgui.gui.cost_plot import CostPlot

    plot = CostPlot()
    plot.resize(560, 420)
    plot.show()
    plot.show_runs(runs)
    QApplication.processEvents()
    times = []
    for i in range(rounds):
        plot.cost_item.setXRange(0, 20_000 - 500 * (i % 2), padding=0)
        t = time.perf_counter()
        plot.repaint()
        QApplication.processEvents()
        times.append((time.perf_counter() - t) * 1000)
    plot.close()
    return statistics.median(times)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    parser.add_argument(
        "--pen-only",
        action="store_true",
        help="only part 3, with the shipped model and, as the same run's baseline, its first "
        "network alone (no ensemble, no calibration)",
    )
    parser.add_argument(
        "--plot-only", action="store_true", help="only part 5, the runs plot's redraw"
    )
    args = parser.parse_args()
    if args.pen_only:
        return pen_only(strokes=4 if args.quick else 12)
    if args.plot_only:
        from digitgui.gui.app import create_app

        create_app()
        one, ten = plot_redraw_ms(synthetic_runs(1)), plot_redraw_ms(synthetic_runs(10))
        print(f"runs plot redraw: 10 runs x 20,000 iterations {ten:.1f} ms, one run {one:.1f} ms")
        return 0
    rounds = 1 if args.quick else 5
    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores: others' work skews rates)")

    from digitgui.core.data import load_digits_split
    from digitgui.core.training import PRESETS
    from digitgui.gui.app import create_app, create_window

    # The app's process keeps BLAS at one thread (gui.app.limit_blas_threads); create it before
    # the headless baseline so both sides run in the same conditions.
    app = create_app()
    load_digits_split()  # both sides start with the data cached
    configs = {
        "notebook (full batch)": dataclasses.replace(PRESETS["notebook"], iterations=3000),
        "default (batches of 64)": dataclasses.replace(PRESETS["default"], iterations=6000),
    }
    window = create_window()
    window.show()
    app.processEvents()

    split = load_digits_split()
    window.canvas.load_digit(split.X_test[0].reshape(8, 8))  # as users train: a digit drawn
    runner = window.training_runner()
    tabs = window.insight_tabs
    units = tabs.indexOf(window.insight.hidden_units)
    # (label, tab in front, trains in a process)
    step = tabs.indexOf(window.insight.step_through)
    # The Step tab steps the run as it trains (its "paused run" source follows the snapshots),
    # so the strip and the matrices are redrawn during the run, as a teacher would show them.
    window.insight.step_through.set_source("paused")
    # (label, tab in front, trains in a process, presentation mode)
    sides = [
        ("app, plot in front", 0, True, False),
        ("app, weight tiles", units, True, False),
        ("app, network strip", step, True, False),
        ("app, presentation", 0, True, True),
        ("thread, plot in front", 0, False, False),
    ]
    print(
        "1. training iterations/s in the app (digit on the canvas) vs headless, median of "
        f"{rounds} interleaved round(s)"
    )
    for name, config in configs.items():
        rates: dict[str, list[float]] = {"headless": []} | {side[0]: [] for side in sides}
        for _ in range(rounds):
            rates["headless"].append(headless_rate(config))
            for label, tab, in_process, present in sides:
                tabs.setCurrentIndex(tab)
                runner.in_process = in_process
                window.zoom.present(present)
                app.processEvents()
                rates[label].append(app_rate(window, app, config)[0])
                window.zoom.present(False)
        tabs.setCurrentIndex(0)
        runner.in_process = True
        h = statistics.median(rates["headless"])
        print(f"   {name}: headless {h:.0f} it/s")
        for label, values in rates.items():
            if label != "headless":
                a = statistics.median(values)
                print(f"     {label:22s} {a:6.0f} it/s   ratio {a / h:.2f}")
        print(
            "     rounds: "
            + "; ".join(f"{k} {', '.join(f'{v:.0f}' for v in vs)}" for k, vs in rates.items())
        )
    delays: list[float] = []
    for config in configs.values():
        delays += app_rate(window, app, config, watch_loop=True)[1]
    print(
        f"2. event loop delay during training: median {statistics.median(delays):.1f} ms, "
        f"p99 {percentile(delays, 99):.1f} ms, max {max(delays):.1f} ms "
        f"({len(delays)} ticks of a 5 ms timer, both presets)"
    )
    latencies = pen_latency(window, app, strokes=4 if args.quick else 12)
    print(
        f"3. pen to painted probabilities: median {statistics.median(latencies):.1f} ms, "
        f"p90 {percentile(latencies, 90):.1f} ms, max {max(latencies):.1f} ms "
        f"({len(latencies)} moves 16 ms apart)"
    )
    window.close()
    one = plot_redraw_ms(synthetic_runs(1))
    ten = plot_redraw_ms(synthetic_runs(10))
    print(
        f"5. runs plot redraw: 10 runs x 20,000 iterations {ten:.1f} ms, one such run "
        f"{one:.1f} ms (ratio {ten / one:.1f})"
    )
    launches = [launch_time() for _ in range(rounds)]
    print(
        f"4. launch to first painted window: median {statistics.median(launches):.2f} s "
        f"(runs: {', '.join(f'{t:.2f}' for t in launches)})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
