"""Starting and ending the app, in subprocesses where a failure would take the interpreter down."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
#: The offscreen platform plugin says this whenever a window's size constraints change; it is
#: the plugin's limitation, not a problem of the app (a real display never prints it).
OFFSCREEN_NOISE = "This plugin does not support propagateSizeHints()"


def run_python(code: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=REPO,
    )


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QT_", "DISPLAY", "WAYLAND"))}
    env.pop("DISPLAY", None)
    env["DIGITGUI_SETTINGS"] = str(tmp_path / "settings.ini")
    env.update(extra)
    return env


def real_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip() and OFFSCREEN_NOISE not in line]


def test_without_a_display_one_line_and_a_nonzero_exit(tmp_path):
    env = clean_env(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "digitgui"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=REPO,
    )
    assert result.returncode == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "xvfb-run" in lines[0] and "digitgui train" in lines[0]
    assert result.stdout == ""


def test_closing_with_ctrl_q_during_training_exits_0_without_warnings(tmp_path):
    code = """
        import dataclasses, sys
        from PySide6.QtCore import Qt, QTimer
        from PySide6.QtTest import QTest
        from digitgui.core.training import PRESETS
        from digitgui.gui.app import create_app, create_window
        from digitgui.gui.worker import running_threads

        app = create_app()
        window = create_window()
        window.show()
        seen = []

        def on_progress(records):
            seen.append(records[-1].iteration)
            if len(seen) == 3:
                # Ctrl+Q, as a user would press it, from the event loop
                QTimer.singleShot(0, lambda: QTest.keyClick(
                    window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier))

        window.trainingProgress.connect(on_progress)
        window.start_training(dataclasses.replace(PRESETS["default"], iterations=10**7))
        code = app.exec()
        print("progress", len(seen), "running", len(running_threads()), flush=True)
        sys.exit(code)
    """
    result = run_python(code, clean_env(tmp_path, QT_QPA_PLATFORM="offscreen"))
    assert result.returncode == 0, result.stderr
    assert real_lines(result.stderr) == []
    assert "running 0" in result.stdout
    assert int(result.stdout.split()[1]) >= 3


def test_true_and_none_keep_their_references_across_emits(tmp_path):
    """Guards the PySide6 6.12 + CPython 3.11 crash (shared/notes/qt-and-environment.md): there,
    every emit drops a reference to True and every pyqtgraph setData one to None."""
    code = """
        import sys
        import numpy as np
        from PySide6.QtCore import QObject, Signal
        from PySide6.QtWidgets import QApplication
        import pyqtgraph as pg

        class Emitter(QObject):
            fired = Signal(int)
            carried = Signal(object)

        app = QApplication([])
        emitter = Emitter()
        got = []
        emitter.fired.connect(got.append)
        emitter.carried.connect(got.append)
        curve = pg.PlotDataItem()
        before = sys.getrefcount(True), sys.getrefcount(None)
        for i in range(100):
            emitter.fired.emit(i)
            emitter.carried.emit(True)
            curve.setData(np.arange(3.0), np.arange(3.0))
        after = sys.getrefcount(True), sys.getrefcount(None)
        print(len(got), before[0], after[0], before[1], after[1])
    """
    result = run_python(code, clean_env(tmp_path, QT_QPA_PLATFORM="offscreen"))
    assert result.returncode == 0, result.stderr
    n, true_before, true_after, none_before, none_after = map(int, result.stdout.split())
    assert n == 200
    assert true_after >= true_before
    assert none_after >= none_before


def test_bad_model_argument_gets_a_dialog_and_the_shipped_model(qtbot, tmp_path):
    from digitgui.core.model_io import load_default
    from digitgui.gui.app import create_window

    bad = tmp_path / "empty.npz"
    bad.write_bytes(b"")
    window = create_window(bad)
    qtbot.addWidget(window)
    assert "the file is empty" in window.last_error
    assert window.model().description == load_default().description
    window.close()


def test_good_model_argument_is_loaded(qtbot, tmp_path):
    from digitgui.core.model_io import load_default
    from digitgui.gui.app import create_window

    path = load_default().save(tmp_path / "mine.npz")
    window = create_window(path)
    qtbot.addWidget(window)
    assert window.last_error == ""
    assert "mine.npz" in window.model_label.text()
    window.close()


def test_exit_after_first_paint_quits_with_0_and_loads_scikit_learn_only_after(tmp_path):
    """DIGITGUI_EXIT_AFTER_FIRST_PAINT=1 (scripts/bench_launch.py): run() returns 0 right after
    the window's first paint. Until that paint, scikit-learn is not imported and the thread that
    loads load_digits has not started, even when the start was slow enough for the window's
    poll of that thread to be due before the event loop runs."""
    code = """
        import sys, threading, time
        from PySide6.QtCore import QEvent, QObject
        from PySide6.QtWidgets import QWidget
        from digitgui.gui import app as app_module

        seen = []

        class Spy(QObject):
            def eventFilter(self, watched, event):
                if (
                    not seen
                    and event.type() == QEvent.Type.Paint
                    and isinstance(watched, QWidget)
                    and watched.window().objectName() == "mainWindow"
                ):
                    threads = [t.name for t in threading.enumerate()]
                    seen.append(("sklearn" in sys.modules, "digitgui-novelty-reference" in threads))
                return False

        app = app_module.create_app()
        spy = Spy()
        app.installEventFilter(spy)
        create_window = app_module.create_window

        def slow_create_window(model=None, data_dir=None):
            window = create_window(model, data_dir)
            time.sleep(0.3)  # a slow machine: the reference poll is due before the event loop
            return window

        app_module.create_window = slow_create_window
        code = app_module.run()
        print(code, seen, flush=True)
        sys.exit(code)
    """
    env = clean_env(
        tmp_path,
        QT_QPA_PLATFORM="offscreen",
        DIGITGUI_EXIT_AFTER_FIRST_PAINT="1",
        DIGITGUI_DATA_DIR=str(tmp_path / "data"),
        DIGITGUI_QT_CHECK_STAMP=str(tmp_path / "qt-check.json"),
    )
    result = run_python(code, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0 [(False, False)]", result.stdout
    assert any(line.startswith("digitgui: first paint at ") for line in result.stderr.splitlines())


def test_exit_after_first_paint_from_the_command_line(tmp_path):
    env = clean_env(
        tmp_path,
        QT_QPA_PLATFORM="offscreen",
        DIGITGUI_EXIT_AFTER_FIRST_PAINT="1",
        DIGITGUI_DATA_DIR=str(tmp_path / "data"),
        DIGITGUI_QT_CHECK_STAMP=str(tmp_path / "qt-check.json"),
    )
    result = subprocess.run(
        [sys.executable, "-m", "digitgui"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    lines = real_lines(result.stderr)
    assert len(lines) == 1 and lines[0].startswith("digitgui: first paint at "), result.stderr
    assert (tmp_path / "qt-check.json").is_file()  # the library check ran, and is kept
