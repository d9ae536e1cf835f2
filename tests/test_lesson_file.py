"""Lesson files and the command line that reproduces a run (digitgui.core.lesson_file)."""

from __future__ import annotations

import dataclasses
import json
import shlex

import numpy as np
import pytest

from digitgui.core.lesson_file import (
    LessonFile,
    LessonFileError,
    load_lesson,
    save_lesson,
    train_command,
)
from digitgui.core.strokes import Stroke
from digitgui.core.training import PRESETS


def _lesson() -> LessonFile:
    config = dataclasses.replace(PRESETS["notebook"], iterations=500, l2=0.01, patience=7)
    seven = Stroke(np.array([[60.0, 60.0], [190.0, 60.0], [110.0, 200.0]]), 18.0)
    return LessonFile(config, "custom", [seven], "Step", "epoch", True, "Overfitting")


def test_a_lesson_file_round_trips(tmp_path):
    lesson = _lesson()
    path = save_lesson(lesson, tmp_path / "l.digitgui-lesson.json")
    again = load_lesson(path)
    assert again.config == lesson.config and again.preset == "custom"
    assert again.tab == "Step" and again.x_axis == "epoch" and again.log_y
    assert again.title == "Overfitting"
    np.testing.assert_array_equal(again.strokes[0].points, lesson.strokes[0].points)
    assert again.strokes[0].width == 18.0
    doc = json.loads(path.read_text())
    assert doc["format"] == "digitgui-lesson" and doc["version"] == 1
    assert doc["command"].startswith("digitgui train --preset notebook")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(format="x"), "not a digitgui lesson file"),
        (lambda d: d.update(version=99), "version 99 is not supported"),
        (lambda d: d.update(config=[1, 2]), "training settings are missing"),
        (lambda d: d["config"].update(lr=-1), "learning rate"),
        (lambda d: d["config"].update(iterations=1e15), "iterations"),
        (lambda d: d.update(preset="nope"), "unknown preset"),
        (lambda d: d["view"].update(x_axis="minutes"), "unknown x axis"),
        (lambda d: d["view"].update(log_y="yes"), "wrong type"),
        (lambda d: d["drawing"][0].update(points=[[1, 2, 3]]), "is not a list of"),
        (lambda d: d["drawing"][0].update(points=[[float("nan"), 1]]), "off the canvas"),
        (lambda d: d["drawing"][0].update(width=0), "pen width"),
        (lambda d: d.update(drawing="abc"), "not a list of strokes"),
    ],
)
def test_a_bad_lesson_file_is_refused_in_one_sentence(tmp_path, mutate, message):
    path = save_lesson(_lesson(), tmp_path / "l.json")
    doc = json.loads(path.read_text())
    mutate(doc)
    path.write_text(json.dumps(doc))
    with pytest.raises(LessonFileError, match=message) as info:
        load_lesson(path)
    assert "\n" not in str(info.value)


def test_unreadable_files_are_refused(tmp_path):
    with pytest.raises(LessonFileError, match="no such file"):
        load_lesson(tmp_path / "missing.json")
    with pytest.raises(LessonFileError, match="is a folder"):
        load_lesson(tmp_path)
    (tmp_path / "b.json").write_bytes(b"\xff\x00 not json")
    with pytest.raises(LessonFileError, match="not readable JSON"):
        load_lesson(tmp_path / "b.json")


def test_train_command_names_what_differs_from_the_preset():
    assert train_command(PRESETS["notebook"]) == "digitgui train --preset notebook"
    config = dataclasses.replace(
        PRESETS["notebook"], lr=0.05, hidden=(64, 32), batch_size=64, patience=7, momentum=0.5
    )
    words = shlex.split(train_command(config, out="m.npz"))
    assert words[:4] == ["digitgui", "train", "--preset", "notebook"]
    assert words[words.index("--lr") + 1] == "0.05"
    assert words[words.index("--hidden") + 1] == "64,32"
    assert words[words.index("--batch-size") + 1] == "64"
    assert "patience=7" in words and "momentum=0.5" in words
    assert words[-2:] == ["--out", "m.npz"]
    full = dataclasses.replace(PRESETS["default"], batch_size=None, name="custom")
    assert "--batch-size 0" in train_command(full)


def test_the_copied_command_line_runs_and_trains_the_same_config(capsys):
    from digitgui.cli import build_parser
    from digitgui.cli.train import config_from_args

    config = dataclasses.replace(
        PRESETS["notebook"], iterations=30, lr=0.05, patience=7, eval_every=5, momentum=0.5
    )
    words = shlex.split(train_command(config))
    args = build_parser().parse_args(words[1:])
    again = config_from_args(args)
    assert dataclasses.replace(again, name=config.name) == config
