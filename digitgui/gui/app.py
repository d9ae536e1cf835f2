"""Start the app: check that Qt can run here, create the window, run the event loop.

Qt aborts the whole interpreter when it finds no display or misses a system library, with a
message that often names the wrong library. :func:`run` asks
:mod:`digitgui.gui.syscheck` first (which imports no Qt) and prints one line instead: the quick
check of every launch (its library check cached), and should Qt fail to start all the same, the
whole check.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path

from . import syscheck

__all__ = ["EXIT_AFTER_FIRST_PAINT", "create_app", "create_window", "limit_blas_threads", "run"]

#: Set to 1, the app quits (exit code 0) right after its window's first paint, saying when on
#: stderr (``digitgui: first paint at <seconds since the epoch>``): how
#: scripts/bench_launch.py measures the time from launch to a painted window.
EXIT_AFTER_FIRST_PAINT = "DIGITGUI_EXIT_AFTER_FIRST_PAINT"


_blas_limit = None


def limit_blas_threads() -> None:
    """One BLAS thread for the whole app process, for as long as it runs.

    The GUI thread's own NumPy work is tiny (one digit at a time), and the training thread
    already asks for one BLAS thread while it trains. Between runs OpenBLAS would go back to a
    thread per core; once its pool has had work, its threads spin, and on a small machine a
    spinning pool thread slowed the next training run down up to tenfold for seconds at a time
    (measured with scripts/bench_gui.py on 2 cores).
    """
    global _blas_limit
    if _blas_limit is None:
        from threadpoolctl import threadpool_limits

        _blas_limit = threadpool_limits(limits=1, user_api="blas")


#: The name of the desktop entry (``digitgui.desktop``, see scripts/install_desktop_entry) and of
#: the icon: on Wayland the window's app id, on X11 its WM_CLASS, so the desktop shows the entry's
#: name and icon for the window instead of "python3".
DESKTOP_FILE_NAME = "digitgui"
#: The window icon, shipped in resources/ (digitgui.svg rendered at 256 px).
ICON_FILE = "digitgui.png"


def create_app(argv: list[str] | None = None):
    """The ``QApplication`` (created once), named so settings land in a ``digitgui`` folder, with
    the desktop identity: its icon and the name of its desktop entry."""
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from ..core.model_io import resource_path

    limit_blas_threads()
    app = QApplication.instance()
    if app is None:
        # argv[0] gives the X11 window class its instance name: "digitgui", not the interpreter's.
        app = QApplication(argv if argv is not None else [DESKTOP_FILE_NAME])
    app.setOrganizationName("digitgui")
    app.setApplicationName("digitgui")
    app.setApplicationDisplayName("digitgui")
    app.setDesktopFileName(DESKTOP_FILE_NAME)
    icon = resource_path(ICON_FILE)
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))
    return app


def create_window(model: Path | None = None, data_dir: Path | None = None):
    """The main window with the shipped model, then ``model`` opened if given (a bad file gets a
    dialog and the shipped model stays); My digits and the kept runs in ``data_dir`` (default:
    ``$DIGITGUI_DATA_DIR`` or the user data folder). Needs :func:`create_app` first."""
    from .main_window import MainWindow

    window = MainWindow(data_dir=data_dir)
    if model is not None:
        window.open_model(model)
    return window


def after_first_paint(window, callback) -> None:
    """Call ``callback()`` once, from the event loop, right after ``window``'s first paint: the
    first paint event of the window or any widget in it (a window fully covered by its
    children gets none itself). The whole window is painted and flushed to the screen in that
    same pass, before the queued call runs."""
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QWidget

    app = QApplication.instance()

    class FirstPaint(QObject):
        def eventFilter(self, watched, event) -> bool:
            if (
                event.type() == QEvent.Type.Paint
                and isinstance(watched, QWidget)
                and watched.window() is window
            ):
                app.removeEventFilter(self)
                self.deleteLater()
                QTimer.singleShot(0, callback)
            return False

    app.installEventFilter(FirstPaint(window))


def _problem_after_failure() -> str | None:
    """Qt failed to start although the quick check passed: the whole check, the cache dropped."""
    syscheck.forget_checks()
    found = syscheck.problems()
    return found[0] if found else None


@contextlib.contextmanager
def _qt_start_explained():
    """Around the creation of the QApplication (where Qt loads its platform plugin and opens
    the display): when Qt gives up (a fatal message, then abort), the whole check runs and one
    line says why, exit code 3; Qt's own messages are printed only when the check finds
    nothing. Qt's other messages meanwhile are printed once it has started."""
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    held: list[str] = []

    def handler(kind, context, message: str) -> None:
        category = context.category
        text = message if category in (None, "", "default") else f"{category}: {message}"
        if kind != QtMsgType.QtFatalMsg:
            held.append(text)
            return
        problem = _problem_after_failure()
        lines = [f"digitgui: {problem}"] if problem else [*held, text]
        sys.stderr.write("\n".join(lines) + "\n")
        sys.stderr.flush()
        os._exit(3)

    previous = qInstallMessageHandler(handler)
    try:
        yield
    finally:
        qInstallMessageHandler(previous)
        for text in held:
            print(text, file=sys.stderr)


def _load_reference_after_first_paint(window) -> None:
    """The first screen shows nothing built from load_digits: the window starts building its
    novelty reference (which the insight views wait for) after its first paint. That thread
    imports scikit-learn, holding the GIL the first paint needs."""
    poll = getattr(window, "_reference_poll", None)
    if poll is not None and poll.isActive():
        poll.stop()
        after_first_paint(window, poll.start)


def run(model: Path | None = None, data_dir: Path | None = None) -> int:
    """Run the app until its window closes; returns the exit code (0 on a normal close, 3 when
    Qt cannot start here, after one line on stderr saying why)."""
    problem = syscheck.startup_problem()
    if problem is None:
        try:
            with _qt_start_explained():
                app = create_app()
        except ImportError:  # a Qt module cannot load its libraries
            problem = _problem_after_failure()
            if problem is None:
                raise
    if problem is not None:
        print(f"digitgui: {problem}", file=sys.stderr)
        return 3
    window = create_window(model, data_dir)
    _load_reference_after_first_paint(window)
    if os.environ.get(EXIT_AFTER_FIRST_PAINT) == "1":

        def leave() -> None:
            print(f"digitgui: first paint at {time.time():.6f}", file=sys.stderr, flush=True)
            window.close()
            app.exit(0)

        after_first_paint(window, leave)
    window.show()
    return app.exec()
