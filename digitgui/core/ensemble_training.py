"""Several networks trained side by side, and the end of a run: the ensemble's lock-step loop
(:func:`lockstep`), the final accuracies of the whole model and its calibration
(:func:`finish_run`, :func:`calibrate`). Split from :mod:`digitgui.core.training`, which drives
them from :func:`~digitgui.core.training.train`; one network's loop is
:func:`~digitgui.core.training_loop.run_network`."""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import numpy as np

from .data import DigitsSplit
from .model_io import DigitClassifier
from .training_loop import LiveRate, Progress, accuracy, run_network

if TYPE_CHECKING:
    from .training import TrainConfig, TrainingData

__all__ = [
    "NOT_SURE_MAX_CORRECT",
    "NOT_SURE_MISREAD_CAUGHT",
    "calibrate",
    "finish_run",
    "lockstep",
    "snapshot_clock",
]

#: The "not sure" threshold is set to catch this share of the misread held-out drawings...
NOT_SURE_MISREAD_CAUGHT = 2 / 3
#: ...unless more than this share of the correctly read ones would fall below it. The held-out
#: pendigits.tra rows share writers with the training rows, so a new writer's mistakes are more
#: confident than theirs: a threshold that caught half of them caught only about a third of the
#: mistakes on other writers. Aiming at two thirds leaves that margin.
NOT_SURE_MAX_CORRECT = 0.04


def snapshot_clock(interval: float | None) -> Callable[[], bool] | None:
    """A clock that says True at most once every ``interval`` seconds (None: never asked)."""
    if interval is None:
        return None
    last = -math.inf

    def due() -> bool:
        nonlocal last
        now = time.perf_counter()
        if now - last >= interval:
            last = now
            return True
        return False

    return due


def lockstep(
    config: TrainConfig,
    split: DigitsSplit,
    data: TrainingData,
    t0: float,
    should_stop: Callable[[], bool] | None,
    snapshot_interval: float | None,
    live_lr: LiveRate | None = None,
) -> Iterator[Progress]:
    """``config.members`` networks trained side by side, one update each per iteration, on the
    same rows (each from its own seed: its own start and its own order of mini-batches). Yields
    one record per iteration with the members' mean cost; when one member ends (diverged,
    stopped early), all end at that iteration. The final record's model holds every network."""
    flags = {"stop": False, "snapshot": False}
    clock = snapshot_clock(snapshot_interval)
    runs = [
        run_network(
            dataclasses.replace(config, seed=config.seed + k),
            split,
            data,
            t0,
            lambda: flags["stop"],
            (lambda: flags["snapshot"]) if snapshot_interval is not None else None,
            live_lr,
        )
        for k in range(config.members)
    ]
    finals: list[Progress | None] = [None] * len(runs)
    while True:
        flags["snapshot"] = clock is not None and clock()
        if should_stop is not None and should_stop():
            flags["stop"] = True
        records = []
        for k, run in enumerate(runs):
            record = finals[k] or next(run)
            if record.done and finals[k] is None:
                finals[k] = record
                flags["stop"] = True  # the others end at this same iteration
            records.append(record)
        if all(f is not None for f in finals):
            break
        if any(r.done for r in records):
            continue  # the rest finish on the next pass
        yield _combined(records, data)
    yield _combined_final(config, finals, data)


def _mean(values: list[float | None]) -> float | None:
    return None if any(v is None for v in values) else float(np.mean(values))


def _combined(records: list[Progress], data: TrainingData) -> Progress:
    first = records[0]
    snapshot = None
    if all(r.snapshot is not None for r in records):
        snapshot = DigitClassifier(
            [r.snapshot.mlp for r in records], data.mean, data.scale, data.clip
        )
    return Progress(
        iteration=first.iteration,
        iterations=first.iterations,
        cost=float(np.mean([r.cost for r in records])),
        elapsed=first.elapsed,
        epoch=first.epoch,
        val_cost=_mean([r.val_cost for r in records]),
        val_acc=_mean([r.val_acc for r in records]),
        train_acc=_mean([r.train_acc for r in records]),
        snapshot=snapshot,
        lr_changed=first.lr_changed,
    )


def _combined_final(
    config: TrainConfig, finals: list[Progress | None], data: TrainingData
) -> Progress:
    records = [f for f in finals if f is not None]
    outcomes = [r.outcome for r in records]
    outcome = next((o for o in outcomes if o not in ("stopped", "completed")), outcomes[0])
    message = next((r.message for r in records if r.outcome == outcome), "")
    first = records[0]
    model = DigitClassifier(
        [r.model.mlp for r in records], data.mean, data.scale, data.clip, first.model.metadata
    )
    model.metadata["training"] = config.to_dict()
    model.metadata["outcome"] = outcome
    model.metadata["members_accuracy"] = [r.model.metadata["accuracy"] for r in records]
    return dataclasses.replace(
        _combined(records, data),
        model=model,
        outcome=outcome,
        message=message,
    )


def finish_run(
    config: TrainConfig,
    split: DigitsSplit,
    data: TrainingData,
    record: Progress,
    held_out: tuple[np.ndarray, np.ndarray] | None,
    t0: float,
) -> Progress:
    """The final record of a run with the whole model's accuracies (for an ensemble: of the
    mean of its networks) and, if ``config.calibrate``, its calibration."""
    model = record.model
    if config.members == 1 and not config.calibrate:
        return record  # run_network measured this very model
    if config.calibrate:
        calibrate(model, split, held_out)
    val_acc = accuracy(model, split.X_val, split.y_val)
    train_acc = accuracy(model, split.X_train, split.y_train)
    test_acc = accuracy(model, split.X_test, split.y_test)
    model.metadata["accuracy"] = {"train": train_acc, "val": val_acc, "test": test_acc}
    if held_out is not None:
        model.metadata["accuracy"]["handwriting_held_out"] = accuracy(model, *held_out)
    return dataclasses.replace(
        record,
        elapsed=time.perf_counter() - t0,
        val_acc=val_acc,
        train_acc=train_acc,
        test_acc=test_acc,
    )


def calibrate(
    model: DigitClassifier,
    split: DigitsSplit,
    held_out: tuple[np.ndarray, np.ndarray] | None,
) -> None:
    """Fit the temperature on held-out drawings (the held-out pendigits.tra drawings, if any,
    and the load_digits validation rows), then the "not sure" threshold: the probability below
    which :data:`NOT_SURE_MISREAD_CAUGHT` of the misread ones fall, lowered if needed so that
    at most :data:`NOT_SURE_MAX_CORRECT` of the correctly read ones do."""
    from .calibration import confidence_threshold, expected_calibration_error, fit_temperature

    X, y = split.X_val, split.y_val
    if held_out is not None:
        X, y = np.concatenate([held_out[0], X]), np.concatenate([held_out[1], y])
    model.temperature = 1.0
    logits = model.logits(X)
    before = expected_calibration_error(model.predict_proba(X), y)
    fitted = fit_temperature(logits, y)
    # Sharpening (T < 1) would fit drawings of the writers trained on; the app meets writers it
    # has never seen, on whom the networks are less often right: never sharpen.
    model.temperature = max(1.0, fitted)
    probs = model.predict_proba(X)
    right = np.argmax(probs, axis=1) == y
    if right.any():
        # confidence_threshold(p, c): the value at or above which a share c of p lies.
        limit = confidence_threshold(probs[right], 1.0 - NOT_SURE_MAX_CORRECT)
        if (~right).any():
            catch = confidence_threshold(probs[~right], 1.0 - NOT_SURE_MISREAD_CAUGHT)
            limit = min(limit, catch)
        model.confidence_threshold = limit
    model.metadata["calibration"] = {
        "fitted_on": (
            "held-out pendigits.tra drawings and load_digits validation rows"
            if held_out is not None
            else "load_digits validation rows"
        ),
        "rows": len(y),
        "temperature": model.temperature,
        "temperature_fitted": fitted,
        "confidence_threshold": model.confidence_threshold,
        "ece_before": before,
        "ece_after": expected_calibration_error(probs, y),
        "not_sure_on_correct": _share_below(probs[right], model.confidence_threshold),
        "not_sure_on_misread": _share_below(probs[~right], model.confidence_threshold),
    }


def _share_below(probs: np.ndarray, threshold: float | None) -> float | None:
    if threshold is None or not len(probs):
        return None
    return float(np.mean(probs.max(axis=1) < threshold))
