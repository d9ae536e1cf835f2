"""The ``digitgui`` command: the app, and headless train / compare / runs / lesson / predict /
eval. One module per command (``train.py`` holds the training loop the others share).

Exit codes: 0 success, 1 the work ran but failed (training diverged), 2 bad arguments or files
(one line on stderr, never a traceback).

Imports stay lazy: ``digitgui train --json`` prints its first line without loading Qt or
scikit-learn, and each command loads only what it uses.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from . import compare, evaluate, lesson, predict, runs, train
from ._common import Parser, UsageError

__all__ = ["UsageError", "build_parser", "main"]

#: Each command's module: ``add_parser(subparsers)`` and ``run(args) -> exit code``.
COMMANDS = {
    "train": train,
    "compare": compare,
    "runs": runs,
    "lesson": lesson,
    "predict": predict,
    "eval": evaluate,
}


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    p = Parser(
        prog="digitgui",
        description="Watch a from-scratch NumPy neural network learn to read handwritten digits.",
    )
    p.add_argument("--version", action="version", version=f"digitgui {__version__}")
    p.add_argument(
        "--model",
        dest="gui_model",
        type=Path,
        metavar="PATH",
        help="with no command: open the app with this model file",
    )
    p.add_argument(
        "--data-dir",
        dest="gui_data_dir",
        type=Path,
        metavar="DIR",
        help="with no command: the app's folder for My digits and kept runs (default: "
        "$DIGITGUI_DATA_DIR, else the user data folder)",
    )
    sub = p.add_subparsers(dest="command", parser_class=Parser)
    g = sub.add_parser("gui", help="open the app (the default command)")
    g.add_argument(
        "--model", type=Path, metavar="PATH", help="model file to load instead of the shipped one"
    )
    g.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="folder for My digits and kept runs (default: $DIGITGUI_DATA_DIR, else the user "
        "data folder)",
    )
    for module in COMMANDS.values():
        module.add_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        command = args.command or "gui"
        if command == "gui":
            model = getattr(args, "model", None) or args.gui_model
            data_dir = getattr(args, "data_dir", None) or args.gui_data_dir
            return _gui(model, data_dir)
        return COMMANDS[command].run(args)
    except UsageError as e:
        print(f"digitgui: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("digitgui: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `digitgui eval | head`: the reader left early. Point stdout at devnull so Python's own
        # flush at exit does not print a second traceback (the recipe in Python's signal docs).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


def _gui(model: Path | None, data_dir: Path | None = None) -> int:
    from ..gui.app import run

    return run(model, data_dir)
