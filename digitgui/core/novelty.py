"""Is this 8x8 digit unlike anything in ``load_digits``?

A network answers every input with ten probabilities, even a scribble. This module says when the
answer is an extrapolation: the reduced drawing is compared with the training digits themselves,
in their own units (pixel counts 0..16), independently of any model. The checks, each with a
sentence for the user:

- **distance** (the check that does the work): the Euclidean distance (64 values) to the nearest
  training digit, against the training digits' own leave-one-out nearest-neighbour distances.
  Beyond their 99th percentile the digit is *unusual*; beyond their maximum, *novel*;
- **ink**: a total ink (sum of the 64 values) outside the training digits' range is novel (NIST's
  stroke-width normalisation keeps almost every load_digits digit in 256..412);
- **cells**: a cell with more ink than any training digit has there (plus a quarter of a cell)
  is named in the explanation of a flagged digit, but does not flag one by itself: measured on
  pendigits it fires for 27% of real handwriting and 4% of scribbles, and the model reads the
  drawings only it would flag *better* than the rest (89.5% vs 78.7%): it says nothing about
  trust.

What it separates: ``python -m digitgui.core.novelty --pendigits ../shared/data/pendigits/
pendigits.tra`` prints the table (the thresholds are computed from the training rows, not typed
in). Measured on 2026-11-29 with the reduction and shipped model of that day: load_digits'
validation and test rows 0.6% unusual or novel (0.2% novel); random polylines 71% (22%); real
handwriting of other writers (pendigits, drawn with the app's pen) 64% (29%), and rightly so:
the shipped model reads the typical ones 91% right, the unusual ones 76% and the novel ones 68%.
The rates move with the reduction and the shipped model; rerun the command after changing
either. Filled blobs and dense
scribbles are the known blind spot: the NIST normalisation stretches them into thick 0- or
8-like shapes that sit near real training digits.

The window no longer warns from these checks: distance to load_digits flagged many clean,
correctly read drawings and missed misread ones. Its warning comes from the calibrated model's
own confidence (:mod:`digitgui.core.reading`); ``MainWindow.novelty()`` still measures a drawing
on request.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

__all__ = [
    "NOVEL",
    "TYPICAL",
    "UNUSUAL",
    "Novelty",
    "NoveltyReference",
    "assess",
    "load_digits_reference",
]

#: Percentile of the training digits' leave-one-out nearest-neighbour distances beyond which a
#: digit counts as far from all of them.
DISTANCE_PERCENTILE = 99.0
#: Extra ink a cell may hold beyond the most any training digit has there (a quarter of a cell).
CELL_MARGIN = 4.0


def _squared_distances(X: np.ndarray, rows: np.ndarray, row_sq: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances ``(m, n)`` between ``X (m, 64)`` and ``rows (n, 64)``."""
    d2 = (X * X).sum(axis=1)[:, None] + row_sq[None, :] - 2.0 * (X @ rows.T)
    # Rounding can make the expansion slightly negative for identical rows.
    return np.maximum(d2, 0.0, out=d2)


@dataclass(frozen=True, eq=False)
class NoveltyReference:
    """What the training digits look like, reduced to the numbers :func:`assess` needs.

    ``rows (n, 64)``: the raw training digits. Of their leave-one-out nearest-neighbour distances:
    ``distance_typical`` (the 99th percentile) and ``distance_max`` (the largest).
    ``ink_range``: (min, max) of their ink totals. ``cell_max (64,)``: the most ink each cell
    holds in any of them.
    """

    rows: np.ndarray
    row_sq: np.ndarray
    distance_typical: float
    distance_max: float
    ink_range: tuple[float, float]
    cell_max: np.ndarray

    @classmethod
    def from_training(cls, X_train: np.ndarray) -> NoveltyReference:
        """Build the reference from raw training digits ``(n, 64)`` or ``(n, 8, 8)``, n >= 2."""
        rows = np.array(X_train, dtype=np.float64).reshape(-1, 64)
        if len(rows) < 2:
            raise ValueError("a novelty reference needs at least two training digits")
        row_sq = (rows * rows).sum(axis=1)
        d2 = _squared_distances(rows, rows, row_sq)
        # Leave one out: a digit is not its own neighbour (exact duplicates still count).
        np.fill_diagonal(d2, np.inf)
        nearest = np.sqrt(d2.min(axis=1))
        ink = rows.sum(axis=1)
        rows.flags.writeable = False
        return cls(
            rows=rows,
            row_sq=row_sq,
            distance_typical=float(np.percentile(nearest, DISTANCE_PERCENTILE)),
            distance_max=float(nearest.max()),
            ink_range=(float(ink.min()), float(ink.max())),
            cell_max=rows.max(axis=0),
        )


@lru_cache(maxsize=2)
def load_digits_reference(seed: int = 42) -> NoveltyReference:
    """The reference built from the training rows of ``load_digits_split(seed)`` (cached). The
    first call imports scikit-learn and loads the data: about a second; call it off the GUI
    thread."""
    from .data import load_digits_split

    return NoveltyReference.from_training(load_digits_split(seed).X_train)


#: Levels of :attr:`Novelty.level`.
TYPICAL, UNUSUAL, NOVEL = 0, 1, 2


@dataclass(frozen=True)
class Novelty:
    """How one digit compares with the training digits.

    ``level``: TYPICAL (like them), UNUSUAL (its nearest training digit is farther than for 99%
    of training digits) or NOVEL (unlike any of them: farther than any training digit is from
    its nearest neighbour, or ink total outside their range). ``cells_outside``: cells with more
    ink than any training digit has there (explained for a flagged digit, not a flag itself).
    ``reasons``: one sentence per finding, for the user.
    """

    level: int
    nearest_distance: float
    nearest_index: int
    ink: float
    cells_outside: tuple[tuple[int, int], ...]
    reasons: tuple[str, ...]

    @property
    def is_novel(self) -> bool:
        return self.level == NOVEL

    @property
    def is_unusual(self) -> bool:
        return self.level >= UNUSUAL


def assess(digit: np.ndarray, reference: NoveltyReference) -> Novelty:
    """Compare a raw digit (``(8, 8)`` or ``(64,)``, values 0..16) with the training digits."""
    x = np.asarray(digit, dtype=np.float64).reshape(1, 64)
    d2 = _squared_distances(x, reference.rows, reference.row_sq)[0]
    index = int(np.argmin(d2))
    distance = float(np.sqrt(d2[index]))
    ink = float(x.sum())
    over = np.flatnonzero(x[0] > reference.cell_max + CELL_MARGIN)
    cells = tuple((int(i) // 8, int(i) % 8) for i in over)

    level = TYPICAL
    reasons = []
    if distance > reference.distance_max:
        level = NOVEL
        reasons.append(
            f"Its closest training digit is {distance:.1f} away; no training digit is farther "
            f"than {reference.distance_max:.1f} from its own closest one."
        )
    elif distance > reference.distance_typical:
        level = UNUSUAL
        reasons.append(
            f"Its closest training digit is {distance:.1f} away; 99% of training digits have "
            f"one within {reference.distance_typical:.1f}."
        )
    lo, hi = reference.ink_range
    if not lo <= ink <= hi:
        level = NOVEL
        reasons.append(
            f"Its total ink, {ink:.0f}, is outside the training digits' {lo:.0f}..{hi:.0f}."
        )
    if cells and level > TYPICAL:
        where = ", ".join(f"row {r} col {c}" for r, c in cells[:3])
        more = f" and {len(cells) - 3} more" if len(cells) > 3 else ""
        reasons.append(f"It has more ink than any training digit at {where}{more}.")
    return Novelty(level, distance, index, ink, cells, tuple(reasons))


# --- measurement ----------------------------------------------------------------------------------


def random_scribbles(n: int, seed: int = 0) -> np.ndarray:
    """``n`` reduced drawings ``(n, 64)`` of random polylines (1-4 strokes of 2-15 random points,
    pen 6-40 px) on the app's canvas: the garbage the novelty checks should flag."""
    from .preprocess import raster_to_digit
    from .strokes import CANVAS_SIZE, Stroke, render_strokes

    rng = np.random.default_rng(seed)
    out = np.empty((n, 64))
    for i in range(n):
        strokes = [
            Stroke(
                rng.uniform(0.15, 0.85, (rng.integers(2, 16), 2)) * CANVAS_SIZE, rng.uniform(6, 40)
            )
            for _ in range(rng.integers(1, 5))
        ]
        out[i] = raster_to_digit(render_strokes(strokes)).ravel()
    return out


def _measure(argv: list[str] | None = None) -> int:
    """Print how often each kind of input is flagged (see the module docstring)."""
    import argparse

    from .data import load_digits_split

    parser = argparse.ArgumentParser(prog="python -m digitgui.core.novelty")
    parser.add_argument("--pendigits", help="pendigits folder or file (uses up to 2000 samples)")
    parser.add_argument("--scribbles", type=int, default=1000)
    args = parser.parse_args(argv)

    split = load_digits_split(42)
    ref = load_digits_reference(42)
    groups = {
        "load_digits val+test rows": np.concatenate([split.X_val, split.X_test]),
        "random scribbles": random_scribbles(args.scribbles, seed=1),
    }
    labels = None
    if args.pendigits:
        from .pendigits import load_pendigits, pendigits_digits

        points, labels = load_pendigits(args.pendigits)
        groups["pendigits drawn with the pen"] = pendigits_digits(points[:2000]).reshape(-1, 64)
        labels = labels[:2000]
    print("cells*: a cell holds more ink than any training digit there (not a flag by itself)")
    print(
        f"training leave-one-out nearest distance: p{DISTANCE_PERCENTILE:g} "
        f"{ref.distance_typical:.2f}, max {ref.distance_max:.2f}; ink range "
        f"{ref.ink_range[0]:.0f}..{ref.ink_range[1]:.0f}"
    )
    print(f"{'':30s} {'n':>5}  {'unusual+':>8}  {'novel':>6}  {'cells*':>6}")
    for name, X in groups.items():
        found = [assess(x, ref) for x in X]
        levels = np.array([a.level for a in found])
        cells = np.array([bool(a.cells_outside) for a in found])
        print(
            f"{name:30s} {len(X):5d}  {100 * np.mean(levels >= UNUSUAL):7.1f}%  "
            f"{100 * np.mean(levels == NOVEL):5.1f}%  {100 * np.mean(cells):5.1f}%"
        )
        if name.startswith("pendigits") and labels is not None:
            from .model_io import load_default

            right = load_default().predict(X) == labels
            alone = cells & (levels == TYPICAL)
            if alone.any():
                print(
                    f"{'':30s} shipped model accuracy where only cells* fire: "
                    f"{100 * right[alone].mean():.1f}% ({alone.sum()}), elsewhere "
                    f"{100 * right[~alone].mean():.1f}%"
                )
            for level, text in ((TYPICAL, "typical"), (UNUSUAL, "unusual"), (NOVEL, "novel")):
                sel = levels == level
                if sel.any():
                    print(
                        f"{'':30s} shipped model accuracy on the {text} ones: "
                        f"{100 * right[sel].mean():.1f}% ({sel.sum()})"
                    )
    return 0


if __name__ == "__main__":
    raise SystemExit(_measure())
