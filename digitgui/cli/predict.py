"""``digitgui predict``: classify images of drawn digits."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ._common import UsageError


def add_parser(sub) -> None:
    pr = sub.add_parser("predict", help="classify images of drawn digits")
    pr.add_argument("images", nargs="+", type=Path, help="image files (PNG, JPEG, ...)")
    pr.add_argument("--model", type=Path, help="model file (default: the shipped model)")
    pr.add_argument("--json", action="store_true", help="one JSON object per image")


def load_model(path: Path | None):
    from ..core.model_io import DigitClassifier, ModelFileError, load_default

    try:
        return load_default() if path is None else DigitClassifier.load(path)
    except ModelFileError as e:
        raise UsageError(str(e)) from None


def _read_image(path: Path):
    """A grayscale float raster 0..1 with ink high, whatever the image's ink polarity."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im.load()
            if im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info:
                # Transparent pixels are background: composite onto white before going gray.
                bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
                im = Image.alpha_composite(bg, im.convert("RGBA"))
            gray = np.asarray(im.convert("L"), dtype=np.float64) / 255.0
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a folder, not an image") from None
    except (UnidentifiedImageError, OSError) as e:
        raise UsageError(f"{path}: not a readable image ({e})") from None
    # Most of any drawing is background: if the typical pixel is bright, the ink is dark.
    if np.median(gray) > 0.5:
        gray = 1.0 - gray
    if min(gray.shape) < 32:
        factor = -(-32 // min(gray.shape))
        gray = np.kron(gray, np.ones((factor, factor)))
    return gray


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from ..core.calibration import format_probability
    from ..core.preprocess import EmptyDrawingError, raster_to_digit

    model = load_model(args.model)
    failures = 0
    for path in args.images:
        # One unreadable image costs its own answer, never the others'.
        try:
            digit = raster_to_digit(_read_image(path))
        except (UsageError, EmptyDrawingError, ValueError) as e:
            msg = f"{path}: the image holds no ink" if isinstance(e, EmptyDrawingError) else str(e)
            if args.json:
                print(json.dumps({"image": str(path), "error": msg}))
            else:
                print(f"digitgui: error: {msg}", file=sys.stderr)
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
