#!/usr/bin/env python
"""How fast a drawing is read, and how fast the default preset learns, each next to a baseline
measured in the same run (only ratios mean anything on a shared machine).

1. Reading: ``raster_to_digit`` + ``predict_proba`` of the shipped model on 256 x 256 drawings
   (the canvas), median over many calls; target < 5 ms. Baseline: the naive reduction most
   draw-a-digit demos use (resize the canvas to 8x8) + the same ``predict_proba``.
2. Learning (``--training``): seconds from calling ``train(PRESETS["default"])`` (data
   preparation included; the distorted copies are made in chunks between updates) to the first
   record with validation accuracy >= 0.97, median over seeds, and how many chunks of copies
   were made by then. Baseline: scikit-learn's ``MLPClassifier(32, 32)`` fitted with
   ``warm_start`` one epoch at a time on the same rows, timed to the same accuracy.

    python scripts/bench_reduction.py
    python scripts/bench_reduction.py --training --seeds 10
    python scripts/bench_reduction.py --training --copy-spacing 0   # copies made first
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

from digitgui.core import training
from digitgui.core.data import load_digits_split
from digitgui.core.model_io import load_default
from digitgui.core.preprocess import raster_to_digit
from digitgui.core.strokes import Stroke, render_strokes
from digitgui.core.training import PRESETS, prepare_data, train
from digitgui.core.training_loop import copy_schedule

#: Drawings of the canvas's size: a 2, a 7 and an 8, as polylines in canvas pixels.
SHAPES = [
    [[80, 80], [110, 45], [160, 50], [170, 90], [80, 210], [185, 210]],
    [[70, 40], [185, 40], [110, 218]],
    [[128, 128], [90, 90], [110, 45], [150, 45], [165, 90], [90, 170], [115, 215], [165, 200],
     [160, 160], [128, 128]],
]  # fmt: skip


def naive_resize(raster: np.ndarray) -> np.ndarray:
    """The usual demo reduction: average 32 x 32 blocks of the canvas, scale to 0..16."""
    h, w = raster.shape
    return raster.reshape(8, h // 8, 8, w // 8).mean(axis=(1, 3)) * (16 / 255)


def median_ms(fn, rasters, repeats: int) -> float:
    times = []
    for i in range(repeats):
        raster = rasters[i % len(rasters)]
        t0 = time.perf_counter()
        fn(raster)
        times.append(time.perf_counter() - t0)
    return 1000 * float(np.median(times))


def bench_reading(repeats: int) -> None:
    model = load_default()
    rasters = [render_strokes([Stroke(s, 20)]) for s in SHAPES]

    def ours(raster):
        return model.predict_proba(raster_to_digit(raster))

    def naive(raster):
        return model.predict_proba(naive_resize(raster))

    for fn in (ours, naive):  # warm up caches and lazy imports
        median_ms(fn, rasters, 20)
    # Interleave the two so that a busy moment of the machine hits both.
    ours_ms, naive_ms = [], []
    for _ in range(5):
        ours_ms.append(median_ms(ours, rasters, repeats // 5))
        naive_ms.append(median_ms(naive, rasters, repeats // 5))
    a, b = float(np.median(ours_ms)), float(np.median(naive_ms))
    print(f"read one 256x256 drawing (reduce + predict_proba), median of {repeats}:")
    print(f"  raster_to_digit: {a:.3f} ms   (target < 5 ms)")
    print(f"  naive resize:    {b:.3f} ms   (baseline)")
    print(f"  ratio: {a / b:.1f}x the naive reduction's time")


def _time_to_97_digitgui(seed: int, split) -> tuple[float, int | None]:
    """Seconds to the first record with val_acc >= 0.97, and that record's iteration."""
    config = dataclasses.replace(PRESETS["default"], seed=seed)
    t0 = time.perf_counter()
    for record in train(config, split):
        if record.val_acc is not None and record.val_acc >= 0.97:
            return time.perf_counter() - t0, record.iteration
    return float("nan"), None


def _chunks_before(iteration: int | None, n_chunks: int) -> int:
    """Chunks of copies the preset has made before update ``iteration`` (the schedule of
    ``train``; a chunk due after k updates is made before update k + 1)."""
    if iteration is None:
        return n_chunks
    due = copy_schedule(PRESETS["default"], n_chunks)
    return sum(d < iteration for d in due)


def _copies_seconds(split, seed: int) -> tuple[float, int]:
    """Seconds to make every chunk of the preset's copies as training makes them, and the number
    of chunks."""
    config = dataclasses.replace(PRESETS["default"], seed=seed)
    data = prepare_data(config, split, stream=True)
    t0 = time.perf_counter()
    for j in range(data.copies.n_chunks):
        data.copies.make(j, data)
    return time.perf_counter() - t0, data.copies.n_chunks


def _time_to_97_sklearn(seed: int, split) -> float:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier((32, 32), max_iter=1, warm_start=True, random_state=seed)
    t0 = time.perf_counter()
    X_train = split.scaler.transform(split.X_train)
    X_val = split.scaler.transform(split.X_val)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(200):
            clf.fit(X_train, split.y_train)
            if clf.score(X_val, split.y_val) >= 0.97:
                return time.perf_counter() - t0
    return float("nan")


def bench_training(seeds: int) -> None:
    split = load_digits_split()
    ours, reached, theirs, augment_s = [], [], [], []
    with threadpool_limits(limits=1, user_api="blas"):  # the same footing for both
        first = PRESETS["default"].seed  # the shipped run first, then the next seeds
        _time_to_97_digitgui(first, split)  # warm-up: first-call costs are not training
        for seed in range(first, first + seeds):
            seconds, iteration = _time_to_97_digitgui(seed, split)
            ours.append(seconds)
            reached.append(iteration)
            theirs.append(_time_to_97_sklearn(seed, split))
        for seed in range(first, first + seeds):
            seconds, n_chunks = _copies_seconds(split, seed)
            augment_s.append(seconds)
    a, b = float(np.nanmedian(ours)), float(np.nanmedian(theirs))
    copies = PRESETS["default"].augment
    made = [_chunks_before(it, n_chunks) for it in reached]
    last = copy_schedule(PRESETS["default"], n_chunks)[-1] + 1
    print(
        f"making the preset's {copies} distorted copies of {len(split.y_train)} digits, "
        f"{n_chunks} chunks of {training.COPY_CHUNK}: {1000 * np.median(augment_s):.0f} ms "
        f"(median); training makes the last one before update {last}"
    )
    print(f"time to validation accuracy >= 0.97, median of seeds {first}..{first + seeds - 1}:")
    print(f"  default preset (data preparation included): {a:.3f} s  {np.round(ours, 3)}")
    print(f"    at iteration {reached}")
    print(f"    chunks of copies made by then: {made} of {n_chunks}")
    print(f"  sklearn MLPClassifier(32, 32), epoch by epoch: {b:.3f} s  {np.round(theirs, 3)}")
    print(f"  ratio: {a / b:.2f} (target <= 0.5)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=500, help="drawings read per method")
    parser.add_argument("--training", action="store_true", help="also time the default preset")
    parser.add_argument("--seeds", type=int, default=10, help="seeds for --training")
    parser.add_argument(
        "--copy-spacing",
        type=int,
        help="updates between two chunks of copies (default: the preset's "
        f"copy_spacing, {PRESETS['default'].copy_spacing}; 0: all before the second update)",
    )
    args = parser.parse_args(argv)
    if args.copy_spacing is not None:
        PRESETS["default"] = dataclasses.replace(PRESETS["default"], copy_spacing=args.copy_spacing)
    bench_reading(args.repeats)
    if args.training:
        bench_training(args.seeds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
