"""The main window's remembered state: geometry, splitters, pen width, log scale, x axis and the
training form. Values from another version or edited by hand are ignored, never fatal."""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field

from PySide6.QtCore import QByteArray

from digitgui.core.training import PRESETS, TrainConfig

from .canvas import MAX_PEN_WIDTH, MIN_PEN_WIDTH
from .cost_plot import X_AXES
from .presentation import MAX_ZOOM, MIN_ZOOM, fit_to_screen, zoom_present
from .training_panel import CUSTOM

__all__ = [
    "RememberedState",
    "read_state",
    "restore_settings",
    "save_settings",
    "save_training_settings",
]


@dataclass
class RememberedState:
    """The remembered values the window restores, each checked: a value of the wrong type or
    range is replaced by its default and named in ``repaired`` (the key is then rewritten)."""

    pen_width: float | None = None
    log_y: bool = False
    x_axis: str = "iteration"
    zoom: float = 1.0
    presentation: bool = False
    config: TrainConfig | None = None
    preset: str | None = None
    repaired: list[str] = field(default_factory=list)


def _read_bool(s, key: str, state: RememberedState) -> bool:
    raw = str(s.value(key, "false")).lower()
    if raw not in ("true", "false"):
        state.repaired.append(key)
    return raw == "true"


def read_state(s) -> RememberedState:
    """Read and check the remembered values of settings store ``s`` (never raises)."""
    state = RememberedState()
    raw = s.value("canvas/pen_width")
    if raw is not None:
        try:
            pen = float(raw)
        except (TypeError, ValueError):
            pen = math.nan
        if math.isfinite(pen) and MIN_PEN_WIDTH <= pen <= MAX_PEN_WIDTH:
            state.pen_width = pen
        else:
            state.repaired.append("canvas/pen_width")
    state.log_y = _read_bool(s, "plot/log_y", state)
    state.presentation = _read_bool(s, "view/presentation", state)
    try:
        zoom = float(s.value("view/zoom", 1.0))
    except (TypeError, ValueError):
        zoom = math.nan
    if math.isfinite(zoom) and MIN_ZOOM <= zoom <= MAX_ZOOM:
        state.zoom = zoom
    else:
        state.repaired.append("view/zoom")
    axis = s.value("plot/x_axis", "iteration")
    if axis in X_AXES:
        state.x_axis = axis
    else:
        state.repaired.append("plot/x_axis")
    raw = s.value("training/config")
    if raw is not None:
        try:
            d = json.loads(raw) if isinstance(raw, str) else None
            if not isinstance(d, dict):
                raise ValueError("not a JSON object")
            state.config = TrainConfig.from_dict(d)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError):
            state.repaired.append("training/config")
    preset = s.value("training/preset")
    if preset is not None:
        if isinstance(preset, str) and (preset in PRESETS or preset == CUSTOM):
            state.preset = preset
        else:
            state.repaired.append("training/preset")
    return state


def restore_settings(w) -> None:
    """Restore the window's remembered state. Values that are damaged, of the wrong type or out
    of range are set back to their defaults and the file is repaired; the status bar says so."""
    s = w._settings
    geometry = s.value("window/geometry")
    if isinstance(geometry, QByteArray) and not geometry.isEmpty():
        w.restoreGeometry(geometry)
        area = w.screen().availableGeometry() if w.screen() is not None else None
        if area is not None and not area.contains(w.frameGeometry()):
            # Saved on a larger screen (or at another scale): fit this one.
            fit_to_screen(w, min(w.width(), area.width()), min(w.height(), area.height()))
    splitter = s.value("window/splitter")
    if isinstance(splitter, QByteArray) and not splitter.isEmpty():
        w.splitter.restoreState(splitter)
        w.split_follower.following = False  # the user's own split
    state = read_state(s)
    if state.pen_width is not None:
        w.canvas.set_pen_width(state.pen_width)
    w.log_action.setChecked(state.log_y)
    w.training_tab.set_x_axis(state.x_axis)
    if state.zoom != 1.0:
        w.zoom.set(state.zoom)
    if state.presentation:
        zoom_present(w, True)
    if state.config is not None and not _show_config(w.training_panel, state):
        state.repaired.append("training/config")
    for key in state.repaired:
        s.remove(key)
    if state.repaired:
        s.sync()
        w._startup_notes.append(
            "Some remembered settings were damaged and are back to their defaults ("
            + ", ".join(state.repaired)
            + ")."
        )


def _show_config(panel, state: RememberedState) -> bool:
    """Put the remembered training settings in the form; False (and the form back at the
    default preset) when the form cannot hold them exactly (a value beyond a field's range)."""
    try:
        panel.set_config(state.config, state.preset)
        if panel.config() == dataclasses.replace(state.config, name=panel.preset_name()):
            return True
    except (ValueError, TypeError, OverflowError):
        pass
    panel.set_config(PRESETS["default"], "default")
    return False


def save_training_settings(w) -> None:
    try:
        config = w.training_panel.config()
    except ValueError:
        return
    w._settings.setValue("training/config", json.dumps(config.to_dict()))
    w._settings.setValue("training/preset", w.training_panel.preset_name())


def save_settings(w) -> None:
    s = w._settings
    s.setValue("window/geometry", w.saveGeometry())
    s.setValue("window/splitter", w.splitter.saveState())
    s.setValue("canvas/pen_width", w.canvas.pen_width())
    s.setValue("plot/log_y", "true" if w.log_action.isChecked() else "false")
    s.setValue("plot/x_axis", w.cost_plot.x_axis)
    s.setValue("view/zoom", w.zoom.factor if not w.zoom.presenting else w.zoom._zoom_before)
    s.setValue("view/presentation", "true" if w.zoom.presenting else "false")
    save_training_settings(w)
    s.sync()
