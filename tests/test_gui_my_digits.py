"""The "My digits" view (issue 6) with pytest-qt: add from the canvas, relabel, delete, undo, and
everything persisted in a collection file under ``tmp_path``."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QCheckBox, QLabel, QListView, QSpinBox

from digitgui.core.my_digits import COLLECTION_FILE_NAME, DigitCollection
from digitgui.core.preprocess import raster_to_digit
from digitgui.core.strokes import Stroke, render_strokes
from digitgui.gui.my_digits_view import DigitGalleryModel, MyDigitsView

pytestmark = pytest.mark.usefixtures("qapp")


class FakeCanvas(QLabel):
    """Stands in for the drawing canvas: ``strokes()`` and ``digit8x8()`` made by the core's pen
    and reduction, exactly as the real canvas promises."""

    def __init__(self) -> None:
        super().__init__("canvas")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._strokes: list[Stroke] = []

    def draw_seven(self) -> None:
        self._strokes = [
            Stroke(np.array([[70.0, 50.0], [190.0, 50.0]]), 16.0),
            Stroke(np.array([[190.0, 50.0], [110.0, 215.0]]), 16.0),
        ]

    def clear(self) -> None:
        self._strokes = []

    def strokes(self) -> list[Stroke]:
        return list(self._strokes)

    def digit8x8(self) -> np.ndarray | None:
        return raster_to_digit(render_strokes(self._strokes)) if self._strokes else None


@pytest.fixture
def path(tmp_path):
    return tmp_path / COLLECTION_FILE_NAME


@pytest.fixture
def canvas(qtbot):
    c = FakeCanvas()
    qtbot.addWidget(c)
    c.draw_seven()
    return c


@pytest.fixture
def view(qtbot, path, canvas):
    v = MyDigitsView(DigitCollection(path))
    qtbot.addWidget(v)
    v.set_canvas(canvas)
    v.resize(700, 500)
    v.show()
    return v


def on_disk(path) -> list[tuple[str, int]]:
    """(id, label) of every digit in the file, read afresh."""
    return [(e.id, e.label) for e in DigitCollection(path)]


def button(view, name: str):
    widget = view.findChild(QAbstractButton, name)
    assert widget is not None, name
    return widget


def gallery(view) -> QListView:
    return view.findChild(QListView, "myDigitsGallery")


def count_text(view, digit: int) -> str:
    return view.findChild(QLabel, f"countLabel{digit}").text()


def add_plain(view, labels) -> None:
    for label in labels:
        view.add_digit(np.full((8, 8), float(label)), label)


def test_the_view_has_its_object_name(view):
    assert view.objectName() == "myDigitsView"


def test_add_with_a_button_and_with_keys_on_the_canvas(qtbot, view, canvas, path):
    with qtbot.waitSignal(view.digitAdded, timeout=2000) as added:
        qtbot.mouseClick(button(view, "addButton7"), Qt.MouseButton.LeftButton)
    entry = added.args[0]
    assert entry.label == 7 and len(entry.strokes) == 2
    assert np.array_equal(entry.digit, canvas.digit8x8())
    assert on_disk(path) == [(entry.id, 7)]
    stored = DigitCollection(path)[0]
    assert [s.points.tolist() for s in stored.strokes] == [
        s.points.tolist() for s in canvas.strokes()
    ]
    assert "1" in count_text(view, 7)

    with qtbot.waitSignal(view.digitAdded, timeout=2000):
        qtbot.keyClick(canvas, Qt.Key.Key_1)
    with qtbot.waitSignal(view.digitAdded, timeout=2000):
        qtbot.keyClick(canvas, Qt.Key.Key_4, Qt.KeyboardModifier.KeypadModifier)
    assert [label for _, label in on_disk(path)] == [7, 1, 4]
    assert gallery(view).model().rowCount() == 3

    qtbot.keyClick(canvas, Qt.Key.Key_5, Qt.KeyboardModifier.ControlModifier)  # not ours
    assert len(on_disk(path)) == 3


def test_nothing_drawn_nothing_added(qtbot, view, canvas, path):
    canvas.clear()
    qtbot.mouseClick(button(view, "addButton3"), Qt.MouseButton.LeftButton)
    qtbot.keyClick(canvas, Qt.Key.Key_3)
    assert len(view.collection) == 0 and not path.exists()
    assert "Draw a digit first" in view.status_text()


def test_relabel_delete_undo_each_saved(qtbot, view, path):
    add_plain(view, [0, 1, 2, 3])
    ids = [i for i, _ in on_disk(path)]
    g = gallery(view)
    g.setFocus()

    view.select_rows([1])
    qtbot.keyClick(g, Qt.Key.Key_8)  # a digit key in the gallery relabels the selection
    assert on_disk(path)[1] == (ids[1], 8)
    assert g.model().data(g.model().index(1)) == "8"

    view.select_rows([2, 3])
    menu = button(view, "relabelButton").menu()
    next(a for a in menu.actions() if a.text() == "5").trigger()
    assert [label for _, label in on_disk(path)] == [0, 8, 5, 5]
    assert "2" in count_text(view, 5)

    view.select_rows([0, 2])
    qtbot.mouseClick(button(view, "deleteButton"), Qt.MouseButton.LeftButton)
    assert on_disk(path) == [(ids[1], 8), (ids[3], 5)]
    assert g.model().rowCount() == 2
    assert button(view, "undoDeleteButton").isEnabled()

    view.select_rows([0])
    qtbot.keyClick(g, Qt.Key.Key_Delete)
    assert on_disk(path) == [(ids[3], 5)]

    qtbot.mouseClick(button(view, "undoDeleteButton"), Qt.MouseButton.LeftButton)
    assert on_disk(path) == [(ids[1], 8), (ids[3], 5)]
    qtbot.mouseClick(button(view, "undoDeleteButton"), Qt.MouseButton.LeftButton)
    assert on_disk(path) == [(ids[0], 0), (ids[1], 8), (ids[2], 5), (ids[3], 5)]
    assert view.selected_rows() == [0, 2]  # what came back is selected
    assert not button(view, "undoDeleteButton").isEnabled()


def test_undo_with_ctrl_z(qtbot, view, path):
    add_plain(view, [4, 5])
    view.select_rows([0])
    view.delete_selected()
    assert len(on_disk(path)) == 1
    view.activateWindow()
    gallery(view).setFocus()
    qtbot.waitUntil(lambda: gallery(view).hasFocus(), timeout=2000)
    qtbot.keyClick(gallery(view), Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: len(on_disk(path)) == 2, timeout=2000)
    assert [label for _, label in on_disk(path)] == [4, 5]


def test_a_new_view_shows_what_was_saved(qtbot, view, path):
    add_plain(view, [6, 6, 9])
    again = MyDigitsView(DigitCollection(path))
    qtbot.addWidget(again)
    model = gallery(again).model()
    assert [model.data(model.index(r)) for r in range(model.rowCount())] == ["6", "6", "9"]
    assert "2" in count_text(again, 6) and "1" in count_text(again, 9)
    ids = [model.data(model.index(r), DigitGalleryModel.EntryIdRole) for r in range(3)]
    assert ids == [i for i, _ in on_disk(path)]


def test_held_out_digits_are_told_apart(qtbot, view):
    add_plain(view, [d % 10 for d in range(30)])
    model = gallery(view).model()
    tips = [model.data(model.index(r), Qt.ItemDataRole.ToolTipRole) for r in range(30)]
    held = [e.held_out for e in view.collection]
    assert any(held) and not all(held)
    assert all(("Held out for testing" in t) == h for t, h in zip(tips, held, strict=True))
    n_held = sum(held)
    summary = view.findChild(QLabel, "myDigitsSummary").text()
    assert f"{30 - n_held} for training, {n_held} held out" in summary


def test_model_readings_and_held_out_accuracy(qtbot, view):
    from digitgui.core.data import load_digits_split
    from digitgui.core.model_io import load_default

    split = load_digits_split()
    for x, y in zip(split.X_test[:40], split.y_test[:40], strict=True):
        view.add_digit(x.reshape(8, 8), int(y))
    wrong_label = (int(split.y_test[0]) + 1) % 10
    view.select_rows([0])
    view.relabel_selected(wrong_label)
    model = load_default()
    view.set_model(model)

    g = gallery(view).model()
    guess = int(model.predict(split.X_test[0]))
    assert guess != wrong_label
    assert g.data(g.index(0)) == f"{wrong_label} → {guess}"
    assert g.data(g.index(0), Qt.ItemDataRole.ForegroundRole) is not None
    from digitgui.core.calibration import format_probability
    from digitgui.core.reading import read_digit

    reading = read_digit(model, split.X_test[0])
    tip = g.data(g.index(0), Qt.ItemDataRole.ToolTipRole)
    assert format_probability(reading.confidence) in tip
    assert ("not sure" in tip) == (not reading.sure)
    held = view.collection.held_out_mask()
    X, y = view.collection.held_out_data()
    correct = int(np.sum(model.predict(X) == y))
    summary = view.findChild(QLabel, "myDigitsSummary").text()
    assert f"reads {correct} of {int(held.sum())} held-out digits" in summary
    view.set_model(None)
    assert g.data(g.index(0)) == str(wrong_label)


def test_training_data_only_when_asked(qtbot, view):
    for i in range(30):
        view.add_digit(np.full((8, 8), i / 2), i % 10)  # every digit different
    assert view.extra_training_data() is None
    view.findChild(QCheckBox, "useMyDigitsCheck").setChecked(True)
    view.findChild(QSpinBox, "oversampleSpin").setValue(4)
    X, y = view.extra_training_data()
    n_train = int(view.collection.counts("train").sum())
    assert X.shape == (4 * n_train, 64) and y.shape == (4 * n_train,)
    rows = {tuple(r) for r in X}
    held = {tuple(e.digit.reshape(64)) for e in view.collection if e.held_out}
    trained = {tuple(e.digit.reshape(64)) for e in view.collection if not e.held_out}
    assert held and rows == trained and not rows & held


def test_import_and_export(qtbot, view, path, tmp_path):
    add_plain(view, [1, 2, 3])
    shared = view.export_file(tmp_path / "shared.jsonl")
    assert [e.label for e in DigitCollection(shared)] == [1, 2, 3]

    friend_path = tmp_path / "friend" / COLLECTION_FILE_NAME
    friend = MyDigitsView(DigitCollection(friend_path))
    qtbot.addWidget(friend)
    add_plain(friend, [7])
    result = friend.import_file(shared)
    assert result.added == 3
    assert [label for _, label in on_disk(friend_path)] == [7, 1, 2, 3]
    assert friend.import_file(shared).added == 0
    assert "3 you already had were skipped" in friend.status_text()

    view.select_rows([2])
    one = view.export_file(tmp_path / "one.jsonl", selected_only=True)
    assert [e.label for e in DigitCollection(one)] == [3]


def test_damaged_file_is_reported_in_the_view(qtbot, path):
    c = DigitCollection(path)
    c.add(np.zeros((8, 8)), 2)
    c.save()
    path.write_text(path.read_text() + "{oops\n")
    v = MyDigitsView.open(path)
    qtbot.addWidget(v)
    assert len(v.collection) == 1
    assert "could not be read" in v.status_text() and ".damaged-" in v.status_text()


def test_unusable_file_disables_the_view_and_is_left_alone(qtbot, path):
    data = json.dumps({"format": "digitgui-my-digits", "version": 99}) + "\n"
    path.write_text(data)
    v = MyDigitsView.open(path)
    qtbot.addWidget(v)
    assert v.collection is None
    assert "newer digitgui" in v.status_text()
    assert not button(v, "addButton1").isEnabled()
    assert v.add_from_canvas(1) is None
    assert path.read_text() == data


def test_a_failed_save_keeps_the_digits_and_says_so(qtbot, view, path, monkeypatch):
    add_plain(view, [1])

    def disk_full():
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(view.collection, "save", disk_full)
    add_plain(view, [2])
    assert "could not be saved" in view.status_text()
    assert "No space left" in view.status_text()
    assert len(view.collection) == 2 and len(on_disk(path)) == 1
    monkeypatch.undo()
    add_plain(view, [3])  # the next change saves everything
    assert [label for _, label in on_disk(path)] == [1, 2, 3]


def test_a_canvas_without_keyboard_focus_gets_it(qtbot, view):
    other = FakeCanvas()
    qtbot.addWidget(other)
    other.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    view.set_canvas(other)
    assert other.focusPolicy() == Qt.FocusPolicy.StrongFocus


def test_a_refused_digit_leaves_gallery_and_file_consistent(qtbot, view, path):
    add_plain(view, [1])
    with pytest.raises(ValueError):
        view.add_digit(np.full((8, 8), 99.0), 2)
    assert gallery(view).model().rowCount() == len(view.collection) == 1
    assert len(on_disk(path)) == 1
