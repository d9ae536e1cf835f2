"""The user's own digit collection (issue 6): storage, safety, splits, sharing, and the CLI flags.

Every test works in ``tmp_path`` or sets ``DIGITGUI_DATA_DIR`` there; none touches the real user
data folder (``DIGITGUI_TESTING`` makes :func:`default_data_dir` refuse it).
"""

from __future__ import annotations

import json
import os
import random
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from digitgui.cli import main
from digitgui.core import my_digits as md
from digitgui.core.my_digits import (
    COLLECTION_FILE_NAME,
    CollectionFileError,
    DigitCollection,
    default_collection_path,
    default_data_dir,
    is_held_out,
)
from digitgui.core.preprocess import raster_to_digit
from digitgui.core.strokes import Stroke, render_strokes

# --- helpers --------------------------------------------------------------------------------------


def random_strokes(rng: np.random.Generator, n_strokes: int = 2, n_points: int = 12) -> list:
    return [
        Stroke(np.round(rng.uniform(30, 220, size=(n_points, 2)), 2), float(rng.uniform(8, 24)))
        for _ in range(n_strokes)
    ]


def fill(collection: DigitCollection, n: int, seed: int = 0, strokes: bool = True) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(n):
        digit = rng.integers(0, 17, size=(8, 8)).astype(np.float64)
        collection.add(digit, int(rng.integers(0, 10)), random_strokes(rng) if strokes else None)


def same_entries(a, b) -> bool:
    """Entry for entry: id, label, digit bits, created, strokes (points bits and width)."""
    a, b = list(a), list(b)
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if (x.id, x.label, x.created, x.canvas_size) != (y.id, y.label, y.created, y.canvas_size):
            return False
        if x.digit.tobytes() != y.digit.tobytes() or len(x.strokes) != len(y.strokes):
            return False
        for s, t in zip(x.strokes, y.strokes, strict=True):
            if s.width != t.width or s.points.tobytes() != t.points.tobytes():
                return False
    return True


def data_files(folder: Path) -> list[str]:
    """The names in ``folder``, without the lock files saves leave (``<name>.lock``: empty,
    never removed, see atomic_file.locked)."""
    return sorted(p.name for p in folder.iterdir() if not p.name.endswith(".lock"))


def two_strokes_seven() -> list[Stroke]:
    return [
        Stroke(np.array([[70.0, 50.0], [190.0, 50.0]]), 16.0),
        Stroke(np.array([[190.0, 50.0], [110.0, 215.0]]), 16.0),
    ]


# --- basics ---------------------------------------------------------------------------------------


def test_add_save_and_reopen_keeps_everything(tmp_path):
    path = tmp_path / "mine.jsonl"
    c = DigitCollection(path)
    assert len(c) == 0 and not path.exists()  # created by the first save, not by opening
    strokes = two_strokes_seven()
    digit = raster_to_digit(render_strokes(strokes))
    entry = c.add(digit, 7, strokes)
    c.add(np.full(64, 3.5), 1)  # (64,) is accepted and stored as (8, 8)
    assert c.dirty
    c.save()
    assert not c.dirty

    again = DigitCollection(path)
    assert len(again) == 2 and again.problems == []
    first, second = list(again)
    assert first.id == entry.id and first.label == 7 and first.digit.shape == (8, 8)
    assert np.array_equal(first.digit, digit)
    assert first.created == entry.created and first.created.tzinfo is not None
    assert [s.points.tolist() for s in first.strokes] == [s.points.tolist() for s in strokes]
    assert second.digit.shape == (8, 8) and np.all(second.digit == 3.5) and second.strokes == ()
    assert again[0].digit.flags.writeable is False  # entries cannot be changed behind its back


def test_file_is_json_lines_with_a_header(tmp_path):
    path = tmp_path / "c.jsonl"
    c = DigitCollection(path)
    c.add(np.arange(64).reshape(8, 8) % 17, 4, two_strokes_seven())
    c.save()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[0]) == {"format": "digitgui-my-digits", "version": 1}
    obj = json.loads(lines[1])
    assert obj["label"] == 4
    assert obj["digit"][0] == [0, 1, 2, 3, 4, 5, 6, 7]  # rows of 8, integral values as ints
    assert obj["strokes"][0]["points"] == [[70.0, 50.0], [190.0, 50.0]]
    assert obj["canvas"] == [256, 256]


def test_a_thousand_digits_read_back_exactly(tmp_path):
    path = tmp_path / "big.jsonl"
    c = DigitCollection(path)
    rng = np.random.default_rng(1)
    for i in range(1000):
        # Whole pixel counts like the reduction makes, and arbitrary floats in 0..16, which must
        # survive the text format bit for bit too.
        if i % 2:
            digit = rng.integers(0, 17, size=(8, 8)).astype(np.float64)
        else:
            digit = rng.uniform(0, 16, size=(8, 8))
        c.add(digit, i % 10, random_strokes(rng, n_strokes=1 + i % 3) if i % 5 else None)
    c.save()
    again = DigitCollection(path)
    assert again.problems == []
    assert same_entries(c, again)
    assert np.array_equal(again.counts(), np.full(10, 100))


@pytest.mark.parametrize(
    ("digit", "label", "fragment"),
    [
        (np.zeros((8, 8)), 10, "0..9"),
        (np.zeros((8, 8)), -1, "0..9"),
        (np.zeros((8, 8)), 3.0, "whole number"),
        (np.zeros((8, 8)), True, "whole number"),
        (np.zeros((7, 8)), 3, "8x8"),
        (np.full((8, 8), 17.0), 3, "0..16"),
        (np.full((8, 8), -0.5), 3, "0..16"),
        (np.full((8, 8), np.nan), 3, "NaN"),
    ],
)
def test_add_refuses_bad_digits_and_labels(tmp_path, digit, label, fragment):
    c = DigitCollection(tmp_path / "c.jsonl")
    with pytest.raises(ValueError, match=fragment):
        c.add(digit, label)
    assert len(c) == 0


def test_remove_relabel_undo_and_counts(tmp_path):
    c = DigitCollection(tmp_path / "c.jsonl")
    for label in (0, 1, 2, 3, 1):
        c.add(np.full((8, 8), label), label)
    ids = [e.id for e in c]
    assert c.counts().tolist() == [1, 2, 1, 1, 0, 0, 0, 0, 0, 0]

    removed = c.remove(1)
    assert removed.id == ids[1] and len(c) == 4
    group = c.remove_many([0, -1])  # the first and the last
    assert [e.id for e in group] == [ids[0], ids[4]]
    assert [e.id for e in c] == [ids[2], ids[3]]
    c.relabel(0, 9)
    assert c[0].label == 9 and c.counts()[9] == 1

    assert [e.id for e in c.undo_remove()] == [ids[0], ids[4]]
    assert [e.id for e in c] == [ids[0], ids[2], ids[3], ids[4]]
    assert [e.id for e in c.undo_remove()] == [ids[1]]
    assert [e.id for e in c] == ids  # every digit back in its place
    assert c.undo_remove() == [] and not c.can_undo
    assert [e.label for e in c] == [0, 1, 9, 3, 1]

    with pytest.raises(IndexError):
        c.remove(5)
    with pytest.raises(ValueError):
        c.relabel(0, 11)


def test_rereduce_recomputes_digits_from_strokes(tmp_path):
    c = DigitCollection(tmp_path / "c.jsonl")
    strokes = two_strokes_seven()
    c.add(np.zeros((8, 8)), 7, strokes)  # stored with a (deliberately) wrong reduction
    c.add(np.ones((8, 8)), 1)  # no strokes: left alone
    assert c.rereduce() == 1
    assert np.array_equal(c[0].digit, raster_to_digit(render_strokes(strokes)))
    assert np.all(c[1].digit == 1)
    assert c.rereduce() == 0


def test_strokes_are_kept_to_a_hundredth_of_a_pixel(tmp_path):
    c = DigitCollection(tmp_path / "c.jsonl")
    e = c.add(np.zeros((8, 8)), 1, [Stroke(np.array([[10.123456, 20.987654]]), 9.0)])
    assert e.strokes[0].points.tolist() == [[10.12, 20.99]]
    c.save()
    assert DigitCollection(c.path)[0].strokes[0].points.tolist() == [[10.12, 20.99]]


# --- held-out part and training data --------------------------------------------------------------


def test_held_out_part_is_deterministic_and_about_a_fifth():
    ids = [f"digit-{i}" for i in range(5000)]
    flags = [is_held_out(i) for i in ids]
    assert 0.18 < np.mean(flags) < 0.22
    assert flags == [is_held_out(i) for i in reversed(ids)][::-1]  # order plays no part


def test_training_and_held_out_data_never_overlap(tmp_path):
    c = DigitCollection(tmp_path / "c.jsonl")
    fill(c, 200, strokes=False)
    mask = c.held_out_mask()
    assert 0 < mask.sum() < len(c)
    X_held, y_held = c.held_out_data()
    X_train, y_train = c.training_data(oversample=3)
    assert X_held.shape == (mask.sum(), 64) and X_train.shape == (3 * (~mask).sum(), 64)
    held = [e for e, m in zip(c, mask, strict=True) if m]
    kept = [e for e, m in zip(c, mask, strict=True) if not m]
    expected_train = np.array([e.digit.reshape(64) for e in kept])
    assert np.array_equal(X_train[::3], expected_train)
    assert np.array_equal(X_train[1::3], expected_train)
    assert np.array_equal(y_train[::3], [e.label for e in kept])
    assert np.array_equal(X_held, [e.digit.reshape(64) for e in held])
    assert np.array_equal(y_held, [e.label for e in held])
    assert c.counts("train").sum() + c.counts("held_out").sum() == len(c)
    with pytest.raises(ValueError):
        c.training_data(oversample=0)


def test_split_survives_save_reload_and_export(tmp_path):
    c = DigitCollection(tmp_path / "c.jsonl")
    fill(c, 50)
    c.save()
    before = {e.id: e.held_out for e in c}
    again = DigitCollection(c.path)
    assert {e.id: e.held_out for e in again} == before
    other = DigitCollection(tmp_path / "friend.jsonl")
    other.import_from(c.export(tmp_path / "shared.jsonl"))
    assert {e.id: e.held_out for e in other} == before


def test_empty_collection_gives_empty_arrays(tmp_path):
    c = DigitCollection(tmp_path / "c.jsonl")
    X, y = c.training_data()
    assert X.shape == (0, 64) and y.shape == (0,)
    assert c.counts().tolist() == [0] * 10


# --- sharing --------------------------------------------------------------------------------------


def test_import_merges_without_duplicates(tmp_path):
    alice = DigitCollection(tmp_path / "alice.jsonl")
    fill(alice, 10, seed=1)
    bob = DigitCollection(tmp_path / "bob.jsonl")
    fill(bob, 5, seed=2)
    shared = alice.export(tmp_path / "alice-shared.jsonl")

    result = bob.import_from(shared)
    assert (result.added, result.duplicates, result.conflicts) == (10, 0, 0)
    assert len(bob) == 15
    again = bob.import_from(shared)  # importing twice adds nothing
    assert (again.added, again.duplicates) == (0, 10)
    assert len(bob) == 15

    # Bob relabels one of Alice's digits: a later import of Alice's file keeps Bob's label.
    i = bob.index_of(alice[0].id)
    bob.relabel(i, (alice[0].label + 1) % 10)
    third = bob.import_from(shared)
    assert (third.added, third.conflicts) == (0, 1)
    assert bob[i].label == (alice[0].label + 1) % 10

    # The same drawing under another id (copied by hand) is a duplicate too.
    copy_path = tmp_path / "copy.jsonl"
    lines = shared.read_text().splitlines()
    obj = json.loads(lines[2])  # Alice's second digit (Bob changed her first)
    obj["id"] = "another-id"
    copy_path.write_text(lines[0] + "\n" + json.dumps(obj) + "\n")
    assert bob.import_from(copy_path).duplicates == 1
    assert len(bob) == 15


def test_export_of_chosen_digits_and_not_over_itself(tmp_path):
    c = DigitCollection(tmp_path / "c.jsonl")
    fill(c, 6)
    out = c.export(tmp_path / "two.jsonl", [1, 4])
    assert [e.id for e in DigitCollection(out)] == [c[1].id, c[4].id]
    with pytest.raises(ValueError):
        c.export(c.path)


# --- damaged, hand-edited and foreign files -------------------------------------------------------


def write_lines(path: Path, lines: list[str]) -> bytes:
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(data)
    return data


def saved_lines(tmp_path, n: int = 4) -> tuple[Path, list[str], DigitCollection]:
    c = DigitCollection(tmp_path / COLLECTION_FILE_NAME)
    fill(c, n)
    c.save()
    return c.path, c.path.read_text().splitlines(), c


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda line: line[: len(line) // 2], "not valid JSON"),  # cut short
        (lambda line: line.replace('"label":', '"label":"x","was":'), "label"),
        (lambda line: line.replace('"digit":[[', '"digit":[[99,'), "rows of different lengths"),
        (lambda line: json.dumps({**json.loads(line), "digit": [0] * 63}), "8x8"),
        (lambda line: json.dumps({**json.loads(line), "label": 12}), "0..9"),
        (lambda line: json.dumps({**json.loads(line), "created": "yesterday"}), "ISO 8601"),
        (lambda line: json.dumps({**json.loads(line), "strokes": [{"width": 5}]}), "points"),
        (lambda line: line.replace('"digit":[[', '"digit":[[NaN,'), "not a number JSON allows"),
        (lambda line: line.replace('"digit":[[', '"digit":[["1",'), "numbers"),
        (lambda line: '{"label": 3}', "no digit"),
        (lambda line: "[1, 2, 3]", "not a JSON object"),
    ],
)
def test_damaged_line_is_skipped_reported_and_the_file_kept_aside(tmp_path, damage, reason):
    path, lines, original = saved_lines(tmp_path)
    lines[2] = damage(lines[2])  # the second digit
    bad = write_lines(path, lines)

    c = DigitCollection(path)
    assert len(c) == 3
    assert [e.id for e in c] == [original[i].id for i in (0, 2, 3)]
    assert len(c.problems) == 1 and c.problems[0].startswith("line 3:")
    assert reason in c.problems[0]
    message = c.problem_message
    assert "could not be read" in message and "3 readable" in message
    assert c.moved_aside is not None and str(c.moved_aside) in message
    assert c.moved_aside.read_bytes() == bad  # the original, byte for byte
    assert c.moved_aside.name.startswith(COLLECTION_FILE_NAME + ".damaged-")
    # The collection itself now holds the readable digits, and opens cleanly.
    clean = DigitCollection(path)
    assert clean.problems == [] and same_entries(clean, c)


def test_binary_garbage_in_a_line_keeps_the_rest(tmp_path):
    path, _, original = saved_lines(tmp_path)
    data = path.read_bytes() + b"\xff\xfe\x00garbage\x00\n"
    path.write_bytes(data)
    c = DigitCollection(path)
    assert same_entries(c, original)
    assert c.problems == ["line 6: not UTF-8 text"]
    assert c.moved_aside.read_bytes() == data


def test_second_damage_gets_a_new_aside_name(tmp_path):
    path, lines, _ = saved_lines(tmp_path)
    write_lines(path, [*lines, "oops"])
    first = DigitCollection(path).moved_aside
    write_lines(path, [*lines, "oops again"])
    second = DigitCollection(path).moved_aside
    assert first != second and first.exists() and second.exists()
    assert second.read_text().endswith("oops again\n")


def test_hand_edited_file_without_header_or_ids_is_read_and_extra_keys_kept(tmp_path):
    path = tmp_path / "by-hand.jsonl"
    flat = list(range(17)) + [0] * 47
    write_lines(
        path,
        [
            json.dumps({"label": 5, "digit": flat, "writer": "Ada"}),
            "",
            json.dumps({"label": 6, "digit": [[1] * 8] * 8, "created": "2024-05-01T10:00:00"}),
        ],
    )
    c = DigitCollection(path)
    assert c.problems == [] and c.moved_aside is None and len(c) == 2
    assert c[0].digit.reshape(64).tolist() == flat and c[0].extra == {"writer": "Ada"}
    assert c[1].created.tzinfo is not None  # a time without zone is taken as UTC
    ids = [e.id for e in c]
    assert ids == [e.id for e in DigitCollection(path)]  # derived ids are stable
    c.save()
    saved = [json.loads(line) for line in path.read_text().splitlines()[1:]]
    assert saved[0]["writer"] == "Ada" and [s["id"] for s in saved] == ids


def test_files_joined_with_cat_are_one_collection(tmp_path):
    (tmp_path / "a").mkdir()
    a_path, _, a = saved_lines(tmp_path / "a")
    b = DigitCollection(tmp_path / "b.jsonl")
    fill(b, 3, seed=9)
    b.save()
    joined = tmp_path / "joined.jsonl"
    joined.write_bytes(a_path.read_bytes() + b.path.read_bytes())
    c = DigitCollection(joined)
    assert c.problems == [] and len(c) == len(a) + len(b)


def test_repeated_id_keeps_the_first(tmp_path):
    path, lines, original = saved_lines(tmp_path)
    changed = json.loads(lines[1])
    changed["label"] = (changed["label"] + 1) % 10
    write_lines(path, [*lines, json.dumps(changed)])
    c = DigitCollection(path)
    assert same_entries(c, original)
    assert "repeats the id of line 2" in c.problems[0]


def test_newer_format_is_refused_and_left_untouched(tmp_path):
    path, lines, _ = saved_lines(tmp_path)
    lines[0] = json.dumps({"format": "digitgui-my-digits", "version": 99})
    data = write_lines(path, lines)
    with pytest.raises(CollectionFileError, match="newer digitgui"):
        DigitCollection(path)
    assert path.read_bytes() == data
    assert data_files(tmp_path) == [COLLECTION_FILE_NAME]


@pytest.mark.parametrize(
    "content",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b'{"format": "something-else", "version": 1}\n',
        b"hello\nworld\n",
    ],
)
def test_a_file_that_is_not_a_collection_is_refused_and_left_untouched(tmp_path, content):
    path = tmp_path / "other.jsonl"
    path.write_bytes(content)
    with pytest.raises(CollectionFileError, match="not a digitgui"):
        DigitCollection(path)
    assert path.read_bytes() == content
    assert data_files(tmp_path) == ["other.jsonl"]


def test_empty_file_is_an_empty_collection(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    c = DigitCollection(path)
    assert len(c) == 0 and c.problems == [] and c.moved_aside is None


def test_read_only_reports_problems_and_never_writes(tmp_path):
    path, lines, _ = saved_lines(tmp_path)
    data = write_lines(path, [*lines, "{broken"])
    c = DigitCollection(path, read_only=True)
    assert len(c) == 4 and len(c.problems) == 1 and c.moved_aside is None
    assert "not changed" in c.problem_message
    with pytest.raises(PermissionError):
        c.save()
    assert path.read_bytes() == data
    assert data_files(tmp_path) == [COLLECTION_FILE_NAME]


# --- atomic saves ---------------------------------------------------------------------------------


def test_failed_save_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path, _, c = saved_lines(tmp_path)
    before = path.read_bytes()
    c.add(np.zeros((8, 8)), 0)

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(md.os, "replace", broken_replace)
    with pytest.raises(OSError):
        c.save()
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert data_files(tmp_path) == [COLLECTION_FILE_NAME]
    assert c.dirty  # still unsaved, and a later save works
    c.save()
    assert len(DigitCollection(path)) == 5


def test_save_keeps_file_permissions(tmp_path):
    path, _, c = saved_lines(tmp_path)
    os.chmod(path, 0o640)
    c.add(np.zeros((8, 8)), 0)
    c.save()
    assert path.stat().st_mode & 0o777 == 0o640


def test_stale_temporary_files_are_cleaned_up_fresh_ones_kept(tmp_path):
    _, _, c = saved_lines(tmp_path)
    stale = tmp_path / f".{COLLECTION_FILE_NAME}.abc123.tmp"
    fresh = tmp_path / f".{COLLECTION_FILE_NAME}.def456.tmp"  # maybe another process's save
    for p in (stale, fresh):
        p.write_text("partial")
    old = time.time() - 2 * md.STALE_TEMP_SECONDS
    os.utime(stale, (old, old))
    c.add(np.zeros((8, 8)), 0)
    c.save()
    assert not stale.exists() and fresh.exists()


def test_two_windows_saving_the_same_file_lose_nothing(tmp_path):
    path = tmp_path / COLLECTION_FILE_NAME
    first = DigitCollection(path)
    fill(first, 3, seed=1)
    first.save()
    second = DigitCollection(path)
    removed = second.remove(0)
    fill(second, 2, seed=2)
    second.save()
    fill(first, 2, seed=3)  # first has not seen second's changes
    first.save()
    assert first.merged_on_save == 2
    ids = {e.id for e in DigitCollection(path)}
    assert {e.id for e in first} == ids and len(ids) == 7  # second's deletion: not seen by first
    second.add(np.zeros((8, 8)), 0)
    second.save()
    # first's two additions arrive; the digit second deleted stays deleted there.
    assert second.merged_on_save == 2 and removed.id not in {e.id for e in second}


# --- a kill in the middle of a save ---------------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import os, sys, time
    import numpy as np
    from digitgui.core.my_digits import DigitCollection
    from digitgui.core.strokes import Stroke

    path, mode = sys.argv[1], sys.argv[2]
    if mode == "mid-write":
        # Stop half-way through writing the temporary file (its first half flushed to disk).
        real_fdopen = os.fdopen

        class HalfWriter:
            def __init__(self, f):
                self.f = f
            def __enter__(self):
                return self
            def __exit__(self, *exc):
                return self.f.__exit__(*exc)
            def write(self, data):
                self.f.write(data[: len(data) // 2])
                self.f.flush()
                os.fsync(self.f.fileno())
                print("HALF-WRITTEN", flush=True)
                time.sleep(600)
            def __getattr__(self, name):
                return getattr(self.f, name)

        os.fdopen = lambda *a, **k: HalfWriter(real_fdopen(*a, **k))
    elif mode == "before-rename":
        def stall(src, dst):
            print("WRITTEN-NOT-RENAMED", flush=True)
            time.sleep(600)
        os.replace = stall

    c = DigitCollection(path)
    rng = np.random.default_rng(int(sys.argv[3]))
    while True:
        for _ in range(25):
            strokes = [Stroke(rng.uniform(20, 230, size=(40, 2)), 16.0) for _ in range(3)]
            c.add(rng.integers(0, 17, size=(8, 8)), int(rng.integers(0, 10)), strokes)
        c.save()
        print("SAVED", len(c), flush=True)
    """
)


def start_writer(path: Path, mode: str, seed: int = 0) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), mode, str(seed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def wait_for_line(proc: subprocess.Popen, prefix: str, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], deadline - time.monotonic())
        if not ready:
            break
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"the writer ended early: {proc.stderr.read()}")
        if line.startswith(prefix):
            return line
    raise AssertionError(f"the writer never printed {prefix!r}")


def kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    proc.stderr.close()


@pytest.fixture
def saved_before(tmp_path):
    """A collection of 400 digits with strokes, saved: what must survive any crash."""
    c = DigitCollection(tmp_path / COLLECTION_FILE_NAME)
    fill(c, 400, seed=5)
    c.save()
    return c


posix_only = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


@posix_only
@pytest.mark.parametrize(
    ("mode", "marker"), [("mid-write", "HALF-WRITTEN"), ("before-rename", "WRITTEN-NOT-RENAMED")]
)
def test_kill_during_a_save_loses_nothing_saved_before(saved_before, mode, marker):
    proc = start_writer(saved_before.path, mode)
    try:
        wait_for_line(proc, marker)
    finally:
        kill(proc)
    leftovers = [p for p in saved_before.path.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers, "the kill should have left the interrupted temporary file behind"
    reopened = DigitCollection(saved_before.path)
    assert reopened.problems == []
    assert same_entries(reopened, saved_before)


@posix_only
def test_kills_at_random_moments_of_a_saving_loop_lose_nothing(saved_before):
    rng = random.Random(6)
    for run in range(4):
        previous = DigitCollection(saved_before.path)
        proc = start_writer(saved_before.path, "loop", seed=run)
        try:
            saved = int(wait_for_line(proc, "SAVED").split()[1])
            # Somewhere inside the next saves: each one writes a file of several megabytes.
            time.sleep(rng.uniform(0.0, 0.3))
        finally:
            kill(proc)
        reopened = DigitCollection(saved_before.path)
        assert reopened.problems == []
        assert len(reopened) >= saved
        assert same_entries(list(reopened)[: len(previous)], previous)


# --- where the collection lives -------------------------------------------------------------------


def test_data_dir_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("DIGITGUI_DATA_DIR", str(tmp_path / "data"))
    assert default_data_dir() == tmp_path / "data"
    assert default_collection_path() == tmp_path / "data" / COLLECTION_FILE_NAME
    assert default_collection_path(tmp_path / "x") == tmp_path / "x" / COLLECTION_FILE_NAME


def test_tests_can_never_reach_the_real_user_data_folder(monkeypatch):
    monkeypatch.delenv("DIGITGUI_DATA_DIR", raising=False)
    monkeypatch.setenv("DIGITGUI_TESTING", "1")
    with pytest.raises(RuntimeError, match="real user data folder"):
        default_data_dir()


def test_save_creates_the_data_folder(tmp_path):
    c = DigitCollection(tmp_path / "new" / "folder" / COLLECTION_FILE_NAME)
    c.add(np.zeros((8, 8)), 0)
    c.save()
    assert len(DigitCollection(c.path)) == 1


def test_core_module_does_not_import_qt():
    code = (
        "import sys, digitgui.core.my_digits; "
        "print(any(m.startswith('PySide6') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- command line ---------------------------------------------------------------------------------


@pytest.fixture
def load_digits_collection(tmp_path):
    """60 load_digits test rows as someone's digits (so a trained model reads them well)."""
    from digitgui.core.data import load_digits_split

    split = load_digits_split()
    c = DigitCollection(tmp_path / "data" / COLLECTION_FILE_NAME)
    for x, y in zip(split.X_test[:60], split.y_test[:60], strict=True):
        c.add(x, int(y))
    c.save()
    return c


def test_cli_train_with_my_digits(capsys, tmp_path, load_digits_collection):
    c = load_digits_collection
    out_model = tmp_path / "m.npz"
    argv = ["train", "--iterations", "30", "--augment", "0", "--quiet", "--json"]
    argv += ["--out", str(out_model)]
    argv += ["--my-digits", str(c.path), "--my-digits-oversample", "3"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    final = json.loads(captured.out.strip().splitlines()[-1])
    n_train = int(c.counts("train").sum())
    n_held = len(c) - n_train
    assert final["my_digits"]["trained_on"] == n_train
    assert final["my_digits"]["held_out"] == n_held
    assert final["my_digits"]["oversample"] == 3
    assert 0 <= final["my_digits"]["held_out_acc"] <= 1
    assert f"training on {n_train} of your 60 digits (x3 = {3 * n_train} rows)" in captured.err
    from digitgui.core.model_io import DigitClassifier

    meta = DigitClassifier.load(out_model).metadata
    assert meta["my_digits"]["file"] == COLLECTION_FILE_NAME  # the name, not the user's folders
    assert meta["data"]["rows_trained_on"] == meta["data"]["train_rows"] + 3 * n_train


def test_cli_eval_reports_the_held_out_part_separately(capsys, load_digits_collection):
    c = load_digits_collection
    assert main(["eval", "--my-digits", str(c.path), "--json", "--quiet"]) == 0
    results = json.loads(capsys.readouterr().out)
    mine = results["my_digits"]
    assert mine["held_out"]["n"] == int(c.counts("held_out").sum())
    assert mine["training_part"]["n"] == int(c.counts("train").sum())
    assert mine["held_out"]["n"] + mine["training_part"]["n"] == 60
    assert mine["held_out"]["accuracy"] > 0.5  # load_digits rows: the shipped model reads them
    assert main(["eval", "--my-digits", str(c.path), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "my digits, held-out part" in text and "never trained on" in text


def test_cli_finds_the_collection_through_data_dir_and_the_environment(
    capsys, monkeypatch, load_digits_collection
):
    folder = load_digits_collection.path.parent
    assert main(["eval", "--my-digits", "--data-dir", str(folder), "--json", "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out)["my_digits"]["file"] == str(
        folder / COLLECTION_FILE_NAME
    )
    monkeypatch.setenv("DIGITGUI_DATA_DIR", str(folder))
    assert main(["eval", "--my-digits", "--json", "--quiet"]) == 0
    assert "my_digits" in json.loads(capsys.readouterr().out)


def test_cli_without_a_folder_under_tests_refuses_the_real_one(capsys, monkeypatch):
    monkeypatch.delenv("DIGITGUI_DATA_DIR", raising=False)
    assert main(["eval", "--my-digits", "--quiet"]) == 2
    assert "real user data folder" in capsys.readouterr().err


def test_cli_missing_or_foreign_collection_exits_2(capsys, tmp_path):
    assert main(["eval", "--my-digits", str(tmp_path / "nope.jsonl")]) == 2
    assert "no such digit collection" in capsys.readouterr().err
    other = tmp_path / "picture.png"
    other.write_bytes(b"\x89PNG\r\n\x1a\n")
    assert main(["train", "--iterations", "5", "--my-digits", str(other)]) == 2
    assert "not a digitgui digit collection" in capsys.readouterr().err
    assert other.read_bytes() == b"\x89PNG\r\n\x1a\n"


def test_cli_warns_about_damaged_lines_and_leaves_the_file_alone(capsys, load_digits_collection):
    path = load_digits_collection.path
    data = path.read_bytes() + b"{not json\n"
    path.write_bytes(data)
    assert main(["eval", "--my-digits", str(path), "--json", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "warning" in captured.err and "line 62" in captured.err
    assert json.loads(captured.out)["my_digits"]["held_out"]["n"] > 0
    assert path.read_bytes() == data
    assert data_files(path.parent) == [COLLECTION_FILE_NAME]
