"""Replacing a file so that a crash never leaves it half written.

Model files and the user's digit collection are both saved this way: the bytes go to a temporary
file in the same folder, are flushed to disk, and the temporary file is renamed over the target.
A rename within one filesystem is atomic, so at every instant the path holds either the complete
old file or the complete new one.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["fsync_folder", "keep_aside", "write_atomically"]


def write_atomically(path: str | os.PathLike, data: bytes) -> Path:
    """Replace ``path`` with ``data`` (temporary file, fsync, rename, fsync the folder). On any
    failure the old file is untouched and no temporary file is left. The folder must exist."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        # mkstemp creates the file private (0600); keep the permissions of the file it replaces,
        # or give those a plain open() would.
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask()
        os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_folder(folder)
    return path


def fsync_folder(folder: str | os.PathLike) -> None:
    """Make a rename in ``folder`` durable (POSIX): without it a power cut can undo the rename."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems cannot fsync a folder; the rename is still atomic
    finally:
        os.close(fd)


def keep_aside(path: Path, raw: bytes) -> Path:
    """Copy a damaged file's bytes to a new ``<name>.damaged-<time>`` file next to it (never over
    an existing file) before anything rewrites it. Returns the copy's path."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    for n in range(1000):
        suffix = f".damaged-{stamp}" + (f"-{n}" if n else "")
        target = path.with_name(path.name + suffix)
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(raw)
                f.flush()
                os.fsync(f.fileno())
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        fsync_folder(target.parent)
        return target
    raise OSError(f"{path}: could not find a free name to keep the damaged file")


def _umask() -> int:
    # The only way to read the umask is to set it; it is restored at once.
    mask = os.umask(0)
    os.umask(mask)
    return mask
