"""Arrays kept between runs in the user's cache folder, never trusted blindly.

Things that are slow to make and always the same for the same inputs (pendigits.tra drawn as
training digits, the load_digits split) are saved as ``.npz`` archives with a ``key`` saying
what made them and a ``digest`` of their arrays. :func:`read` gives them back only when the key
matches and the digest still does; a missing, foreign or damaged file reads as ``None`` and the
caller makes the arrays again. A folder that cannot be written only costs that time.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
import zlib
from pathlib import Path

import numpy as np

__all__ = ["CACHE_DIR_ENV", "cache_folder", "read", "write"]

#: Environment variable naming the cache folder (default: the platform's user cache folder).
CACHE_DIR_ENV = "DIGITGUI_CACHE_DIR"


def cache_folder() -> Path:
    """``$DIGITGUI_CACHE_DIR``, else the platform's user cache folder for digitgui."""
    env = os.environ.get(CACHE_DIR_ENV)
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("digitgui", appauthor=False))


def _digest(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}:{a.dtype.str}:{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def read(path: Path, key: str, names: tuple[str, ...]) -> dict[str, np.ndarray] | None:
    """The arrays ``names`` saved in ``path`` under ``key``, or None when the file is missing,
    was made for another key, or is damaged (its digest no longer matches)."""
    try:
        # Opened here, not by np.load: on a damaged archive NumPy can leave its file open.
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as f:
            if str(f["key"]) != key:
                return None
            arrays = {name: np.asarray(f[name]) for name in names}
            digest = str(f["digest"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error):
        return None
    return arrays if digest == _digest(arrays) else None


def write(path: Path, key: str, arrays: dict[str, np.ndarray]) -> None:
    """Save ``arrays`` under ``key`` (atomically); an unwritable folder is not an error."""
    from .atomic_file import write_atomically

    buf = io.BytesIO()
    np.savez(buf, key=key, digest=_digest(arrays), **arrays)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, buf.getvalue())
    except OSError:
        pass  # a read-only or full cache folder only costs the next run the time to remake
