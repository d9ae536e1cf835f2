"""Your own labelled digits ("my digits"): kept safe on disk, used for training and for testing.

load_digits comes from 13 writers; a learner's handwriting can sit outside it. A
:class:`DigitCollection` holds the digits a user drew and labelled, each as its 8x8 reduction
(0..16, like load_digits) plus the strokes it was drawn with, so it can be reduced again if the
reduction improves.

File format: JSON lines, UTF-8. The first line is a header
``{"format": "digitgui-my-digits", "version": 1}``; every other line is one digit::

    {"id": "5f0c...", "label": 3, "digit": [[0,0,5,...], ...8 rows of 8], "created": "2025-...",
     "strokes": [{"width": 16.0, "points": [[x, y], ...]}], "canvas": [256, 256]}

Why JSON lines rather than npz with metadata: a damaged or hand-edited line costs only that line
(the others still parse), so readable entries can be kept; strokes are ragged lists that JSON holds
naturally; a teacher can read, diff, concatenate (``cat a.jsonl b.jsonl``) and edit shared files
with any tool; and nothing in it can run code. Floats are written with Python's shortest
round-trip ``repr``, so every number reads back bit for bit (stroke points are rounded to 1/100
of a canvas pixel when a digit is added, before anything is stored).

Safety: a save writes a temporary file in the same folder, fsyncs it, renames it over the
collection and fsyncs the folder, so a crash or kill at any moment leaves either the old or the
new file, never a mix. A file with unreadable lines is copied aside (``<name>.damaged-<time>``)
before the readable entries are written back; when no copy can be made (a read-only folder, a
full disk) the readable digits still open, the file is left as it is and nothing rewrites it
until the copy can be made. A file from a newer digitgui, or one that is not a collection at
all, is refused without being touched. Keys this version does not know are kept. If another
program (a second window, the command line) saved the file meanwhile, a save merges in the
digits it added instead of overwriting them: a lock (``<name>.lock`` next to the file, POSIX
``flock``) is held from the check for such changes to the rename, so two programs adding digits
at the same moment never lose one.

Bounds: one digit holds at most :data:`MAX_STROKE_POINTS` stroke points and one line at most
:data:`MAX_LINE_BYTES` bytes; a longer line is reported like any other damaged line (and never
parsed), so a huge line cannot make the collection slow to open.

One digit, its line and the parser live in :mod:`digitgui.core.my_digits_file`; this module
keeps the collection, where it lives and how it is saved and merged.
"""

from __future__ import annotations

import dataclasses
import os
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from .atomic_file import keep_aside, locked, write_atomically
from .my_digits_file import (
    FORMAT_VERSION,
    HELD_OUT_FRACTION,
    MAX_LINE_BYTES,
    MAX_STROKE_POINTS,
    STROKE_DECIMALS,
    CollectionFileError,
    DigitEntry,
    ParsedFile,
    check_canvas,
    check_digit,
    check_label,
    check_stroke_points,
    entry_line,
    file_bytes,
    file_identity,
    is_held_out,
    parse_file,
)
from .strokes import CANVAS_SIZE, Stroke

__all__ = [
    "COLLECTION_FILE_NAME",
    "DATA_DIR_ENV",
    "DEFAULT_OVERSAMPLE",
    "FORMAT_VERSION",
    "HELD_OUT_FRACTION",
    "MAX_LINE_BYTES",
    "MAX_STROKE_POINTS",
    "CollectionFileError",
    "DigitCollection",
    "DigitEntry",
    "ImportResult",
    "default_collection_path",
    "default_data_dir",
    "is_held_out",
]

COLLECTION_FILE_NAME = "my_digits.jsonl"
#: Environment variable naming the folder that holds the user's collection.
DATA_DIR_ENV = "DIGITGUI_DATA_DIR"
#: Set by the test suite: the real user data folder must then never be used.
TESTING_ENV = "DIGITGUI_TESTING"
#: Copies of each of my training digits added to the training rows (a few dozen own digits next
#: to 1,257 load_digits rows would otherwise barely move the network). A starting point, not a
#: measured optimum.
DEFAULT_OVERSAMPLE = 5
#: Temporary files of interrupted saves older than this are removed by the next save (younger
#: ones may belong to a save running in another process right now).
STALE_TEMP_SECONDS = 3600

# --- where collections live -----------------------------------------------------------------------


def default_data_dir() -> Path:
    """The folder for the user's collection: ``$DIGITGUI_DATA_DIR`` if set, else the platform's
    user data folder (``platformdirs.user_data_dir("digitgui")``). Under the test suite
    (``DIGITGUI_TESTING`` set) without ``DIGITGUI_DATA_DIR`` it raises ``RuntimeError`` rather
    than touch a real user's digits."""
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    if os.environ.get(TESTING_ENV):
        raise RuntimeError(
            f"{TESTING_ENV} is set: refusing to use the real user data folder; "
            f"set {DATA_DIR_ENV} or pass a folder explicitly"
        )
    from platformdirs import user_data_dir

    return Path(user_data_dir("digitgui", appauthor=False))


def default_collection_path(data_dir: str | os.PathLike | None = None) -> Path:
    """The user's collection file: ``my_digits.jsonl`` in ``data_dir`` (default:
    :func:`default_data_dir`)."""
    folder = Path(data_dir).expanduser() if data_dir is not None else default_data_dir()
    return folder / COLLECTION_FILE_NAME


# --- files ----------------------------------------------------------------------------------------


def _remove_stale_temp_files(path: Path) -> None:
    """Delete temporary files that interrupted saves of ``path`` left behind."""
    now = time.time()
    prefix = f".{path.name}."
    try:
        candidates = [p for p in path.parent.iterdir() if p.name.startswith(prefix)]
    except OSError:
        return
    for tmp in candidates:
        try:
            if tmp.name.endswith(".tmp") and now - tmp.stat().st_mtime > STALE_TEMP_SECONDS:
                tmp.unlink()
        except OSError:
            pass


# --- the collection -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    """What :meth:`DigitCollection.import_from` did: digits ``added``; ``duplicates`` skipped
    (same id and content, or the same drawing under another id); ``conflicts`` skipped (an id you
    already have with different content: yours is kept); ``problems`` reading the file."""

    added: int
    duplicates: int
    conflicts: int
    problems: tuple[str, ...] = ()


class DigitCollection:
    """A user's labelled digits, stored in one JSON-lines file at ``path``.

    ``DigitCollection(path)`` loads the file if it exists (else starts empty; the file is created
    by the first :meth:`save`). Changes stay in memory until :meth:`save`. Unreadable lines are
    listed in :attr:`problems` (and :attr:`problem_message` says it in words); unless
    ``read_only``, the damaged file is first copied to :attr:`moved_aside` and then rewritten
    with the readable entries. If the copy cannot be made (:attr:`aside_error` says why) the
    readable digits open all the same, the file is left as it is, and :meth:`save` tries the
    copy again before it writes anything. A file that must not be touched raises
    :class:`CollectionFileError`.
    """

    def __init__(self, path: str | os.PathLike, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self._entries: list[DigitEntry] = []
        self._undo: list[list[tuple[int, DigitEntry]]] = []
        # Every id this object has seen (including removed ones): a save merges in only digits
        # added by someone else since, and never resurrects what was deleted here.
        self._known_ids: set[str] = set()
        self._disk_fingerprint: tuple[int, int, int] | None = None
        self._lines: dict[str, tuple[DigitEntry, str]] = {}
        self._dirty = False
        self.problems: list[str] = []
        self.moved_aside: Path | None = None
        #: Digits another program added to the file since it was read, merged by the last save.
        self.merged_on_save = 0
        #: Why the readable entries of a damaged file could not be written back yet (or None).
        self.rewrite_error: str | None = None
        #: Why the damaged file could not be copied aside (None when it was, or needed no copy):
        #: until it is, the file is not rewritten.
        self.aside_error: str | None = None
        if self.path.exists():
            self._load()

    # reading -------------------------------------------------------------------------------------

    def _load(self) -> None:
        parsed = parse_file(self.path)
        self._take(parsed)
        if self.problems and not self.read_only:
            self._repair(parsed.raw)

    def _take(self, parsed: ParsedFile) -> None:
        self._entries = parsed.entries
        self._known_ids = {e.id for e in parsed.entries}
        self._disk_fingerprint = parsed.fingerprint
        self.problems = parsed.problems

    def _repair(self, raw: bytes) -> None:
        """Copy the damaged file aside, then write back its readable entries (under the lock, so
        another program's save cannot fall in between). When no copy can be made, the readable
        entries are kept in memory and the file is left alone."""
        try:
            with locked(self.path):
                if file_identity(self.path) != self._disk_fingerprint:
                    # Saved by another program since it was read (perhaps repaired): read again.
                    parsed = parse_file(self.path)
                    self._take(parsed)
                    if not self.problems:
                        return
                    raw = parsed.raw
                self._keep_damaged_aside(raw)
                self._dirty = True
                try:
                    self._write()
                except OSError as e:
                    self.rewrite_error = f"{e.strerror or e}"
        except OSError as e:  # the lock file or the copy could not be made
            self.aside_error = f"{e.strerror or e}"

    def _keep_damaged_aside(self, raw: bytes | None = None) -> None:
        """Copy the file's damaged lines aside (its bytes as they are on disk, or ``raw``);
        ``OSError`` when the copy cannot be written."""
        self.moved_aside = keep_aside(self.path, self.path.read_bytes() if raw is None else raw)
        self.aside_error = None

    @property
    def problem_message(self) -> str | None:
        """What went wrong reading the file, in a few sentences (None if nothing did)."""
        if not self.problems:
            return None
        shown = "; ".join(self.problems[:3])
        more = f"; and {len(self.problems) - 3} more" if len(self.problems) > 3 else ""
        text = (
            f"{self.path}: {len(self.problems)} line(s) could not be read and were skipped "
            f"({shown}{more}). The {len(self._entries)} readable digit(s) were kept."
        )
        if self.moved_aside is not None:
            text += f" The original file was kept as {self.moved_aside}."
        if self.aside_error is not None:
            text += (
                f" The damaged line(s) could not be set aside in a copy ({self.aside_error}), "
                "so the file was left as it is; it is rewritten only once that copy can be made."
            )
        elif self.rewrite_error is not None:
            text += f" The file could not be rewritten yet ({self.rewrite_error})."
        elif self.read_only:
            text += " The file was not changed."
        return text

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[DigitEntry]:
        return iter(list(self._entries))

    def __getitem__(self, index: int) -> DigitEntry:
        return self._entries[index]

    def index_of(self, entry_id: str) -> int:
        """Position of the digit with this id; ``KeyError`` if there is none."""
        for i, e in enumerate(self._entries):
            if e.id == entry_id:
                return i
        raise KeyError(entry_id)

    @property
    def dirty(self) -> bool:
        """True when there are changes that :meth:`save` has not written yet."""
        return self._dirty

    # changing ------------------------------------------------------------------------------------

    def add(
        self,
        digit8x8: np.ndarray,
        label: int,
        strokes: Sequence[Stroke] | None = None,
        *,
        canvas_size: int | tuple[int, int] = CANVAS_SIZE,
    ) -> DigitEntry:
        """Append a digit ``(8, 8)`` (or ``(64,)``) of values 0..16 with its label 0..9 and the
        strokes it was drawn with (canvas pixels on a ``canvas_size`` canvas). Returns the entry."""
        stroke_list = tuple(strokes or ())
        if not all(isinstance(s, Stroke) for s in stroke_list):
            raise TypeError("strokes must be digitgui.core.strokes.Stroke objects")
        # A hundredth of a canvas pixel is far below what the 32x32 reduction can see; rounding
        # here (before anything is stored) keeps files about half as large, and what is in
        # memory is exactly what the file holds.
        stroke_list = tuple(
            Stroke(np.round(s.points, STROKE_DECIMALS), s.width) for s in stroke_list
        )
        check_stroke_points(sum(len(s.points) for s in stroke_list))
        entry = DigitEntry(
            id=uuid.uuid4().hex,
            label=check_label(label),
            digit=check_digit(digit8x8),
            created=datetime.now(UTC),
            strokes=stroke_list,
            canvas_size=check_canvas(canvas_size),
        )
        line = self._line(entry)
        if len(line.encode("utf-8")) > MAX_LINE_BYTES:  # far-away points written at length
            del self._lines[entry.id]
            raise ValueError(
                f"this digit's strokes take more than {MAX_LINE_BYTES:,} bytes; it was not added"
            )
        self._append(entry)
        return entry

    def _append(self, entry: DigitEntry) -> None:
        self._entries.append(entry)
        self._known_ids.add(entry.id)
        self._dirty = True

    def remove(self, index: int) -> DigitEntry:
        """Remove the digit at ``index`` (negative counts from the end); :meth:`undo_remove`
        brings it back. Returns the removed entry."""
        return self.remove_many([index])[0]

    def remove_many(self, indices: Iterable[int]) -> list[DigitEntry]:
        """Remove several digits at once (one step for :meth:`undo_remove`); returns them in
        their order in the collection."""
        n = len(self._entries)
        positions = set()
        for i in indices:
            if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
                raise TypeError(f"an index must be a whole number, got {i!r}")
            if not -n <= i < n:
                raise IndexError(f"no digit at index {i} (the collection holds {n})")
            positions.add(int(i) % n)
        if not positions:
            return []
        group = [(i, self._entries[i]) for i in sorted(positions)]
        for i, _ in reversed(group):
            del self._entries[i]
        self._undo.append(group)
        self._dirty = True
        return [e for _, e in group]

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    def undo_remove(self) -> list[DigitEntry]:
        """Put back the digits of the last :meth:`remove`/:meth:`remove_many` at their old
        positions; returns them (empty if there is nothing to undo)."""
        if not self._undo:
            return []
        group = self._undo.pop()
        present = {e.id for e in self._entries}
        restored = []
        for i, e in group:  # ascending positions: each insert lands where it was
            if e.id in present:  # came back meanwhile (e.g. imported again)
                continue
            self._entries.insert(min(i, len(self._entries)), e)
            restored.append(e)
        self._dirty = self._dirty or bool(restored)
        return restored

    def relabel(self, index: int, label: int) -> DigitEntry:
        """Give the digit at ``index`` a new label 0..9; returns the updated entry."""
        label = check_label(label)
        entry = self._entries[index]
        if entry.label != label:
            entry = dataclasses.replace(entry, label=label)
            self._entries[index] = entry
            self._dirty = True
        return entry

    def rereduce(self) -> int:
        """Recompute every digit that has strokes with the current reduction
        (``raster_to_digit(render_strokes(strokes))``); returns how many changed."""
        changed = 0
        for i, e in enumerate(self._entries):
            fresh = e.rereduced()
            if fresh is not None and not np.array_equal(fresh, e.digit):
                self._entries[i] = dataclasses.replace(e, digit=check_digit(fresh))
                changed += 1
        self._dirty = self._dirty or changed > 0
        return changed

    # numbers for training and evaluation ---------------------------------------------------------

    def held_out_mask(self) -> np.ndarray:
        """Boolean ``(n,)``: True for digits in the held-out part."""
        return np.array([e.held_out for e in self._entries], dtype=bool)

    def arrays(self, part: str = "all") -> tuple[np.ndarray, np.ndarray]:
        """Digits as rows ``X (n, 64)`` (raw 0..16) and labels ``y (n,)``, for ``part`` "all",
        "train" (never held out) or "held_out"."""
        if part not in ("all", "train", "held_out"):
            raise ValueError(f"part must be 'all', 'train' or 'held_out', got {part!r}")
        chosen = [e for e in self._entries if part == "all" or (e.held_out == (part == "held_out"))]
        X = np.array([e.digit.reshape(64) for e in chosen], dtype=np.float64).reshape(-1, 64)
        y = np.array([e.label for e in chosen], dtype=np.int64)
        return X, y

    def training_data(self, oversample: int = DEFAULT_OVERSAMPLE) -> tuple[np.ndarray, np.ndarray]:
        """The training part, each digit repeated ``oversample`` times: ``X (n * oversample, 64)``
        raw 0..16 and ``y (n * oversample,)``, ready for ``train(config, extra_train=...)``.
        The held-out digits are never included."""
        if isinstance(oversample, bool) or not isinstance(oversample, (int, np.integer)):
            raise TypeError("oversample must be a whole number")
        if oversample < 1:
            raise ValueError("oversample must be at least 1")
        X, y = self.arrays("train")
        return np.repeat(X, oversample, axis=0), np.repeat(y, oversample)

    def held_out_data(self) -> tuple[np.ndarray, np.ndarray]:
        """The held-out part: ``X (m, 64)`` raw 0..16 and ``y (m,)``, for honest evaluation."""
        return self.arrays("held_out")

    def counts(self, part: str = "all") -> np.ndarray:
        """How many digits of each label ``(10,)`` (ints), for ``part`` as in :meth:`arrays`."""
        _, y = self.arrays(part)
        return np.bincount(y, minlength=10)

    # sharing -------------------------------------------------------------------------------------

    def export(self, path: str | os.PathLike, indices: Iterable[int] | None = None) -> Path:
        """Write all digits (or those at ``indices``) to a new collection file at ``path``
        (atomically) for sharing; returns the path."""
        path = Path(path)
        if path.resolve() == self.path.resolve():
            raise ValueError("export to another file than the collection itself")
        chosen = self._entries if indices is None else [self._entries[i] for i in indices]
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, file_bytes(self._line(e) for e in chosen))
        return path

    def import_from(self, path: str | os.PathLike) -> ImportResult:
        """Merge the digits of another collection file (which is only read) without duplicates.
        Imported digits keep their ids, so importing the same file twice adds nothing and each
        digit stays on its side of the held-out split."""
        parsed = parse_file(Path(path))
        by_id = {e.id: e for e in self._entries}
        contents = {e.content_key() for e in self._entries}
        added = duplicates = conflicts = 0
        for e in parsed.entries:
            mine = by_id.get(e.id)
            key = e.content_key()
            if mine is not None:
                if mine.content_key() == key:
                    duplicates += 1
                else:
                    conflicts += 1
                continue
            if key in contents:
                duplicates += 1
                continue
            self._append(e)
            by_id[e.id] = e
            contents.add(key)
            added += 1
        return ImportResult(added, duplicates, conflicts, tuple(parsed.problems))

    # writing -------------------------------------------------------------------------------------

    def save(self) -> Path:
        """Write the collection to :attr:`path` atomically; returns the path.

        If another program changed the file since it was read (a second window, the command
        line), the digits it added are merged in first (counted in :attr:`merged_on_save`)
        rather than overwritten. A lock on the file is held from that check to the rename, so
        programs saving at the same moment take turns. Damaged lines are copied aside before
        the file is rewritten without them; ``OSError`` (nothing written) if that copy cannot be
        made.
        """
        if self.read_only:
            raise PermissionError(f"{self.path}: the collection was opened read-only")
        self.merged_on_save = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with locked(self.path):
            if file_identity(self.path) not in (None, self._disk_fingerprint):
                # parse_file raises, and nothing is written, for a file we must not touch.
                parsed = parse_file(self.path)
                if parsed.problems:
                    self._keep_damaged_aside(parsed.raw)
                else:
                    self.aside_error = None  # replaced by a file with nothing to set aside
                for e in parsed.entries:
                    if e.id not in self._known_ids:
                        self._append(e)
                        self.merged_on_save += 1
            elif self.aside_error is not None and self._disk_fingerprint is not None:
                self._keep_damaged_aside()  # the copy that could not be made when it was opened
            self._write()
        self.rewrite_error = None
        return self.path

    def _line(self, entry: DigitEntry) -> str:
        # Entries are immutable, so a line once serialised stays valid: a save after adding one
        # digit to a large collection encodes one line, not all of them.
        cached = self._lines.get(entry.id)
        if cached is None or cached[0] is not entry:
            cached = (entry, entry_line(entry))
            self._lines[entry.id] = cached
        return cached[1]

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(self.path, file_bytes(self._line(e) for e in self._entries))
        self._lines = {e.id: self._lines[e.id] for e in self._entries}
        self._disk_fingerprint = file_identity(self.path)
        self._dirty = False
        _remove_stale_temp_files(self.path)
