"""One network's run: the training loop and its pieces.

:func:`digitgui.core.training.train` prepares the data and drives :func:`run_network` once per
network (side by side for an ensemble). The loop is short; each concern it interleaves is a
small object here, testable alone: :class:`CopyStream` (distorted copies made between updates),
:class:`BatchSampler` (which rows an update sees), :class:`Step` (one update: backward pass,
optimizer, learning-rate schedule, update order), :class:`DivergenceGuard`,
:class:`EarlyStopping` and :class:`Evaluator`. :class:`Progress` is the record a run yields.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .data import one_hot
from .mlp import MLP, Workspace, feature_major
from .model_io import DigitClassifier
from .optim import make_optimizer

if TYPE_CHECKING:
    from .data import DigitsSplit
    from .training import TrainConfig, TrainingData

__all__ = [
    "SATURATED_COST",
    "BatchSampler",
    "CopyStream",
    "DivergenceGuard",
    "EarlyStopping",
    "Evaluator",
    "LiveRate",
    "Progress",
    "Step",
    "TrainingAccuracy",
    "copy_schedule",
    "run_network",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Progress:
    """One training iteration, as seen from outside. Immutable: safe to hand to another thread.

    ``cost`` is the training cost of this iteration's forward pass, before its update (the number
    the notebook prints). ``val_cost``/``val_acc`` are measured on the same weights, every
    ``eval_every`` iterations (None otherwise), and with them ``train_acc``, the training
    accuracy of :class:`TrainingAccuracy`. The final record has ``model`` (the trained
    classifier), ``outcome`` ("completed", "stopped", "early_stopped" or "diverged"), a
    ``message`` and the final ``train_acc``/``val_acc``/``test_acc`` (on every row of each set).
    """

    iteration: int
    iterations: int
    cost: float
    elapsed: float
    epoch: float
    val_cost: float | None = None
    val_acc: float | None = None
    #: A copy of the network at this iteration (only when ``snapshot_interval`` asked for it).
    snapshot: DigitClassifier | None = field(default=None, repr=False)
    model: DigitClassifier | None = field(default=None, repr=False)
    outcome: str | None = None
    message: str = ""
    train_acc: float | None = None
    test_acc: float | None = None
    #: The learning rate a user set while the run trained, on the iteration whose update first
    #: used it (None on every other record).
    lr_changed: float | None = None

    @property
    def done(self) -> bool:
        return self.model is not None

    @property
    def fraction(self) -> float:
        return self.iteration / self.iterations if self.iterations else 1.0


class Evaluator:
    """Cost and accuracy of weights on fixed rows, reusing one workspace."""

    def __init__(self, config: TrainConfig, Xb: np.ndarray, y: np.ndarray) -> None:
        self.ws = Workspace(config.layer_sizes, len(y), np.float64, config.activation)
        self.ws.set_input(Xb)
        # A read-only copy: the workspace keeps the cost's index into its output for it.
        self.y = np.array(y)
        self.y.flags.writeable = False

    def __call__(self, weights) -> tuple[float, float]:
        cost = self.ws.forward(weights, y_index=self.y)
        acc = float(np.mean(np.argmax(self.ws.output, axis=1) == self.y))
        return cost, acc


def accuracy(model: DigitClassifier, X: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.argmax(model.predict_proba(X), axis=1) == y))


def copy_schedule(config: TrainConfig, n_chunks: int) -> list[int]:
    """Chunk ``j`` of the distorted copies is made before the first update after
    ``due[j]`` updates: every ``config.copy_spacing`` updates, closer together when that would
    not finish within ``config.copy_span`` of the run, never before the first update."""
    if not n_chunks:
        return []
    spacing = config.copy_spacing or 0
    spacing = min(spacing, config.copy_span * config.iterations / n_chunks)
    return [max(1, int((j + 1) * spacing)) for j in range(n_chunks)]


class CopyStream:
    """Makes the chunks of distorted copies that are due before update ``it``."""

    def __init__(self, config: TrainConfig, data: TrainingData) -> None:
        self.copies = data.copies
        self.data = data
        self.due = copy_schedule(config, self.copies.n_chunks if self.copies else 0)
        self.made = 0
        self.ready = data.n_ready  # rows of data.Xb_train filled

    def before_update(self, it: int) -> int:
        """Make every chunk due before update ``it``; returns the rows ready."""
        while self.made < len(self.due) and it > self.due[self.made]:
            self.ready = self.copies.make(self.made, self.data)
            self.made += 1
        return self.ready


class Batch(NamedTuple):
    """The rows of one update: a workspace holding their inputs, their one-hot targets
    ``Y (rows, 10)`` (feature-major), their classes ``y (rows,)`` and the epoch reached. (A
    named tuple: one is made per update, and a frozen dataclass costs several times more.)"""

    ws: Workspace
    Y: np.ndarray
    y: np.ndarray
    epoch: float


class BatchSampler:
    """Full batch (every row, every update) or shuffled mini-batches. Each epoch shuffles the
    rows ready when it starts: ``order[:epoch_rows]`` is a permutation of them, the rows beyond
    are still in place, so a later epoch takes in newly made copies by extending the view."""

    def __init__(self, config: TrainConfig, data: TrainingData) -> None:
        self.config = config
        self.data = data
        n = len(data.y_train)  # rows once every copy is made
        self.Y = feature_major(one_hot(data.y_train, 10, np.float64))
        self.size = n if config.batch_size is None else min(config.batch_size, n)
        self.full_batch = self.size == n
        self._workspaces: dict[int, Workspace] = {}
        self._Y_rows: dict[int, np.ndarray] = {}
        if self.full_batch:
            self.workspace(n).set_input(data.Xb_train)
            # Every update's batch but its epoch: the same workspace, targets and classes (a
            # read-only copy, for which the workspace keeps the cost's index into its output).
            y = np.array(data.y_train)
            y.flags.writeable = False
            self._full = (self.workspace(n), self.Y, y)
        self.rng = np.random.default_rng([config.seed, 1])
        self.order = np.arange(n)
        self.epoch_rows = data.n_ready
        self.epoch_order = self.order[: self.epoch_rows]
        self.pos = self.epoch_rows  # forces a shuffle before the first mini-batch
        self.epochs_before = -1.0  # completed epochs before the current one

    def workspace(self, rows: int) -> Workspace:
        if rows not in self._workspaces:
            c = self.config
            self._workspaces[rows] = Workspace(c.layer_sizes, rows, np.float64, c.activation)
        return self._workspaces[rows]

    @property
    def rows_trained_on(self) -> int:
        """Rows the last epoch drew from: copies made after it began were never trained on."""
        return len(self.data.y_train) if self.full_batch else self.epoch_rows

    def next(self, it: int, ready: int) -> Batch:
        """The rows of update ``it``, with ``ready`` rows made so far."""
        if self.full_batch:
            return Batch(*self._full, float(it))
        if self.pos >= self.epoch_rows:
            if ready != self.epoch_rows:
                self.epoch_rows = ready
                self.epoch_order = self.order[:ready]
            self.rng.shuffle(self.epoch_order)
            self.pos = 0
            self.epochs_before += 1
        idx = self.epoch_order[self.pos : self.pos + self.size]
        self.pos += len(idx)
        ws = self.workspace(len(idx))
        ws.take_rows(self.data.Xb_train, idx)
        Y = self._Y_rows.setdefault(len(idx), np.empty((10, len(idx)), np.float64).T)
        np.take(self.Y.T, idx, axis=1, out=Y.T)
        epoch = self.epochs_before + self.pos / self.epoch_rows
        return Batch(ws, Y, self.data.y_train[idx], epoch)


class LiveRate:
    """A learning rate changed by the user while a run trains (the app's *Learning rate…*).

    :meth:`set` may be called from any thread; the training loop reads the new rate at the start
    of its next update (:class:`Step`) and the record of that iteration carries it as
    ``lr_changed``. With a cosine schedule the new rate replaces the schedule's starting rate.
    """

    def __init__(self) -> None:
        self._lr: float | None = None
        self.version = 0
        self._lock = threading.Lock()

    def set(self, lr: float) -> None:
        lr = float(lr)
        if not (math.isfinite(lr) and lr > 0):
            raise ValueError(f"the learning rate must be a positive number, got {lr!r}")
        with self._lock:
            self._lr = lr
            self.version += 1

    def read(self) -> tuple[int, float | None]:
        with self._lock:
            return self.version, self._lr


class Step:
    """One update of ``W`` from a batch whose forward pass is in its workspace: the backward
    pass and the optimizer, in the textbook order (every error from the weights of the forward
    pass, then all updates) or the notebook's (each layer updated before its error is sent
    back), with the learning rate of the schedule."""

    def __init__(
        self, config: TrainConfig, W: list[np.ndarray], live: LiveRate | None = None
    ) -> None:
        self.config = config
        self.W = W
        #: The rate the schedule starts from (the config's, until the user changes it).
        self.base_lr = config.lr
        self.live = live
        self._seen = 0
        #: The rate the user set, from the update that first used it until a record takes it.
        self.changed: float | None = None
        self.opt = make_optimizer(config.optimizer, W, config.lr, config.l2, config.momentum)
        self.grads = [np.empty_like(w) for w in W]
        self.cosine = config.lr_schedule == "cosine"
        self.notebook_order = config.update_order == "notebook"

    def __call__(self, it: int, batch: Batch) -> None:
        # A diverging run overflows to inf/NaN: the divergence guard says so in words.
        with np.errstate(over="ignore", invalid="ignore"):
            self.apply(it, batch)

    def apply(self, it: int, batch: Batch) -> None:
        """The update of :meth:`__call__`, for a caller that already silences NumPy's overflow
        and invalid-value warnings (:func:`run_network` runs it in a context that does)."""
        live = self.live
        if live is not None and live.version != self._seen:
            self._seen, lr = live.read()
            if lr is not None:
                self.base_lr = self.changed = self.opt.lr = lr
        if self.cosine:
            c = self.config
            self.opt.lr = self.base_lr * 0.5 * (1.0 + math.cos(math.pi * (it - 1) / c.iterations))
        if self.notebook_order:
            batch.ws.backward(self.W, batch.Y, self.grads, update=self.opt.update)
        else:
            batch.ws.backward(self.W, batch.Y, self.grads)
            self.opt.step(self.grads)


#: The notebook's cost of a confidently wrong answer, -log(1e-8): a cost near it means the
#: softmax is saturated on wrong classes (weights blown up by too large steps).
SATURATED_COST = -math.log(1e-8)


class TrainingAccuracy:
    """The training accuracy plotted beside validation accuracy, at no extra forward pass: the
    share of training rows read right by the forward passes since the previous check, before
    their updates (every batch of a mini-batch run, as Keras's "accuracy"; a full-batch run's
    own pass over all its rows at the check). Measuring all 1,257 rows at every check instead
    would cost a mini-batch run about a quarter of its speed."""

    def __init__(self, every_batch: bool) -> None:
        self.every_batch = every_batch
        self._right = 0
        self._seen = 0

    def observe(self, output: np.ndarray, y: np.ndarray, check: bool) -> float | None:
        """Count the batch whose softmax ``output`` was just computed for labels ``y``; at a
        ``check``, return the accuracy since the previous one and start counting again."""
        if self.every_batch or check:
            self._right += int(np.count_nonzero(np.argmax(output, axis=1) == y))
            self._seen += len(y)
        if not check:
            return None
        value = self._right / self._seen if self._seen else None
        self._right = self._seen = 0
        return value


class DivergenceGuard:
    """Keeps the newest weights known to give a finite cost; puts them back when the cost is
    not a finite number and says so in words. Also catches the run that blew up without
    overflowing: its outputs saturated (cost near :data:`SATURATED_COST`) and still reading at
    chance once a tenth of the run (at least 100 updates) is done, which a working run never is
    (the notebook preset starts saturated at 17.3 and is below 1 by update 300)."""

    def __init__(self, config: TrainConfig, W: list[np.ndarray]) -> None:
        self.lr = config.lr
        self.W = W
        self.last_good = [w.copy() for w in W]
        self.judge_from = max(100, config.iterations // 10)

    def check_learning(self, it: int, cost: float, val_acc: float | None) -> str | None:
        """At a validation measurement: the message when the run is stuck blown up, else None."""
        if val_acc is None or it < self.judge_from:
            return None
        if cost >= 0.75 * SATURATED_COST and val_acc < 0.2:
            return (
                f"Training diverged: at iteration {it:,} the network's outputs are saturated "
                f"(cost {cost:.1f}) and it reads {100 * val_acc:.0f}% of the validation digits, "
                f"about chance. The steps were too large: try a smaller learning rate than "
                f"{self.lr:g}."
            )
        return None

    def check(self, it: int, cost: float) -> str | None:
        """None while the cost is finite, else the message (and the good weights are back)."""
        if math.isfinite(cost):
            for w, good in zip(self.W, self.last_good, strict=True):
                np.copyto(good, w)
            return None
        for w, good in zip(self.W, self.last_good, strict=True):
            np.copyto(w, good)
        return (
            f"Training diverged at iteration {it:,}: the cost became {cost} (not a finite "
            f"number). Try a smaller learning rate than {self.lr:g}. The last weights "
            "with a finite cost were kept."
        )


class EarlyStopping:
    """Remembers the weights of the best validation cost; says stop after ``patience``
    measurements without improvement (never, unless ``config.early_stopping``)."""

    def __init__(self, config: TrainConfig) -> None:
        self.on = config.early_stopping
        self.patience = config.patience
        self.best: list[np.ndarray] | None = None
        self.best_cost = math.inf
        self.stale = 0

    def observe(self, val_cost: float, W: list[np.ndarray]) -> None:
        if not (self.on and math.isfinite(val_cost)):
            return
        if val_cost < self.best_cost:
            self.best_cost, self.stale = val_cost, 0
            self.best = [w.copy() for w in W]
        else:
            self.stale += 1

    @property
    def stop(self) -> bool:
        return self.on and self.stale >= self.patience

    def restore(self, W: list[np.ndarray]) -> None:
        if self.on and self.best is not None:
            for w, b in zip(W, self.best, strict=True):
                np.copyto(w, b)


def run_network(
    config: TrainConfig,
    split: DigitsSplit,
    data: TrainingData,
    t0: float,
    should_stop: Callable[[], bool] | None,
    snapshot_due: Callable[[], bool] | None,
    live: LiveRate | None = None,
) -> Iterator[Progress]:
    """One network trained as ``config`` says: a record per update, then the final one.
    ``live``: a learning rate the user may change while it trains."""
    W = MLP.create(config.layer_sizes, config.activation, config.init, config.seed).weights
    copies, sampler = CopyStream(config, data), BatchSampler(config, data)
    step, guard, early = Step(config, W, live), DivergenceGuard(config, W), EarlyStopping(config)
    evaluate_val = Evaluator(config, data.Xb_val, data.y_val)
    every, N = config.evaluation_interval(), config.iterations
    outcome, message, record = "completed", "", None
    # A diverging run overflows to inf/NaN, reported in words by the guard: NumPy's own warnings
    # would only be noise. They are silenced in a context of the run's own, which the passes
    # run in: cheaper than entering an np.errstate every update (that costs as much as several
    # of the update's array operations), and nothing changes for the caller between records.
    if int(np.__version__.split(".")[0]) >= 2:  # NumPy's error state is a context variable
        import contextvars

        silenced = contextvars.copy_context().run
        silenced(np.seterr, over="ignore", invalid="ignore")
    else:

        def silenced(f, *args):
            with np.errstate(over="ignore", invalid="ignore"):
                return f(*args)

    streamed = bool(copies.due)  # distorted copies made between updates
    train_acc = TrainingAccuracy(every_batch=config.batch_size is not None)
    for it in range(1, N + 1):
        batch = sampler.next(it, copies.before_update(it) if streamed else copies.ready)
        val_cost = val_acc = None
        check = it == 1 or it % every == 0 or it == N
        if check:
            val_cost, val_acc = silenced(evaluate_val, W)
            early.observe(val_cost, W)
        cost = silenced(batch.ws.forward, W, None, batch.y)
        right = train_acc.observe(batch.ws.output, batch.y, check)
        diverged = guard.check(it, cost)
        if diverged is None and val_acc is not None:
            diverged = guard.check_learning(it, cost, val_acc)
        if diverged is None:
            silenced(step.apply, it, batch)
        snapshot = classifier(W, config, data) if snapshot_due and snapshot_due() else None
        record = Progress(
            iteration=it,
            iterations=N,
            cost=cost,
            elapsed=time.perf_counter() - t0,
            epoch=batch.epoch,
            val_cost=val_cost,
            val_acc=val_acc,
            train_acc=right,
            snapshot=snapshot if diverged is None else None,
            lr_changed=step.changed,
        )
        step.changed = None
        if diverged is not None:
            outcome, message = "diverged", diverged
            break
        if early.on and early.stop:
            outcome = "early_stopped"
            message = (
                f"Stopped early at iteration {it:,}: validation cost has not improved for "
                f"{config.patience} measurements."
            )
            break
        if it == N:
            break
        if should_stop is not None and should_stop():
            outcome, message = "stopped", f"Stopped at iteration {it:,} of {N:,}."
            break
        yield record
    if outcome != "diverged":
        early.restore(W)
    assert record is not None
    yield final_record(config, split, data, W, record, outcome, message, sampler, t0)


def classifier(W: list[np.ndarray], config: TrainConfig, data: TrainingData) -> DigitClassifier:
    """A classifier holding a copy of the weights ``W``."""
    mlp = MLP([w.copy() for w in W], config.activation)
    return DigitClassifier(mlp, data.mean, data.scale, config.clip)


def final_record(
    config: TrainConfig,
    split: DigitsSplit,
    data: TrainingData,
    W: list[np.ndarray],
    record: Progress,
    outcome: str,
    message: str,
    sampler: BatchSampler,
    t0: float,
) -> Progress:
    """The last record of a run: its model with its provenance, and the final accuracies."""
    model = classifier(W, config, data)
    val_cost, val_acc = Evaluator(config, data.Xb_val, data.y_val)(W)
    train_acc = accuracy(model, split.X_train, split.y_train)
    test_acc = accuracy(model, split.X_test, split.y_test)
    model.metadata.update(
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        training=config.to_dict(),
        outcome=outcome,
        iterations_done=record.iteration,
        final_cost=record.cost if math.isfinite(record.cost) else None,
        accuracy={"train": train_acc, "val": val_acc, "test": test_acc},
        data={
            "source": "sklearn.datasets.load_digits",
            "split_seed": split.seed,
            "train_rows": data.n_original,
            "rows_trained_on": sampler.rows_trained_on,
        },
    )
    return dataclasses.replace(
        record,
        elapsed=time.perf_counter() - t0,
        val_cost=val_cost,
        val_acc=val_acc,
        model=model,
        outcome=outcome,
        message=message or f"Finished {record.iteration:,} iterations.",
        train_acc=train_acc,
        test_acc=test_acc,
    )
