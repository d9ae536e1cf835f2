#!/usr/bin/env python
"""Launch to first paint: the app, started as a user starts it, next to a bare PySide6 +
pyqtgraph window (a ``QMainWindow`` holding one ``pg.PlotWidget``, 1280x800), each a new process
on the same Xvfb screen that quits right after its first paint. Wall time of each process
(``time.perf_counter`` around ``subprocess.run``), median of paired rounds whose order alternates;
only the ratios mean anything on a shared machine. Target (issue 15): within 2.0x, aim for 1.5x.

    .venv/bin/python scripts/bench_launch.py [--rounds 7]

Measured: (a) the bare window, (b) ``scripts/run`` (the launcher) and (c) ``.venv/bin/digitgui``,
both with ``DIGITGUI_EXIT_AFTER_FIRST_PAINT=1``. Also shown: the time until the first paint
itself (each process prints when it painted), without the ~0.2 s that every PySide6 process here
spends tearing Python and Qt down after it, which the wall times include. Starts its own Xvfb
(``apt-get install xvfb``); settings and data go to a temporary folder, never the user's.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

#: The reference: what any PySide6 + pyqtgraph app has to do before its window is painted.
BARE_WINDOW = """
import sys
import time
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QWidget

app = QApplication(sys.argv[:1])
window = QMainWindow()
window.setCentralWidget(pg.PlotWidget())
window.resize(1280, 800)


class FirstPaint(QObject):
    def eventFilter(self, watched, event):
        # the first paint of any widget in the window (the window itself is fully covered)
        if event.type() == QEvent.Type.Paint and isinstance(watched, QWidget):
            if watched.window() is window:
                app.removeEventFilter(self)
                QTimer.singleShot(0, leave)
        return False


def leave():
    print(f"first paint at {time.time():.6f}", file=sys.stderr, flush=True)
    app.exit(0)


first_paint = FirstPaint()
app.installEventFilter(first_paint)
window.show()
sys.exit(app.exec())
"""


def start_xvfb() -> tuple[subprocess.Popen, str]:
    """An Xvfb server on a free display number (Xvfb picks it and writes it to a pipe)."""
    if shutil.which("Xvfb") is None:
        raise SystemExit(
            "bench_launch: Xvfb is not installed (Debian/Ubuntu: sudo apt-get install xvfb); "
            "the launch is measured on a virtual X screen"
        )
    read, write = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as f:
        number = f.readline().strip()
    if not number:
        server.kill()
        server.wait()
        raise SystemExit("bench_launch: Xvfb did not start")
    return server, f":{number}"


def launch(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Seconds from the start of ``cmd`` to its end (the issue's measure: wall time of the
    process, which includes tearing Python and Qt down) and to its first paint (from the line
    the process prints then)."""
    started = time.time()
    t0 = time.perf_counter()
    try:
        result = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        raise SystemExit(f"bench_launch: {' '.join(cmd)} did not quit within 60 s") from None
    seconds = time.perf_counter() - t0
    match = re.search(r"first paint at ([0-9.]+)", result.stderr)
    if result.returncode != 0 or match is None:
        raise SystemExit(
            f"bench_launch: {' '.join(cmd)} exited {result.returncode}:\n{result.stderr}"
        )
    return seconds, float(match.group(1)) - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    venv = Path(sys.prefix)
    if not (venv / "bin" / "digitgui").exists():
        raise SystemExit(
            f"bench_launch: run it with the project's venv (.venv/bin/python {__file__})"
        )
    server, display = start_xvfb()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-launch-") as folder:
            env = {k: v for k, v in os.environ.items() if not k.startswith(("QT_", "WAYLAND"))}
            env.update(
                DISPLAY=display,
                DIGITGUI_VENV=str(venv),
                DIGITGUI_EXIT_AFTER_FIRST_PAINT="1",
                DIGITGUI_SETTINGS=str(Path(folder) / "settings.ini"),
                DIGITGUI_DATA_DIR=str(Path(folder) / "data"),
            )
            commands = {
                "bare": [sys.executable, "-c", BARE_WINDOW],
                "run": [str(REPO / "scripts" / "run")],
                "digitgui": [str(venv / "bin" / "digitgui")],
            }
            for cmd in commands.values():  # warm: page cache, first-run caches
                launch(cmd, env, Path(folder))
            wall: dict[str, list[float]] = {name: [] for name in commands}
            paint: dict[str, list[float]] = {name: [] for name in commands}
            for i in range(args.rounds):
                order = list(commands) if i % 2 == 0 else list(reversed(commands))
                for name in order:
                    w, p = launch(commands[name], env, Path(folder))
                    wall[name].append(w)
                    paint[name].append(p)
    finally:
        server.terminate()
        server.wait(timeout=10)

    print(f"launch to first paint, median of {args.rounds} paired rounds (Xvfb {display})")
    for title, times in (
        ("wall time of the process (the issue's measure)", wall),
        ("until the first paint (the process's teardown left out)", paint),
    ):
        bare = statistics.median(times["bare"])
        print(f"{title}:")
        print(f"  (a) bare PySide6 + pyqtgraph window  {bare:.3f} s")
        for label, name in (("(b) scripts/run", "run"), ("(c) .venv/bin/digitgui", "digitgui")):
            median = statistics.median(times[name])
            paired = statistics.median(
                t / b for t, b in zip(times[name], times["bare"], strict=True)
            )
            print(
                f"  {label:<35}  {median:.3f} s  ratio {median / bare:.2f}"
                f"  (median of the rounds' ratios {paired:.2f})"
            )
    print("target (issue 15): wall-time ratio <= 2.0, aim for 1.5")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
