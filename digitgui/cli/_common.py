"""What the commands share: the one-line error, argument types, the data folder, tables."""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path


class UsageError(Exception):
    """A bad argument or file: reported in one line, exit code 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2 (argparse's default prints usage too)
        raise UsageError(message)


def positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {v}")
    return v


def non_negative_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {v}")
    return v


def positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return v


def hidden_sizes(text: str) -> tuple[int, ...]:
    """``--hidden``: read by :func:`digitgui.core.training.parse_hidden`, as the app reads its
    "Hidden layers" field."""
    from ..core.training import parse_hidden

    try:
        return parse_hidden(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def add_data_dir_argument(parser: argparse.ArgumentParser, holds: str) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help=f"folder holding {holds} (default: $DIGITGUI_DATA_DIR, else the user data folder)",
    )


def json_number(x: float | None) -> float | str | None:
    """A number for JSON: NaN and infinities (a diverged cost) as strings."""
    if x is None:
        return None
    return x if math.isfinite(x) else str(x)


def warn(message: str) -> None:
    print(f"digitgui: warning: {message}", file=sys.stderr)


def check_writable(path: Path, example: str = "model.npz") -> None:
    """Fail at once, before any slow work, when ``path`` cannot be a new file: its folder is
    missing, is not a folder, or cannot be written in (tried by creating and removing a
    temporary file there, which also catches a read-only filesystem and a user who is root)."""
    import tempfile

    folder = path.parent if str(path.parent) else Path(".")
    if not folder.exists():
        raise UsageError(f"{path}: the folder {folder} does not exist")
    if not folder.is_dir():
        raise UsageError(f"{path}: {folder} is a file, not a folder")
    if path.is_dir():
        raise UsageError(f"{path}: is a folder; give a file name such as {example}")
    try:
        fd, probe = tempfile.mkstemp(prefix=".digitgui-write-test-", dir=folder)
    except OSError as e:
        raise UsageError(
            f"{path}: cannot write in the folder {folder} ({e.strerror or e}); "
            "choose another folder"
        ) from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)


def runs_folder(data_dir: Path | None) -> Path:
    """``<data folder>/runs``, where the app keeps the runs it shows."""
    from ..core.runs import default_runs_dir

    try:
        return default_runs_dir(None if data_dir is None else data_dir.expanduser())
    except RuntimeError as e:  # under the test suite with no folder given
        raise UsageError(str(e)) from None


def open_run_store(data_dir: Path | None):
    """The saved runs (:class:`~digitgui.core.runs.RunStore`); what could not be read is
    reported as a warning (the store has kept a copy of a damaged file)."""
    from ..core.runs import RunStore

    folder = runs_folder(data_dir)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder}: is a file, not the folder of saved runs")
    store = RunStore(folder)
    for problem in store.problems:
        warn(problem)
    return store


def percent(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: str) -> str:
    """Columns padded to their widest cell; ``right[i] == "r"`` aligns column ``i`` right."""
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            c.rjust(w) if a == "r" else c.ljust(w)
            for c, w, a in zip(cells, widths, right, strict=True)
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers), *(line(r) for r in rows)])
