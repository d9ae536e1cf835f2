#!/usr/bin/env python3
"""Render the app mid-training, with a drawn digit, to docs/screenshot.png (for the README); or,
with ``--lesson KEY``, a lesson's overlay when it has finished (docs/lesson-KEY.png); with
``--presentation``, the optimizer lesson in presentation mode (docs/presentation.png).

Runs offscreen; no display needed: ``.venv/bin/python scripts/screenshot.py [OUT.png]`` or
``.venv/bin/python scripts/screenshot.py --lesson learning-rate [OUT.png]``. ``--size 800x600``
and ``--font 18`` render the first screen at another window size or application font size
(docs/first-hour/).
The digit is drawn through the canvas's own pen (a "3" as one stroke), training uses the default
preset with more iterations so that the capture falls in the middle of the run.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parent.parent
ITERATIONS = 4000
CAPTURE_AT = 0.45  # fraction of the run done when the picture is taken


def three() -> np.ndarray:
    """Canvas points ``(k, 2)`` of a handwritten-looking 3: two arcs joined at the waist."""
    top = np.radians(np.linspace(-160, 95, 28))
    bottom = np.radians(np.linspace(-95, 165, 30))
    upper = np.c_[126 + 46 * np.cos(top), 88 + 40 * np.sin(top)]
    lower = np.c_[122 + 54 * np.cos(bottom), 172 + 46 * np.sin(bottom)]
    return np.vstack([upper, lower])


def _option(args: list[str], name: str) -> tuple[str | None, list[str]]:
    """The value of ``name VALUE`` in ``args`` (None if absent) and the other arguments."""
    if name not in args:
        return None, args
    i = args.index(name)
    if i + 1 >= len(args):
        raise SystemExit(f"screenshot: {name} needs a value")
    return args[i + 1], args[:i] + args[i + 2 :]


def main() -> int:
    args = sys.argv[1:]
    size, args = _option(args, "--size")
    font, args = _option(args, "--font")
    try:
        width, height = (int(v) for v in (size or "1280x800").lower().split("x"))
        points = float(font) if font else None
    except ValueError:
        print("screenshot: --size is WIDTHxHEIGHT (e.g. 800x600), --font points", file=sys.stderr)
        return 2
    lesson = None
    present = args[:1] == ["--presentation"]
    if present:
        args = ["--lesson", "optimizer", *args[1:]]
    if args[:1] == ["--lesson"]:
        if len(args) < 2:
            print("screenshot: --lesson needs a lesson's key", file=sys.stderr)
            return 2
        lesson, args = args[1], args[2:]
    default = f"lesson-{lesson}.png" if lesson else "screenshot.png"
    if present:
        default = "presentation.png"
    out = Path(args[0]) if args else REPO / "docs" / default
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        # Never read or write the user's settings or runs: a fresh window, as a new user sees it.
        os.environ["DIGITGUI_SETTINGS"] = str(Path(folder) / "screenshot.ini")
        os.environ["DIGITGUI_DATA_DIR"] = str(Path(folder) / "data")
        if lesson:
            return render_lesson(out, lesson, present, (width, height))
        return render(out, (width, height), points)


def render_lesson(
    out: Path, key: str, present: bool = False, size: tuple[int, int] = (1280, 800)
) -> int:
    """Run lesson ``key`` from the Lessons menu, with a 3 drawn, and capture the overlay."""
    from PySide6.QtCore import QEventLoop, QTimer

    from digitgui.core.strokes import Stroke
    from digitgui.gui.app import create_app, create_window

    app = create_app()
    window = create_window()
    window.resize(*size)
    window.show()
    app.processEvents()
    window.canvas.set_strokes([Stroke(three(), 18.0)])
    action = next((a for a in window.lessons_menu.actions() if a.data() == key), None)
    if action is None:
        print(f"screenshot: no lesson {key!r}", file=sys.stderr)
        return 2
    loop = QEventLoop()
    window.controller.queueFinished.connect(lambda _lesson: QTimer.singleShot(300, loop.quit))
    if present:
        window.presentation_action.trigger()
    action.trigger()
    loop.exec()
    if not present:  # the hover readout, as a user pointing at the plot sees it
        window.cost_plot.show_hover(window.cost_plot.cost_item.viewRange()[0][1] * 0.4)
    app.processEvents()
    window.grab().save(str(out))
    window.close()
    print(f"saved {out}")
    return 0


def render(out: Path, size: tuple[int, int] = (1280, 800), points: float | None = None) -> int:
    """The first screen's window mid-training at ``size``; ``points``: an application font of
    that size (as a desktop with large fonts sets it)."""
    from PySide6.QtCore import QEventLoop, QTimer

    from digitgui.core.strokes import Stroke
    from digitgui.core.training import PRESETS
    from digitgui.gui.app import create_app, create_window

    app = create_app()
    if points is not None:
        font = app.font()
        font.setPointSizeF(points)
        app.setFont(font)
    window = create_window()
    window.resize(*size)
    window.show()
    app.processEvents()
    window.canvas.set_strokes([Stroke(three(), 18.0)])
    window.log_action.setChecked(True)

    loop = QEventLoop()
    state = {"saved": False}

    def on_progress(records) -> None:
        last = records[-1]
        ready = window.novelty_reference() is not None
        if not state["saved"] and ready and last.iteration >= CAPTURE_AT * last.iterations:
            state["saved"] = True
            # Let the 10 Hz refresh show the latest state before taking the picture.
            QTimer.singleShot(250, capture)

    def capture() -> None:
        window.grab().save(str(out))
        window.stop_action.trigger()

    window.trainingProgress.connect(on_progress)
    window.trainingFinished.connect(lambda _final: loop.quit())
    config = dataclasses.replace(PRESETS["default"], iterations=ITERATIONS, eval_every=40)
    window.training_panel.set_config(config, "default")
    window.start_training(config)
    loop.exec()
    window.close()
    if not state["saved"]:
        print("screenshot: training ended before the capture point", file=sys.stderr)
        return 1
    print(f"saved {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
