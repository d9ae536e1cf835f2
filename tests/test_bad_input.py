"""Issue 14, bad input: every bad file or setting is answered in one sentence, nothing is lost.

Items 8 (what ``elapsed`` counts), 11 (two programs adding to one collection), 12 (a damaged
line where no copy can be made), 14/15/18 (``predict`` on huge, broken and unusual images),
16 (one hidden-layer parser), 17 (``train --out`` to a folder it cannot write) and 19 (a huge
collection line).
"""

from __future__ import annotations

import errno
import json
import os
import struct
import subprocess
import sys
import textwrap
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import digitgui.core.training as training_module
from digitgui.cli import main
from digitgui.core import atomic_file
from digitgui.core.my_digits import (
    COLLECTION_FILE_NAME,
    MAX_LINE_BYTES,
    MAX_STROKE_POINTS,
    DigitCollection,
)
from digitgui.core.strokes import Stroke, render_strokes
from digitgui.core.training import PRESETS, parse_hidden


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("digitgui: error:") and "Traceback" not in err
    return lines[0]


# --- 8. elapsed counts training only --------------------------------------------------------------


def test_train_json_elapsed_leaves_out_loading_the_data(monkeypatch, capsys):
    real = training_module.load_digits_split

    def slow_load(*args, **kwargs):
        time.sleep(1.5)  # a cold scikit-learn import and load_digits
        return real(*args, **kwargs)

    monkeypatch.setattr(training_module, "load_digits_split", slow_load)
    argv = ["train", "--iterations", "20", "--log-every", "5", "--augment", "0", "--json"]
    assert main([*argv, "--quiet"]) == 0
    lines = _json_lines(capsys.readouterr().out)
    logged, final = lines[:-1], lines[-1]
    assert [o["iteration"] for o in logged] == [5, 10, 15, 20]
    elapsed = [o["elapsed"] for o in logged]
    assert elapsed == sorted(elapsed) and elapsed[0] >= 0 and elapsed[-1] < 1.0
    assert final["elapsed"] == logged[-1]["elapsed"]  # the run's object carries the same count


def test_train_help_says_what_elapsed_counts(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "'elapsed'" in text and "first update" in text and "loading" in text


# --- 11. two programs adding to one collection ----------------------------------------------------

ADDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import numpy as np
    from digitgui.core.my_digits import DigitCollection

    path, n, seed, go = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
    c = DigitCollection(path)
    rng = np.random.default_rng(seed)
    print("READY", flush=True)
    while not go.exists():
        time.sleep(0.001)
    for _ in range(n):
        c.add(rng.integers(0, 17, size=(8, 8)), int(rng.integers(0, 10)))
        c.save()  # as the app does after every digit
    print("DONE", flush=True)
    """
)


@pytest.mark.skipif(os.name != "posix", reason="the collection's lock is POSIX flock")
def test_two_processes_adding_to_one_collection_lose_no_digit(tmp_path):
    path = tmp_path / COLLECTION_FILE_NAME
    first = DigitCollection(path)
    first.add(np.zeros((8, 8)), 0)
    first.save()
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", ADDER, str(path), "200", str(seed), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in (1, 2)
    ]
    try:
        for p in procs:
            assert p.stdout.readline().strip() == "READY", p.stderr.read()
        go.touch()  # both start adding at the same moment
        for p in procs:
            out, err = p.communicate(timeout=300)
            assert p.returncode == 0 and "DONE" in out, err
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    after = DigitCollection(path)
    assert after.problems == []
    assert len(after) == 401 and len({e.id for e in after}) == 401


def test_the_lock_makes_a_second_holder_wait(tmp_path):
    path = tmp_path / COLLECTION_FILE_NAME
    with atomic_file.locked(path):
        started = time.monotonic()
        with (
            pytest.raises(TimeoutError, match="another program"),
            atomic_file.locked(path, timeout=0.2),
        ):
            pass
        assert time.monotonic() - started >= 0.2
    with atomic_file.locked(path, timeout=0.2):  # free again once the first holder is done
        pass


# --- 12. a damaged line where no copy can be made -------------------------------------------------


def _damaged_collection(folder: Path) -> tuple[Path, bytes]:
    c = DigitCollection(folder / COLLECTION_FILE_NAME)
    rng = np.random.default_rng(0)
    for i in range(4):
        c.add(rng.integers(0, 17, size=(8, 8)), i)
    c.save()
    data = c.path.read_bytes() + b"{broken\n"
    c.path.write_bytes(data)
    return c.path, data


def _refuse_new_files(monkeypatch, folder: Path, error: int, text: str) -> None:
    """Creating a file in ``folder`` fails as in a read-only folder (root ignores chmod)."""
    real_open = os.open

    def fake_open(path, flags, *args, **kwargs):
        if flags & os.O_CREAT and Path(path).parent == folder:
            raise OSError(error, text, str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", fake_open)


def _no_damaged_copy(folder: Path) -> bool:
    return not any(".damaged-" in p.name for p in folder.iterdir())


def test_a_damaged_line_in_a_read_only_folder_still_opens_the_good_digits(tmp_path, monkeypatch):
    path, data = _damaged_collection(tmp_path)
    _refuse_new_files(monkeypatch, tmp_path, errno.EROFS, "Read-only file system")
    c = DigitCollection(path)
    assert len(c) == 4 and len(c.problems) == 1 and c.moved_aside is None
    message = c.problem_message
    assert "could not be set aside" in message and "Read-only file system" in message
    assert ".damaged-" not in message  # no copy was made, so none is named
    assert path.read_bytes() == data and _no_damaged_copy(tmp_path)
    # A save cannot drop the damaged line without its copy: it fails and writes nothing.
    c.add(np.zeros((8, 8)), 9)
    with pytest.raises(OSError):
        c.save()
    assert path.read_bytes() == data
    # Once the folder can be written again, the next save makes the copy, then writes.
    monkeypatch.undo()
    c.save()
    assert c.moved_aside is not None and c.moved_aside.read_bytes() == data
    again = DigitCollection(path)
    assert again.problems == [] and len(again) == 5


def test_a_damaged_line_on_a_full_disk_still_opens_the_good_digits(tmp_path, monkeypatch):
    path, data = _damaged_collection(tmp_path)

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    c = DigitCollection(path)
    assert len(c) == 4 and c.moved_aside is None
    assert "could not be set aside" in c.problem_message
    assert "No space left on device" in c.problem_message
    assert path.read_bytes() == data and _no_damaged_copy(tmp_path)  # the partial copy is gone


@pytest.mark.skipif(
    os.name != "posix" or os.geteuid() == 0, reason="root writes in read-only folders"
)
def test_a_damaged_line_in_a_chmod_read_only_folder(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    path, data = _damaged_collection(folder)
    folder.chmod(0o555)
    try:
        c = DigitCollection(path)
        assert len(c) == 4 and "could not be set aside" in c.problem_message
        assert path.read_bytes() == data
    finally:
        folder.chmod(0o755)


# --- 19. a huge collection line -------------------------------------------------------------------


def _digit_line(label: int, points: int) -> str:
    stroke = {"width": 16.0, "points": [[100.5, 100.25]] * points}
    digit = [[0] * 8 for _ in range(8)]
    digit[3][3] = 16
    return json.dumps({"label": label, "digit": digit, "strokes": [stroke]})


def test_a_line_with_too_many_stroke_points_is_a_damaged_line(tmp_path):
    path = tmp_path / COLLECTION_FILE_NAME
    too_long = _digit_line(2, 200_000)  # ~3 MB: never parsed
    assert len(too_long) > MAX_LINE_BYTES
    lines = [
        json.dumps({"format": "digitgui-my-digits", "version": 1}),
        _digit_line(1, 50),
        too_long,
        _digit_line(3, MAX_STROKE_POINTS + 1),  # short enough to read, too many points
        _digit_line(4, 50),
    ]
    path.write_text("\n".join(lines) + "\n")
    c = DigitCollection(path, read_only=True)
    assert [e.label for e in c] == [1, 4]
    assert "line 3:" in c.problems[0] and "too long for one digit" in c.problems[0]
    assert "line 4:" in c.problems[1] and "too many for one digit" in c.problems[1]
    assert f"{MAX_STROKE_POINTS:,}" in c.problems[1]


def test_a_digit_with_too_many_stroke_points_is_not_added(tmp_path):
    c = DigitCollection(tmp_path / COLLECTION_FILE_NAME)
    strokes = [Stroke(np.full((MAX_STROKE_POINTS // 2 + 1, 2), 100.0), 16.0)] * 2
    with pytest.raises(ValueError, match="too many for one digit"):
        c.add(np.zeros((8, 8)), 1, strokes)
    assert len(c) == 0 and not c.dirty
    c.add(np.zeros((8, 8)), 1, strokes[:1])  # half of it is fine, and reads back
    c.save()
    assert DigitCollection(c.path).problems == []


# --- 14, 15, 18. predict: huge, broken and unusual images -----------------------------------------


def _seven() -> np.ndarray:
    """A "7" drawn with the app's pen: uint8, ink 255 on 0."""
    return render_strokes([Stroke([[80, 50], [180, 50], [110, 210]], 16)])


def _png_header_only(path: Path, width: int, height: int) -> None:
    """A PNG that claims ``width x height`` pixels and holds almost nothing (a few bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def _predict(capsys, *paths, json_out=True) -> tuple[int, list[dict] | str, str]:
    code = main(["predict", *map(str, paths), *(["--json"] if json_out else [])])
    captured = capsys.readouterr()
    return code, (_json_lines(captured.out) if json_out else captured.out), captured.err


@pytest.mark.parametrize("size", [(20000, 20000), (12000, 12000)])
def test_predict_refuses_a_huge_image_in_one_sentence(capsys, tmp_path, size):
    # 400 Mpx made Pillow raise DecompressionBombError (a traceback); 144 Mpx, under Pillow's
    # limit, was decoded at 17 bytes a pixel. Both are refused from the header, before decoding.
    huge = tmp_path / "huge.png"
    _png_header_only(huge, *size)
    code, out, err = _predict(capsys, huge, json_out=False)
    assert code == 2 and out == ""
    line = _one_error_line(err)
    assert f"{size[0]}x{size[1]} pixels is too large" in line and "megapixels" in line


def test_every_image_gets_its_answer_or_its_error(capsys, tmp_path):
    good, huge, broken = tmp_path / "a.png", tmp_path / "huge.png", tmp_path / "c.png"
    Image.fromarray(255 - _seven()).save(good)
    _png_header_only(huge, 20000, 20000)
    broken.write_bytes(good.read_bytes()[:200])  # cut short
    code, lines, _ = _predict(capsys, good, huge, broken, good)
    assert code == 2
    assert [("digit" in o, "error" in o) for o in lines] == [
        (True, False),
        (False, True),
        (False, True),
        (True, False),
    ]
    assert [o["image"] for o in lines] == [str(p) for p in (good, huge, broken, good)]
    assert "too large" in lines[1]["error"] and "not a readable image" in lines[2]["error"]
    # Without --json: the answers on stdout, one error line each on stderr.
    code, out, err = _predict(capsys, good, huge, broken, good, json_out=False)
    assert code == 2 and len(out.splitlines()) == 2
    assert [line.startswith("digitgui: error:") for line in err.splitlines()] == [True, True]


def test_a_large_jpeg_is_decoded_reduced_with_the_same_answer(capsys, tmp_path, monkeypatch):
    from PIL import JpegImagePlugin

    seven = 255 - _seven()
    small, large = tmp_path / "small.png", tmp_path / "large.jpg"
    Image.fromarray(seven).save(small)
    Image.fromarray(seven).resize((5000, 5000), Image.Resampling.NEAREST).save(large, quality=95)
    drafts = []
    real_draft = JpegImagePlugin.JpegImageFile.draft

    def spy(self, mode, size, *args, **kwargs):
        drafts.append(size)
        return real_draft(self, mode, size, *args, **kwargs)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    code, (a, b), _ = _predict(capsys, small, large)
    assert code == 0 and len(drafts) == 1 and max(drafts[0]) >= 2048
    assert a["digit"] == b["digit"] == 7
    assert np.abs(np.subtract(a["probabilities"], b["probabilities"])).max() < 0.02


def test_a_float_tiff_and_a_16_bit_png_are_scaled_not_clipped(capsys, tmp_path):
    seven = 255 - _seven()
    reference, f01, f255, i16 = (tmp_path / n for n in ("r.png", "a.tif", "b.tif", "c.png"))
    Image.fromarray(seven).save(reference)
    Image.fromarray(seven.astype(np.float32) / 255).save(f01)  # mode F, 0..1
    Image.fromarray(seven.astype(np.float32)).save(f255)  # mode F, 0..255
    Image.fromarray(seven.astype(np.uint16) * 257).save(i16)  # 16-bit grey
    with Image.open(f01) as a, Image.open(i16) as b:
        assert (a.mode, b.mode) == ("F", "I;16")
    code, lines, _ = _predict(capsys, reference, f01, f255, i16)
    assert code == 0
    assert all(o["probabilities"] == lines[0]["probabilities"] for o in lines)


@pytest.mark.parametrize(
    ("values", "fragment"),
    [
        (lambda a: a * 4.0 - 1.0, "must hold values 0..1 or 0..255; this one holds -1 to 3"),
        (lambda a: np.where(a > 0.5, np.nan, a), "NaN"),
    ],
)
def test_a_float_tiff_out_of_range_says_why(capsys, tmp_path, values, fragment):
    path = tmp_path / "bad.tif"
    Image.fromarray(values((255 - _seven()).astype(np.float32) / 255)).save(path)
    code, _, err = _predict(capsys, path, json_out=False)
    assert code == 2 and fragment in _one_error_line(err)


@pytest.mark.parametrize("ink", [255, 0], ids=["white-ink", "black-ink"])
def test_ink_on_a_transparent_background_is_read_whatever_its_colour(capsys, tmp_path, ink):
    seven = _seven()
    rgba = np.zeros((*seven.shape, 4), np.uint8)
    rgba[..., :3] = ink
    rgba[..., 3] = seven  # opaque where drawn, transparent elsewhere
    reference, clear = tmp_path / "r.png", tmp_path / "clear.png"
    Image.fromarray(255 - seven).save(reference)
    Image.fromarray(rgba).save(clear)
    code, (a, b), _ = _predict(capsys, reference, clear)
    assert code == 0 and a["digit"] == b["digit"] == 7
    assert a["probabilities"] == b["probabilities"]


def test_an_animation_is_refused_saying_why_and_a_single_frame_gif_is_read(capsys, tmp_path):
    seven = Image.fromarray(255 - _seven())
    blank = Image.fromarray(np.full((256, 256), 255, np.uint8))
    animated, still = tmp_path / "anim.gif", tmp_path / "still.gif"
    seven.save(animated, save_all=True, append_images=[blank], duration=100)
    seven.save(still)
    code, lines, _ = _predict(capsys, animated, still)
    assert code == 2
    assert "an animation of 2 frames" in lines[0]["error"] and "single picture" in lines[0]["error"]
    assert lines[1]["digit"] == 7


# --- 16. one hidden-layer parser ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "sizes"),
    [("32,32", (32, 32)), ("32-32", (32, 32)), ("32x32", (32, 32)), (" 128 , 64 ", (128, 64))],
)
def test_parse_hidden_accepts_the_usual_spellings(text, sizes):
    assert parse_hidden(text) == sizes


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "enter the hidden layer sizes"),
        ("32,", "a number on both sides"),
        ("a", "whole numbers"),
        ("0", "at least 1 unit"),
        ("-5", "positive"),
        ("5000", "4096"),
        (",".join(["1000"] * 25), "weights is too large"),
        ("9" * 30, "far too large"),
    ],
)
def test_parse_hidden_refuses_in_a_sentence(text, fragment):
    with pytest.raises(ValueError, match=fragment):
        parse_hidden(text)


def test_the_command_line_reads_hidden_layers_with_the_same_parser(capsys):
    from digitgui.cli import build_parser
    from digitgui.cli.compare import parse_vary

    args = build_parser().parse_args(["train", "--hidden", "32x16"])
    assert args.hidden == (32, 16)
    assert main(["train", "--hidden", "32,"]) == 2
    assert "--hidden" in _one_error_line(capsys.readouterr().err)
    assert parse_vary(["hidden=16x8,64"], PRESETS["default"]) == [("hidden", [(16, 8), (64,)])]
    assert main(["compare", "--vary", "hidden=16-a", "--no-save"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "--vary hidden=16-a" in line and "whole numbers" in line


# --- 17. train --out to a folder it cannot write --------------------------------------------------


@pytest.fixture
def no_training(monkeypatch):
    """Training must not start: the bad --out is caught first."""

    def refuse(*args, **kwargs):
        raise AssertionError("training started before --out was checked")

    monkeypatch.setattr("digitgui.cli.train.run_training", refuse)


def test_train_out_to_a_read_only_filesystem_fails_before_training(
    capsys, tmp_path, monkeypatch, no_training
):
    import tempfile

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    assert main(["train", "--out", str(tmp_path / "m.npz")]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "cannot write in the folder" in line and "Read-only file system" in line


@pytest.mark.skipif(
    os.name != "posix" or os.geteuid() == 0, reason="root writes in read-only folders"
)
def test_train_out_to_a_chmod_read_only_folder_fails_before_training(capsys, tmp_path, no_training):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        assert main(["train", "--out", str(folder / "m.npz")]) == 2
    finally:
        folder.chmod(0o755)
    assert "cannot write in the folder" in _one_error_line(capsys.readouterr().err)


@pytest.mark.skipif(not Path("/sys/kernel").is_dir(), reason="needs Linux sysfs")
def test_train_out_into_sysfs_fails_before_training(capsys, no_training):
    # sysfs refuses new files even to root: a real folder nobody can write in.
    assert main(["train", "--out", "/sys/m.npz"]) == 2
    assert "cannot write in the folder /sys" in _one_error_line(capsys.readouterr().err)


def test_train_out_missing_folder_or_a_file_as_folder(capsys, tmp_path, no_training):
    assert main(["train", "--out", str(tmp_path / "nope" / "m.npz")]) == 2
    assert "does not exist" in _one_error_line(capsys.readouterr().err)
    (tmp_path / "file").write_text("x")
    assert main(["train", "--out", str(tmp_path / "file" / "m.npz")]) == 2
    assert "is a file, not a folder" in _one_error_line(capsys.readouterr().err)
