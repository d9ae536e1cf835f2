#!/usr/bin/env python
"""Make the shipped model, ``resources/default_model.npz``, from ``PRESETS["default"]``.

Reproducible: the same command on the same environment writes the same bytes. Training is seeded
and runs on one BLAS thread, the model file has fixed zip timestamps, and the metadata's
``created`` comes from ``SOURCE_DATE_EPOCH`` (or a fixed date) instead of the clock. The metadata
records how the model was made (preset, reduction, distortions, library versions) and its scores:
load_digits test accuracy and, with ``--pendigits``, accuracy on real handwriting drawn with the
app's pen (pendigits is only ever measured, never trained on).

    python scripts/train_default_model.py --pendigits ../shared/data/pendigits
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
from digitgui.core.model_io import DigitClassifier, default_model_path
from digitgui.core.pendigits import PENDIGITS_FILES, load_pendigits, pendigits_digits
from digitgui.core.preprocess import DEFAULT_REDUCTION
from digitgui.core.strokes import CANVAS_SIZE, DEFAULT_PEN_WIDTH
from digitgui.core.training import PRESETS, train

#: ``created`` when SOURCE_DATE_EPOCH is not set: the day this recipe was last changed.
RECIPE_DATE = "2026-11-29T00:00:00+00:00"


def created_timestamp() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None:
        return RECIPE_DATE
    return datetime.fromtimestamp(int(epoch), UTC).isoformat(timespec="seconds")


def build_model(pendigits_dir: Path | None) -> DigitClassifier:
    """Train the default preset and attach provenance and scores to its metadata."""
    config = PRESETS["default"]
    t0 = time.perf_counter()
    *_, record = train(config)
    model = record.model
    print(
        f"trained {config.name}: {record.iteration} iterations in "
        f"{time.perf_counter() - t0:.2f} s, load_digits test {100 * record.test_acc:.2f}%",
        file=sys.stderr,
    )
    scores: dict = {"load_digits_test": record.test_acc}
    if pendigits_dir is not None:
        for name in reversed(PENDIGITS_FILES):  # development set first, then the final one
            points, labels = load_pendigits(pendigits_dir / name)
            report = evaluate(model, pendigits_digits(points), labels)
            scores[name] = report.accuracy
            print(f"{name}: {100 * report.accuracy:.2f}% of {report.n}", file=sys.stderr)
    model.metadata["created"] = created_timestamp()
    model.metadata["scores"] = scores
    model.metadata["made_by"] = {
        "script": "scripts/train_default_model.py",
        "preset": config.name,
        "reduction": dataclasses.asdict(DEFAULT_REDUCTION),
        "distortions": dataclasses.asdict(DEFAULT_DISTORTIONS),
        "pendigits_drawing": {"canvas_size": CANVAS_SIZE, "pen_width": DEFAULT_PEN_WIDTH},
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
        "--pendigits", type=Path, help="folder with pendigits.tra and pendigits.tes, to score"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="rebuild into a temporary file and report whether it equals --out byte for byte",
    )
    args = parser.parse_args(argv)
    model = build_model(args.pendigits)
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
