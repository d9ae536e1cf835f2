#!/usr/bin/env python
"""Make the shipped model, ``resources/default_model.npz``, from ``PRESETS["handwriting"]``.

Reproducible: the same command on the same environment writes the same bytes. Training is seeded
and runs on one BLAS thread, the model file has fixed zip timestamps, and the metadata's
``created`` comes from ``SOURCE_DATE_EPOCH`` (or a fixed date) instead of the clock. The metadata
records how the model was made (preset, reduction, distortions, pen drawings, library versions)
and its scores: load_digits test accuracy, accuracy on the held-out pendigits.tra drawings (the
rows that chose its settings and calibrated it) and on pendigits.tes (14 writers it never saw,
drawn with the app's pen; measured only, never used to choose anything), with the calibration
error and the accuracy at 95% coverage.

    python scripts/train_default_model.py
    python scripts/train_default_model.py --check    # rebuild in memory, compare with the file
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import sklearn

from digitgui.core.augment import DEFAULT_DISTORTIONS
from digitgui.core.evaluation import evaluate
from digitgui.core.handwriting import DEFAULT_VARIATION
from digitgui.core.model_io import DigitClassifier, default_model_path
from digitgui.core.pendigits import load_packed_pendigits, load_pendigits, pendigits_digits
from digitgui.core.preprocess import DEFAULT_REDUCTION
from digitgui.core.strokes import CANVAS_SIZE, DEFAULT_PEN_WIDTH
from digitgui.core.training import PRESETS, TrainConfig, handwriting_rows, train

#: ``created`` when SOURCE_DATE_EPOCH is not set: the day this recipe was last changed.
RECIPE_DATE = "2026-12-05T00:00:00+00:00"
PRESET = "handwriting"


def created_timestamp() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None:
        return RECIPE_DATE
    return datetime.fromtimestamp(int(epoch), UTC).isoformat(timespec="seconds")


def _scores(report) -> dict:
    return {
        "accuracy": report.accuracy,
        "ece": report.ece,
        "accuracy_at_95": report.accuracy_at_95,
        "n": report.n,
    }


def build_model(
    pendigits_dir: Path | None, preset: str = PRESET, config: TrainConfig | None = None
) -> DigitClassifier:
    """Train ``preset`` (the shipped one by default; or ``config``, for a quick test of this
    script) and attach provenance and scores to its metadata."""
    config = PRESETS[preset] if config is None else config
    t0 = time.perf_counter()
    *_, record = train(config)
    model = record.model
    seconds = time.perf_counter() - t0
    print(
        f"trained {config.name}: {config.members} networks x {record.iteration} iterations in "
        f"{seconds:.1f} s, load_digits test {100 * record.test_acc:.2f}%",
        file=sys.stderr,
    )
    from digitgui.core.data import load_digits_split

    split = load_digits_split(42)
    scores: dict = {"load_digits_test": _scores(evaluate(model, split.X_test, split.y_test))}
    if config.handwriting:
        _, held_out = handwriting_rows(config.handwriting)
        scores["pendigits.tra held out"] = _scores(evaluate(model, *held_out))
    if pendigits_dir is not None:
        points, labels = load_pendigits(pendigits_dir / "pendigits.tes")
    else:
        points, labels = load_packed_pendigits("pendigits.tes")
    report = evaluate(model, pendigits_digits(points), labels)
    scores["pendigits.tes"] = _scores(report)
    for name, s in scores.items():
        print(
            f"{name}: {100 * s['accuracy']:.2f}% of {s['n']}, calibration error "
            f"{s['ece']:.3f}, {100 * s['accuracy_at_95']:.2f}% at 95% coverage",
            file=sys.stderr,
        )
    model.metadata["created"] = created_timestamp()
    model.metadata["scores"] = scores
    model.metadata["made_by"] = {
        "script": "scripts/train_default_model.py",
        "preset": config.name,
        "reduction": dataclasses.asdict(DEFAULT_REDUCTION),
        "distortions": dataclasses.asdict(DEFAULT_DISTORTIONS),
        "pen_drawings": {
            "canvas_size": CANVAS_SIZE,
            "pen_width": DEFAULT_PEN_WIDTH,
            "variation": dataclasses.asdict(DEFAULT_VARIATION),
        },
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
    }
    return model


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=default_model_path(), help="model file")
    parser.add_argument(
        "--pendigits",
        type=Path,
        help="folder with the pendigits text files (default: the packed copy in resources/)",
    )
    parser.add_argument(
        "--preset",
        default=PRESET,
        choices=sorted(PRESETS),
        help=f"preset to train (default: {PRESET}, the shipped model; 'default' rebuilds the "
        "model shipped before it, for comparison)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="rebuild into a temporary file and report whether it equals --out byte for byte",
    )
    args = parser.parse_args(argv)
    model = build_model(args.pendigits, args.preset)
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            rebuilt = model.save(Path(tmp) / "model.npz")
            same = args.out.exists() and rebuilt.read_bytes() == args.out.read_bytes()
            print(f"rebuilt {sha256(rebuilt)}; {args.out}: {'identical' if same else 'DIFFERENT'}")
            return 0 if same else 1
    path = model.save(args.out)
    print(f"{path}: {path.stat().st_size} bytes, sha256 {sha256(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
