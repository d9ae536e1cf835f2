"""``digitgui eval``: a model's accuracy, and how honest its probabilities are."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from . import _my_digits
from ._common import UsageError, check_writable, warn
from .predict import load_model


def add_parser(sub) -> None:
    e = sub.add_parser(
        "eval", help="measure a model's accuracy and how honest its probabilities are"
    )
    e.add_argument("--model", type=Path, help="model file (default: the shipped model)")
    e.add_argument(
        "--pendigits",
        type=Path,
        help="pendigits folder (uses pendigits.tes) or file, drawn through the canvas pipeline "
        "(default: the copy of pendigits.tes packed with digitgui)",
    )
    e.add_argument(
        "--plot",
        type=Path,
        metavar="PATH",
        help="also save the reliability diagrams (one per evaluated set) as a PNG image",
    )
    e.add_argument("--json", action="store_true", help="print the results as one JSON object")
    e.add_argument("--quiet", action="store_true", help="no progress bar")
    _my_digits.add_my_digits_arguments(e, training=False)


def _eval_my_digits(model, collection, as_json: bool) -> tuple[dict, object]:
    """Accuracy on the held-out part of the user's digits (honest: never trained on), and, set
    apart, on the training part (seen by models trained with ``--my-digits``). Returns the JSON
    results and the held-out :class:`EvalReport`."""
    from ..core.evaluation import evaluate

    held = evaluate(model, *collection.held_out_data())
    seen = evaluate(model, *collection.arrays("train"))

    def as_dict(report) -> dict:
        d = report.to_dict()
        if not report.n:
            d["accuracy"] = None  # NaN is not JSON
        return d

    if not as_json:
        print()
        if held.n:
            print(
                held.format(f"my digits, held-out part ({collection.path.name}; never trained on)")
            )
        else:
            print(
                f"my digits: none of your {len(collection)} digits is held out yet (about 1 in 5 "
                "is), so there is no honest accuracy on them; add more digits"
            )
        if seen.n:
            print(
                f"my digits, training part (seen by models trained with --my-digits): "
                f"{100 * seen.accuracy:.2f}% of {seen.n} digits read correctly"
            )
    results = {
        "file": str(collection.path),
        "held_out": as_dict(held),
        "training_part": as_dict(seen),
    }
    return results, held


#: Pendigits drawn through the canvas pipeline, by the trajectories' content: drawing the 3,498
#: samples of pendigits.tes takes seconds, and a process that evaluates several models (a
#: script, the tests) needs them drawn only once.
_drawn_pendigits: dict[bytes, object] = {}


def _draw_pendigits(points, quiet: bool):
    """``points (n, 8, 2)`` drawn with the app's pen and reduced: digits ``(n, 8, 8)``."""
    import hashlib

    import numpy as np

    from ..core.pendigits import pendigits_digits

    points = np.ascontiguousarray(points, dtype=np.float64)
    key = hashlib.sha256(repr(points.shape).encode() + points.tobytes()).digest()
    if key not in _drawn_pendigits:
        bar = None
        if not quiet:
            from tqdm import tqdm

            bar = tqdm(total=len(points), unit="digit", desc="drawing pendigits", file=sys.stderr)
        try:
            digits = pendigits_digits(points, progress=bar.update if bar else None)
        finally:
            if bar is not None:
                bar.close()
        digits.flags.writeable = False
        _drawn_pendigits[key] = digits
    return _drawn_pendigits[key]


def _pendigits_set(args) -> tuple[dict, object, object, str] | None:
    """The pendigits rows to evaluate: from ``--pendigits``, else digitgui's packed copy of
    pendigits.tes. Returns (JSON facts about the source, trajectories (n, 8, 2), labels (n,),
    title), or None (with a warning) when the packed copy cannot be read."""
    from ..core import pendigits

    if args.pendigits is not None:
        try:
            path = pendigits.resolve_pendigits(args.pendigits)
            points, labels = pendigits.load_pendigits(path)
        except (FileNotFoundError, ValueError) as e:
            raise UsageError(str(e)) from None
        source = {"file": str(path), "packed": False}
        return source, points, labels, f"pendigits ({path.name}, drawn with the app's pen)"
    name = pendigits.PENDIGITS_FILES[0]
    try:
        points, labels = pendigits.load_packed_pendigits(name)
    except ValueError as e:  # PendigitsResourceError: the packed copy is missing or damaged
        warn(f"pendigits left out: {e}")
        return None
    source = {"file": name, "packed": True}
    return source, points, labels, f"pendigits ({name}, packed copy, drawn with the app's pen)"


def _write_plot(path: Path, panels: list) -> None:
    """The reliability diagrams as a PNG. Qt is imported here only, so that an ``eval`` without
    ``--plot`` never loads it."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        # No display to connect to: Qt would abort; the image needs none.
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from ..gui.reliability_diagram import render_reliability_png

    try:
        render_reliability_png(panels, path)
    except OSError as e:
        raise UsageError(str(e)) from None


def run(args: argparse.Namespace) -> int:
    from ..core.data import load_digits_split
    from ..core.evaluation import evaluate

    model = load_model(args.model)
    my_digits = _my_digits.open_my_digits(args)  # before the slow parts: a bad path fails at once
    if args.plot is not None:
        check_writable(args.plot, "reliability.png")
    pen_set = _pendigits_set(args)
    split = load_digits_split()
    report = evaluate(model, split.X_test, split.y_test)
    results = {"load_digits_test": report.to_dict()}
    panels = [("load_digits test rows", report.reliability)]
    if not args.json:
        print(report.format("load_digits test rows"))
    if pen_set is not None:
        source, points, labels, title = pen_set
        digits = _draw_pendigits(points, args.quiet)
        pen_report = evaluate(model, digits, labels)
        results["pendigits"] = {**source, **pen_report.to_dict()}
        panels.append((f"pendigits ({source['file']}, drawn)", pen_report.reliability))
        if not args.json:
            print()
            print(pen_report.format(title))
    if my_digits is not None:
        results["my_digits"], held = _eval_my_digits(model, my_digits, args.json)
        if held.n:
            panels.append(("my digits, held-out part", held.reliability))
    if args.plot is not None:
        _write_plot(args.plot, panels)
        results["plot"] = str(args.plot)
        if not args.json:
            print()
            print(f"reliability diagrams saved to {args.plot}")
    if args.json:
        print(json.dumps(results))
    return 0
