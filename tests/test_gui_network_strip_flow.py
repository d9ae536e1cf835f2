"""Issue 16 item 5, the network drawn: the step-through's strip shows the picked sample's
activations glowing forward and its errors flowing backward, follows the step when it is
recomputed (a run's snapshots), paints only what it kept, and reads in a dark palette."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from digitgui.core import step as st
from digitgui.core.data import load_digits_split
from digitgui.core.mlp import MLP
from digitgui.core.model_io import DigitClassifier, load_default
from digitgui.gui.insight import StepThroughView
from digitgui.gui.insight import network_strip as ns
from digitgui.gui.insight.network_strip import NetworkStrip, grid_shape
from digitgui.gui.palette import contrast_ratio


@pytest.fixture(scope="module")
def split():
    return load_digits_split(42)


@pytest.fixture(scope="module")
def model():
    return load_default()


def _view(qtbot, split, model) -> StepThroughView:
    view = StepThroughView(split=split)
    qtbot.addWidget(view)
    view.set_model(model)
    view.set_source("training")
    view.resize(1100, 700)
    view.show()
    qtbot.waitExposed(view)
    return view


def _assert_rows(strip: NetworkStrip, step, row: int, names) -> None:
    shown = strip.cell_values()
    assert len(shown) == len(names)
    for values, name in zip(shown, names, strict=True):
        if name is None:
            assert values is None
        else:
            np.testing.assert_array_equal(values, np.atleast_2d(step[name])[row], err_msg=name)


def _light(color_base="#ffffff", text="#000000") -> QPalette:
    p = QPalette(QApplication.instance().palette())
    p.setColor(QPalette.ColorRole.Base, QColor(color_base))
    p.setColor(QPalette.ColorRole.Text, QColor(text))
    return p


def _dark() -> QPalette:
    p = QPalette()
    for role, color in (
        (QPalette.ColorRole.Window, "#202326"),
        (QPalette.ColorRole.WindowText, "#fcfcfc"),
        (QPalette.ColorRole.Base, "#141618"),
        (QPalette.ColorRole.Text, "#fcfcfc"),
        (QPalette.ColorRole.Button, "#292c30"),
        (QPalette.ColorRole.ButtonText, "#fcfcfc"),
        (QPalette.ColorRole.Mid, "#5a5e63"),
        (QPalette.ColorRole.Highlight, "#3daee9"),
    ):
        p.setColor(role, QColor(color))
    return p


def test_the_picked_rows_activations_glow_layer_by_layer(qtbot, split, model):
    view = _view(qtbot, split, model)
    strip, step = view.strip, view.step()
    L = step.n_layers
    assert strip.sizes() == model.mlp.layer_sizes
    view.show_matrix(f"A{L}")
    view.table.setCurrentCell(2, 0)  # the user picks sample 2 in the probabilities
    assert strip.row() == 2 and strip.direction() == "forward"
    _assert_rows(strip, step, 2, ["X"] + [f"A{l}" for l in range(1, L + 1)])
    assert "Sample 2 of 4" in strip.caption() and "forward" in strip.caption()
    assert f"label {int(step['y'][2, 0])}" in strip.caption()

    view.table.setCurrentCell(1, 3)  # another sample
    assert strip.row() == 1
    _assert_rows(strip, step, 1, ["X"] + [f"A{l}" for l in range(1, L + 1)])
    assert not np.array_equal(strip.cell_values()[1], step["A1"][2])

    # Earlier in the forward pass only the layers computed so far glow.
    view.show_matrix("X_with_bias")
    _assert_rows(strip, step, 1, ["X"] + [None] * L)
    view.show_matrix("A1")
    _assert_rows(strip, step, 1, ["X", "A1"] + [None] * (L - 1))
    assert strip.highlighted() == ("layer", 1)

    # A weight matrix's rows are not samples: picking one keeps the sample drawn.
    view.show_matrix("W1")
    view.table.setCurrentCell(3, 4)
    assert strip.row() == 1


def test_an_error_step_turns_the_strip_to_the_errors_flowing_back(qtbot, split, model):
    view = _view(qtbot, split, model)
    strip, step = view.strip, view.step()
    L = step.n_layers
    view.show_matrix("X")
    view.table.setCurrentCell(3, 0)
    view.show_matrix(f"E{L}")
    assert strip.direction() == "backward" and strip.row() == 3
    # The outputs show E3's row; the hidden layers' errors are not computed yet; the inputs
    # (which have no error) stay lit with the sample's pixels.
    _assert_rows(strip, step, 3, ["X"] + [None] * (L - 1) + [f"E{L}"])
    assert "backward" in strip.caption()
    view.show_matrix("E1")
    _assert_rows(strip, step, 3, ["X"] + [f"E{l}" for l in range(1, L + 1)])
    # E = p - onehot: the wanted class is below 0 (blue), the others above 0 (red).
    label = int(step["y"][3, 0])
    colors = strip.cell_colors(L)
    wanted = colors[label]
    assert wanted.blue() > wanted.red()
    other = int(np.argmax(np.where(np.arange(10) == label, -np.inf, step[f"E{L}"][3])))
    assert colors[other].red() > colors[other].blue()
    # Back to the forward pass: activations again.
    view.show_matrix(f"cost_rows{L}")
    assert strip.direction() == "forward"
    _assert_rows(strip, step, 3, ["X"] + [f"A{l}" for l in range(1, L + 1)])


def test_the_notebook_example_names_its_classes_and_tells_each_cell(qtbot):
    view = StepThroughView()
    qtbot.addWidget(view)
    view.resize(1000, 650)
    view.show()
    qtbot.waitExposed(view)
    strip, step = view.strip, view.step()
    assert strip.sizes() == (3, 3, 3)
    view.show_matrix("E1")
    view.table.setCurrentCell(1, 1)
    center = strip.cell_rect(1, 1).center()
    assert strip.cell_at(center) == (1, 1)
    assert strip.cell_tip(center) == f"E1[1, 1] = {step['E1'][1, 1]:.4g}"
    view.show_matrix("A2")
    tip = strip.cell_tip(strip.cell_rect(2, 0).center())
    assert tip == f"A2[1, 0] = {step['A2'][1, 0]:.4g} (class 1, the wanted one)"
    tip = strip.cell_tip(strip.cell_rect(2, 2).center())
    assert tip == f"A2[1, 2] = {step['A2'][1, 2]:.4g} (class 3)"
    assert "label 1" in strip.caption()  # y = [3, 1, 2, 3]


def test_the_strip_follows_the_step_while_a_run_goes(qtbot, split, model):
    view = _view(qtbot, split, model)
    view.set_source("paused")
    first = model.member(0)
    view.add_progress([SimpleNamespace(iteration=10, snapshot=first, model=None)])
    qtbot.waitUntil(lambda: view.step() is not None, timeout=3000)
    view.show_matrix("A1")
    view.table.setCurrentCell(2, 0)
    _assert_rows(view.strip, view.step(), 2, ["X", "A1", None, None])
    before = view.step()

    other = DigitClassifier(
        MLP.create(first.mlp.layer_sizes, "relu", "he", seed=4), split.mean, split.scale
    )
    view.add_progress([SimpleNamespace(iteration=20, snapshot=other, model=None)])
    qtbot.waitUntil(lambda: view.step() is not before, timeout=3000)
    after = view.step()
    assert "iteration 20" in view.title.text()
    _assert_rows(view.strip, after, 2, ["X", "A1", None, None])  # the same sample, new values
    assert not np.allclose(view.strip.cell_values()[1], before["A1"][2])

    view.batch_size_spin.setValue(2)  # a smaller batch: the last sample it has
    assert view.strip.row() == 1
    _assert_rows(view.strip, view.step(), 1, ["X", "A1", None, None])
    view.start_run()
    assert view.strip.row() is None and view.strip.cell_values() == ()


def test_painting_draws_the_kept_colours_and_computes_nothing(qtbot, monkeypatch, split, model):
    strip = NetworkStrip()
    qtbot.addWidget(strip)
    strip.resize(900, strip.height())
    strip.show()
    qtbot.waitExposed(strip)
    X, y, _ = st.training_batch(model.member(0), np.arange(3), split)
    step = st.model_update_step(model.member(0), X, y, 0.01)
    strip.set_step(step, row=1)
    strip.set_current("A3")
    calls = []
    for name in ("row_flow", "flow_position", "glow_levels", "ink_rgb", "_signed_rgb"):
        real = getattr(ns, name)
        monkeypatch.setattr(
            ns, name, lambda *a, _real=real, _name=name, **k: calls.append(_name) or _real(*a, **k)
        )
    image = strip.grab().toImage()
    for _ in range(3):
        strip.repaint()
    assert calls == []
    # What is painted is what was kept: inside each cell, its colour (off the centre of an
    # output cell, where its class is written).
    for layer, unit in ((0, 27), (1, 5), (3, int(step["y"][1, 0])), (3, 0)):
        rect = strip.cell_rect(layer, unit)
        inside = QPointF(rect.left() + 0.22 * rect.width(), rect.top() + 0.22 * rect.height())
        point = (rect.center() if layer < 3 else inside).toPoint()
        assert image.pixelColor(point) == strip.cell_colors(layer)[unit], (layer, unit)
    strip.set_row(2)  # a new sample is worked out once, not at each paint
    assert calls.count("row_flow") == 1


def test_the_colours_read_in_a_light_and_a_dark_palette(qtbot, split, model):
    strip = NetworkStrip()
    qtbot.addWidget(strip)
    strip.resize(900, strip.height())
    X, y, _ = st.training_batch(model.member(0), np.arange(4), split)
    step = st.model_update_step(model.member(0), X, y, 0.01)
    strip.setPalette(_light())
    strip.set_step(step, row=0)
    strip.set_current("A3")
    inputs = step["X"][0]
    brightest, darkest = int(np.argmax(inputs)), int(np.argmin(inputs))
    assert strip.cell_colors(0)[brightest] == QColor("#000000")  # full glow: the text's ink
    assert strip.cell_colors(0)[darkest] == QColor("#ffffff")  # none: the base
    assert "darker = larger" in strip.caption()

    strip.setPalette(_dark())  # a live switch recolours without a new step
    dark = _dark()
    base, text = dark.color(QPalette.ColorRole.Base), dark.color(QPalette.ColorRole.Text)
    assert strip.cell_colors(0)[brightest] == text
    assert strip.cell_colors(0)[darkest] == base
    assert "brighter = larger" in strip.caption()
    assert contrast_ratio(strip.cell_colors(0)[brightest], base) >= 3.0
    for palette in (_light(), dark):
        strip.setPalette(palette)
        strip.set_current("E1")
        base = palette.color(QPalette.ColorRole.Base)
        for l in (1, 2, 3):
            errors = step[f"E{l}"][0]
            colors = strip.cell_colors(l)
            peak = int(np.argmax(np.abs(errors)))  # the end of the layer's scale stands out
            assert contrast_ratio(colors[peak], base) >= 3.0, (l, errors[peak])
            zero = np.flatnonzero(errors == 0)
            if zero.size:
                assert colors[zero[0]] == base  # no error: the background


def test_cells_fit_their_layers():
    assert grid_shape(64, 100, 80, image=True) == (8, 8)
    assert grid_shape(64, 400, 60) != (8, 8)  # a hidden layer of 64 takes the room it has
    for n, w, h in ((10, 150, 90), (32, 150, 90), (128, 180, 90), (3, 150, 90), (1, 50, 50)):
        rows, cols = grid_shape(n, w, h)
        assert rows * cols >= n and (rows - 1) * cols < n
    assert grid_shape(10, 150, 90) == (2, 5)
    assert grid_shape(128, 180, 90)[0] * grid_shape(128, 180, 90)[1] >= 128


def test_the_cells_lie_in_their_boxes_without_overlap(qtbot):
    strip = NetworkStrip()
    qtbot.addWidget(strip)
    strip.set_sizes((64, 128, 32, 10))
    for width in (500, 900, 1400):
        strip.resize(width, strip.height())
        for layer, size in enumerate(strip.sizes()):
            rects = [strip.cell_rect(layer, u) for u in range(size)]
            assert all(r.width() >= 4 for r in rects), (width, layer)
            box = strip.layer_rect(layer)
            assert all(box.contains(r) for r in rects), (width, layer)
            for a, b in itertools.pairwise(rects):
                overlap = a.intersected(b)
                assert overlap.width() * overlap.height() < 1e-6, (width, layer)
