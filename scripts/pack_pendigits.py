#!/usr/bin/env python
"""Pack the UCI pendigits text files into ``resources/pendigits.npz``, shipped with digitgui.

The archive holds, for each of ``pendigits.tra`` and ``pendigits.tes``, the trajectories as
``uint8`` ``(n, 8, 2)`` (x, y in 0..100, y up) and the labels as ``uint8`` ``(n,)``:
``tra_points``, ``tra_labels``, ``tes_points``, ``tes_labels``. The same text files give the same
bytes (fixed zip timestamps, members in a fixed order).

    python scripts/pack_pendigits.py                       # from /work/shared/data/pendigits
    python scripts/pack_pendigits.py --source DIR --out resources/pendigits.npz
    python scripts/pack_pendigits.py --check               # compare with the shipped file
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from digitgui.core.atomic_file import write_atomically
from digitgui.core.model_io import _npz_bytes
from digitgui.core.pendigits import PACKED_KEYS, load_pendigits, packed_pendigits_path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = Path(
    os.environ.get("DIGITGUI_PENDIGITS", ROOT.parent / "shared" / "data" / "pendigits")
)


def packed_bytes(source: Path) -> bytes:
    """The archive's bytes, from the text files in ``source``."""
    arrays: dict[str, np.ndarray] = {}
    for name, (points_key, labels_key) in PACKED_KEYS.items():
        points, labels = load_pendigits(source / name)
        if np.any(points != np.round(points)) or points.min() < 0 or points.max() > 100:
            raise ValueError(f"{source / name}: points must be whole numbers 0..100")
        arrays[points_key] = points.astype(np.uint8)
        arrays[labels_key] = labels.astype(np.uint8)
    return _npz_bytes(arrays)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--source", type=Path, default=DEFAULT_SOURCE, help="folder of the two text files"
    )
    parser.add_argument("--out", type=Path, default=packed_pendigits_path(), help="the archive")
    parser.add_argument("--check", action="store_true", help="compare with --out, write nothing")
    args = parser.parse_args(argv)
    try:
        data = packed_bytes(args.source)
    except (FileNotFoundError, ValueError) as e:
        print(f"pack_pendigits: error: {e}", file=sys.stderr)
        return 2
    if args.check:
        same = args.out.is_file() and args.out.read_bytes() == data
        print(f"{args.out}: {'up to date' if same else 'differs from the text files'}")
        return 0 if same else 1
    write_atomically(args.out, data)
    print(f"{args.out}: {len(data):,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
