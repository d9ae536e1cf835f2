#!/usr/bin/env python
"""Compare variants of the reduction, the augmentation and the model on real handwriting.

Each variant changes one thing relative to what digitgui ships (``DEFAULT_REDUCTION``,
``DEFAULT_DISTORTIONS``, ``PRESETS["default"]``, ``DEFAULT_PEN_WIDTH``), trains the default
preset with that change for each seed, draws every sample of pendigits.tra with the app's pen
through ``raster_to_digit`` and reports the mean and spread of the accuracy over the seeds, plus
the accuracy on the load_digits test rows, and how much the pen width changes the reduced digits
(mean absolute difference per pixel, 0..16 scale, between a 12 px and a 28 px pen), and how
faithfully the reduction rebuilds load_digits itself (the same difference between load_digits
digits and the digits turned back into bitmaps and reduced again). It prints the Markdown table
in docs/reduction.md.

pendigits.tra is the development set: every choice in digitgui was made on it. pendigits.tes is the
final evaluation and is refused unless ``--final`` is given. Nothing here trains on either file.

    python scripts/eval_variants.py --pendigits ../shared/data/pendigits
    python scripts/eval_variants.py --pendigits ../shared/data/pendigits --only shipped "NIST bands"
    python scripts/eval_variants.py --pendigits ../shared/data/pendigits --only shipped \
        --seeds 10 --per-seed        # how the preset's seed was chosen
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from digitgui.core.augment import DEFAULT_DISTORTIONS, Distortions
from digitgui.core.data import load_digits_split
from digitgui.core.evaluation import evaluate
from digitgui.core.pendigits import load_pendigits, pendigits_strokes
from digitgui.core.preprocess import (
    DEFAULT_REDUCTION,
    Reduction,
    digits_to_bitmaps,
    raster_to_digit,
    reduce_ink,
)
from digitgui.core.strokes import CANVAS_SIZE, DEFAULT_PEN_WIDTH, Stroke, render_strokes
from digitgui.core.training import PRESETS, TrainConfig, train

SHIPPED = PRESETS["default"]


def naive_resize(raster: np.ndarray) -> np.ndarray:
    """What most draw-a-digit demos do: the whole canvas averaged down to 8x8, times 16/255."""
    h, w = raster.shape
    blocks = raster[: h - h % 8, : w - w % 8].reshape(8, h // 8, 8, w // 8).mean(axis=(1, 3))
    return blocks * 16 / 255


@dataclass(frozen=True)
class Variant:
    """One row of the table: what differs from the shipped pipeline."""

    name: str
    reduction: Reduction = DEFAULT_REDUCTION
    distortions: Distortions = DEFAULT_DISTORTIONS
    config: TrainConfig = SHIPPED
    pen_width: float = DEFAULT_PEN_WIDTH
    #: Replaces raster_to_digit for the drawings (the naive baseline); training rows then get no
    #: augmentation, as there is no reduction to pass them through.
    reduce: Callable[[np.ndarray], np.ndarray] | None = field(default=None, compare=False)
    #: Updates between two chunks of distorted copies (TrainConfig.copy_spacing; 0: all copies are
    #: made before the second update).
    copy_spacing: int | None = None


def _config(**changes) -> TrainConfig:
    return replace(SHIPPED, **changes)


R, D = DEFAULT_REDUCTION, DEFAULT_DISTORTIONS
VARIANTS = [
    Variant("shipped"),
    # the baselines the issue quotes
    Variant("naive resize, plain model", config=_config(augment=0), reduce=naive_resize),
    Variant(
        "NIST reduction, plain model", replace(R, stroke_target=None), config=_config(augment=0)
    ),
    Variant("shipped reduction, plain model", config=_config(augment=0)),
    # the reduction
    Variant("NIST bands (108/256/412/560)", replace(R, stroke_target=None)),
    Variant("no stroke-width normalisation", replace(R, stroke_target=None, stroke_limits=None)),
    Variant("stroke target 313 (data mean)", replace(R, stroke_target=313)),
    Variant("stroke target 400", replace(R, stroke_target=400)),
    Variant("fill 0.3 (thicker resampling)", replace(R, fill=0.3)),
    Variant("keep aspect ratio", replace(R, keep_aspect=True)),
    Variant("widen at most 1.5", replace(R, max_widen=1.5)),
    Variant("widen at most 3", replace(R, max_widen=3.0)),
    Variant("heighten at most 1.5", replace(R, max_heighten=1.5)),
    Variant("pure stretch (no limits)", replace(R, max_widen=np.inf, max_heighten=np.inf)),
    # the augmentation
    Variant("augment 1", config=_config(augment=1)),
    Variant("augment 4", config=_config(augment=4)),
    Variant("augment 10", config=_config(augment=10)),
    Variant("all copies made first", copy_spacing=0),
    Variant("a chunk of copies every 4 updates", copy_spacing=4),
    Variant("a chunk of copies every 16 updates", copy_spacing=16),
    Variant("no rotation", distortions=replace(D, rotation=0.0)),
    Variant("rotation 20", distortions=replace(D, rotation=20.0)),
    Variant("no shear", distortions=replace(D, shear=0.0)),
    Variant("shear 0.6", distortions=replace(D, shear=0.6)),
    Variant("aspect 0.7", distortions=replace(D, aspect=0.7)),
    Variant("thin strokes (threshold 0.4-0.7)", distortions=replace(D, threshold=(0.4, 0.7))),
    Variant("thick strokes (threshold 0.2-0.5)", distortions=replace(D, threshold=(0.2, 0.5))),
    Variant("elastic 1.5", distortions=replace(D, elastic=1.5)),
    Variant("proportion warp 0.3", distortions=replace(D, warp=0.3)),
    Variant("working grid 24", distortions=replace(D, grid=24)),
    Variant("working grid 32", distortions=replace(D, grid=32)),
    Variant("frame 0.8 of the grid (22% clipped)", distortions=replace(D, frame_size=0.8)),
    # the model
    Variant("hidden 32,32", config=_config(hidden=(32, 32))),
    Variant("hidden 64,64", config=_config(hidden=(64, 64))),
    Variant("hidden 256,128", config=_config(hidden=(256, 128))),
    Variant("lr 0.01", config=_config(lr=0.01)),
    Variant("1500 iterations", config=_config(iterations=1500)),
    Variant("clip 3", config=_config(clip=3.0)),
    Variant("no clipping", config=_config(clip=None)),
    # the pen
    Variant("pen 12 px", pen_width=12.0),
    Variant("pen 16 px", pen_width=16.0),
    Variant("pen 24 px", pen_width=24.0),
]


class Drawings:
    """pendigits samples drawn once per pen width (kept as packed bits) and reduced once per
    reduction."""

    def __init__(self, points: np.ndarray) -> None:
        self.points = points
        self._rasters: dict[float, np.ndarray] = {}
        self._digits: dict[tuple, np.ndarray] = {}

    def rasters(self, pen_width: float):
        if pen_width not in self._rasters:
            self._rasters[pen_width] = np.stack(
                [
                    np.packbits(
                        render_strokes([pendigits_strokes(p, pen_width=pen_width)]) >= 128, axis=1
                    )
                    for p in self.points
                ]
            )
        for packed in self._rasters[pen_width]:
            yield np.unpackbits(packed, axis=1, count=CANVAS_SIZE).view(bool)

    def pen_spread(self, variant: Variant) -> float:
        """How much the pen matters to the reduction: mean absolute difference per pixel between
        the 8x8 digits of every 10th sample drawn with a 12 px and with a 28 px pen."""
        key = ("spread", variant.reduction, variant.reduce)
        if key not in self._digits:
            reduce = variant.reduce or (lambda r: raster_to_digit(r, variant.reduction))
            thin, thick = (
                np.stack(
                    [reduce(render_strokes([pendigits_strokes(p, pen_width=w)])) for p in sample]
                )
                for w in (12.0, 28.0)
                for sample in [self.points[::10]]
            )
            self._digits[key] = np.array(np.abs(thin - thick).mean())
        return float(self._digits[key])

    def round_trip(self, variant: Variant) -> float:
        """How faithfully the reduction rebuilds load_digits: mean absolute difference per pixel
        between the validation and test digits and the same digits turned back into 32x32
        bitmaps and reduced again (0 would be a perfect rebuild)."""
        key = ("round trip", variant.reduction)
        if key not in self._digits:
            split = load_digits_split()
            X = np.concatenate([split.X_val, split.X_test])
            again = reduce_ink(digits_to_bitmaps(X), variant.reduction).reshape(-1, 64)
            self._digits[key] = np.array(np.abs(again - X).mean())
        return float(self._digits[key])

    def digits(self, variant: Variant) -> np.ndarray:
        key = (variant.pen_width, variant.reduction, variant.reduce)
        if key not in self._digits:
            reduce = variant.reduce or (lambda r: raster_to_digit(r, variant.reduction))
            if variant.reduce is not None:
                # The naive resize averages grey levels: give it the anti-aliased raster.
                rasters = (
                    render_strokes([pendigits_strokes(p, pen_width=variant.pen_width)])
                    for p in self.points
                )
            else:
                rasters = self.rasters(variant.pen_width)
            self._digits[key] = np.stack([reduce(r) for r in rasters]).reshape(-1, 64)
        return self._digits[key]


def score(variant: Variant, seed: int, drawings: Drawings, labels: np.ndarray) -> tuple:
    """(pendigits accuracy, load_digits test accuracy) of one variant trained with ``seed``."""
    split = load_digits_split()
    config = replace(variant.config, seed=seed)
    if variant.reduce is not None:
        config = replace(config, augment=0)  # no reduction to pass distorted copies through
    # The preset's own run (copies streamed in during training), with this variant's distortions
    # and reduction.
    if variant.copy_spacing is not None:
        config = replace(config, copy_spacing=variant.copy_spacing)
    *_, record = train(config, split, distortions=variant.distortions, reduction=variant.reduction)
    pen = evaluate(record.model, drawings.digits(variant), labels).accuracy
    return pen, record.test_acc


#: Ways of writing "1" on the canvas (x, y canvas pixels): pendigits cannot test how thin digits
#: are stretched, because every pendigits sample spans its box in both directions.
ONES = {
    "plain line": [[128, 38], [128, 218]],
    "slanted line": [[150, 38], [110, 218]],
    "short flag": [[100, 70], [140, 38], [140, 218]],
    "long flag": [[80, 90], [140, 38], [140, 218]],
    "flag and foot": [[100, 70], [140, 38], [140, 218], [100, 218], [180, 218]],
}


def shapes(seeds: int, limits: tuple[float, ...] = (1.0, 1.25, 1.5, 2.0, 3.0, np.inf)) -> None:
    """How often the default preset, trained with each stretch limit and each seed, reads the
    drawn "1"s as 1 (over the seeds and three pen widths)."""
    split = load_digits_split()
    widths = (12.0, DEFAULT_PEN_WIDTH, 30.0)
    print(f'drawn "1"s read as 1, out of {seeds} seeds x pens of {widths} px\n')
    print("| max_widen | " + " | ".join(ONES) + " |")
    print("|---" * (len(ONES) + 1) + "|")
    for limit in limits:
        reduction = replace(DEFAULT_REDUCTION, max_widen=limit)
        hits = np.zeros(len(ONES), dtype=int)
        for seed in range(seeds):
            *_, record = train(replace(SHIPPED, seed=seed), split, reduction=reduction)
            for i, points in enumerate(ONES.values()):
                for width in widths:
                    raster = render_strokes([Stroke(points, width)])
                    hits[i] += record.model.predict(raster_to_digit(raster, reduction)) == 1
        total = seeds * len(widths)
        print(f"| {limit} | " + " | ".join(f"{h}/{total}" for h in hits) + " |", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pendigits", type=Path, help="folder with pendigits.tra")
    parser.add_argument("--seeds", type=int, default=3, help="training seeds per variant")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="variants to run (by name)")
    parser.add_argument(
        "--final", action="store_true", help="measure pendigits.tes (final numbers only)"
    )
    parser.add_argument(
        "--shapes", action="store_true", help='only: how drawn "1"s are read per stretch limit'
    )
    parser.add_argument(
        "--per-seed", action="store_true", help="add a column with each seed's pendigits score"
    )
    args = parser.parse_args(argv)
    if args.shapes:
        shapes(args.seeds)
        return 0
    if args.pendigits is None:
        parser.error("--pendigits DIR is required")
    variants = VARIANTS
    if args.only:
        unknown = set(args.only) - {v.name for v in VARIANTS}
        if unknown:
            parser.error(f"unknown variants: {', '.join(sorted(unknown))}")
        variants = [v for v in VARIANTS if v.name in args.only]
    file = "pendigits.tes" if args.final else "pendigits.tra"
    points, labels = load_pendigits(args.pendigits / file)
    drawings = Drawings(points)
    seeds = list(range(args.seeds))
    print(f"{file}, {len(labels)} drawings; mean (sd) over training seeds {seeds}\n")
    extra = " per seed |" if args.per_seed else ""
    print(f"| variant | {file} | load_digits test | pen 12 vs 28 px | round trip |{extra}")
    print("|---|---|---|---|---|" + ("---|" if args.per_seed else ""))
    for variant in variants:
        t0 = time.perf_counter()
        results = np.array([score(variant, s, drawings, labels) for s in seeds])
        pen, test = results[:, 0], results[:, 1]
        each = " " + " ".join(f"{100 * p:.1f}" for p in pen) + " |" if args.per_seed else ""
        print(
            f"| {variant.name} | {100 * pen.mean():.1f}% ({100 * pen.std():.1f}) "
            f"| {100 * test.mean():.1f}% | {drawings.pen_spread(variant):.2f} "
            f"| {'-' if variant.reduce else f'{drawings.round_trip(variant):.2f}'} |{each}",
            flush=True,
        )
        print(f"  ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
