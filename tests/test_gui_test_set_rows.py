"""The test-set view switched to the training or validation rows (issue 16, item 6): the core's
evaluation of any part of the split, and the view following the chosen rows in every part."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QLabel

from digitgui.core import insight
from digitgui.core.calibration import format_probability
from digitgui.core.data import load_digits_split
from digitgui.core.model_io import load_default
from digitgui.core.training import PRESETS, train
from digitgui.gui.insight import TestSetView

LEFT = Qt.MouseButton.LeftButton

#: Each name of the view's choice with the split's arrays it stands for.
PARTS = {
    "training": ("X_train", "y_train"),
    "validation": ("X_val", "y_val"),
    "test": ("X_test", "y_test"),
}

#: How the note beside the choice begins for each rows.
NOTES = {
    "training": "the digits it learned from",
    "validation": "watched during training",
    "test": "never used in training",
}


@pytest.fixture(scope="module")
def split():
    return load_digits_split(42)


@pytest.fixture(scope="module")
def model():
    return load_default()


@pytest.fixture(scope="module")
def short_run_model():
    """A network of 30 iterations: it reads the training rows far worse than the shipped one."""
    config = dataclasses.replace(PRESETS["default"], iterations=30, eval_every=10)
    return list(train(config))[-1].model


def _part(split, rows):
    x_name, y_name = PARTS[rows]
    return getattr(split, x_name), getattr(split, y_name)


def _confusion(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    counts = np.zeros((10, 10), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts


def _open(qtbot, widget, size=(900, 700)):
    qtbot.addWidget(widget)
    widget.resize(*size)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _choose(qtbot, view: TestSetView, rows: str) -> None:
    """Pick ``rows`` in the combo box from the keyboard, as a user would."""
    combo = view.rows_combo
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Home)
    for _ in range(combo.findData(rows)):
        qtbot.keyClick(combo, Qt.Key.Key_Down)
    assert view.rows() == rows


def _image_center(tile) -> QPoint:
    return tile.image_center().toPoint()


def _texts(view: TestSetView) -> list[str]:
    """Every text the view shows about the rows (the combo's tooltip lists all three)."""
    texts = [
        view.accuracy_label.text(),
        view.calibration_label.text(),
        view.gallery_label.text(),
        view.rows_note.text(),
        view.reliability.title(),
        view.gallery.accessibleName(),
        view.table.toolTip(),
        view.calibration_label.toolTip(),
    ]
    if view.matrix.selected_cell is not None:
        texts.append(view.matrix.cell_text(*view.matrix.selected_cell))
    texts += [tile.toolTip() for tile in view.gallery.tiles()]
    return texts


# --- core -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", insight.SPLIT_ROWS)
def test_evaluate_split_rows_reads_the_part_of_the_split_it_names(model, split, rows):
    X, y = _part(split, rows)
    report = insight.evaluate_split_rows(model, rows, split)
    predicted = model.predict(X)
    assert report.n == len(y)
    assert report.accuracy == pytest.approx(np.mean(predicted == y), abs=1e-12)
    np.testing.assert_array_equal(report.confusion, _confusion(y, predicted))
    np.testing.assert_array_equal(report.digits, X.reshape(-1, 8, 8))
    t, p = 3, 3
    np.testing.assert_array_equal(
        report.rows_in_cell(t, p), np.flatnonzero((y == t) & (predicted == p))
    )


def test_evaluate_split_rows_agrees_with_the_accuracies_training_measured(model, split):
    # The training run measured these through another path (training_loop.accuracy).
    measured = model.metadata["accuracy"]
    for rows, key in (("training", "train"), ("validation", "val"), ("test", "test")):
        report = insight.evaluate_split_rows(model, rows, split)
        assert report.accuracy == pytest.approx(measured[key], abs=1e-12), rows
    test = insight.evaluate_test_set(model, split)
    np.testing.assert_array_equal(
        insight.evaluate_split_rows(model, "test", split).confusion, test.confusion
    )


def test_evaluate_split_rows_refuses_an_unknown_part(model, split):
    with pytest.raises(ValueError, match="training, validation, test"):
        insight.evaluate_split_rows(model, "train", split)


# --- the view -------------------------------------------------------------------------------------


def test_the_rows_choice_is_labelled_and_starts_on_the_test_rows(qtbot, model, split):
    view = _open(qtbot, TestSetView(split=split))
    combo = view.rows_combo
    assert combo.objectName() == "testSetRowsCombo"
    assert view.findChild(type(combo), "testSetRowsCombo") is combo
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "test rows",
        "validation rows",
        "training rows",
    ]
    assert view.rows() == "test"
    assert combo.accessibleName()
    labels = [label for label in view.findChildren(QLabel) if label.buddy() is combo]
    assert len(labels) == 1 and "&" in labels[0].text()
    view.set_model(model)
    assert view.report().n == len(split.y_test)
    assert view.accuracy_label.text().startswith("Test rows:")


@pytest.mark.parametrize("rows", ["training", "validation", "test"])
def test_every_part_of_the_view_follows_the_chosen_rows(qtbot, model, split, rows):
    view = _open(qtbot, TestSetView(split=split))
    view.set_model(model)
    if rows != "test":
        _choose(qtbot, view, rows)
    X, y = _part(split, rows)
    predicted = model.predict(X)
    confusion = _confusion(y, predicted)
    accuracy = float(np.mean(predicted == y))

    # The note beside the choice says what these rows are to the network.
    assert view.rows_note.text().startswith(NOTES[rows])
    accuracy_text = view.accuracy_label.text()
    assert accuracy_text.startswith(f"{rows.capitalize()} rows:")
    assert f"{int(np.trace(confusion))} of {len(y)} digits" in accuracy_text
    assert format_probability(accuracy) in accuracy_text
    np.testing.assert_array_equal(view.matrix.counts(), confusion)
    assert view.matrix.counts().sum() == len(y)
    for d in range(10):
        assert view.table.item(d, 0).text() == str(int(np.sum(y == d)))
        recall = confusion[d, d] / confusion[d].sum()
        assert view.table.item(d, 1).text() == format_probability(recall)
    assert view.reliability.table().n == len(y)
    assert view.reliability.title() == f"load_digits {rows} rows ({len(y)})"
    assert f"on these {rows} digits" in view.calibration_label.text()

    # A diagonal cell: its digits, from these rows, fill the gallery.
    t = 3
    qtbot.mouseClick(view.matrix, LEFT, pos=view.matrix.cell_rect(t, t).center().toPoint())
    rows_in_cell = np.flatnonzero((y == t) & (predicted == t))
    np.testing.assert_array_equal(view.gallery_rows(), rows_in_cell)
    qtbot.waitUntil(lambda: len(view.gallery.tiles()) == len(rows_in_cell))
    assert f"{len(rows_in_cell)} {rows} digits" in view.gallery_label.text()
    assert view.matrix.cell_text(t, t).startswith(f"{len(rows_in_cell)} {rows} digits")
    assert view.gallery.tiles()[0].toolTip().startswith(f"{rows} digit #{rows_in_cell[0]}")

    # No text names other rows than those shown ("training" stays: the notes of the test and
    # validation rows say how training used them).
    others = [other for other in ("validation", "test") if other != rows]
    for text in _texts(view):
        for other in others:
            assert not re.search(rf"\b{other}\b", text, re.IGNORECASE), (other, text)


def test_a_gallery_digit_of_the_training_rows_loads_that_training_digit(qtbot, model, split):
    view = _open(qtbot, TestSetView(split=split))
    view.set_model(model)
    _choose(qtbot, view, "training")
    t = 5
    qtbot.mouseClick(view.matrix, LEFT, pos=view.matrix.cell_rect(t, t).center().toPoint())
    rows = view.gallery_rows()
    assert len(rows) > 3 and np.all(split.y_train[rows] == t)
    tile = view.gallery.tiles()[3]
    # A hundred new tiles are squeezed until the gallery's layout runs in the event loop.
    qtbot.waitUntil(lambda: tile.isVisible() and tile.rect().contains(_image_center(tile)))
    with qtbot.waitSignal(view.digitRequested, timeout=2000) as blocker:
        qtbot.mouseClick(tile, LEFT, pos=_image_center(tile))
    np.testing.assert_array_equal(blocker.args[0], split.X_train[rows[3]].reshape(8, 8))
    # Not the test digit at the same position: the rows really are the training rows.
    assert not np.array_equal(blocker.args[0], split.X_test[rows[3]].reshape(8, 8))


def test_the_chosen_rows_stay_when_the_model_changes(qtbot, model, split, short_run_model):
    view = _open(qtbot, TestSetView(split=split))
    view.set_model(model)
    _choose(qtbot, view, "training")
    assert view.report().accuracy == pytest.approx(1.0)  # the shipped network, on its own rows

    view.set_model(short_run_model)
    assert view.rows() == "training"
    predicted = short_run_model.predict(split.X_train)
    accuracy = float(np.mean(predicted == split.y_train))
    assert accuracy < 1.0  # a different network, or the test proves nothing
    assert view.report().n == len(split.y_train)
    assert view.report().accuracy == pytest.approx(accuracy, abs=1e-12)
    np.testing.assert_array_equal(view.matrix.counts(), _confusion(split.y_train, predicted))
    assert format_probability(accuracy) in view.accuracy_label.text()
    assert view.accuracy_label.text().startswith("Training rows:")

    view.set_model(None)
    assert view.rows() == "training" and view.report() is None
    view.set_model(model)
    assert view.report().n == len(split.y_train)

    # Back to the test rows: the same numbers as the test-set evaluation.
    _choose(qtbot, view, "test")
    test = insight.evaluate_test_set(model, split)
    np.testing.assert_array_equal(view.matrix.counts(), test.confusion)
    assert view.accuracy_label.text().startswith("Test rows:")
