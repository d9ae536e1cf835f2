"""The my-digits file format: one labelled digit (:class:`DigitEntry`), its JSON line and the
checks every value passes, and the parser that reads a collection file line by line (a damaged
line costs only itself). :mod:`digitgui.core.my_digits` (the collection, its safety and merging)
reads and writes files with these; the format itself is described there."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from .preprocess import raster_to_digit
from .strokes import CANVAS_SIZE, DEFAULT_PEN_WIDTH, Stroke, render_strokes

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "HELD_OUT_FRACTION",
    "MAX_LINE_BYTES",
    "MAX_STROKE_POINTS",
    "STROKE_DECIMALS",
    "CollectionFileError",
    "DigitEntry",
    "ParsedFile",
    "check_canvas",
    "check_digit",
    "check_label",
    "check_stroke_points",
    "entry_line",
    "file_bytes",
    "file_identity",
    "is_held_out",
    "parse_file",
]

FORMAT_NAME = "digitgui-my-digits"
FORMAT_VERSION = 1
#: About this fraction of the digits is never trained on, so accuracy on them is honest.
HELD_OUT_FRACTION = 0.2
#: Stroke coordinates are kept to this many decimals of a canvas pixel.
STROKE_DECIMALS = 2
#: Stroke points one digit may hold: a digit drawn on the canvas has a few hundred (a point per
#: half pixel of pen movement), a minute of scribbling a few thousand.
MAX_STROKE_POINTS = 20_000
#: Longest line of a collection file, in bytes (a digit at MAX_STROKE_POINTS takes under half).
#: A longer line is not parsed at all: it is reported as damaged.
MAX_LINE_BYTES = 2_000_000

_KNOWN_KEYS = ("id", "label", "digit", "created", "strokes", "canvas")


class CollectionFileError(ValueError):
    """A collection file that digitgui refuses to use (and leaves untouched); says why."""


def is_held_out(entry_id: str) -> bool:
    """Whether a digit belongs to the held-out part: decided by a hash of its id alone, so the
    split never changes when digits are added, removed, reordered or moved to another machine."""
    h = hashlib.sha256(entry_id.encode("utf-8")).digest()
    return int.from_bytes(h[:8], "big") < HELD_OUT_FRACTION * 2**64


# --- entries --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class DigitEntry:
    """One labelled digit: ``digit (8, 8)`` float 0..16 (read-only), ``label`` 0..9, the
    ``strokes`` it was drawn with (may be empty) on a canvas of ``canvas_size`` (height, width),
    a unique ``id`` and the UTC time it was ``created`` (None if unknown). ``extra`` keeps keys of
    the file this version does not know, so saving never drops them."""

    id: str
    label: int
    digit: np.ndarray
    created: datetime | None = None
    strokes: tuple[Stroke, ...] = ()
    canvas_size: tuple[int, int] = (CANVAS_SIZE, CANVAS_SIZE)
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def held_out(self) -> bool:
        """True for the ~20% of digits never used for training (see :func:`is_held_out`)."""
        return is_held_out(self.id)

    def rereduced(self) -> np.ndarray | None:
        """The digit reduced afresh from the strokes ``(8, 8)``, or None without strokes."""
        if not self.strokes:
            return None
        return raster_to_digit(render_strokes(self.strokes, self.canvas_size))

    def content_key(self) -> str:
        """A fingerprint of label, digit and strokes: equal for copies of the same drawing."""
        h = hashlib.sha256()
        h.update(str(self.label).encode())
        h.update(np.ascontiguousarray(self.digit, dtype=np.float64).tobytes())
        for s in self.strokes:
            h.update(b"|%r|" % s.width)
            h.update(np.ascontiguousarray(s.points).tobytes())
        return h.hexdigest()


def check_label(label: Any) -> int:
    if isinstance(label, (bool, np.bool_)) or not isinstance(label, (int, np.integer)):
        raise ValueError(f"the label must be a whole number 0..9, got {label!r}")
    if not 0 <= int(label) <= 9:
        raise ValueError(f"the label must be a whole number 0..9, got {label}")
    return int(label)


def check_digit(digit: Any) -> np.ndarray:
    a = np.array(digit, dtype=np.float64)
    if a.shape not in ((8, 8), (64,)):
        raise ValueError(f"a digit must be 8x8 (or 64 values), got shape {a.shape}")
    a = a.reshape(8, 8)
    if not np.all(np.isfinite(a)):
        raise ValueError("the digit contains NaN or infinite values")
    if a.min() < 0 or a.max() > 16:
        raise ValueError("digit values must lie in 0..16 (as in load_digits)")
    a.flags.writeable = False
    return a


def check_canvas(size: Any) -> tuple[int, int]:
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        size = (size, size)
    try:
        h, w = size
    except (TypeError, ValueError):
        raise ValueError(f"canvas size must be [height, width], got {size!r}") from None
    for v in (h, w):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 32 <= v <= 100_000:
            raise ValueError(f"canvas size must be two whole numbers >= 32, got {size!r}")
    return int(h), int(w)


def check_stroke_points(n: int) -> None:
    if n > MAX_STROKE_POINTS:
        raise ValueError(
            f"{n:,} stroke points is too many for one digit (at most {MAX_STROKE_POINTS:,})"
        )


# --- JSON ----------------------------------------------------------------------------------------


def _compact(values: list) -> list:
    """Nested lists of floats with integral values written as ints (``3`` rather than ``3.0``):
    shorter, easier to edit by hand, and read back as the same float64."""
    return [
        _compact(v) if isinstance(v, list) else (int(v) if v.is_integer() and abs(v) < 1e15 else v)
        for v in values
    ]


def entry_line(e: DigitEntry) -> str:
    """One entry as its line of the file (without the newline)."""
    obj: dict[str, Any] = {"id": e.id, "label": e.label, "digit": _compact(e.digit.tolist())}
    if e.created is not None:
        obj["created"] = e.created.isoformat()
    if e.strokes:
        obj["strokes"] = [{"width": s.width, "points": s.points.tolist()} for s in e.strokes]
        obj["canvas"] = list(e.canvas_size)
    for k, v in e.extra.items():
        obj.setdefault(k, v)
    return json.dumps(obj, separators=(",", ":"), allow_nan=False)


def _numbers(value: Any, what: str) -> np.ndarray:
    """Nested JSON lists of numbers as a float64 array; strings, booleans and nulls are refused
    (NumPy would quietly turn "3" or true into 3.0 or 1.0)."""

    def check(v: Any) -> None:
        if isinstance(v, list):
            for x in v:
                check(x)
        elif isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ValueError(f"{what} must hold numbers, found {v!r}")

    if not isinstance(value, list):
        raise ValueError(f"{what} must be a list of numbers")
    check(value)
    try:
        return np.array(value, dtype=np.float64)
    except OverflowError:
        raise ValueError(f"{what} holds a number too large for a float") from None
    except ValueError:
        raise ValueError(f"{what} has rows of different lengths") from None


def _strokes_from_json(raw_strokes: Any) -> list[Stroke]:
    if not isinstance(raw_strokes, list):
        raise ValueError("strokes must be a list")
    strokes: list[Stroke] = []
    for s in raw_strokes:
        if not isinstance(s, dict) or "points" not in s:
            raise ValueError("each stroke must be an object with points")
        points = _numbers(s["points"], "stroke points")
        if points.ndim != 2 or points.shape[1] != 2:
            raise ValueError("stroke points must be [x, y] pairs")
        width = s.get("width", DEFAULT_PEN_WIDTH)
        if isinstance(width, bool) or not isinstance(width, (int, float)):
            raise ValueError("stroke width must be a number")
        strokes.append(Stroke(points, float(width)))  # Stroke checks finiteness and width > 0
    check_stroke_points(sum(len(s.points) for s in strokes))
    return strokes


def _entry_from_json(obj: Any) -> DigitEntry:
    """An entry from one parsed line; ``ValueError`` with a short reason if it is not usable."""
    if not isinstance(obj, dict):
        raise ValueError("not a JSON object")
    if "label" not in obj:
        raise ValueError("no label")
    if "digit" not in obj:
        raise ValueError("no digit")
    label = check_label(obj["label"])
    digit = check_digit(_numbers(obj["digit"], "digit"))
    created = None
    if obj.get("created") is not None:
        if not isinstance(obj["created"], str):
            raise ValueError("created must be a date and time in ISO 8601 form")
        try:
            created = datetime.fromisoformat(obj["created"])
        except ValueError:
            raise ValueError(
                f"created is not an ISO 8601 date and time: {obj['created']!r}"
            ) from None
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
    strokes = _strokes_from_json(obj.get("strokes") or [])
    canvas = check_canvas(obj["canvas"]) if obj.get("canvas") is not None else None
    entry = DigitEntry(
        id="",
        label=label,
        digit=digit,
        created=created,
        strokes=tuple(strokes),
        canvas_size=canvas or (CANVAS_SIZE, CANVAS_SIZE),
        extra={k: v for k, v in obj.items() if k not in _KNOWN_KEYS},
    )
    entry_id = obj.get("id")
    if entry_id is None:
        # A hand-made line without an id gets one derived from its content: stable across
        # loads, so its place in the held-out split does not change before it is first saved.
        entry_id = "c-" + entry.content_key()[:32]
    elif not isinstance(entry_id, str) or not entry_id.strip():
        raise ValueError("id must be a non-empty string")
    return dataclasses.replace(entry, id=entry_id)


@dataclass
class ParsedFile:
    entries: list[DigitEntry]
    problems: list[str]
    raw: bytes
    #: The file's identity taken *before* reading: a change made while it was read shows later.
    fingerprint: tuple[int, int, int] | None


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number JSON allows")


def parse_file(path: Path) -> ParsedFile:  # noqa: C901 - one branch per kind of bad line
    """Read a collection file line by line, keeping every readable entry. Raises
    :class:`CollectionFileError` for files it must not touch: unreadable, from a newer digitgui,
    or not a collection at all."""
    name = str(path)
    if path.is_dir():
        raise CollectionFileError(f"{name}: is a folder, not a digit collection file")
    try:
        fingerprint = file_identity(path)
        raw = path.read_bytes()
    except OSError as e:
        raise CollectionFileError(f"{name}: cannot be read ({e.strerror or e})") from None
    entries: list[DigitEntry] = []
    problems: list[str] = []
    first_line_of: dict[str, int] = {}
    saw_header = False
    saw_content = False
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if number == 1:
            line = line.removeprefix(b"\xef\xbb\xbf")  # a BOM added by some Windows editors
        if not line.strip():
            continue
        saw_content = True
        if len(line) > MAX_LINE_BYTES:
            problems.append(
                f"line {number}: {len(line):,} bytes is too long for one digit "
                f"(at most {MAX_LINE_BYTES:,})"
            )
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            problems.append(f"line {number}: not UTF-8 text")
            continue
        try:
            obj = json.loads(text, parse_constant=_reject_constant)
        except json.JSONDecodeError as e:
            problems.append(f"line {number}: not valid JSON ({e.msg})")
            continue
        except (ValueError, RecursionError) as e:
            problems.append(f"line {number}: not valid JSON ({e})")
            continue
        if isinstance(obj, dict) and "format" in obj and "digit" not in obj:
            if obj["format"] != FORMAT_NAME:
                raise CollectionFileError(
                    f"{name}: a {obj['format']!r} file, not a digitgui digit collection"
                )
            version = obj.get("version")
            if not isinstance(version, int) or isinstance(version, bool):
                problems.append(f"line {number}: the header has no version number")
            elif version > FORMAT_VERSION:
                raise CollectionFileError(
                    f"{name}: written by a newer digitgui (collection format {version}; this "
                    f"version reads format {FORMAT_VERSION}). Update digitgui to open it; the "
                    "file was not changed."
                )
            saw_header = True  # a header in the middle: files joined with `cat`, which is fine
            continue
        try:
            entry = _entry_from_json(obj)
        except (ValueError, TypeError, OverflowError) as e:
            problems.append(f"line {number}: {e}")
            continue
        if entry.id in first_line_of:
            problems.append(
                f"line {number}: repeats the id of line {first_line_of[entry.id]}; kept the first"
            )
            continue
        first_line_of[entry.id] = number
        entries.append(entry)
    if saw_content and not saw_header and not entries:
        first = f" ({problems[0]})" if problems else ""
        raise CollectionFileError(
            f"{name}: not a digitgui digit collection: no line could be read as a digit{first}. "
            "The file was not changed."
        )
    return ParsedFile(entries, problems, raw, fingerprint)


def file_bytes(entry_lines: Iterable[str]) -> bytes:
    header = json.dumps({"format": FORMAT_NAME, "version": FORMAT_VERSION})
    return ("\n".join([header, *entry_lines]) + "\n").encode("utf-8")


def file_identity(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns
