"""Remembered settings that are damaged, of the wrong type or out of range never stop the app:
each goes back to its default, the file is repaired and the status bar says so (issue 14)."""

from __future__ import annotations

import json
import os

import pytest
from PySide6.QtCore import QSettings

from digitgui.core.training import PRESETS
from digitgui.gui.main_window import MainWindow


def _write(values: dict) -> QSettings:
    s = QSettings(os.environ["DIGITGUI_SETTINGS"], QSettings.Format.IniFormat)
    for key, value in values.items():
        s.setValue(key, value)
    s.sync()
    return s


def _open(qtbot) -> MainWindow:
    w = MainWindow(load_reference=False)
    qtbot.addWidget(w)
    return w


@pytest.mark.parametrize(
    "config",
    [
        "[1, 2, 3]",
        "not json",
        json.dumps({**PRESETS["default"].to_dict(), "iterations": 1e15}),
        json.dumps({**PRESETS["default"].to_dict(), "iterations": 10**12}),
        json.dumps({**PRESETS["default"].to_dict(), "lr": -1}),
        json.dumps({**PRESETS["default"].to_dict(), "hidden": "abc"}),
    ],
)
def test_a_bad_training_config_is_reset_and_the_file_repaired(qtbot, config):
    _write({"training/config": config, "training/preset": "custom"})
    w = _open(qtbot)
    try:
        assert w.training_panel.config() == PRESETS["default"]
        assert w.training_panel.preset_name() == "default"
        assert "training/config" in w.statusBar().currentMessage()
        s = QSettings(os.environ["DIGITGUI_SETTINGS"], QSettings.Format.IniFormat)
        assert s.value("training/config") is None  # repaired: the bad value is gone
    finally:
        w.close()


def test_an_unknown_preset_name_is_not_shown_as_another_preset(qtbot):
    _write({"training/preset": "no-such-preset"})
    w = _open(qtbot)
    try:
        assert w.training_panel.preset_name() == "default"
        assert w.training_panel.config() == PRESETS["default"]
    finally:
        w.close()


@pytest.mark.parametrize("pen", ["nan", "inf", "-3", "abc", "1e308"])
def test_a_bad_pen_width_is_never_given_to_the_canvas(qtbot, pen):
    _write({"canvas/pen_width": pen, "plot/log_y": "maybe", "plot/x_axis": "minutes"})
    w = _open(qtbot)
    try:
        width = w.canvas.pen_width()
        assert width == w.canvas.pen_width() and 1 <= width <= 100
        message = w.statusBar().currentMessage()
        for key in ("canvas/pen_width", "plot/log_y", "plot/x_axis"):
            assert key in message
        w.close()
        # Closing writes good values back: the next launch has nothing to repair.
        again = _open(qtbot)
        assert "damaged" not in again.statusBar().currentMessage()
        again.close()
    finally:
        w.close()


def test_good_settings_round_trip_including_the_x_axis(qtbot):
    w = _open(qtbot)
    w.training_tab.set_x_axis("seconds")
    w.close()
    again = _open(qtbot)
    try:
        assert again.cost_plot.x_axis == "seconds"
        assert "damaged" not in again.statusBar().currentMessage()
    finally:
        again.close()
