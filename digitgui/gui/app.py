"""Start the app: check that Qt can run here, create the window, run the event loop.

Qt aborts the whole interpreter when it finds no display or misses a system library, with a
message that often names the wrong library. :func:`run` asks
:mod:`digitgui.gui.syscheck` first (which imports no Qt) and prints one line instead.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .syscheck import display_problem, problems

__all__ = ["create_app", "create_window", "limit_blas_threads", "run"]


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


def create_app(argv: list[str] | None = None):
    """The ``QApplication`` (created once), named so settings land in a ``digitgui`` folder."""
    from PySide6.QtWidgets import QApplication

    limit_blas_threads()
    app = QApplication.instance()
    if app is None:
        app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setOrganizationName("digitgui")
    app.setApplicationName("digitgui")
    app.setApplicationDisplayName("digitgui")
    return app


def create_window(model: Path | None = None):
    """The main window with the shipped model, then ``model`` opened if given (a bad file gets a
    dialog and the shipped model stays). Needs :func:`create_app` first."""
    from .main_window import MainWindow

    window = MainWindow()
    if model is not None:
        window.open_model(model)
    return window


def run(model: Path | None = None) -> int:
    """Run the app until its window closes; returns the exit code (0 on a normal close, 3 when
    Qt cannot start here, after one line on stderr saying why)."""
    problem = display_problem()
    if problem is None:
        found = problems()
        problem = found[0] if found else None
    if problem is not None:
        print(f"digitgui: {problem}", file=sys.stderr)
        return 3
    app = create_app()
    window = create_window(model)
    window.show()
    return app.exec()
