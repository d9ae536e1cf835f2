#!/usr/bin/env python
"""How fast pendigits.tra becomes training drawings, next to the drawing-by-drawing way,
measured in the same run (only ratios mean anything on a shared machine). One BLAS thread.

Batched: :func:`digitgui.core.handwriting.make_training_drawings` on all of pendigits.tra, each
trajectory drawn once plainly and ``--variants`` times varied (37,470 drawings with the
shipped recipe), without the cache. Baseline: the same drawings, a random ``--sample`` of them,
each painted by :func:`~digitgui.core.strokes.render_strokes` (the canvas's pen) and reduced by
:func:`~digitgui.core.preprocess.raster_to_digit` (the canvas's reduction), one at a time; its
time per drawing is scaled to the whole set. The sample's digits must be equal both ways.

    python scripts/bench_handwriting.py
    python scripts/bench_handwriting.py --variants 4 --sample 5000
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

from digitgui.core.handwriting import make_training_drawings, vary_trajectories
from digitgui.core.pendigits import load_packed_pendigits, pendigits_strokes
from digitgui.core.preprocess import raster_to_digit
from digitgui.core.strokes import DEFAULT_PEN_WIDTH, Stroke, render_strokes

TARGET_SECONDS = 10.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", type=int, default=4, help="varied drawings per trajectory")
    parser.add_argument("--sample", type=int, default=3000, help="drawings in the baseline")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    threadpool_limits(limits=1, user_api="blas")
    points, labels = load_packed_pendigits("pendigits.tra")
    n = len(points)
    total = n * (1 + args.variants)

    t0 = time.perf_counter()
    batched = make_training_drawings(points, labels, args.variants, args.seed)
    batched_s = time.perf_counter() - t0

    # The baseline draws the very same drawings: the plain ones and each variant's lines.
    rng = np.random.default_rng(12345)
    pick = np.sort(rng.choice(total, size=min(args.sample, total), replace=False))
    variants = [None] + [
        vary_trajectories(points, np.random.default_rng([args.seed, v]))
        for v in range(1, args.variants + 1)
    ]
    strokes = []
    for i in pick:
        copy, row = divmod(int(i), n)
        if copy == 0:
            strokes.append(pendigits_strokes(points[row], pen_width=DEFAULT_PEN_WIDTH))
        else:
            lines, pens = variants[copy]
            strokes.append(Stroke(lines[row], pens[row]))
    t0 = time.perf_counter()
    one_by_one = np.stack([raster_to_digit(render_strokes([s])).reshape(64) for s in strokes])
    loop_s = (time.perf_counter() - t0) / len(pick) * total

    same = np.all(one_by_one == batched.X[pick], axis=1)
    print(f"pendigits.tra: {n} trajectories x {1 + args.variants} drawings = {total} drawings")
    print(f"batched (make_training_drawings): {batched_s:6.1f} s  (target < {TARGET_SECONDS:g} s)")
    print(
        f"one by one (render_strokes + raster_to_digit), {len(pick)} drawings scaled to all: "
        f"{loop_s:6.1f} s"
    )
    print(f"speed-up: {loop_s / batched_s:.1f}x")
    print(f"sampled drawings equal both ways: {same.sum()} of {len(same)}")
    return 0 if same.all() else 1


if __name__ == "__main__":
    raise SystemExit(main())
