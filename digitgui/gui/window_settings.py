"""The main window's remembered state: geometry, splitters, pen width, log scale, x axis and the
training form. Values from another version or edited by hand are ignored, never fatal."""

from __future__ import annotations

import json

from PySide6.QtCore import QByteArray

from digitgui.core.training import TrainConfig

__all__ = ["restore_settings", "save_settings", "save_training_settings"]


def restore_settings(w) -> None:
    s = w._settings
    geometry = s.value("window/geometry")
    if isinstance(geometry, QByteArray) and not geometry.isEmpty():
        w.restoreGeometry(geometry)
    splitter = s.value("window/splitter")
    if isinstance(splitter, QByteArray) and not splitter.isEmpty():
        w.splitter.restoreState(splitter)
    try:
        pen = float(s.value("canvas/pen_width", w.canvas.pen_width()))
        w.canvas.set_pen_width(pen)
    except (TypeError, ValueError):
        pass
    w.log_action.setChecked(str(s.value("plot/log_y", "false")).lower() == "true")
    raw = s.value("training/config")
    if isinstance(raw, str) and raw:
        try:
            config = TrainConfig.from_dict(json.loads(raw))
            preset = s.value("training/preset")
            w.training_panel.set_config(config, preset if isinstance(preset, str) else None)
        except (ValueError, TypeError, KeyError):
            pass  # settings from another version or edited by hand: keep the defaults


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
    save_training_settings(w)
    s.sync()
