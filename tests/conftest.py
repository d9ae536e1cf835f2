"""Shared test set-up.

Qt must find no display and stay offscreen: pytest-qt's ``qapp`` aborts the interpreter on a
headless machine unless ``QT_QPA_PLATFORM=offscreen`` is set before any QApplication exists.
"""

from __future__ import annotations

import os
import threading

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Never let a test read or write the developer's real settings or collections.
os.environ.setdefault("DIGITGUI_TESTING", "1")


@pytest.fixture(autouse=True)
def _no_thread_left_running():
    """Fail any test that leaves a Python thread running (QThreads are checked by the GUI tests'
    own fixture, which knows about Qt)."""
    before = set(threading.enumerate())
    yield
    leaked = []
    for t in set(threading.enumerate()) - before:
        t.join(timeout=5)
        if t.is_alive():
            leaked.append(t.name)
    if leaked:
        pytest.fail(f"test left threads running: {', '.join(leaked)}")
