"""``digitgui predict``: classify images of drawn digits."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ._common import UsageError


def add_parser(sub) -> None:
    pr = sub.add_parser("predict", help="classify images of drawn digits")
    pr.add_argument(
        "images",
        nargs="+",
        type=Path,
        help="image files (PNG, JPEG, ...; one picture each, at most 50 megapixels); each gets "
        "its answer or its error, and the exit code is 2 if any failed",
    )
    pr.add_argument("--model", type=Path, help="model file (default: the shipped model)")
    pr.add_argument("--json", action="store_true", help="one JSON object per image")


def load_model(path: Path | None):
    from ..core.model_io import DigitClassifier, ModelFileError, load_default

    try:
        return load_default() if path is None else DigitClassifier.load(path)
    except ModelFileError as e:
        raise UsageError(str(e)) from None


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from ..core.calibration import format_probability
    from ..core.preprocess import EmptyDrawingError, raster_to_digit
    from ._image import read_drawing

    model = load_model(args.model)
    failures = 0
    for path in args.images:
        # One unreadable image costs its own answer, never the others'.
        try:
            digit = raster_to_digit(read_drawing(path))
        except (UsageError, ValueError, MemoryError) as e:
            if isinstance(e, EmptyDrawingError):
                msg = f"{path}: the image holds no ink"
            elif isinstance(e, MemoryError):
                msg = f"{path}: too large to read in the memory available"
            else:
                msg = str(e) if str(e).startswith(str(path)) else f"{path}: {e}"
            if args.json:
                print(json.dumps({"image": str(path), "error": msg}), flush=True)
            else:
                sys.stdout.flush()  # the answers before it come first when both go to a terminal
                print(f"digitgui: error: {msg}", file=sys.stderr, flush=True)
            failures += 1
            continue
        probs = model.predict_proba(digit)
        guess = int(np.argmax(probs))
        if args.json:
            print(
                json.dumps(
                    {
                        "image": str(path),
                        "digit": guess,
                        "probabilities": [round(float(p), 6) for p in probs],
                    }
                )
            )
        else:
            top = np.argsort(probs)[::-1][:3]
            others = ", ".join(f"{d}: {format_probability(probs[d])}" for d in top[1:])
            print(f"{path}: {guess} ({format_probability(probs[guess])}; then {others})")
    return 2 if failures else 0
