"""Lessons: small queues of training runs that differ in one thing, with words on what to see.

Each :class:`Lesson` names its runs (a name and a :class:`~digitgui.core.training.TrainConfig`
each), what to look for while the curves build up, and what the result means. The app's
Lessons menu runs them one after another in its worker; ``digitgui compare`` can run the same
configurations headless. Every lesson is sized to finish within a minute on a 2-core laptop
(``tests/test_lessons.py`` checks the total number of updates against a budget).

Qt-free, like the rest of :mod:`digitgui.core`.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .training import PRESETS, TrainConfig

__all__ = [
    "HANDWRITING_SAMPLE",
    "LESSONS",
    "Lesson",
    "handwriting_accuracy",
    "handwriting_sample",
    "lesson",
    "summarize",
]

#: Drawings of pendigits.tes (writers no model has seen) in the fixed sample that lessons score
#: runs on: drawing and reading them takes well under a second.
HANDWRITING_SAMPLE = 600


@dataclass(frozen=True)
class Lesson:
    """``runs``: ``(name, config)`` pairs, run in order. ``look_for``: what to watch while they
    train. ``meaning``: what the result means. ``x_axis``: the plot's x axis that shows the
    comparison best ("iteration", "epoch" or "seconds"). ``handwriting``: score each run on
    the fixed sample of real handwriting (:func:`handwriting_sample`)."""

    key: str
    title: str
    question: str
    look_for: str
    meaning: str
    runs: tuple[tuple[str, TrainConfig], ...]
    x_axis: str = "iteration"
    handwriting: bool = False

    @property
    def updates(self) -> int:
        """Updates over all its runs (what its length is measured in)."""
        return sum(c.iterations * c.members for _, c in self.runs)


def _notebook(iterations: int = 3000, **changes) -> TrainConfig:
    """The notebook's run, shortened: its network, randn(sigma=1) weights, full-batch gradient
    descent, lr 0.01."""
    changes.setdefault("eval_every", 50)
    return dataclasses.replace(PRESETS["notebook"], iterations=iterations, **changes)


def _default(**changes) -> TrainConfig:
    return dataclasses.replace(PRESETS["default"], **changes)


LESSONS: tuple[Lesson, ...] = (
    Lesson(
        key="update-order",
        title="The notebook's update order vs textbook backprop",
        question="Does it matter that the notebook updates W3 before sending the error back "
        "through it?",
        look_for="Both curves start from the same weights. Watch whether they separate, and "
        "by how much.",
        meaning="Textbook backprop computes every layer's error from the weights of the forward "
        "pass, then updates. The notebook updates W3 first and sends the error back through "
        "the new W3. With a small learning rate the two are close: each update changes W3 a "
        "little, so the error it passes back is nearly the same. The larger the steps, the "
        "more they differ.",
        runs=(
            ("notebook order", _notebook()),
            ("textbook backprop", _notebook(update_order="backprop")),
        ),
    ),
    Lesson(
        key="init",
        title="randn(sigma=1) weights vs He initialisation",
        question="How much do the starting weights matter?",
        look_for="Compare where each curve starts and the validation accuracy in the table.",
        meaning="randn gives every weight a standard deviation of 1, so with 64 inputs the "
        "first layer's sums are large and the softmax starts saturated: a huge first cost, "
        "and a network that fits the training rows but generalises worse. He "
        "initialisation scales the weights by sqrt(2 / inputs), which keeps the signals the "
        "same size from layer to layer: a lower start and better validation accuracy.",
        runs=(
            ("randn(sigma=1)", _notebook(update_order="backprop")),
            ("He", _notebook(update_order="backprop", init="he")),
        ),
    ),
    Lesson(
        key="optimizer",
        title="Full-batch gradient descent vs mini-batch Adam",
        question="Is one careful step on all rows better than many quick ones on a few?",
        look_for="Switch the x axis between iterations, epochs and seconds: the order of the "
        "curves changes.",
        meaning="A full-batch step looks at all 1,257 training rows; a mini-batch step at 64, "
        "so it is about 20 times cheaper and noisier. Adam also adapts the step size of every "
        "weight. Per second of training, mini-batch Adam reaches a low cost and 97% "
        "validation accuracy far sooner.",
        runs=(
            ("full-batch gradient descent", _notebook(2000, update_order="backprop", init="he")),
            (
                "mini-batch Adam",
                _notebook(
                    2000,
                    update_order="backprop",
                    init="he",
                    optimizer="adam",
                    batch_size=64,
                    eval_every=20,
                ),
            ),
        ),
        x_axis="seconds",
    ),
    Lesson(
        key="learning-rate",
        title="A learning-rate sweep, 0.001 to 1",
        question="What does a learning rate ten times larger do?",
        look_for="The small rates fall slowly; watch what happens to the large ones (the table "
        "says how each run ended).",
        meaning="Each update moves the weights by the learning rate times the gradient. Too "
        "small and the cost falls slowly; larger falls faster, up to a point. With the "
        "notebook's large starting weights, 0.1 and 1 overshoot: the cost grows until it is "
        "no longer a number, and the run is stopped as diverged.",
        runs=tuple((f"lr {lr:g}", _notebook(lr=lr)) for lr in (0.001, 0.003, 0.01, 0.1, 1.0)),
    ),
    Lesson(
        key="activation",
        title="ReLU vs sigmoid",
        question="Why do modern networks use ReLU?",
        look_for="Same network, same rate, same starting seed: only the hidden layers' "
        "activation differs.",
        meaning="A sigmoid's slope is at most 0.25, so the error shrinks at every layer it "
        "passes back through and the first layers learn slowly. ReLU passes the error on "
        "unchanged wherever the unit is active.",
        runs=(
            ("ReLU", _notebook(update_order="backprop", init="he", lr=0.1)),
            (
                "sigmoid",
                _notebook(update_order="backprop", init="he", lr=0.1, activation="sigmoid"),
            ),
        ),
    ),
    Lesson(
        key="copies",
        title="Distorted copies and real handwriting",
        question="Does training on distorted copies help the network read real handwriting?",
        look_for="The curves look alike; the difference is in the table's handwriting column: "
        f"{HANDWRITING_SAMPLE} digits by 14 writers the networks never saw, drawn with the "
        "app's pen.",
        meaning="load_digits comes from 43 writers and one scanner. Shifted, rotated, thickened "
        "and thinned copies teach the network that a digit stays the same digit when it is "
        "drawn a little differently, which is what a mouse drawing is.",
        runs=(
            ("no copies", _default(augment=0)),
            ("2 distorted copies per digit", _default(augment=2)),
        ),
        x_axis="epoch",
        handwriting=True,
    ),
    Lesson(
        key="overfitting",
        title="Overfitting and L2",
        question="Training accuracy reaches 100%; why is validation lower, and what helps?",
        look_for="Watch the validation accuracy curve while the training cost keeps falling.",
        meaning="With no penalty the network fits the training rows exactly, noise included "
        "(the notebook's own result: training 100%, validation 86%). L2 (weight decay) pulls "
        "every weight toward zero a little at each update, so only weights that help on many "
        "rows grow: a smoother network that does better on digits it has not seen.",
        runs=(
            ("no L2", _notebook(10_000, update_order="backprop", eval_every=100)),
            ("L2 0.03", _notebook(10_000, update_order="backprop", eval_every=100, l2=0.03)),
        ),
    ),
)


def lesson(key: str) -> Lesson:
    """The lesson called ``key``; ``KeyError`` lists the known ones."""
    for item in LESSONS:
        if item.key == key:
            return item
    raise KeyError(f"no lesson {key!r}; known: {', '.join(item.key for item in LESSONS)}")


@functools.cache
def handwriting_sample(n: int = HANDWRITING_SAMPLE, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A fixed sample of ``n`` pendigits.tes trajectories (10 classes in proportion, the same
    every time) drawn with the app's pen and reduced like a canvas drawing: digits
    ``(n, 8, 8)`` and labels. Read-only arrays; raises
    :class:`~digitgui.core.pendigits.PendigitsResourceError` if the packed data is missing."""
    from .pendigits import load_packed_pendigits, pendigits_digits

    points, labels = load_packed_pendigits("pendigits.tes")
    rows = np.random.default_rng(seed).permutation(len(labels))[: min(n, len(labels))]
    rows.sort()
    digits = pendigits_digits(points[rows])
    y = labels[rows]
    digits.flags.writeable = False
    y.flags.writeable = False
    return digits, y


def handwriting_accuracy(model) -> float:
    """The share of :func:`handwriting_sample` that ``model`` reads right."""
    digits, y = handwriting_sample()
    return float(np.mean(np.argmax(model.predict_proba(digits), axis=1) == y))


def summarize(item: Lesson, runs: Sequence) -> str:
    """A few plain sentences on how the lesson's finished ``runs``
    (:class:`~digitgui.core.runs.Run`) came out, then what it means."""
    parts = []
    for run in runs:
        if run.outcome == "diverged":
            parts.append(f"{run.name} diverged at iteration {run.iterations_done:,}")
        elif run.outcome in ("failed", "stopped", "running"):
            parts.append(f"{run.name} {run.outcome.replace('running', 'did not finish')}")
        else:
            text = f"{run.name} reached validation {_pct(run.val_acc)}"
            if run.handwriting_acc is not None:
                text += f" and read {_pct(run.handwriting_acc)} of the handwriting"
            parts.append(text + f" in {run.seconds:.1f} s")
    result = "; ".join(parts)
    return (result + ". " if result else "") + item.meaning


def _pct(v: float | None) -> str:
    return "?" if v is None else f"{100 * v:.1f}%"
