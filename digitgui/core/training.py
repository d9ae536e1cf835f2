"""Training as a generator of progress records.

``train(config)`` yields one immutable :class:`Progress` per update step; the last record carries
the trained :class:`~digitgui.core.model_io.DigitClassifier` as ``.model``. The command line, the
scripts, the tests and the GUI's worker thread all drive this same generator; fitting is simply::

    for record in train(PRESETS["default"]):
        pass
    model = record.model

Stopping is cooperative: pass ``should_stop`` (e.g. ``threading.Event().is_set``) and the run ends
after the current iteration with a final record whose ``outcome`` is ``"stopped"``.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import numbers
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .data import DigitsSplit, load_digits_split
from .ensemble_training import (  # noqa: F401 - the constants stay importable from here
    NOT_SURE_MAX_CORRECT,
    NOT_SURE_MISREAD_CAUGHT,
    finish_run,
    lockstep,
    snapshot_clock,
)
from .mlp import ACTIVATIONS, INITS, X_bias, feature_major
from .optim import OPTIMIZERS
from .training_loop import LiveRate, Progress, run_network

if TYPE_CHECKING:
    from .augment import Distortions
    from .preprocess import Reduction

__all__ = [
    "NOTEBOOK_ORDER_EXPLANATION",
    "PRESETS",
    "DistortedCopies",
    "LiveRate",
    "Progress",
    "TrainConfig",
    "TrainingData",
    "parse_hidden",
    "prepare_data",
    "train",
]

UPDATE_ORDERS = ("backprop", "notebook")
LR_SCHEDULES = ("constant", "cosine")
#: Largest ``TrainConfig.handwriting`` (one plain drawing and up to 7 varied ones).
MAX_HANDWRITING = 8
#: Largest ``TrainConfig.members``.
MAX_MEMBERS = 8
#: Fraction of pendigits.tra's trajectories never trained on: the held-out drawings that
#: calibrate the model and choose settings. Always the same rows (a fixed permutation), so runs
#: with different seeds are measured on the same drawings.
HANDWRITING_HOLDOUT = 0.15

#: Source digits per chunk of distorted copies: one geometry's group (``Distortions.group``).
COPY_CHUNK = 32

#: Shown by the app and the README next to the notebook preset.
NOTEBOOK_ORDER_EXPLANATION = (
    "The notebook updates W3 before it uses W3 to send the error back to layer 2 (and W2 before "
    "layer 1), so the hidden layers learn from weights that have already moved: that is not "
    "quite the gradient of the cost. Textbook backpropagation computes every error with the "
    "weights of the forward pass and only then updates. The notebook preset keeps the notebook's "
    "order so that its printed costs are reproduced exactly. With the textbook order and "
    "everything else equal, 20,000 iterations end at cost 0.000200 and 87.4% validation accuracy "
    "(the notebook's order: 0.000178 and 86.3%); the small learning rate keeps the two close. "
    "What holds both back is the start: randn weights with standard deviation 1. The default "
    "preset (He initialisation, Adam, mini-batches) passes 97% in well under a second."
)


#: Largest ``TrainConfig.augment``: 50 copies of the 1,257 training digits are ~34 MB of inputs
#: (100,000 would be 60 GB).
MAX_AUGMENT = 50
#: Largest network (weights and biases): ~20 M float64 numbers, with Adam's two moments
#: about 0.5 GB.
MAX_WEIGHTS = 20_000_000


def _whole(v: object) -> bool:
    """A whole number (an int or NumPy integer, not a bool)."""
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run. Change one field with ``dataclasses.replace``."""

    name: str = "custom"
    hidden: tuple[int, ...] = (32, 32)
    activation: str = "relu"
    init: str = "he"
    optimizer: str = "adam"
    lr: float = 0.01
    momentum: float = 0.9
    #: Number of updates (mini-batch steps, or full-batch steps when ``batch_size`` is None).
    iterations: int = 1000
    #: Rows per update; None trains on the whole training set at once (the notebook).
    batch_size: int | None = None
    l2: float = 0.0
    seed: int = 42
    #: "backprop" (textbook) or "notebook" (each layer updated before the error passes through it).
    update_order: str = "backprop"
    early_stopping: bool = False
    #: Validation measurements without improvement before early stopping ends the run.
    patience: int = 10
    #: Measure validation cost and accuracy every this many iterations (None: ~200 per run).
    eval_every: int | None = None
    #: "constant", or "cosine": the learning rate falls from ``lr`` to 0 along half a cosine
    #: over the run (small steps at the end settle each network instead of leaving it wherever
    #: the last mini-batch pushed it).
    lr_schedule: str = "constant"
    #: A mini-batch run with distorted copies makes them between updates, a chunk of
    #: COPY_CHUNK every ``copy_spacing`` updates (0: all right after the first update). On the
    #: default preset (docs/reduction.md) validation accuracy reaches 97% after 30-110 updates,
    #: when 3-13 of its 79 chunks are made; pendigits.tra scores as with 4 or 16, or all first.
    copy_spacing: int = 8
    #: At most this fraction of a run's updates passes before every copy is made (short runs).
    copy_span: float = 0.5
    #: Distorted copies of each training digit added to the training rows (0: none).
    augment: int = 0
    #: Bound for standardised inputs (None: no clipping, as in the notebook).
    clip: float | None = None
    #: Drawings of each pendigits.tra pen trajectory added to the training rows, drawn with the
    #: canvas's own pen (0: none; 1: one plain drawing; 1 + k: and k varied ones). A fixed
    #: 15% of the trajectories is held out of training to calibrate and to choose settings.
    handwriting: int = 0
    #: Networks trained side by side from seeds ``seed, seed + 1, ...``; the model's answer is
    #: the mean of their probabilities.
    members: int = 1
    #: After training, fit the temperature and the "not sure" threshold on held-out drawings.
    calibrate: bool = False

    def __post_init__(self) -> None:
        hidden = self.hidden
        if isinstance(hidden, str) or not all(_whole(h) for h in hidden):
            # "32" would otherwise become (3, 2), and 32.5 would silently become 32.
            raise ValueError(
                f"hidden must be whole layer sizes such as (32, 32), got {self.hidden!r}"
            )
        object.__setattr__(self, "hidden", tuple(int(h) for h in hidden))
        problems = [message for ok, message in self._checks() if not ok]
        if problems:
            raise ValueError("; ".join(problems))

    def _checks(self) -> list[tuple[bool, str]]:
        """Each setting's check and the sentence that explains a failed one."""
        h, whole = self.hidden, _whole
        sizes = (64, *h, 10)
        weights = sum((a + 1) * b for a, b in itertools.pairwise(sizes))
        return [
            (
                weights <= MAX_WEIGHTS,
                f"a network of {weights:,} weights is too large (at most {MAX_WEIGHTS:,})",
            ),
            (whole(self.seed) and self.seed >= 0, "seed must be a whole number, 0 or more"),
            (
                whole(self.augment) and 0 <= self.augment <= MAX_AUGMENT,
                f"augment must be a whole number of copies from 0 to {MAX_AUGMENT}",
            ),
            (whole(self.patience), "patience must be a whole number"),
            (
                bool(h) and all(v >= 1 for v in h),
                "hidden layer sizes must be positive integers, e.g. 32,32",
            ),
            (all(v <= 4096 for v in h), "hidden layers larger than 4096 units are not supported"),
            (self.activation in ACTIVATIONS, f"activation must be one of {', '.join(ACTIVATIONS)}"),
            (self.init in INITS, f"init must be one of {', '.join(INITS)}"),
            (self.optimizer in OPTIMIZERS, f"optimizer must be one of {', '.join(OPTIMIZERS)}"),
            (
                isinstance(self.lr, (int, float))
                and not isinstance(self.lr, bool)
                and math.isfinite(self.lr)
                and self.lr > 0,
                "learning rate must be a positive number",
            ),
            (0 <= self.momentum < 1, "momentum must lie in [0, 1)"),
            (
                whole(self.iterations) and self.iterations >= 1,
                "iterations must be a positive integer",
            ),
            (
                self.batch_size is None or (whole(self.batch_size) and self.batch_size >= 1),
                "batch size must be a positive integer (or empty for full batch)",
            ),
            (math.isfinite(self.l2) and self.l2 >= 0, "L2 strength must be >= 0"),
            (
                self.update_order in UPDATE_ORDERS,
                f"update order must be one of {', '.join(UPDATE_ORDERS)}",
            ),
            (self.patience >= 1, "patience must be at least 1"),
            (
                self.eval_every is None or (whole(self.eval_every) and self.eval_every >= 1),
                "eval_every must be a positive integer",
            ),
            (self.clip is None or self.clip > 0, "clip must be a positive number (or None)"),
            (
                whole(self.handwriting) and 0 <= self.handwriting <= MAX_HANDWRITING,
                f"handwriting must be a whole number of drawings from 0 to {MAX_HANDWRITING}",
            ),
            (
                whole(self.copy_spacing) and self.copy_spacing >= 0,
                "copy_spacing must be a whole number of updates, 0 or more",
            ),
            (0 < self.copy_span <= 1, "copy_span must be a fraction of the run in (0, 1]"),
            (
                self.lr_schedule in LR_SCHEDULES,
                f"lr_schedule must be one of {', '.join(LR_SCHEDULES)}",
            ),
            (
                whole(self.members) and 1 <= self.members <= MAX_MEMBERS,
                f"members must be a whole number of networks from 1 to {MAX_MEMBERS}",
            ),
        ]

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        return (64, *self.hidden, 10)

    def evaluation_interval(self) -> int:
        return self.eval_every or max(1, self.iterations // 200)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`to_dict`; unknown keys are ignored (settings from newer versions)."""
        names = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in d.items() if k in names}
        if "hidden" in kwargs:
            kwargs["hidden"] = tuple(kwargs["hidden"])
        return cls(**kwargs)


#: What may stand between two hidden layer sizes: ``32,32``, ``32-32`` and ``32x32`` are alike.
_HIDDEN_SEPARATOR = re.compile(r"\s*[,xX-]\s*")


def parse_hidden(text: str) -> tuple[int, ...]:
    """Hidden layer sizes typed by a user: ``"32,32"``, ``"32-32"`` and ``"32x32"`` are
    ``(32, 32)``; ``"64"`` is one layer. Anything else raises ``ValueError`` with a sentence that
    says what is wrong: an empty field, a missing size (``"32,"``), something that is not a whole
    number (``"a"``, ``"-5"``), a layer of 0 units, or a network :class:`TrainConfig` refuses
    (its limits on a layer's width and on the number of weights). The command line
    (``--hidden``, ``compare --vary hidden=``) and the app's training panel all read the field
    with this one function."""
    if not isinstance(text, str):
        raise ValueError(f"hidden layer sizes must be text such as 32,32, got {text!r}")
    stripped = text.strip()
    if not stripped:
        raise ValueError("enter the hidden layer sizes, such as 32,32 (two layers of 32 units)")
    if re.search(r"(?:^|[,xX-])\s*-\s*[0-9]", stripped):
        raise ValueError(f"hidden layer sizes must be positive whole numbers; got {text!r}")
    parts = _HIDDEN_SEPARATOR.split(stripped)
    if "" in parts:
        raise ValueError(
            f"hidden layer sizes need a number on both sides of every separator, such as 32,32; "
            f"got {text!r}"
        )
    if not all(p.isascii() and p.isdigit() for p in parts):
        raise ValueError(f"hidden layer sizes must be whole numbers, such as 32,32; got {text!r}")
    huge = next((p for p in parts if len(p.lstrip("0")) > 6), None)
    if huge is not None:
        raise ValueError(f"a hidden layer of {huge} units is far too large")
    sizes = tuple(int(p) for p in parts)
    if min(sizes) < 1:
        raise ValueError(f"every hidden layer needs at least 1 unit; got {text!r}")
    TrainConfig(hidden=sizes)  # its limits on width and weights, in its own words
    return sizes


PRESETS: dict[str, TrainConfig] = {
    # The notebook's run, number for number (shared/seed/notebook.txt, cell 30).
    "notebook": TrainConfig(
        name="notebook",
        hidden=(32, 32),
        activation="relu",
        init="notebook",
        optimizer="gd",
        lr=0.01,
        iterations=20_000,
        batch_size=None,
        seed=42,
        update_order="notebook",
        eval_every=100,
    ),
    # What a user should get: He initialisation, Adam on mini-batches, textbook backprop, and
    # two distorted copies of every training digit passed through the drawing reduction, so that
    # drawings are read well (docs/reduction.md has the measurements behind each number).
    "default": TrainConfig(
        name="default",
        hidden=(128, 64),
        activation="relu",
        init="he",
        optimizer="adam",
        lr=0.005,
        iterations=3000,
        batch_size=64,
        # Chosen among seeds 0..9 by pendigits.tra (76.4..80.4%, mean 78.2%; docs/reduction.md).
        seed=3,
        update_order="backprop",
        eval_every=10,
        augment=2,
        clip=5.0,
    ),
}
# Reads real handwriting: the default network trained on load_digits and its distorted copies plus
# real pen trajectories of 30 writers (pendigits.tra) drawn with the canvas's pen, five networks
# side by side with a cosine learning rate, calibrated on held-out drawings (README, "The
# default model: reading handwriting", has the measurements and how the settings were chosen).
# The shipped model is this preset.
PRESETS["handwriting"] = dataclasses.replace(
    PRESETS["default"],
    name="handwriting",
    iterations=20_000,
    l2=1e-4,
    seed=0,
    eval_every=200,
    augment=6,
    handwriting=5,
    members=5,
    lr_schedule="cosine",
    calibrate=True,
)


@dataclass(frozen=True, eq=False)
class DistortedCopies:
    """The distorted copies a run trains on, made a chunk at a time into the rows of
    :attr:`TrainingData.Xb_train` that follow the original and extra rows.

    Chunk ``j`` distorts ``sources[j * chunk : (j + 1) * chunk]`` with its own generator,
    ``default_rng([seed, 2, j])`` (``[seed, 1]`` shuffles the mini-batches), so a chunk's copies
    do not depend on when it is made.
    """

    sources: np.ndarray  # (m, 64) raw 0..16: one row per copy (the training digits, tiled)
    first_row: int  # row of Xb_train that receives the first copy
    seed: int
    distortions: Distortions
    reduction: Reduction
    chunk: int = COPY_CHUNK
    #: Chunks already made: the networks of an ensemble share the rows, the first makes them.
    made: set[int] = field(default_factory=set, repr=False)

    @property
    def n_chunks(self) -> int:
        return -(-len(self.sources) // self.chunk)

    def make(self, j: int, data: TrainingData) -> int:
        """Make chunk ``j`` into ``data.Xb_train``; returns the number of rows filled once
        chunks ``0..j`` exist (chunks are made in order)."""
        from .augment import distorted_copies

        start = j * self.chunk
        stop = min(start + self.chunk, len(self.sources))
        if j in self.made:
            return self.first_row + stop
        self.made.add(j)
        rng = np.random.default_rng([self.seed, 2, j])
        copies = distorted_copies(self.sources[start:stop], rng, self.distortions, self.reduction)
        rows = slice(self.first_row + start, self.first_row + stop)
        data.Xb_train[rows, 1:] = data.standardise(copies)
        return rows.stop


@dataclass(frozen=True, eq=False)
class TrainingData:
    """The arrays a run trains on: the split's training rows, any extra rows and, after them,
    the distorted copies. Inputs are standardised with statistics of the rows known before
    training starts (the training rows plus the extra rows; without extra rows exactly the
    split's scaler, which the notebook preset needs). Rows from ``n_ready`` on are not made yet:
    ``copies`` makes them a chunk at a time (``None``: every row is ready)."""

    Xb_train: np.ndarray  # (n, 65) with the bias column, standardised (and clipped); feature-major
    y_train: np.ndarray  # (n,) the class of every row, copies not made yet included
    Xb_val: np.ndarray
    y_val: np.ndarray
    mean: np.ndarray  # (64,)
    scale: np.ndarray  # (64,)
    n_original: int  # the split's training rows
    n_ready: int  # rows of Xb_train filled now
    clip: float | None = None
    copies: DistortedCopies | None = None

    def standardise(self, X: np.ndarray) -> np.ndarray:
        """Raw digits ``(n, 64)`` as the network's inputs ``(n, 64)`` (without the bias)."""
        return _standardise(X, self.mean, self.scale, self.clip)


def _standardise(
    X: np.ndarray, mean: np.ndarray, scale: np.ndarray, clip: float | None
) -> np.ndarray:
    Z = (np.asarray(X, dtype=np.float64) - mean) / scale
    if clip is not None:
        np.clip(Z, -clip, clip, out=Z)
    return Z


def prepare_data(
    config: TrainConfig,
    split: DigitsSplit,
    extra_train: tuple[np.ndarray, np.ndarray] | None = None,
    *,
    stream: bool = False,
    distortions: Distortions | None = None,
    reduction: Reduction | None = None,
) -> TrainingData:
    """Training and validation inputs for ``config``: the split's training rows, ``extra_train``
    rows if given, then ``config.augment`` distorted copies of each training row (made with
    ``distortions`` and ``reduction``, by default the shipped ones). With ``stream`` the copies
    are left to :attr:`TrainingData.copies`, to be made between updates; otherwise all are
    made here."""
    X, y = split.X_train, split.y_train
    parts_X, parts_y = [X], [y]
    if extra_train is not None:
        Xe, ye = extra_train
        Xe = np.asarray(Xe, dtype=np.float64).reshape(-1, 64)
        ye = np.asarray(ye, dtype=np.int64).reshape(-1)
        if len(Xe) != len(ye):
            raise ValueError("extra training digits and labels differ in number")
        parts_X.append(Xe)
        parts_y.append(ye)
    if len(parts_X) == 1:
        mean, scale = split.mean, split.scale
        X_known = X
    else:
        from sklearn.preprocessing import StandardScaler

        X_known = np.concatenate(parts_X)
        scaler = StandardScaler().fit(X_known)
        mean, scale = scaler.mean_, scaler.scale_
    n_known = len(X_known)
    n_copies = config.augment * len(X)
    mean = np.array(mean, dtype=np.float64)
    scale = np.array(scale, dtype=np.float64)
    # Feature-major (see feature_major) with room for the copies; every bias is set to 1 now.
    Xb_train = np.ones((65, n_known + n_copies), dtype=np.float64).T
    Xb_train[:n_known, 1:] = _standardise(X_known, mean, scale, config.clip)
    data = TrainingData(
        Xb_train=Xb_train,
        y_train=np.concatenate([*parts_y, np.tile(y, config.augment)]).astype(np.int64),
        Xb_val=feature_major(X_bias(_standardise(split.X_val, mean, scale, config.clip))),
        y_val=np.asarray(split.y_val, dtype=np.int64),
        mean=mean,
        scale=scale,
        n_original=len(X),
        n_ready=n_known,
        clip=config.clip,
    )
    if not n_copies:
        return data
    from .augment import DEFAULT_DISTORTIONS
    from .preprocess import DEFAULT_REDUCTION

    copies = DistortedCopies(
        sources=np.tile(np.asarray(X, dtype=np.float64), (config.augment, 1)),
        first_row=n_known,
        seed=config.seed,
        distortions=DEFAULT_DISTORTIONS if distortions is None else distortions,
        reduction=DEFAULT_REDUCTION if reduction is None else reduction,
    )
    if stream:
        return dataclasses.replace(data, copies=copies)
    for j in range(copies.n_chunks):
        copies.make(j, data)
    return dataclasses.replace(data, n_ready=len(data.y_train))


def train(
    config: TrainConfig,
    split: DigitsSplit | None = None,
    *,
    should_stop: Callable[[], bool] | None = None,
    snapshot_interval: float | None = None,
    extra_train: tuple[np.ndarray, np.ndarray] | None = None,
    blas_threads: int | None = 1,
    distortions: Distortions | None = None,
    reduction: Reduction | None = None,
    live_lr: LiveRate | None = None,
) -> Iterator[Progress]:
    """Train a network as ``config`` says; yields a :class:`Progress` per iteration.

    ``split`` defaults to ``load_digits_split(42)``. ``should_stop`` is polled after every
    iteration. ``snapshot_interval`` (seconds): attach a copy of the network to a record at most
    this often, for live views. ``extra_train``: more raw digits ``(n, 64)`` and labels to train on.
    ``blas_threads``: BLAS threads while the generator runs (1 is fastest next to a GUI thread on a
    small machine; None leaves BLAS alone). ``distortions``, ``reduction``: how the
    ``config.augment`` distorted copies are made (default: the shipped settings).

    A mini-batch run with ``config.augment`` starts updating on the original (and extra) rows at
    once and adds the distorted copies a chunk of :data:`COPY_CHUNK` digits every
    ``config.copy_spacing`` updates (all within ``config.copy_span`` of a short run); each epoch
    shuffles the rows that exist when it starts. Making all copies first would cost more than
    the updates that reach 97% validation accuracy. Full-batch runs make every copy first.

    ``live_lr``: a :class:`LiveRate` through which another thread may change the learning rate
    while the run trains; the record of the first update with the new rate has ``lr_changed``.
    """
    t0 = time.perf_counter()
    limiter = None
    if blas_threads is not None:
        from threadpoolctl import threadpool_limits

        limiter = threadpool_limits(limits=blas_threads, user_api="blas")
    try:
        split = split if split is not None else load_digits_split(42)
        held_out = None
        if config.handwriting:
            train_rows, held_out = handwriting_rows(config.handwriting)
            extra_train = _concat_rows(train_rows, extra_train)
        stream = config.batch_size is not None and config.batch_size < len(split.y_train)
        data = prepare_data(
            config,
            split,
            extra_train,
            stream=stream,
            distortions=distortions,
            reduction=reduction,
        )
        if config.members == 1:
            due = snapshot_clock(snapshot_interval)
            run = run_network(config, split, data, t0, should_stop, due, live_lr)
        else:
            run = lockstep(config, split, data, t0, should_stop, snapshot_interval, live_lr)
        for record in run:
            if record.done:
                record = finish_run(config, split, data, record, held_out, t0)
            yield record
    finally:
        if limiter is not None:
            limiter.restore_original_limits()


def _concat_rows(
    a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray] | None
) -> tuple[np.ndarray, np.ndarray]:
    if b is None:
        return a
    Xb = np.asarray(b[0], dtype=np.float64).reshape(-1, 64)
    return np.concatenate([a[0], Xb]), np.concatenate([a[1], np.asarray(b[1]).reshape(-1)])


def handwriting_holdout(n: int) -> np.ndarray:
    """Which of ``n`` pendigits.tra trajectories are held out of training: bool ``(n,)``, the
    same :data:`HANDWRITING_HOLDOUT` fraction for every run."""
    held = np.zeros(n, dtype=bool)
    held[np.random.default_rng(0).permutation(n)[: int(HANDWRITING_HOLDOUT * n)]] = True
    return held


def handwriting_rows(
    drawings: int,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """pendigits.tra drawn ``drawings`` times per trajectory (see ``TrainConfig.handwriting``),
    split into training rows and held-out rows: ``((X (m, 64), y), (X_held, y_held))`` raw
    0..16. Every drawing of a held-out trajectory is held out."""
    from .handwriting import training_drawings

    hw = training_drawings(variants=drawings - 1)
    held = handwriting_holdout(int(hw.row.max()) + 1)[hw.row]
    return (hw.X[~held], hw.y[~held]), (hw.X[held], hw.y[held])
