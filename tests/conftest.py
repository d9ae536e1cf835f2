"""Shared test set-up.

Qt must find no display and stay offscreen: pytest-qt's ``qapp`` aborts the interpreter on a
headless machine unless ``QT_QPA_PLATFORM=offscreen`` is set before any QApplication exists.
"""

from __future__ import annotations

import os
import threading

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# One BLAS thread for the whole session, as the app has from start-up (gui/app.py
# limit_blas_threads), which the tests never go through. Otherwise OpenBLAS keeps a spinning
# thread per core between calls and those fight the tests' own threads on a small machine. The
# variable acts when OpenBLAS loads (so it must be set before NumPy is imported) and reaches the
# tests' subprocesses; _one_blas_thread below also limits any copy that was loaded earlier.
os.environ["OPENBLAS_NUM_THREADS"] = "1"
# Never let a test read or write the developer's real settings or collections.
os.environ.setdefault("DIGITGUI_TESTING", "1")


@pytest.fixture(autouse=True, scope="session")
def _one_blas_thread():
    """Hold BLAS to one thread for the whole run, whatever the environment said. NumPy and SciPy
    each bring their own OpenBLAS; both are loaded first so the limit reaches both."""
    import numpy  # noqa: F401
    import scipy.linalg  # noqa: F401
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


@pytest.fixture(autouse=True)
def _no_thread_left_running():
    """Fail any test that leaves a Python thread running (QThreads are checked by the GUI tests'
    own fixture, which knows about Qt)."""
    before = set(threading.enumerate())
    yield
    leaked = []
    for t in set(threading.enumerate()) - before:
        if isinstance(t, threading._DummyThread):
            # A thread Python did not start (a QThread that ran Python code): it cannot be
            # joined and stays listed after it ends; the QThread fixture below checks those.
            continue
        t.join(timeout=5)
        if t.is_alive():
            leaked.append(t.name)
    if leaked:
        pytest.fail(f"test left threads running: {', '.join(leaked)}")


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory):
    """One cache folder for the whole run (the pendigits.tra training drawings are made once),
    never the developer's own."""
    if "DIGITGUI_CACHE_DIR" not in os.environ:
        os.environ["DIGITGUI_CACHE_DIR"] = str(tmp_path_factory.mktemp("digitgui-cache"))
    yield


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path, monkeypatch):
    """Every test gets its own settings file and data folder (the app reads DIGITGUI_SETTINGS and
    DIGITGUI_DATA_DIR), so no test reads what another wrote and none touches the developer's real
    settings or digits."""
    monkeypatch.setenv("DIGITGUI_SETTINGS", str(tmp_path / "digitgui-settings.ini"))
    monkeypatch.setenv("DIGITGUI_DATA_DIR", str(tmp_path / "digitgui-data"))


@pytest.fixture(autouse=True)
def _no_training_thread_left():
    """Fail any test that leaves a training QThread running (stopping it first, so one leak does
    not crash the tests after it). Checks only when the GUI worker module was imported, so the
    core tests never load Qt."""
    yield
    import sys

    worker = sys.modules.get("digitgui.gui.worker")
    if worker is None:
        return
    running = worker.running_threads()
    if running:
        names = ", ".join(t.objectName() for t in running)
        worker.stop_all()
        pytest.fail(f"test left training threads running: {names}")


@pytest.fixture(autouse=True)
def _no_garbage_collection_mid_test():
    """Collect garbage between tests, never during one. A collection that happens while a
    training thread is destroying a QObject can deadlock: the main thread, deleting a leftover Qt
    object (a pyqtgraph menu of an earlier test's window), waits for a Qt mutex the training
    thread holds while that thread waits for the GIL (seen in 3 of 5 full runs of
    test_gui_worker.py::test_runner_drops_messages_of_an_abandoned_run). Reference counting
    still frees almost everything during a test; explicit gc.collect() calls still work."""
    import gc

    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()
