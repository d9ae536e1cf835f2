"""The load_digits novelty reference, built once per process in a background thread.

The insight views compare a drawing with load_digits; building that reference imports
scikit-learn and loads the data (about a second), so the window starts without it and connects
the views when it is ready.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future

from digitgui.core.novelty import load_digits_reference

__all__ = ["novelty_reference_future"]

_reference_lock = threading.Lock()
_reference_future: Future | None = None


def novelty_reference_future() -> Future:
    """The load_digits novelty reference, built once per process in a background thread (it
    imports scikit-learn and loads the data: about a second). The thread touches no Qt object
    and holds no reference to a window: a window whose last reference died in another thread
    would be destroyed there, and Qt objects must die in their own thread."""
    global _reference_future
    with _reference_lock:
        if _reference_future is None:
            future: Future = Future()

            def build() -> None:
                try:
                    future.set_result(load_digits_reference())
                except BaseException as e:
                    future.set_exception(e)

            threading.Thread(target=build, name="digitgui-novelty-reference", daemon=True).start()
            _reference_future = future
        return _reference_future
