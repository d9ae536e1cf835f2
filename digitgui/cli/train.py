"""``digitgui train``, and the training loop every headless command shares (:func:`run_training`):
``compare`` and ``lesson`` drive the same loop, one run after another."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable
from pathlib import Path

from . import _my_digits
from ._common import UsageError, check_writable, hidden_sizes, json_number, positive_float
from ._common import positive_int as _positive_int


def add_parser(sub) -> None:
    from ..core.training import PRESETS

    t = sub.add_parser("train", help="train a network headless")
    t.add_argument("--preset", default="default", choices=sorted(PRESETS), help="starting point")
    t.add_argument("--iterations", type=_positive_int, help="number of updates")
    t.add_argument("--lr", type=positive_float, help="learning rate")
    t.add_argument(
        "--hidden", type=hidden_sizes, help="hidden layer sizes, e.g. 32,32 (or 32-32, 32x32)"
    )
    t.add_argument("--seed", type=int, help="random seed (initialisation and shuffling)")
    t.add_argument("--activation", choices=["relu", "sigmoid"])
    t.add_argument("--init", choices=["he", "glorot", "notebook"])
    t.add_argument("--optimizer", choices=["gd", "momentum", "adam"])
    t.add_argument("--batch-size", type=int, help="rows per update (0: the whole training set)")
    t.add_argument("--update-order", choices=["backprop", "notebook"])
    t.add_argument("--l2", type=float, help="L2 weight decay strength")
    t.add_argument("--augment", type=int, help="distorted copies of each training digit")
    t.add_argument("--early-stopping", action="store_true", help="stop when validation stalls")
    t.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="any other training setting, e.g. --set patience=7 --set eval_every=50 (the "
        "fields and spellings of compare --vary; repeatable)",
    )
    t.add_argument("--log-every", type=_positive_int, default=None, help="log every K iterations")
    t.add_argument(
        "--json",
        action="store_true",
        help="one JSON object per logged iteration, then one for the run; their 'elapsed' is "
        "the seconds spent training, counted from the end of the first update (imports, "
        "loading and preparing the data and the first update's set-up are not counted; the "
        "run's object also counts the final accuracy measurements)",
    )
    t.add_argument(
        "--out",
        type=Path,
        help="save the trained model to this .npz file (its folder is checked before training)",
    )
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    _my_digits.add_my_digits_arguments(t, training=True)


# --- the shared loop ------------------------------------------------------------------------------


def run_training(
    config,
    *,
    extra_train=None,
    quiet: bool = False,
    desc: str | None = None,
    each: Callable | None = None,
):
    """Train ``config`` headless with :func:`digitgui.core.training.train` (the app's own
    generator), showing a progress bar on stderr unless ``quiet``; ``each(record, bar)`` is
    called for every progress record (``bar`` is None when quiet). Returns the final record
    (``.done``, with the model). Missing pendigits data for a handwriting run is a
    :class:`UsageError`, said before any training."""
    from ..core.pendigits import PendigitsResourceError
    from ..core.training import train

    _check_handwriting_data(config)
    bar = None
    if not quiet:
        from tqdm import tqdm

        bar = tqdm(
            total=config.iterations,
            unit="it",
            desc=desc or f"train {config.name}",
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
            if each is not None:
                each(record, bar)
    except PendigitsResourceError as e:
        raise UsageError(f"cannot train '{config.name}': {e}") from None
    finally:
        if bar is not None:
            bar.close()
    assert record is not None and record.done
    return record


def _check_handwriting_data(config) -> None:
    """A run that trains on pen drawings fails at once, in one sentence, without the packed
    pendigits; the first such run says it draws them (slow, once)."""
    if not config.handwriting:
        return
    from ..core.handwriting import is_cached
    from ..core.pendigits import PendigitsResourceError, load_packed_pendigits

    try:
        load_packed_pendigits("pendigits.tra")
    except PendigitsResourceError as e:
        raise UsageError(f"cannot train '{config.name}': {e}") from None
    if not is_cached(config.handwriting - 1):
        print(
            f"drawing the 7,494 pen trajectories of pendigits.tra {config.handwriting} times "
            "each as training digits (first run only, about 10-30 s)",
            file=sys.stderr,
        )


# --- the train command ----------------------------------------------------------------------------

#: ``train`` options that set a TrainConfig field of the same name.
_SAME_NAME_FIELDS = (
    "iterations",
    "lr",
    "hidden",
    "seed",
    "activation",
    "init",
    "optimizer",
    "update_order",
    "l2",
    "augment",
)


def config_from_args(args):
    from ..core.training import PRESETS

    changes = {f: getattr(args, f) for f in _SAME_NAME_FIELDS if getattr(args, f) is not None}
    if args.batch_size is not None:
        if args.batch_size < 0:
            raise UsageError("--batch-size must be 0 (whole training set) or positive")
        changes["batch_size"] = args.batch_size or None
    if args.early_stopping:
        changes["early_stopping"] = True
    base = PRESETS[args.preset]
    if args.set:
        from .compare import parse_vary

        for spec in args.set:
            if "," in spec.partition("=")[2]:
                raise UsageError(f"--set {spec}: one value only (hidden layers: --hidden 32,32)")
        for field, values in parse_vary(args.set, dataclasses.replace(base, **changes)):
            changes[field] = values[0]
    if changes:
        changes.setdefault("name", f"{args.preset} (modified)")
    try:
        return dataclasses.replace(base, **changes)
    except ValueError as e:
        raise UsageError(str(e)) from None


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    if args.out is not None:
        check_writable(args.out)
    my_digits = _my_digits.open_my_digits(args)
    extra_train, n_mine = None, 0  # n_mine: my digits trained on (before oversampling)
    if my_digits is not None:
        extra_train, n_mine = _my_digits.training_rows(my_digits, args.my_digits_oversample)
    log_every = args.log_every or max(1, config.iterations // 20)
    clock = TrainingClock()

    def log(record, bar) -> None:
        clock.see(record)
        if record.iteration % log_every == 0 or record.done:
            _log_iteration(record, args.json, bar, clock)

    record = run_training(config, extra_train=extra_train, quiet=args.quiet, each=log)
    final = {
        "outcome": record.outcome,
        "message": record.message,
        "iterations": record.iteration,
        "elapsed": clock.seconds(record),
        "train_acc": record.train_acc,
        "val_acc": record.val_acc,
        "test_acc": record.test_acc,
        "model": None,
    }
    if my_digits is not None:
        facts = _my_digits.summary(my_digits, record.model, n_mine, args.my_digits_oversample)
        final["my_digits"] = facts
        # The model file may be shared: it records the collection's name, not the user's folders.
        record.model.metadata["my_digits"] = {**facts, "file": my_digits.path.name}
    if args.out is not None:
        try:
            final["model"] = str(record.model.save(args.out))
        except OSError as e:
            raise UsageError(f"{args.out}: cannot save the model ({e.strerror or e})") from None
    _print_final(record, final, args.json)
    if record.outcome == "diverged":
        if not args.json:
            print(f"digitgui: {record.message}", file=sys.stderr)
        return 1
    return 0


class TrainingClock:
    """Seconds spent training, for ``--json``'s ``elapsed``.

    A record's own ``elapsed`` counts from the call of ``train()``, so it includes importing
    scikit-learn, loading and preparing the data (seconds on a cold start, and drawing the pen
    trajectories for a handwriting run) and the first update, which also sets up the network's
    work buffers. This clock starts when the first update ends: ``record.elapsed - first.elapsed``.
    The command line never pauses a run, so nothing else is left out.
    """

    def __init__(self) -> None:
        self.start: float | None = None

    def see(self, record) -> None:
        if self.start is None:
            self.start = record.elapsed

    def seconds(self, record) -> float:
        self.see(record)
        assert self.start is not None
        return round(max(0.0, record.elapsed - self.start), 4)


def _print_final(record, final: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(final), flush=True)
        return
    print(record.message)
    print(
        f"accuracy: train {record.train_acc:.4f}, validation {record.val_acc:.4f}, "
        f"test {record.test_acc:.4f}"
    )
    if "my_digits" in final:
        print(_my_digits.summary_line(final["my_digits"]))
    if final["model"]:
        print(f"model saved to {final['model']}")


def _log_iteration(record, as_json: bool, bar, clock: TrainingClock) -> None:
    if as_json:
        obj = {"iteration": record.iteration, "cost": json_number(record.cost)}
        if record.val_cost is not None:
            obj["val_cost"] = json_number(record.val_cost)
            obj["val_acc"] = record.val_acc
        obj["elapsed"] = clock.seconds(record)
        print(json.dumps(obj), flush=True)
    else:
        text = f"iter {record.iteration}: cost = {record.cost}"
        if record.val_acc is not None:
            text += f"  (validation accuracy {record.val_acc:.4f})"
        if bar is not None:
            bar.write(text)
        else:
            print(text, flush=True)
