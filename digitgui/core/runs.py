"""Training runs you keep: a record per run, and the folder that holds them.

A :class:`Run` is everything needed to compare one run with another after it ended: its
:class:`~digitgui.core.training.TrainConfig`, its :class:`RunHistory` (iteration, seconds of
training time, epoch, training cost, and validation cost and accuracy where they were measured),
learning-rate changes made while it trained, its outcome, final accuracies, speed, and its model.

:class:`RunStore` keeps runs in ``<data folder>/runs/``, with the same crash-safety as My digits:

- ``runs.json``: one entry per run (no history). Written atomically; a file that cannot be read
  in full is copied aside (``runs.json.damaged-<time>``) before anything rewrites it, and the
  problem is reported in :attr:`RunStore.problems`.
- ``<id>.history.npz``: the run's curves (plain arrays, read with ``allow_pickle=False``).
- ``<id>.model.npz``: the run's network, an ordinary model file (:mod:`digitgui.core.model_io`),
  so it can be opened with File > Open or ``digitgui predict --model``.

At most :data:`MAX_RUNS` runs are kept: adding one more deletes the oldest. Qt-free: the app and
the ``digitgui compare``/``runs`` commands share it.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import os
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from .atomic_file import keep_aside, write_atomically
from .model_io import DigitClassifier, ModelFileError
from .run_history import HISTORY_COLUMNS, RunHistory, recent_rate
from .training import PRESETS, TrainConfig

__all__ = [
    "HISTORY_COLUMNS",
    "MAX_RUNS",
    "OUTCOMES",
    "Run",
    "RunHistory",
    "RunStore",
    "default_runs_dir",
    "describe_difference",
    "new_run",
    "recent_rate",
    "write_curves_csv",
]

FORMAT_NAME = "digitgui-runs"
FORMAT_VERSION = 1
INDEX_FILE = "runs.json"
RUNS_DIR_NAME = "runs"
#: Runs kept in the folder; adding one more deletes the oldest (with its files).
MAX_RUNS = 60
#: What a run's end can be ("running" only while it trains).
OUTCOMES = ("running", "completed", "early_stopped", "stopped", "diverged", "failed")

#: How each training setting is written in "what differs from its preset".
_FIELD_LABELS = {
    "hidden": "hidden",
    "activation": "act.",
    "init": "init",
    "optimizer": "opt.",
    "lr": "lr",
    "momentum": "momentum",
    "iterations": "iters",
    "batch_size": "batch",
    "l2": "L2",
    "seed": "seed",
    "update_order": "order",
    "early_stopping": "early stop",
    "lr_schedule": "schedule",
    "copy_spacing": "copy spacing",
    "copy_span": "copy span",
    "augment": "copies",
    "clip": "clip",
    "handwriting": "handwriting",
    "members": "networks",
    "calibrate": "calibrate",
}


#: Settings that do not change what is learned (how often it is measured), left out of the
#: difference.
_NOT_KNOBS = ("name", "eval_every", "patience")


def _format_value(name: str, value: Any) -> str:
    if name == "hidden":
        return "-".join(str(h) for h in value)
    if name == "batch_size":
        return "full" if value is None else str(value)
    if name == "iterations":
        return f"{value:,}"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def describe_difference(config: TrainConfig) -> str:
    """What ``config`` changes in the preset it was made from (``config.name``; the ``default``
    preset if the name is not a preset), e.g. ``"lr 0.1, init he"``; ``""`` if nothing."""
    base = PRESETS.get(config.name, PRESETS["default"])
    parts = []
    for f in dataclasses.fields(TrainConfig):
        if f.name in _NOT_KNOBS:
            continue
        value = getattr(config, f.name)
        if value != getattr(base, f.name):
            parts.append(f"{_FIELD_LABELS.get(f.name, f.name)} {_format_value(f.name, value)}")
    return ", ".join(parts)


@dataclass(eq=False)
class Run:
    """One training run (see the module's docstring). ``model`` is loaded on demand by the
    store (:meth:`RunStore.model`); ``lr_changes`` lists ``(iteration, new learning rate)``."""

    id: str
    name: str
    config: TrainConfig
    created: str
    history: RunHistory = field(default_factory=RunHistory)
    outcome: str = "running"
    message: str = ""
    train_acc: float | None = None
    val_acc: float | None = None
    test_acc: float | None = None
    #: Accuracy on real handwriting (a fixed sample of pendigits.tes drawn with the app's pen),
    #: when the run was evaluated on it.
    handwriting_acc: float | None = None
    #: Seconds of training (from the end of the first update, pauses excluded) and iterations
    #: done.
    seconds: float = 0.0
    iterations_done: int = 0
    lr_changes: list[tuple[int, float]] = field(default_factory=list)
    #: The lesson that started it (its key), if any.
    lesson: str = ""
    #: A stable colour slot for the run's curves.
    color: int = 0
    model: DigitClassifier | None = field(default=None, repr=False)

    @property
    def finished(self) -> bool:
        return self.outcome != "running"

    @property
    def rate(self) -> float | None:
        """Iterations per second of training time (None before two records)."""
        if self.seconds > 0 and self.iterations_done > 0:
            return self.iterations_done / self.seconds
        return None

    @property
    def difference(self) -> str:
        return describe_difference(self.config)

    def record_progress(self, records: Sequence, paused_seconds: float = 0.0) -> None:
        """Take a batch of progress records from the training generator."""
        self.history.add_records(records, paused_seconds)
        last = next((r for r in reversed(records) if not r.done), None)
        if last is not None:
            self.iterations_done = last.iteration
            self.seconds = max(0.0, last.elapsed - paused_seconds - (self.history.start or 0.0))
        for r in records:
            lr = getattr(r, "lr_changed", None)
            if lr is not None:
                self.lr_changes.append((r.iteration, float(lr)))

    def finish(self, final, paused_seconds: float = 0.0) -> None:
        """Take the final record (``final.done``) of the run."""
        self.outcome = final.outcome or "completed"
        self.message = final.message
        self.train_acc, self.val_acc, self.test_acc = final.train_acc, final.val_acc, final.test_acc
        self.iterations_done = final.iteration
        if self.seconds <= 0:
            start = self.history.start or 0.0
            self.seconds = max(0.0, final.elapsed - paused_seconds - start)
        h = self.history
        if not len(h) or h.column("iteration")[-1] < final.iteration:
            # The last update's cost travels in the final record. Its time includes the final
            # accuracy measurements, so the row keeps the training time of the row before.
            h.append(
                final.iteration,
                self.seconds,
                final.epoch,
                final.cost,
                final.val_cost,
                final.val_acc,
                final.train_acc,  # the final network's, on every training row
            )
        if self.outcome != "diverged":
            self.model = final.model

    def fail(self, message: str) -> None:
        self.outcome, self.message = "failed", message

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "config": self.config.to_dict(),
            "created": self.created,
            "outcome": self.outcome,
            "message": self.message,
            "train_acc": self.train_acc,
            "val_acc": self.val_acc,
            "test_acc": self.test_acc,
            "handwriting_acc": self.handwriting_acc,
            "seconds": self.seconds,
            "iterations_done": self.iterations_done,
            "lr_changes": [list(c) for c in self.lr_changes],
            "lesson": self.lesson,
            "color": self.color,
        }

    @classmethod
    def from_json(cls, obj: Any) -> Run:
        """Inverse of :meth:`to_json` (without history or model); ``ValueError`` says what is
        wrong with ``obj``."""
        if not isinstance(obj, dict):
            raise ValueError("a run is not a JSON object")
        try:
            run_id = obj["id"]
            if not isinstance(run_id, str) or not _valid_id(run_id):
                raise ValueError(f"bad run id {run_id!r}")
            config = TrainConfig.from_dict(obj["config"])
            outcome = obj.get("outcome", "failed")
            if outcome not in OUTCOMES:
                raise ValueError(f"unknown outcome {outcome!r}")
            changes = [(int(i), float(lr)) for i, lr in obj.get("lr_changes", [])]
            return cls(
                id=run_id,
                name=str(obj.get("name", run_id)),
                config=config,
                created=str(obj.get("created", "")),
                outcome=outcome,
                message=str(obj.get("message", "")),
                train_acc=_opt_float(obj.get("train_acc")),
                val_acc=_opt_float(obj.get("val_acc")),
                test_acc=_opt_float(obj.get("test_acc")),
                handwriting_acc=_opt_float(obj.get("handwriting_acc")),
                seconds=float(obj.get("seconds", 0.0)),
                iterations_done=int(obj.get("iterations_done", 0)),
                lr_changes=changes,
                lesson=str(obj.get("lesson", "")),
                color=int(obj.get("color", 0)),
            )
        except (KeyError, TypeError, AttributeError) as e:
            raise ValueError(f"a run entry is incomplete or malformed ({e})") from None


def _opt_float(v: Any) -> float | None:
    return None if v is None else float(v)


def _keep_aside_once(path: Path, raw: bytes) -> Path:
    """:func:`keep_aside`, unless a copy with these very bytes was kept already (a damaged
    index is read again at every start and by every ``digitgui runs`` until it is rewritten)."""
    for old in sorted(path.parent.glob(path.name + ".damaged-*")):
        try:
            if old.stat().st_size == len(raw) and old.read_bytes() == raw:
                return old
        except OSError:
            continue
    return keep_aside(path, raw)


def _valid_id(run_id: str) -> bool:
    return 0 < len(run_id) <= 64 and all(c.isalnum() or c in "-_" for c in run_id)


def new_run(config: TrainConfig, name: str | None = None, *, lesson: str = "") -> Run:
    """A fresh record for a run about to start: a unique id, and ``name`` (default: the preset's
    name and what differs from it)."""
    now = datetime.now(UTC)
    run_id = now.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
    if name is None:
        diff = describe_difference(config)
        name = config.name + (f" ({diff})" if diff else "")
    return Run(
        id=run_id,
        name=name,
        config=config,
        created=now.isoformat(timespec="seconds"),
        lesson=lesson,
    )


def default_runs_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """``<data folder>/runs``: the My digits folder (``--data-dir``, ``DIGITGUI_DATA_DIR`` or
    the user data folder)."""
    from .my_digits import default_data_dir

    base = Path(data_dir) if data_dir is not None else default_data_dir()
    return base / RUNS_DIR_NAME


def write_curves_csv(runs: Sequence[Run], path: str | os.PathLike) -> Path:
    """The curves of ``runs`` in one CSV file (a row per recorded iteration, long format:
    ``run_id, run_name`` then :data:`HISTORY_COLUMNS`), written atomically."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["run_id", "run_name", *HISTORY_COLUMNS])
    for run in runs:
        for row in run.history.array:
            cells = []
            for name, v in zip(HISTORY_COLUMNS, row, strict=True):
                if math.isnan(v):
                    cells.append("")
                elif name == "iteration":
                    cells.append(str(int(v)))
                else:
                    cells.append(repr(float(v)))
            w.writerow([run.id, run.name, *cells])
    path = Path(path)
    return write_atomically(path, buf.getvalue().encode("utf-8"))


class RunStore:
    """The runs kept in ``folder`` (created when first written). :attr:`runs` oldest first;
    :attr:`problems` lists, in one sentence each, what could not be read and where the damaged
    file was copied."""

    def __init__(self, folder: str | os.PathLike, max_runs: int = MAX_RUNS) -> None:
        self.folder = Path(folder)
        self.max_runs = max(1, int(max_runs))
        self.runs: list[Run] = []
        self.problems: list[str] = []
        #: Runs deleted here: never merged back from an index written before the delete.
        self._deleted: set[str] = set()
        self._load()

    @property
    def index_path(self) -> Path:
        return self.folder / INDEX_FILE

    def _history_path(self, run_id: str) -> Path:
        return self.folder / f"{run_id}.history.npz"

    def model_path(self, run: Run) -> Path:
        return self.folder / f"{run.id}.model.npz"

    # reading --------------------------------------------------------------------------------------

    def _load(self) -> None:
        path = self.index_path
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as e:
            self.problems.append(f"{path}: cannot be read ({e.strerror or e}); no runs restored")
            return
        entries, bad = self._parse(raw)
        if bad:
            aside = _keep_aside_once(path, raw)
            self.problems.append(f"{path}: {bad}; a copy of the file was kept as {aside.name}")
        for obj in entries:
            try:
                run = Run.from_json(obj)
            except ValueError as e:
                if not bad:  # one copy of the file is enough
                    aside = _keep_aside_once(path, raw)
                    bad = str(e)
                    self.problems.append(
                        f"{path}: a run could not be read ({e}); a copy of the file was kept as "
                        f"{aside.name}"
                    )
                continue
            run.history = self._read_history(run)
            self.runs.append(run)

    @staticmethod
    def _parse(raw: bytes) -> tuple[list, str]:
        """The run entries of an index file, and what is wrong with it ("" if nothing)."""
        try:
            doc = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            return [], f"not a readable runs file ({e})"
        if not isinstance(doc, dict) or doc.get("format") != FORMAT_NAME:
            return [], "not a digitgui runs file"
        if doc.get("version") != FORMAT_VERSION:
            return [], f"runs file version {doc.get('version')!r} is not supported"
        entries = doc.get("runs")
        if not isinstance(entries, list):
            return [], "the runs file has no list of runs"
        return entries, ""

    def _read_history(self, run: Run) -> RunHistory:
        path = self._history_path(run.id)
        try:
            with np.load(path, allow_pickle=False) as z:
                return RunHistory.from_array(z["history"])
        except FileNotFoundError:
            if run.iterations_done:
                self.problems.append(f"{run.name}: its curves ({path.name}) are missing")
        except Exception as e:  # any damage: say so, keep the run without curves
            self.problems.append(f"{run.name}: its curves ({path.name}) cannot be read ({e})")
        return RunHistory()

    def model(self, run: Run) -> DigitClassifier:
        """The run's network (loaded from its model file once); :class:`ModelFileError` says
        why it is not available."""
        if run.model is None:
            if run.outcome == "diverged":
                raise ModelFileError(f"{run.name}: the run diverged; its network is not usable")
            path = self.model_path(run)
            if not path.exists():
                raise ModelFileError(f"{run.name}: its network's file ({path.name}) is missing")
            run.model = DigitClassifier.load(path)
        return run.model

    def find(self, run_id: str) -> Run | None:
        return next((r for r in self.runs if r.id == run_id), None)

    # writing --------------------------------------------------------------------------------------

    def add(self, run: Run) -> list[Run]:
        """Keep a finished ``run`` (its history, model and index entry); returns the runs the
        bound removed to make room."""
        if run.outcome == "running":
            raise ValueError("a run is kept when it has ended")
        self.folder.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        np.savez_compressed(buf, history=run.history.array)
        write_atomically(self._history_path(run.id), buf.getvalue())
        if run.model is not None and run.outcome != "diverged":
            run.model.save(self.model_path(run))
        if self.find(run.id) is None:
            if not run.color:
                run.color = max((r.color for r in self.runs), default=0) + 1
            self.runs.append(run)
        removed = self.runs[: max(0, len(self.runs) - self.max_runs)]
        if removed:
            self.runs = self.runs[len(removed) :]
            self._deleted.update(r.id for r in removed)
        self._write_index()
        for r in removed:
            self._remove_files(r)
        return removed

    def save(self, run: Run) -> None:
        """Rewrite the index after a change to a kept run (a new name, say)."""
        if self.find(run.id) is None:
            raise ValueError(f"{run.name}: not a kept run")
        self._write_index()

    def rename(self, run: Run, name: str) -> None:
        name = " ".join(str(name).split())
        if not name:
            raise ValueError("a run's name cannot be empty")
        run.name = name[:120]
        if self.find(run.id) is not None:
            self._write_index()

    def delete(self, runs: Iterable[Run]) -> int:
        """Delete runs and their files; returns how many were deleted."""
        ids = {r.id for r in runs}
        gone = [r for r in self.runs if r.id in ids]
        if not gone:
            return 0
        self.runs = [r for r in self.runs if r.id not in ids]
        self._deleted.update(ids)
        self._write_index()
        for r in gone:
            self._remove_files(r)
        return len(gone)

    def _remove_files(self, run: Run) -> None:
        for p in (self._history_path(run.id), self.model_path(run)):
            p.unlink(missing_ok=True)

    def _write_index(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        # An index some other process changed meanwhile: keep the runs it added.
        path = self.index_path
        try:
            entries, bad = self._parse(path.read_bytes())
        except OSError:
            entries, bad = [], ""
        known = {r.id for r in self.runs} | self._deleted
        if not bad:
            for obj in entries:
                if isinstance(obj, dict) and obj.get("id") not in known:
                    try:
                        other = Run.from_json(obj)
                    except ValueError:
                        continue
                    if self._history_path(other.id).exists():
                        other.history = self._read_history(other)
                        self.runs.append(other)
                        known.add(other.id)
            self.runs.sort(key=lambda r: r.created)
        doc = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "runs": [r.to_json() for r in self.runs],
        }
        write_atomically(path, (json.dumps(doc, indent=1) + "\n").encode("utf-8"))
