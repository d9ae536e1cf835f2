""" "My digits": the user's own labelled digits, a gallery to look after them, and the control that
adds the drawing on the canvas with a label.

The maths and the file live in :mod:`digitgui.core.my_digits`; this module shows a
:class:`~digitgui.core.my_digits.DigitCollection` and saves it after every change. Wiring into the
main window (a sketch)::

    view = MyDigitsView.open(path)              # never raises for a bad file: it says so inside
    view.set_canvas(window.canvas)              # buttons and keys 0-9 on the canvas add drawings
    view.set_model(classifier)                  # marks digits the network misreads
    window.insightTabs.addTab(view, "My digits")
    extra = view.extra_training_data()          # (X, y) for train(..., extra_train=extra) or None

The canvas only needs ``digit8x8()`` (8x8 array or None) and ``strokes()`` (list of
:class:`~digitgui.core.strokes.Stroke`).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PySide6.QtCore import (
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListView,
    QMenu,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..core.calibration import format_probability
from ..core.evaluation import evaluate
from ..core.my_digits import (
    DEFAULT_OVERSAMPLE,
    CollectionFileError,
    DigitCollection,
    DigitEntry,
    ImportResult,
)
from ..core.reading import Reading, read_digits
from ..core.strokes import CANVAS_SIZE, Stroke
from .digit_gallery import ICON_SIDE, DigitGalleryModel, digit_key
from .insight.scrolling import scroll_inside
from .model_text import plural
from .palette import warning_color
from .settings import open_settings

__all__ = ["DigitGalleryModel", "MyDigitsView"]  # the model lives in digit_gallery

_FILE_FILTER = "Digit collections (*.jsonl);;All files (*)"

USE_KEY, COPIES_KEY = "myDigits/useInTraining", "myDigits/copies"


def _store(key: str, value) -> None:
    settings = open_settings()
    settings.setValue(key, value)
    settings.sync()


class MyDigitsView(QWidget):
    """Gallery of the user's digits with counts per digit, relabel, delete and undo, import and
    export, "add the drawing as 0-9", and the choice to train on them. Saves after every change.

    ``digitAdded(entry)`` after a drawing was added (the window may clear the canvas);
    ``collectionChanged()`` after any change to the digits.
    """

    digitAdded = Signal(object)
    collectionChanged = Signal()

    def __init__(
        self,
        collection: DigitCollection | None,
        parent: QWidget | None = None,
        *,
        unavailable_reason: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("myDigitsView")
        self._collection = collection
        self._canvas: QObject | None = None
        self._classifier = None

        self._add_buttons: list[QPushButton] = []
        add_row = QHBoxLayout()
        add_row.addWidget(QLabel("Add the drawing as:"))
        for d in range(10):
            b = QPushButton(str(d))
            b.setObjectName(f"addButton{d}")
            b.setAccessibleName(f"Add the drawing as {d}")
            b.setToolTip(
                f"Add the drawing on the canvas to my digits, labelled {d} "
                f"(or press {d} while drawing)"
            )
            # Clicking must leave the keyboard focus on the canvas, where keys 0-9 add too.
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.setFixedWidth(32)
            b.setProperty("digit", d)
            b.clicked.connect(self._on_add_button_clicked)
            add_row.addWidget(b)
            self._add_buttons.append(b)
        add_row.addStretch(1)

        self._count_labels: list[QLabel] = []
        counts_row = QHBoxLayout()
        counts_row.setSpacing(12)
        counts_row.addWidget(QLabel("Digits per label:"))
        for d in range(10):
            lab = QLabel()
            lab.setObjectName(f"countLabel{d}")
            lab.setTextFormat(Qt.TextFormat.RichText)
            counts_row.addWidget(lab)
            self._count_labels.append(lab)
        counts_row.addStretch(1)

        self._summary = QLabel()
        self._summary.setObjectName("myDigitsSummary")
        self._summary.setWordWrap(True)

        self._model = DigitGalleryModel(collection, self)
        self._gallery = QListView()
        self._gallery.setObjectName("myDigitsGallery")
        self._gallery.setAccessibleName("My digits")
        self._gallery.setModel(self._model)
        self._gallery.setViewMode(QListView.ViewMode.IconMode)
        self._gallery.setIconSize(QSize(ICON_SIDE, ICON_SIDE))
        self._gallery.setGridSize(QSize(ICON_SIDE + 16, ICON_SIDE + 22))
        self._gallery.setResizeMode(QListView.ResizeMode.Adjust)
        self._gallery.setMovement(QListView.Movement.Static)
        self._gallery.setUniformItemSizes(True)
        self._gallery.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self._gallery.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._gallery.setToolTip("")
        self._gallery.installEventFilter(self)
        self._gallery.selectionModel().selectionChanged.connect(self._on_gallery_selection_changed)

        self._relabel_button = QToolButton()
        self._relabel_button.setObjectName("relabelButton")
        self._relabel_button.setText("Relabel as")
        self._relabel_button.setToolTip("Give the selected digits another label (or press 0-9)")
        self._relabel_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self._relabel_button)
        for d in range(10):
            action = menu.addAction(str(d))
            action.setData(d)
        menu.triggered.connect(self._on_relabel_menu_triggered)
        self._relabel_button.setMenu(menu)
        self._delete_button = QPushButton("Delete")
        self._delete_button.setObjectName("deleteButton")
        self._delete_button.setToolTip(
            "Delete the selected digits (Delete key); undo brings them back"
        )
        self._delete_button.clicked.connect(self.delete_selected)
        self._undo_button = QPushButton("Undo delete")
        self._undo_button.setObjectName("undoDeleteButton")
        self._undo_button.setToolTip("Bring back the digits deleted last (Ctrl+Z)")
        self._undo_button.clicked.connect(self.undo_delete)
        self._import_button = QPushButton("Import…")
        self._import_button.setObjectName("importButton")
        self._import_button.setToolTip(
            "Add the digits of a collection file shared by someone else (duplicates are skipped)"
        )
        self._import_button.clicked.connect(self._on_import_clicked)
        self._export_button = QPushButton("Export…")
        self._export_button.setObjectName("exportButton")
        self._export_button.setToolTip(
            "Save the selected digits (or all) to a file to share, e.g. with your class"
        )
        self._export_button.clicked.connect(self._on_export_clicked)
        edit_row = QHBoxLayout()
        for w in (self._relabel_button, self._delete_button, self._undo_button):
            edit_row.addWidget(w)
        edit_row.addStretch(1)
        edit_row.addWidget(self._import_button)
        edit_row.addWidget(self._export_button)

        self._use_check = QCheckBox("Use my digits in training")
        self._use_check.setObjectName("useMyDigitsCheck")
        self._use_check.setToolTip(
            "Train on your digits too (all but the held-out ones, which stay for honest testing)"
        )
        self._oversample_spin = QSpinBox()
        self._oversample_spin.setObjectName("oversampleSpin")
        self._oversample_spin.setRange(1, 100)
        self._oversample_spin.setValue(DEFAULT_OVERSAMPLE)
        self._oversample_spin.setSuffix("×")
        self._oversample_spin.setToolTip(
            "How many copies of each of your digits join the 1,257 training digits"
        )
        train_row = QHBoxLayout()
        train_row.addWidget(self._use_check)
        copies_label = QLabel("copies of each:")
        copies_label.setBuddy(self._oversample_spin)
        self._oversample_spin.setAccessibleName("Copies of each of my digits in training")
        train_row.addWidget(copies_label)
        train_row.addWidget(self._oversample_spin)
        train_row.addStretch(1)

        self._status = QLabel()
        self._status.setObjectName("myDigitsStatus")
        self._status.setWordWrap(True)
        self._status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        layout = QVBoxLayout(self)
        layout.addLayout(add_row)
        layout.addLayout(counts_row)
        layout.addWidget(self._summary)
        layout.addWidget(self._gallery, 1)
        layout.addLayout(edit_row)
        layout.addLayout(train_row)
        layout.addWidget(self._status)

        if collection is None:
            for w in self.findChildren(QWidget):
                w.setEnabled(False)
            self._show_status(unavailable_reason or "No digit collection is open.", error=True)
        elif collection.problem_message:
            self._show_status(collection.problem_message, error=True)
        self._remember_training_choice()
        scroll_inside(self)  # narrower windows scroll the page, not widen the window
        self._refresh()

    def _remember_training_choice(self) -> None:
        """ "Use my digits in training" and the copies are kept in the app's settings (the
        window's store) and come back at the next start."""
        settings = open_settings()
        use = settings.value(USE_KEY, False)
        self._use_check.setChecked(use is True or str(use).lower() == "true")
        try:
            copies = int(settings.value(COPIES_KEY, DEFAULT_OVERSAMPLE))
        except (TypeError, ValueError):
            copies = DEFAULT_OVERSAMPLE
        self._oversample_spin.setValue(copies)
        self._use_check.toggled.connect(lambda on: _store(USE_KEY, bool(on)))
        self._oversample_spin.valueChanged.connect(lambda n: _store(COPIES_KEY, int(n)))

    @classmethod
    def open(cls, path: str | os.PathLike, parent: QWidget | None = None) -> MyDigitsView:
        """A view of the collection at ``path``. A file that cannot be used (from a newer
        digitgui, not a collection, unreadable) is left untouched and the view says why."""
        try:
            collection = DigitCollection(path)
        except (CollectionFileError, OSError) as e:
            reason = f"Your digits could not be opened: {e}"
            return cls(None, parent, unavailable_reason=reason)
        return cls(collection, parent)

    # public API ----------------------------------------------------------------------------------

    @property
    def collection(self) -> DigitCollection | None:
        return self._collection

    def status_text(self) -> str:
        return self._status.text()

    def set_canvas(self, canvas: QObject | None) -> None:
        """Add drawings from ``canvas`` (``digit8x8()``, ``strokes()``); keys 0-9 pressed while it
        has the focus add the drawing with that label."""
        if self._canvas is not None:
            self._canvas.removeEventFilter(self)
        self._canvas = canvas
        if canvas is not None:
            canvas.installEventFilter(self)
            # Keys reach only a widget that can take the focus; a canvas that never asked for it
            # gets it on click and Tab.
            if isinstance(canvas, QWidget) and canvas.focusPolicy() == Qt.FocusPolicy.NoFocus:
                canvas.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def set_model(self, classifier) -> None:
        """Show how ``classifier`` (a DigitClassifier, or None) reads each digit and its accuracy
        on the held-out ones."""
        self._classifier = classifier
        self._refresh()

    def extra_training_data(self) -> tuple[np.ndarray, np.ndarray] | None:
        """``(X (n, 64), y (n,))`` to pass as ``extra_train`` when "Use my digits in training" is
        on and there are training digits, else None. Never includes held-out digits."""
        if self._collection is None or not self._use_check.isChecked():
            return None
        X, y = self._collection.training_data(self._oversample_spin.value())
        return (X, y) if len(y) else None

    def add_from_canvas(self, label: int) -> DigitEntry | None:
        """Add the canvas's drawing with ``label``; says why not (and returns None) when there is
        no canvas or nothing is drawn."""
        if self._canvas is None:
            self._show_status("There is no canvas to take a drawing from.", error=True)
            return None
        digit = self._canvas.digit8x8()
        if digit is None:
            self._show_status(
                f"Draw a digit first, then press {label} or click its button to add it."
            )
            return None
        strokes = list(self._canvas.strokes()) if hasattr(self._canvas, "strokes") else None
        canvas_size = getattr(self._canvas, "canvas_size", CANVAS_SIZE)
        return self.add_digit(digit, label, strokes, canvas_size=canvas_size)

    def add_digit(
        self,
        digit8x8: np.ndarray,
        label: int,
        strokes: list[Stroke] | None = None,
        *,
        canvas_size: int | tuple[int, int] = CANVAS_SIZE,
    ) -> DigitEntry | None:
        """Add a digit ``(8, 8)`` 0..16 with its label and the strokes it was drawn with on a
        ``canvas_size`` canvas; save, and show it."""
        if self._collection is None:
            return None
        row = len(self._collection)
        self._model.beginInsertRows(QModelIndex(), row, row)
        try:
            entry = self._collection.add(digit8x8, label, strokes, canvas_size=canvas_size)
        except Exception:
            # Nothing was added after all: close the announced insert and resynchronise views.
            self._model.endInsertRows()
            self._model.reset()
            raise
        self._model.endInsertRows()
        same = int(self._collection.counts()[label])
        where = "held out for testing" if entry.held_out else "for training"
        if self._commit(f"Added a {label} ({where}); you have {same} labelled {label}."):
            self._gallery.scrollToBottom()
        self.digitAdded.emit(entry)
        return entry

    def selected_rows(self) -> list[int]:
        return sorted(i.row() for i in self._gallery.selectionModel().selectedIndexes())

    def select_rows(self, rows: list[int]) -> None:
        selection = QItemSelection()
        for r in rows:
            index = self._model.index(r)
            selection.select(index, index)
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect
        self._gallery.selectionModel().select(selection, flags)
        if rows:
            self._gallery.selectionModel().setCurrentIndex(
                self._model.index(rows[0]), QItemSelectionModel.SelectionFlag.NoUpdate
            )

    def relabel_selected(self, label: int) -> int:
        """Give every selected digit ``label``; returns how many changed."""
        rows = self.selected_rows()
        if self._collection is None or not rows:
            return 0
        changed = 0
        for r in rows:
            if self._collection[r].label != label:
                self._collection.relabel(r, label)
                changed += 1
                self._model.dataChanged.emit(self._model.index(r), self._model.index(r))
        if changed:
            self._commit(f"Relabelled {plural(changed, 'digit')} as {label}.")
        return changed

    def delete_selected(self) -> int:
        """Delete the selected digits (undo brings them back); returns how many."""
        rows = self.selected_rows()
        if self._collection is None or not rows:
            return 0
        self._collection.remove_many(rows)
        self._model.reset()
        self._commit(
            f"Deleted {plural(len(rows), 'digit')}. Undo delete (Ctrl+Z) brings them back."
        )
        if len(self._collection):
            self.select_rows([min(rows[0], len(self._collection) - 1)])
        return len(rows)

    def undo_delete(self) -> int:
        """Bring back the digits deleted last; returns how many."""
        if self._collection is None or not self._collection.can_undo:
            return 0
        restored = self._collection.undo_remove()
        self._model.reset()
        self._commit(f"Brought back {plural(len(restored), 'digit')}.")
        self.select_rows([self._collection.index_of(e.id) for e in restored])
        return len(restored)

    def import_file(self, path: str | os.PathLike) -> ImportResult | None:
        """Merge another collection file into mine (duplicates skipped); None if it failed."""
        if self._collection is None:
            return None
        try:
            result = self._collection.import_from(path)
        except (CollectionFileError, OSError) as e:
            self._show_status(f"Nothing imported: {e}", error=True)
            return None
        self._model.reset()
        parts = [f"Imported {plural(result.added, 'digit')} from {Path(path).name}"]
        if result.duplicates:
            parts.append(f"{result.duplicates} you already had were skipped")
        if result.conflicts:
            parts.append(f"{result.conflicts} that you changed were kept as yours")
        if result.problems:
            parts.append(f"{plural(len(result.problems), 'unreadable line')} skipped")
        self._commit("; ".join(parts) + ".")
        return result

    def export_file(self, path: str | os.PathLike, selected_only: bool = False) -> Path | None:
        """Write my digits (or only the selected ones) to a collection file for sharing."""
        if self._collection is None:
            return None
        rows = self.selected_rows() if selected_only else None
        try:
            written = self._collection.export(path, rows)
        except (OSError, ValueError) as e:
            self._show_status(f"Could not export: {e}", error=True)
            return None
        n = len(self._collection) if rows is None else len(rows)
        self._show_status(f"Exported {plural(n, 'digit')} to {written}.")
        return written

    # internals -----------------------------------------------------------------------------------

    def _commit(self, message: str) -> bool:
        """Save after a change and refresh what depends on the digits; False if saving failed
        (the digits are kept in memory and the next change tries again)."""
        assert self._collection is not None
        ok = True
        try:
            self._collection.save()
        except (OSError, CollectionFileError) as e:
            ok = False
            self._show_status(
                f"{message} But your digits could not be saved to {self._collection.path} ({e}). "
                "They are kept while the app runs and the next change tries again.",
                error=True,
            )
        else:
            if self._collection.merged_on_save:
                self._model.reset()
                message += (
                    f" {plural(self._collection.merged_on_save, 'digit')} added meanwhile by "
                    "another window were merged in."
                )
            self._show_status(message)
        self._refresh()
        self.collectionChanged.emit()
        return ok

    def _refresh(self) -> None:
        c = self._collection
        counts = c.counts() if c is not None else np.zeros(10, dtype=np.int64)
        held = c.counts("held_out") if c is not None else np.zeros(10, dtype=np.int64)
        for d, lab in enumerate(self._count_labels):
            n = int(counts[d])
            lab.setText(f"<b>{d}</b>:&nbsp;{n}" if n else f"<span style='color:gray'>{d}: 0</span>")
            lab.setToolTip(
                f"{plural(n, 'digit')} labelled {d}: {n - int(held[d])} for training, "
                f"{int(held[d])} held out for testing"
            )
        readings: dict[str, Reading] = {}
        text = "No digits yet: draw one and add it with its label."
        if c is not None and len(c):
            n_held = int(held.sum())
            text = (
                f"{plural(len(c), 'digit')}: {len(c) - n_held} for training, {n_held} held out for "
                "testing (blue frame; never trained on, so the accuracy on them is honest)."
            )
            if self._classifier is not None:
                X, _ = c.arrays()
                read = read_digits(self._classifier, X)
                guesses = [r.guess for r in read]
                readings = {e.id: r for e, r in zip(c, read, strict=True)}
                report = evaluate(self._classifier, *c.held_out_data())
                if report.n:
                    correct = int(np.sum(report.y_pred == report.y_true))
                    text += (
                        f" The network reads {correct} of {report.n} held-out digits "
                        f"({format_probability(report.accuracy)})."
                    )
                misread = sum(g != e.label for e, g in zip(c, guesses, strict=True))
                if misread:
                    text += f" Misread: {misread} (shown as label → reading)."
        self._summary.setText(text)
        self._model.set_readings(readings)
        self._update_buttons()

    def _update_buttons(self) -> None:
        if self._collection is None:
            return
        has_selection = bool(self._gallery.selectionModel().hasSelection())
        self._relabel_button.setEnabled(has_selection)
        self._delete_button.setEnabled(has_selection)
        self._undo_button.setEnabled(self._collection.can_undo)
        self._export_button.setEnabled(len(self._collection) > 0)

    def _show_status(self, text: str, error: bool = False) -> None:
        color = warning_color(self.palette()).name() if error else ""
        self._status.setStyleSheet(f"color: {color};" if color else "")
        self._status.setText(text)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and watched is self._gallery
            and self._collection is not None
            and self._gallery_key(event)
        ):
            # The window binds Delete and Ctrl+Z to the canvas; while the gallery has the focus
            # these keys mean "delete / undo delete" here, so claim them before any shortcut.
            event.accept()
            return True
        if event.type() == QEvent.Type.KeyPress and self._collection is not None:
            if watched is self._canvas:
                digit = digit_key(event)
                if digit is not None:
                    self.add_from_canvas(digit)
                    return True
            elif watched is self._gallery:
                digit = digit_key(event)
                if digit is not None and self.selected_rows():
                    self.relabel_selected(digit)
                    return True
                if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
                    self.delete_selected()
                    return True
                if event.matches(QKeySequence.StandardKey.Undo):
                    self.undo_delete()
                    return True
        return super().eventFilter(watched, event)

    def _gallery_key(self, event) -> bool:
        """Whether a key event on the gallery is one of its own commands."""
        return (
            event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace)
            or event.matches(QKeySequence.StandardKey.Undo)
            or (digit_key(event) is not None and bool(self.selected_rows()))
        )

    def _on_add_button_clicked(self) -> None:
        self.add_from_canvas(int(self.sender().property("digit")))

    def _on_gallery_selection_changed(self, *_: object) -> None:
        self._update_buttons()

    def _on_relabel_menu_triggered(self, action) -> None:
        self.relabel_selected(int(action.data()))

    def _on_import_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import digits", "", _FILE_FILTER)
        if path:
            self.import_file(path)

    def _on_export_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export my digits", "my_digits.jsonl", _FILE_FILTER
        )
        if path:
            self.export_file(path, selected_only=bool(self.selected_rows()))
