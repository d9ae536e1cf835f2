"""``digitgui compare``: train every combination of a few settings headless, one run after
another with the ``train`` command's loop, print a table (or a JSON object per run), and keep
the runs where the app's Runs view shows them."""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import sys
import types
import typing
from typing import Any

from ._common import (
    UsageError,
    add_data_dir_argument,
    format_table,
    json_number,
    non_negative_int,
    open_run_store,
    percent,
    positive_int,
)

#: Runs one comparison may start (the number of runs the app keeps: more would push out
#: this comparison's own first runs).
MAX_COMBINATIONS = 60

_BOOLS = {"on": True, "off": False, "true": True, "false": False, "yes": True, "no": False}
_BOOLS.update({"1": True, "0": False})

EPILOG = """\
--vary FIELD=V1,V2,...  (repeat it to vary several settings: every combination runs)
{fields}
  Values are separated by commas and read as the setting's type: whole numbers
  (iterations=500,2000), numbers (lr=0.001,1e-2), words (optimizer=gd,adam), on/off
  (early_stopping=on,off), hidden layer sizes joined by '-' or 'x' (hidden=32-32,64,128x64),
  and 'none' where a setting may be empty (clip=none,5; batch_size=none or full: the
  whole training set at once). A dash in FIELD may stand for its underscore (batch-size).

Each run is named by its varied values ("lr 0.1, hidden 64-32") and kept in the runs
folder of the data folder (the app's Runs view; at most 60 runs are kept, the oldest
go first) unless --no-save. A run that diverges is a result: the command exits 0 once
every run has ended, 2 on bad arguments.

example: digitgui compare --preset notebook --iterations 2000 --vary lr=0.001,0.01,0.1"""


def add_parser(sub) -> None:
    from ..core.training import PRESETS

    c = sub.add_parser(
        "compare",
        help="train every combination of a few settings headless and compare the runs",
        description="Train every combination of the --vary values headless, one run after "
        "another, and compare them.",
        epilog=EPILOG.format(fields=_wrapped_fields()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    c.add_argument("--preset", default="default", choices=sorted(PRESETS), help="starting point")
    c.add_argument(
        "--vary",
        action="append",
        required=True,
        metavar="FIELD=V1,V2,...",
        help="a setting and the values to try (see below)",
    )
    c.add_argument(
        "--iterations", type=positive_int, metavar="N", help="number of updates of every run"
    )
    c.add_argument("--seed", type=non_negative_int, metavar="S", help="random seed of every run")
    add_queue_arguments(c)


def add_queue_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of a command that trains a queue of runs (``compare``, ``lesson``)."""
    parser.add_argument(
        "--json",
        action="store_true",
        help="one JSON object per run as it ends (its config, outcome, final costs, accuracies, "
        "seconds, it/s) instead of the table",
    )
    parser.add_argument(
        "--no-save", action="store_true", help="do not keep the runs for the app's Runs view"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    add_data_dir_argument(parser, "your saved runs (in its runs folder) and digit collection")


def _wrapped_fields() -> str:
    import textwrap

    text = f"FIELD is a training setting: {', '.join(variable_fields())}."
    return textwrap.fill(text, width=86, initial_indent="  ", subsequent_indent="  ")


# --- --vary ---------------------------------------------------------------------------------------


def variable_fields() -> dict[str, Any]:
    """The TrainConfig settings ``--vary`` takes, with their types."""
    from ..core.training import TrainConfig

    hints = typing.get_type_hints(TrainConfig)
    return {f.name: hints[f.name] for f in dataclasses.fields(TrainConfig) if f.name != "name"}


def _read_value(field: str, kind: Any, text: str) -> Any:
    """``text`` as a value of ``field`` (of type ``kind``), or a one-line UsageError."""
    optional = isinstance(kind, types.UnionType) and type(None) in kind.__args__
    if optional:
        kind = next(a for a in kind.__args__ if a is not type(None))
    low = text.lower()
    if optional and (low == "none" or (field == "batch_size" and low == "full")):
        return None
    try:
        if kind is bool:
            return _BOOLS[low]
        if kind is int:
            return int(text)
        if kind is float:
            return float(text)
        if typing.get_origin(kind) is tuple:
            return _hidden(field, text)
        return text
    except (KeyError, ValueError):
        expected = {bool: "on or off", int: "a whole number", float: "a number"}.get(
            kind, "layer sizes joined by '-', such as 64-32"
        )
        if optional:
            expected += " or 'full'" if field == "batch_size" else " or 'none'"
        raise UsageError(f"--vary {field}={text}: expected {expected}") from None


def _hidden(field: str, text: str) -> tuple[int, ...]:
    """Hidden layer sizes, read as the app and ``train --hidden`` read them."""
    from ..core.training import parse_hidden

    try:
        return parse_hidden(text)
    except ValueError as e:
        # Commas separate the runs here: a run's own sizes are joined with '-'.
        message = str(e).replace("such as 32,32", "such as 64-32")
        raise UsageError(f"--vary {field}={text}: {message}") from None


def parse_vary(specs: list[str], base) -> list[tuple[str, list[Any]]]:
    """``FIELD=V1,V2,...`` specs as ``(field, values)``, each value checked on ``base``."""
    fields = variable_fields()
    varied: list[tuple[str, list[Any]]] = []
    for spec in specs:
        key, sep, values = spec.partition("=")
        field = key.strip().replace("-", "_")
        if not sep or not field:
            raise UsageError(f"--vary {spec}: expected FIELD=V1,V2,... such as lr=0.01,0.1")
        if field not in fields:
            raise UsageError(f"--vary: unknown setting {key.strip()!r}; known: {', '.join(fields)}")
        if any(field == f for f, _ in varied):
            raise UsageError(f"--vary: {field} is varied twice; give all its values at once")
        texts = [t.strip() for t in values.split(",")]
        if not all(texts):
            raise UsageError(f"--vary {field}: expected values separated by commas, got {values!r}")
        chosen: list[Any] = []
        for text in texts:
            value = _read_value(field, fields[field], text)
            try:
                dataclasses.replace(base, **{field: value})
            except ValueError as e:
                raise UsageError(f"--vary {field}={text}: {e}") from None
            if value not in chosen:
                chosen.append(value)
        varied.append((field, chosen))
    return varied


def format_value(field: str, value: Any) -> str:
    """A value as ``--vary`` writes it."""
    if value is None:
        return "full" if field == "batch_size" else "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, tuple):
        return "-".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def combinations(base, varied: list[tuple[str, list[Any]]]) -> list[tuple[str, Any, dict]]:
    """Every combination of the varied values: ``(run name, config, {field: value})``."""
    count = 1
    for _, values in varied:
        count *= len(values)
    if count > MAX_COMBINATIONS:
        raise UsageError(
            f"--vary: {count} combinations is too many for one comparison "
            f"(at most {MAX_COMBINATIONS})"
        )
    jobs = []
    names = [f for f, _ in varied]
    for values in itertools.product(*(v for _, v in varied)):
        changes = dict(zip(names, values, strict=True))
        name = ", ".join(f"{f} {format_value(f, v)}" for f, v in changes.items())
        try:
            config = dataclasses.replace(base, **changes)
        except ValueError as e:
            raise UsageError(f"--vary: the run '{name}' is not valid: {e}") from None
        jobs.append((name, config, changes))
    return jobs


def base_config(args):
    """The preset with ``--iterations`` and ``--seed``; the preset's name is kept, so a saved
    run says what it changed in the preset."""
    from ..core.training import PRESETS

    changes = {}
    for option in ("iterations", "seed"):
        value = getattr(args, option)
        if value is None:
            continue
        if any(spec.partition("=")[0].strip() == option for spec in args.vary):
            raise UsageError(f"--{option} and --vary {option}=... both set it; give one")
        changes[option] = value
    try:
        return dataclasses.replace(PRESETS[args.preset], **changes)
    except ValueError as e:
        raise UsageError(str(e)) from None


# --- running a queue ------------------------------------------------------------------------------


def run_queue(jobs, args, *, lesson: str = "", handwriting: bool = False) -> list:
    """Train ``jobs`` (``(name, config, varied settings)``) one after another with the
    ``train`` command's loop; each run is kept (unless ``--no-save``) and, with ``--json``,
    printed as it ends. Returns ``(Run, final record, varied)`` per job."""
    store = None
    if not args.no_save:
        store = open_run_store(args.data_dir)
        try:
            store.folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise UsageError(
                f"{store.folder}: cannot keep runs there ({e.strerror or e})"
            ) from None
    done = []
    for i, (name, config, varied) in enumerate(jobs, 1):
        run, final = _train_one(name, config, args, f"{i}/{len(jobs)} {name}", lesson)
        if handwriting and run.model is not None:
            from ..core.lessons import handwriting_accuracy

            run.handwriting_acc = handwriting_accuracy(run.model)
        if store is not None:
            try:
                store.add(run)
            except OSError as e:
                raise UsageError(
                    f"{store.folder}: cannot keep the run '{name}' ({e.strerror or e})"
                ) from None
        if args.json:
            print(json.dumps(run_json(run, final, varied, store is not None)), flush=True)
        done.append((run, final, varied))
    return done


def _train_one(name: str, config, args, desc: str, lesson: str):
    from ..core.runs import new_run
    from .train import run_training

    run = new_run(config, name, lesson=lesson)
    pending: list = []

    def keep(record, bar) -> None:
        if record.done:
            return
        pending.append(record)
        if len(pending) >= 500:
            run.record_progress(pending)
            pending.clear()

    final = run_training(config, quiet=args.quiet, desc=desc, each=keep)
    run.record_progress(pending)
    run.finish(final)
    return run, final


def run_json(run, final, varied: dict, saved: bool) -> dict:
    obj = {
        "name": run.name,
        "id": run.id if saved else None,
        "lesson": run.lesson or None,
        "varied": varied,
        "config": run.config.to_dict(),
        "outcome": run.outcome,
        "message": run.message,
        "iterations": run.iterations_done,
        "cost": json_number(final.cost),
        "val_cost": json_number(final.val_cost),
        "train_acc": run.train_acc,
        "val_acc": run.val_acc,
        "test_acc": run.test_acc,
        "seconds": round(run.seconds, 4),
        "it_per_s": None if run.rate is None else round(run.rate, 1),
    }
    if run.handwriting_acc is not None:
        obj["handwriting_acc"] = run.handwriting_acc
    if not run.lesson:
        del obj["lesson"]
    return obj


def results_table(done) -> str:
    headers = ["name", "outcome", "final cost", "train", "val", "test", "seconds", "it/s"]
    align = "llrrrrrr"
    hw = any(run.handwriting_acc is not None for run, _, _ in done)
    if hw:
        headers.insert(6, "handwriting")
        align += "r"
    rows = []
    for run, final, _ in done:
        row = [
            run.name,
            run.outcome.replace("_", " "),
            f"{final.cost:.4g}",
            percent(run.train_acc),
            percent(run.val_acc),
            percent(run.test_acc),
            f"{run.seconds:.1f}",
            "-" if run.rate is None else f"{run.rate:,.0f}",
        ]
        if hw:
            row.insert(6, percent(run.handwriting_acc))
        rows.append(row)
    return format_table(headers, rows, align)


def print_results(done, args) -> None:
    """The table of a finished queue, and where its runs were kept (not with ``--json``)."""
    if args.json:
        return
    print(results_table(done))
    if not args.no_save and done:
        from ._common import runs_folder

        print(f"runs kept in {runs_folder(args.data_dir)} (the app's Runs view shows them)")


def run(args: argparse.Namespace) -> int:
    base = base_config(args)
    jobs = combinations(base, parse_vary(args.vary, base))
    done = run_queue(jobs, args)
    print_results(done, args)
    sys.stdout.flush()
    return 0
