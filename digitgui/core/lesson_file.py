"""Lesson files: what a teacher prepares once and reopens in class, and the command line that
reproduces a run at home.

A lesson file (``*.digitgui-lesson.json``) is versioned JSON, validated on load like a model
file (:class:`LessonFileError` says what is wrong in one sentence). It holds the training
settings (seed included, so a run from them gives identical numbers), the preset they came from,
the drawing on the canvas (its strokes), the plot's axis and scale, and which tab is shown.

:func:`train_command` writes the ``digitgui train ...`` command line that trains a
:class:`~digitgui.core.training.TrainConfig` again. Qt-free.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .atomic_file import write_atomically
from .strokes import Stroke
from .training import PRESETS, TrainConfig

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "LessonFile",
    "LessonFileError",
    "load_lesson",
    "save_lesson",
    "train_command",
]

FORMAT_NAME = "digitgui-lesson"
FORMAT_VERSION = 1
#: A lesson file is small; anything larger is not one (and is not read into memory).
MAX_BYTES = 5_000_000
#: Points of all strokes of the drawing at most (a drawing has hundreds).
MAX_POINTS = 100_000
#: The canvas is 256 px; stroke points must lie near it.
_COORDINATE_LIMIT = 10_000.0

#: ``digitgui train`` options for TrainConfig fields (the rest go through ``--set``).
_FLAGS = {
    "iterations": "--iterations",
    "lr": "--lr",
    "hidden": "--hidden",
    "seed": "--seed",
    "activation": "--activation",
    "init": "--init",
    "optimizer": "--optimizer",
    "batch_size": "--batch-size",
    "update_order": "--update-order",
    "l2": "--l2",
    "augment": "--augment",
}


class LessonFileError(ValueError):
    """A lesson file cannot be used; the message says why in one sentence."""


@dataclass
class LessonFile:
    """What a lesson file holds. ``strokes``: the canvas drawing; ``tab``: the title of the tab
    shown; ``x_axis``: "iteration", "epoch" or "seconds"."""

    config: TrainConfig
    preset: str = "custom"
    strokes: list[Stroke] = field(default_factory=list)
    tab: str = ""
    x_axis: str = "iteration"
    log_y: bool = False
    title: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "title": self.title,
            "preset": self.preset,
            "config": self.config.to_dict(),
            "drawing": [
                {"width": float(s.width), "points": np.round(s.points, 2).tolist()}
                for s in self.strokes
            ],
            "view": {"tab": self.tab, "x_axis": self.x_axis, "log_y": self.log_y},
            "command": train_command(self.config),
        }


def save_lesson(lesson: LessonFile, path: str | os.PathLike) -> Path:
    """Write ``lesson`` to ``path`` atomically; returns the path."""
    data = json.dumps(lesson.to_json(), indent=1, allow_nan=False) + "\n"
    return write_atomically(Path(path), data.encode("utf-8"))


def load_lesson(path: str | os.PathLike) -> LessonFile:
    """Read a lesson file; any problem raises :class:`LessonFileError` in one sentence."""
    path = Path(path)
    name = str(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise LessonFileError(f"{name}: no such file") from None
    except OSError as e:
        raise LessonFileError(f"{name}: cannot be read ({e.strerror or e})") from None
    if path.is_dir():
        raise LessonFileError(f"{name}: is a folder, not a lesson file")
    if size > MAX_BYTES:
        raise LessonFileError(f"{name}: {size:,} bytes is too large for a lesson file")
    try:
        doc = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise LessonFileError(f"{name}: not a lesson file (not readable JSON)") from None
    except OSError as e:
        raise LessonFileError(f"{name}: cannot be read ({e.strerror or e})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT_NAME:
        raise LessonFileError(f"{name}: not a digitgui lesson file")
    if doc.get("version") != FORMAT_VERSION:
        raise LessonFileError(
            f"{name}: lesson file version {doc.get('version')!r} is not supported "
            f"(this digitgui reads version {FORMAT_VERSION})"
        )
    try:
        return _lesson_from(doc)
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as e:
        raise LessonFileError(f"{name}: {e}") from None


def _lesson_from(doc: dict) -> LessonFile:
    raw = doc.get("config")
    if not isinstance(raw, dict):
        raise ValueError("its training settings are missing")
    try:
        config = TrainConfig.from_dict(raw)
    except (ValueError, TypeError) as e:
        raise ValueError(f"its training settings are invalid: {e}") from None
    preset = doc.get("preset", "custom")
    if not isinstance(preset, str) or (preset not in PRESETS and preset != "custom"):
        raise ValueError(f"unknown preset {preset!r}")
    view = doc.get("view", {})
    if not isinstance(view, dict):
        raise ValueError("its view settings are not an object")
    x_axis = view.get("x_axis", "iteration")
    if x_axis not in ("iteration", "epoch", "seconds"):
        raise ValueError(f"unknown x axis {x_axis!r}")
    tab, log_y, title = view.get("tab", ""), view.get("log_y", False), doc.get("title", "")
    if not isinstance(tab, str) or not isinstance(log_y, bool) or not isinstance(title, str):
        raise ValueError("its view settings have values of the wrong type")
    return LessonFile(
        config=config,
        preset=preset,
        strokes=_strokes(doc.get("drawing", [])),
        tab=tab,
        x_axis=x_axis,
        log_y=log_y,
        title=title,
    )


def _strokes(raw: Any) -> list[Stroke]:
    if not isinstance(raw, list):
        raise ValueError("its drawing is not a list of strokes")
    strokes, total = [], 0
    for item in raw:
        if not isinstance(item, dict):
            raise ValueError("a stroke of its drawing is not an object")
        points = np.asarray(item.get("points"), dtype=np.float64)
        width = float(item.get("width", 0))
        if points.ndim != 2 or points.shape[1] != 2 or len(points) == 0:
            raise ValueError("a stroke of its drawing is not a list of (x, y) points")
        total += len(points)
        if total > MAX_POINTS:
            raise ValueError(f"its drawing has more than {MAX_POINTS:,} points")
        if not np.isfinite(points).all() or np.abs(points).max() > _COORDINATE_LIMIT:
            raise ValueError("a stroke of its drawing has points off the canvas")
        if not (math.isfinite(width) and 0 < width <= 256):
            raise ValueError(f"a stroke of its drawing has a pen width of {width!r}")
        strokes.append(Stroke(points, width))
    return strokes


def _cli_value(name: str, value: Any) -> str:
    if name == "hidden":
        return ",".join(str(h) for h in value)
    if name == "batch_size":
        return "0" if value is None else str(value)
    if isinstance(value, bool):
        return "on" if value else "off"
    if value is None:
        return "none"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def train_command(config: TrainConfig, out: str | None = None) -> str:
    """The ``digitgui train`` command line that trains ``config`` again (same numbers: the
    seed is in it). Settings equal to the preset's are left out; settings without their own
    option are passed as ``--set FIELD=VALUE``."""
    # "notebook (modified)" is how `digitgui train` names a changed preset.
    first = config.name.split(" ")[0]
    preset_name = first if first in PRESETS else "default"
    base = PRESETS[preset_name]
    args = ["digitgui", "train", "--preset", preset_name]
    for f in dataclasses.fields(TrainConfig):
        if f.name == "name":
            continue
        value = getattr(config, f.name)
        if value == getattr(base, f.name):
            continue
        text = _cli_value(f.name, value)
        flag = _FLAGS.get(f.name)
        args += [flag, text] if flag else ["--set", f"{f.name}={text}"]
    if out:
        args += ["--out", out]
    return shlex.join(args)
