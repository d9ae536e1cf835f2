"""``digitgui runs``: the runs kept by the app, ``compare`` and ``lesson``; their curves as CSV."""

from __future__ import annotations

import argparse
import csv
import io
import json
from pathlib import Path

from ._common import UsageError, add_data_dir_argument, format_table, open_run_store, percent

CURVES_FILE = "curves.csv"
SUMMARY_FILE = "runs.csv"


def add_parser(sub) -> None:
    r = sub.add_parser(
        "runs",
        help="list the saved training runs, or export their curves as CSV",
        description="List the training runs kept in the data folder's runs folder (by the app, "
        "digitgui compare and digitgui lesson), oldest first. What cannot be read is reported "
        "as a warning; a damaged runs file is copied aside, never overwritten.",
    )
    r.add_argument("--json", action="store_true", help="one JSON object per run")
    r.add_argument(
        "--export",
        type=Path,
        metavar="DIR",
        help=f"write the runs' curves to DIR/{CURVES_FILE} (a row per recorded iteration: "
        f"run_id, run_name, iteration, seconds, epoch, cost, val_cost, val_acc) and their "
        f"settings and results to DIR/{SUMMARY_FILE} (DIR is created if needed)",
    )
    add_data_dir_argument(r, "your saved runs (in its runs folder)")


def _summary_csv(runs) -> bytes:
    from ..core.training import TrainConfig

    fields = [f for f in TrainConfig.__dataclass_fields__ if f != "name"]
    head = ["run_id", "run_name", "created", "lesson", "outcome", "iterations_done", "seconds"]
    head += ["it_per_s", "train_acc", "val_acc", "test_acc", "handwriting_acc", "preset"]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(head + fields)
    for run in runs:
        config = run.config.to_dict()
        cells = [run.id, run.name, run.created, run.lesson, run.outcome, run.iterations_done]
        cells += [run.seconds, run.rate, run.train_acc, run.val_acc, run.test_acc]
        cells += [run.handwriting_acc, run.config.name]
        cells += [_cell(config[f]) for f in fields]
        w.writerow(["" if c is None else c for c in cells])
    return buf.getvalue().encode("utf-8")


def _cell(value):
    if isinstance(value, list | tuple):
        return "-".join(str(v) for v in value)
    return value


def _export(store, folder: Path) -> None:
    from ..core.atomic_file import write_atomically
    from ..core.runs import write_curves_csv

    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder}: is a file; give a folder to export into")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        curves = write_curves_csv(store.runs, folder / CURVES_FILE)
        summary = write_atomically(folder / SUMMARY_FILE, _summary_csv(store.runs))
    except OSError as e:
        raise UsageError(f"{folder}: cannot write the CSV files ({e.strerror or e})") from None
    n = len(store.runs)
    print(f"wrote the curves of {n} run{'s' * (n != 1)} to {curves} and their results to {summary}")


def _listing(runs) -> str:
    headers = ["id", "created", "name", "outcome", "iterations", "val", "test", "seconds", "it/s"]
    rows = [
        [
            run.id,
            run.created[:16].replace("T", " "),
            run.name,
            run.outcome.replace("_", " "),
            f"{run.iterations_done:,}",
            percent(run.val_acc),
            percent(run.test_acc),
            f"{run.seconds:.1f}",
            "-" if run.rate is None else f"{run.rate:,.0f}",
        ]
        for run in runs
    ]
    return format_table(headers, rows, "llllrrrrr")


def run(args: argparse.Namespace) -> int:
    store = open_run_store(args.data_dir)
    if args.export is not None:
        _export(store, args.export)
        return 0
    if args.json:
        for r in store.runs:
            obj = {**r.to_json(), "difference": r.difference, "history_rows": len(r.history)}
            obj["it_per_s"] = None if r.rate is None else round(r.rate, 1)
            print(json.dumps(obj))
        return 0
    if not store.runs:
        print(f"no saved runs in {store.folder}")
        return 0
    print(_listing(store.runs))
    return 0
