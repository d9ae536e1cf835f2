"""Replacing a file so that a crash never leaves it half written.

Model files and the user's digit collection are both saved this way: the bytes go to a temporary
file in the same folder, are flushed to disk, and the temporary file is renamed over the target.
A rename within one filesystem is atomic, so at every instant the path holds either the complete
old file or the complete new one.

A rename alone does not stop two programs that read, change and write the same file from losing
each other's changes: :func:`locked` holds a lock across the read, the merge and the write.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["LOCK_TIMEOUT", "fsync_folder", "keep_aside", "lock_path", "locked", "write_atomically"]

#: Seconds :func:`locked` waits for another program's save before giving up.
LOCK_TIMEOUT = 20.0


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


def lock_path(path: str | os.PathLike) -> Path:
    """The lock file of ``path``: ``<name>.lock`` next to it (created once, never removed:
    removing a lock file while another program waits on it would let a third one in)."""
    path = Path(path)
    return path.with_name(path.name + ".lock")


@contextlib.contextmanager
def locked(path: str | os.PathLike, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (through :func:`lock_path`) for the ``with`` block, so
    that other programs using ``locked`` on the same file wait: a read-change-write of the file
    inside the block cannot interleave with theirs. Two objects of one program exclude each
    other too (``flock`` locks belong to an open file, not to a process). The lock goes when the
    block ends or the program dies; no stale lock is ever left behind.

    POSIX only (``fcntl.flock``); elsewhere the block runs without a lock. Raises ``OSError``
    when the lock file cannot be created (a read-only folder) and ``TimeoutError`` (an
    ``OSError``) after ``timeout`` seconds of waiting."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock (digitgui targets Linux and macOS)
        yield
        return
    target = lock_path(path)
    fd = os.open(target, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        deadline = time.monotonic() + timeout
        delay = 0.001
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise TimeoutError(
                        f"{path}: another program has been saving it for over {timeout:g} s "
                        f"(it holds {target.name}); try again"
                    ) from None
                time.sleep(delay)
                delay = min(2 * delay, 0.05)
        yield
    finally:
        os.close(fd)  # closing the file releases the lock


def _umask() -> int:
    # The only way to read the umask is to set it; it is restored at once.
    mask = os.umask(0)
    os.umask(mask)
    return mask
