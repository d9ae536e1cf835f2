"""The ``digitgui`` command: the app, and headless train / predict / eval.

Exit codes: 0 success, 1 the work ran but failed (training diverged), 2 bad arguments or files
(one line on stderr, never a traceback).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]


class UsageError(Exception):
    """A bad argument or file: reported in one line, exit code 2."""


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {v}")
    return v


def _positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return v


def _hidden(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(s) for s in text.replace(" ", "").split(",") if s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected layer sizes like 32,32, got {text!r}") from None
    if not sizes or any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"expected positive layer sizes like 32,32, got {text!r}")
    return sizes


#: ``--my-digits`` given without a path: the collection in the data folder.
_DEFAULT_COLLECTION = object()


def _add_my_digits_arguments(parser: argparse.ArgumentParser, training: bool) -> None:
    what = (
        "also train on the training part of your own digits"
        if training
        else "also report accuracy on your own digits (the held-out part, never trained on)"
    )
    parser.add_argument(
        "--my-digits",
        nargs="?",
        const=_DEFAULT_COLLECTION,
        type=Path,
        metavar="PATH",
        help=f"{what}; PATH is a collection file (default: my_digits.jsonl in the data folder)",
    )
    if training:
        from .core.my_digits import DEFAULT_OVERSAMPLE

        parser.add_argument(
            "--my-digits-oversample",
            type=_positive_int,
            default=DEFAULT_OVERSAMPLE,
            metavar="K",
            help=f"copies of each of your training digits (default {DEFAULT_OVERSAMPLE})",
        )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="folder holding your digit collection (default: $DIGITGUI_DATA_DIR, else the user "
        "data folder)",
    )


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2 (argparse's default prints usage too)
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    from .core.training import PRESETS

    p = _Parser(
        prog="digitgui",
        description="Watch a from-scratch NumPy neural network learn to read handwritten digits.",
    )
    from . import __version__

    p.add_argument("--version", action="version", version=f"digitgui {__version__}")
    p.add_argument(
        "--model",
        dest="gui_model",
        type=Path,
        help="with no command: open the app with this model file",
    )
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    g = sub.add_parser("gui", help="open the app (the default command)")
    g.add_argument("--model", type=Path, help="model file to load instead of the shipped one")

    t = sub.add_parser("train", help="train a network headless")
    t.add_argument("--preset", default="default", choices=sorted(PRESETS), help="starting point")
    t.add_argument("--iterations", type=_positive_int, help="number of updates")
    t.add_argument("--lr", type=_positive_float, help="learning rate")
    t.add_argument("--hidden", type=_hidden, help="hidden layer sizes, e.g. 32,32")
    t.add_argument("--seed", type=int, help="random seed (initialisation and shuffling)")
    t.add_argument("--activation", choices=["relu", "sigmoid"])
    t.add_argument("--init", choices=["he", "glorot", "notebook"])
    t.add_argument("--optimizer", choices=["gd", "momentum", "adam"])
    t.add_argument("--batch-size", type=int, help="rows per update (0: the whole training set)")
    t.add_argument("--update-order", choices=["backprop", "notebook"])
    t.add_argument("--l2", type=float, help="L2 weight decay strength")
    t.add_argument("--augment", type=int, help="distorted copies of each training digit")
    t.add_argument("--early-stopping", action="store_true", help="stop when validation stalls")
    t.add_argument("--log-every", type=_positive_int, default=None, help="log every K iterations")
    t.add_argument("--json", action="store_true", help="one JSON object per logged iteration")
    t.add_argument("--out", type=Path, help="save the trained model to this .npz file")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_my_digits_arguments(t, training=True)

    pr = sub.add_parser("predict", help="classify images of drawn digits")
    pr.add_argument("images", nargs="+", type=Path, help="image files (PNG, JPEG, ...)")
    pr.add_argument("--model", type=Path, help="model file (default: the shipped model)")
    pr.add_argument("--json", action="store_true", help="one JSON object per image")

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
    _add_my_digits_arguments(e, training=False)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        command = args.command or "gui"
        if command == "gui":
            return _gui(getattr(args, "model", None) or args.gui_model)
        return {"train": _train, "predict": _predict, "eval": _eval}[command](args)
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


# --- gui ------------------------------------------------------------------------------------------


def _gui(model: Path | None) -> int:
    from .gui.app import run

    return run(model)


# --- train ----------------------------------------------------------------------------------------


def _config_from_args(args):
    from .core.training import PRESETS

    changes = {}
    for arg, field in (
        ("iterations", "iterations"),
        ("lr", "lr"),
        ("hidden", "hidden"),
        ("seed", "seed"),
        ("activation", "activation"),
        ("init", "init"),
        ("optimizer", "optimizer"),
        ("update_order", "update_order"),
        ("l2", "l2"),
        ("augment", "augment"),
    ):
        value = getattr(args, arg)
        if value is not None:
            changes[field] = value
    if args.batch_size is not None:
        if args.batch_size < 0:
            raise UsageError("--batch-size must be 0 (whole training set) or positive")
        changes["batch_size"] = args.batch_size or None
    if args.early_stopping:
        changes["early_stopping"] = True
    base = PRESETS[args.preset]
    if changes:
        changes.setdefault("name", f"{args.preset} (modified)")
    try:
        return dataclasses.replace(base, **changes)
    except ValueError as e:
        raise UsageError(str(e)) from None


def _json_number(x: float | None) -> float | str | None:
    if x is None:
        return None
    return x if math.isfinite(x) else str(x)


def _train(args) -> int:  # noqa: C901 - one branch per option of the command, in order
    from .core.training import train

    config = _config_from_args(args)
    if args.out is not None:
        _check_writable(args.out)
    my_digits = _open_my_digits(args)
    extra_train = None
    n_mine = 0  # my digits trained on (before oversampling)
    if my_digits is not None:
        n_mine = int(my_digits.counts("train").sum())
        if n_mine:
            extra_train = my_digits.training_data(args.my_digits_oversample)
            print(
                f"my digits: training on {n_mine} of your {len(my_digits)} digits "
                f"(x{args.my_digits_oversample} = {len(extra_train[1])} rows); "
                f"{len(my_digits) - n_mine} held out for testing",
                file=sys.stderr,
            )
        else:
            print(
                f"digitgui: warning: none of your {len(my_digits)} digits is in the training part "
                "yet (about 1 in 5 is held out for testing); training on load_digits only",
                file=sys.stderr,
            )
    log_every = args.log_every or max(1, config.iterations // 20)
    bar = None
    if not args.quiet:
        from tqdm import tqdm

        bar = tqdm(total=config.iterations, unit="it", desc=f"train {config.name}", file=sys.stderr)
    from .core.pendigits import PendigitsResourceError, load_packed_pendigits

    if config.handwriting:
        from .core.handwriting import is_cached

        try:
            load_packed_pendigits("pendigits.tra")  # fail at once, in one sentence
        except PendigitsResourceError as e:
            raise UsageError(f"cannot train '{config.name}': {e}") from None
        if not is_cached(config.handwriting - 1):
            print(
                f"drawing the 7,494 pen trajectories of pendigits.tra {config.handwriting} times "
                "each as training digits (first run only, about 10-30 s)",
                file=sys.stderr,
            )
    record = None
    try:
        for record in train(config, extra_train=extra_train):
            if bar is not None:
                bar.n = record.iteration
                if record.iteration % 50 == 0 or record.done:
                    bar.set_postfix(cost=f"{record.cost:.4g}", refresh=False)
                    bar.refresh()
            if record.iteration % log_every == 0 or record.done:
                _log_iteration(record, args.json, bar)
    except PendigitsResourceError as e:
        raise UsageError(f"cannot train '{config.name}': {e}") from None
    finally:
        if bar is not None:
            bar.close()
    assert record is not None and record.model is not None
    final = {
        "outcome": record.outcome,
        "message": record.message,
        "iterations": record.iteration,
        "elapsed": round(record.elapsed, 4),
        "train_acc": record.train_acc,
        "val_acc": record.val_acc,
        "test_acc": record.test_acc,
        "model": None,
    }
    if my_digits is not None:
        summary = _my_digits_summary(my_digits, record.model, n_mine, args.my_digits_oversample)
        final["my_digits"] = summary
        # The model file may be shared: it records the collection's name, not the user's folders.
        record.model.metadata["my_digits"] = {**summary, "file": my_digits.path.name}
    if args.out is not None:
        try:
            final["model"] = str(record.model.save(args.out))
        except OSError as e:
            raise UsageError(f"{args.out}: cannot save the model ({e.strerror or e})") from None
    if args.json:
        print(json.dumps(final), flush=True)
    else:
        print(record.message)
        print(
            f"accuracy: train {record.train_acc:.4f}, validation {record.val_acc:.4f}, "
            f"test {record.test_acc:.4f}"
        )
        if my_digits is not None:
            print(_my_digits_line(final["my_digits"]))
        if final["model"]:
            print(f"model saved to {final['model']}")
    if record.outcome == "diverged":
        if not args.json:
            print(f"digitgui: {record.message}", file=sys.stderr)
        return 1
    return 0


def _log_iteration(record, as_json: bool, bar) -> None:
    if as_json:
        obj = {"iteration": record.iteration, "cost": _json_number(record.cost)}
        if record.val_cost is not None:
            obj["val_cost"] = _json_number(record.val_cost)
            obj["val_acc"] = record.val_acc
        obj["elapsed"] = round(record.elapsed, 4)
        print(json.dumps(obj), flush=True)
    else:
        text = f"iter {record.iteration}: cost = {record.cost}"
        if record.val_acc is not None:
            text += f"  (validation accuracy {record.val_acc:.4f})"
        if bar is not None:
            bar.write(text)
        else:
            print(text, flush=True)


def _my_digits_summary(collection, model, n_trained: int, oversample: int) -> dict:
    """What a run did with the user's digits, and the accuracy on their held-out part."""
    from .core.evaluation import evaluate

    report = evaluate(model, *collection.held_out_data())
    return {
        "file": str(collection.path),
        "digits": len(collection),
        "trained_on": n_trained,
        "oversample": oversample if n_trained else None,
        "held_out": report.n,
        "held_out_acc": report.accuracy if report.n else None,
    }


def _my_digits_line(summary: dict) -> str:
    if not summary["held_out"]:
        return "my digits: none is held out yet, so there is no honest accuracy on them"
    correct = round(summary["held_out_acc"] * summary["held_out"])
    return (
        f"my digits: {correct} of {summary['held_out']} held-out digits read correctly "
        f"({100 * summary['held_out_acc']:.1f}%)"
    )


def _open_my_digits(args):
    """The collection named by ``--my-digits`` (read only), or None when it was not asked for.
    Unreadable lines are reported as a warning; the readable digits are used."""
    from .core.my_digits import CollectionFileError, DigitCollection, default_collection_path

    if args.my_digits is None:
        return None
    if args.my_digits is _DEFAULT_COLLECTION:
        try:
            path = default_collection_path(args.data_dir)
        except RuntimeError as e:
            raise UsageError(str(e)) from None
    else:
        path = args.my_digits
    if not path.exists():
        raise UsageError(
            f'{path}: no such digit collection (add digits with the app\'s "Add to my digits", '
            "or give the file with --my-digits PATH)"
        )
    if path.is_dir():
        raise UsageError(f"{path}: is a folder; give a collection file such as my_digits.jsonl")
    try:
        collection = DigitCollection(path, read_only=True)
    except CollectionFileError as e:
        raise UsageError(str(e)) from None
    if collection.problem_message:
        print(f"digitgui: warning: {collection.problem_message}", file=sys.stderr)
    return collection


def _check_writable(path: Path) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(f"{path}: the folder {folder} does not exist")
    if path.is_dir():
        raise UsageError(f"{path}: is a folder; give a file name such as model.npz")


# --- predict / eval -------------------------------------------------------------------------------


def _load_model(path: Path | None):
    from .core.model_io import DigitClassifier, ModelFileError, load_default

    try:
        return load_default() if path is None else DigitClassifier.load(path)
    except ModelFileError as e:
        raise UsageError(str(e)) from None


def _read_image(path: Path):
    """A grayscale float raster 0..1 with ink high, whatever the image's ink polarity."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im.load()
            if im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info:
                # Transparent pixels are background: composite onto white before going gray.
                bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
                im = Image.alpha_composite(bg, im.convert("RGBA"))
            gray = np.asarray(im.convert("L"), dtype=np.float64) / 255.0
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a folder, not an image") from None
    except (UnidentifiedImageError, OSError) as e:
        raise UsageError(f"{path}: not a readable image ({e})") from None
    # Most of any drawing is background: if the typical pixel is bright, the ink is dark.
    if np.median(gray) > 0.5:
        gray = 1.0 - gray
    if min(gray.shape) < 32:
        factor = -(-32 // min(gray.shape))
        gray = np.kron(gray, np.ones((factor, factor)))
    return gray


def _predict(args) -> int:
    import numpy as np

    from .core.calibration import format_probability
    from .core.preprocess import EmptyDrawingError, raster_to_digit

    model = _load_model(args.model)
    failures = 0
    for path in args.images:
        # One unreadable image costs its own answer, never the others'.
        try:
            digit = raster_to_digit(_read_image(path))
        except (UsageError, EmptyDrawingError, ValueError) as e:
            msg = f"{path}: the image holds no ink" if isinstance(e, EmptyDrawingError) else str(e)
            if args.json:
                print(json.dumps({"image": str(path), "error": msg}))
            else:
                print(f"digitgui: error: {msg}", file=sys.stderr)
            failures += 1
            continue
        probs = model.predict_proba(digit)
        guess = int(np.argmax(probs))
        if args.json:
            print(
                json.dumps(
                    {
                        "image": str(path),
                        "digit": guess,
                        "probabilities": [round(float(p), 6) for p in probs],
                    }
                )
            )
        else:
            top = np.argsort(probs)[::-1][:3]
            others = ", ".join(f"{d}: {format_probability(probs[d])}" for d in top[1:])
            print(f"{path}: {guess} ({format_probability(probs[guess])}; then {others})")
    return 2 if failures else 0


def _eval_my_digits(model, collection, as_json: bool) -> tuple[dict, object]:
    """Accuracy on the held-out part of the user's digits (honest: never trained on), and, set
    apart, on the training part (seen by models trained with ``--my-digits``). Returns the JSON
    results and the held-out :class:`EvalReport`."""
    from .core.evaluation import evaluate

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

    from .core.pendigits import pendigits_digits

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
    from .core import pendigits

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
        print(f"digitgui: warning: pendigits left out: {e}", file=sys.stderr)
        return None
    source = {"file": name, "packed": True}
    return source, points, labels, f"pendigits ({name}, packed copy, drawn with the app's pen)"


def _check_plot_path(path: Path) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(f"{path}: the folder {folder} does not exist")
    if path.is_dir():
        raise UsageError(f"{path}: is a folder; give a file name such as reliability.png")


def _write_plot(path: Path, panels: list) -> None:
    """The reliability diagrams as a PNG. Qt is imported here only, so that an ``eval`` without
    ``--plot`` never loads it."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        # No display to connect to: Qt would abort; the image needs none.
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from .gui.reliability_diagram import render_reliability_png

    try:
        render_reliability_png(panels, path)
    except OSError as e:
        raise UsageError(str(e)) from None


def _eval(args) -> int:
    from .core.data import load_digits_split
    from .core.evaluation import evaluate

    model = _load_model(args.model)
    my_digits = _open_my_digits(args)  # before the slow parts: a bad path fails at once
    if args.plot is not None:
        _check_plot_path(args.plot)
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
