"""``--my-digits``: the user's own digits, trained on (``train``) or measured (``eval``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ._common import UsageError, positive_int, warn

#: ``--my-digits`` given without a path: the collection in the data folder.
DEFAULT_COLLECTION = object()


def add_my_digits_arguments(parser: argparse.ArgumentParser, training: bool) -> None:
    what = (
        "also train on the training part of your own digits"
        if training
        else "also report accuracy on your own digits (the held-out part, never trained on)"
    )
    parser.add_argument(
        "--my-digits",
        nargs="?",
        const=DEFAULT_COLLECTION,
        type=Path,
        metavar="PATH",
        help=f"{what}; PATH is a collection file (default: my_digits.jsonl in the data folder)",
    )
    if training:
        from ..core.my_digits import DEFAULT_OVERSAMPLE

        parser.add_argument(
            "--my-digits-oversample",
            type=positive_int,
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


def open_my_digits(args):
    """The collection named by ``--my-digits`` (read only), or None when it was not asked for.
    Unreadable lines are reported as a warning; the readable digits are used."""
    from ..core.my_digits import CollectionFileError, DigitCollection, default_collection_path

    if args.my_digits is None:
        return None
    if args.my_digits is DEFAULT_COLLECTION:
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
        warn(collection.problem_message)
    return collection


def training_rows(collection, oversample: int):
    """The rows of the collection's training part to train on (``None`` if it has none yet)
    and how many digits they come from; says on stderr what is used."""
    n_mine = int(collection.counts("train").sum())
    if not n_mine:
        warn(
            f"none of your {len(collection)} digits is in the training part yet (about 1 in 5 "
            "is held out for testing); training on load_digits only"
        )
        return None, 0
    extra = collection.training_data(oversample)
    print(
        f"my digits: training on {n_mine} of your {len(collection)} digits "
        f"(x{oversample} = {len(extra[1])} rows); "
        f"{len(collection) - n_mine} held out for testing",
        file=sys.stderr,
    )
    return extra, n_mine


def summary(collection, model, n_trained: int, oversample: int) -> dict:
    """What a run did with the user's digits, and the accuracy on their held-out part."""
    from ..core.evaluation import evaluate

    report = evaluate(model, *collection.held_out_data())
    return {
        "file": str(collection.path),
        "digits": len(collection),
        "trained_on": n_trained,
        "oversample": oversample if n_trained else None,
        "held_out": report.n,
        "held_out_acc": report.accuracy if report.n else None,
    }


def summary_line(facts: dict) -> str:
    if not facts["held_out"]:
        return "my digits: none is held out yet, so there is no honest accuracy on them"
    correct = round(facts["held_out_acc"] * facts["held_out"])
    return (
        f"my digits: {correct} of {facts['held_out']} held-out digits read correctly "
        f"({100 * facts['held_out_acc']:.1f}%)"
    )
