"""The runs table (``runsTable``) under the cost plot, and its actions.

One row per run: a checkbox that shows or hides its curves with a swatch of their colour, its
name (editable: double-click or F2), what differs from its preset, how it ended, its final
validation accuracy, its accuracy on real handwriting when a lesson scored it, its training time
and speed. Actions on the selected runs: use this network, rename, delete, export the curves to
CSV, export the plot to PNG or SVG.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QColor, QPixmap
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QMenu,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from digitgui.core.runs import Run

from .palette import run_color

__all__ = ["OUTCOME_WORDS", "RunsPanel", "RunsTable"]

COLUMNS = ("", "Run", "Changed", "Outcome", "Val. acc.", "Handwriting", "Time", "it/s")
COLUMN_TIPS = (
    "Show or hide the run's curves on the plot (the colour is theirs)",
    "The run's name (double-click or F2 to rename)",
    "What differs from the preset it was made from",
    "How the run ended",
    "Final accuracy on the validation digits",
    "Accuracy on real handwriting of 14 writers no network saw (lessons that score it)",
    "Seconds of training (pauses excluded)",
    "Iterations per second of training",
)
OUTCOME_WORDS = {
    "running": "training…",
    "completed": "completed",
    "early_stopped": "stopped early",
    "stopped": "stopped",
    "diverged": "diverged",
    "failed": "failed",
}
_ID_ROLE = Qt.ItemDataRole.UserRole


def _pct(v: float | None) -> str:
    return "" if v is None else f"{100 * v:.1f}%"


def _swatch(color: QColor) -> QPixmap:
    pixmap = QPixmap(12, 12)
    pixmap.fill(color)
    return pixmap


class RunsTable(QTableWidget):
    """The table itself. ``shownChanged()`` when a checkbox changed; ``renameRequested(run,
    name)`` when a name was edited in place."""

    shownChanged = Signal()
    renameRequested = Signal(object, str)
    deletePressed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setObjectName("runsTable")
        self.setHorizontalHeaderLabels(COLUMNS)
        for i, tip in enumerate(COLUMN_TIPS):
            self.horizontalHeaderItem(i).setToolTip(tip)
        self.verticalHeader().hide()
        corner = self.findChild(QAbstractButton, "qt_tableview_cornerbutton")
        if corner is not None:
            corner.setToolTip("Select every run")
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.setAlternatingRowColors(True)
        self.setTabKeyNavigation(False)  # Tab leaves the table; the arrows move inside it
        self.setWordWrap(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.resizeSection(1, 120)
        header.setMinimumSectionSize(24)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self._runs: list[Run] = []
        self._filling = False
        self.itemChanged.connect(self._on_itemChanged)

    def runs(self) -> list[Run]:
        return list(self._runs)

    def set_runs(self, runs: Sequence[Run], shown: set[str]) -> None:
        """Show ``runs`` (newest at the top), ``shown`` ids checked; the selection is kept."""
        selected = {r.id for r in self.selected_runs()}
        self._filling = True
        try:
            self._runs = list(reversed(runs))
            self.setRowCount(len(self._runs))
            for row, run in enumerate(self._runs):
                self._fill_row(row, run, run.id in shown)
            # The handwriting column only when a run was scored on handwriting.
            self.setColumnHidden(5, all(r.handwriting_acc is None for r in runs))
            self.clearSelection()
            for row, run in enumerate(self._runs):
                if run.id in selected:
                    self.selectRow(row)
        finally:
            self._filling = False

    def _fill_row(self, row: int, run: Run, shown: bool) -> None:
        check = QTableWidgetItem()
        check.setFlags(
            Qt.ItemFlag.ItemIsUserCheckable
            | Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
        )
        check.setCheckState(Qt.CheckState.Checked if shown else Qt.CheckState.Unchecked)
        check.setData(Qt.ItemDataRole.DecorationRole, _swatch(run_color(run.color, self.palette())))
        check.setData(_ID_ROLE, run.id)
        check.setToolTip(COLUMN_TIPS[0])
        outcome = OUTCOME_WORDS.get(run.outcome, run.outcome)
        if run.outcome == "diverged":
            outcome += f" at {run.iterations_done:,}"
        rate = run.rate
        cells = (
            run.name,
            run.difference or "(as the preset)",
            outcome,
            _pct(run.val_acc),
            _pct(run.handwriting_acc),
            f"{run.seconds:.1f} s" if run.seconds else "",
            f"{rate:,.0f}" if rate else "",
        )
        self.setItem(row, 0, check)
        for col, text in enumerate(cells, start=1):
            item = QTableWidgetItem(text)
            flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
            if col == 1 and run.finished:
                flags |= Qt.ItemFlag.ItemIsEditable
            item.setFlags(flags)
            if col >= 4:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            tip = run.message if col == 3 else f"{run.name}: {run.difference or 'the preset'}"
            item.setToolTip(tip)
            self.setItem(row, col, item)

    def shown_ids(self) -> set[str]:
        return {
            self._runs[row].id
            for row in range(self.rowCount())
            if self.item(row, 0).checkState() == Qt.CheckState.Checked
        }

    def set_shown(self, run_id: str, shown: bool) -> None:
        for row, run in enumerate(self._runs):
            if run.id == run_id:
                state = Qt.CheckState.Checked if shown else Qt.CheckState.Unchecked
                self.item(row, 0).setCheckState(state)

    def selected_runs(self) -> list[Run]:
        rows = sorted({i.row() for i in self.selectedIndexes()})
        return [self._runs[r] for r in rows if r < len(self._runs)]

    def select_run(self, run_id: str) -> None:
        for row, run in enumerate(self._runs):
            if run.id == run_id:
                self.selectRow(row)

    def event(self, event: QEvent) -> bool:
        # The window binds Delete to clearing the drawing; with the table focused (and no name
        # being edited) Delete means "delete the selected runs", so claim it first.
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and event.key() == Qt.Key.Key_Delete
            and self.state() != QAbstractItemView.State.EditingState
        ):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:
        if (
            event.key() == Qt.Key.Key_Delete
            and self.state() != QAbstractItemView.State.EditingState
        ):
            self.deletePressed.emit()
            return
        super().keyPressEvent(event)

    def _on_itemChanged(self, item: QTableWidgetItem) -> None:
        if self._filling:
            return
        if item.column() == 0:
            self.shownChanged.emit()
        elif item.column() == 1:
            run = self._runs[item.row()]
            if item.text() != run.name:
                self.renameRequested.emit(run, item.text())


class RunsPanel(QWidget):
    """The table with its buttons. The window connects ``useRequested(run)`` (make the run's
    network the current model), ``deleteRequested(runs)``, ``renameRequested(run, name)``,
    ``exportCurvesRequested(runs)`` and ``exportPlotRequested()``."""

    useRequested = Signal(object)
    deleteRequested = Signal(object)
    exportCurvesRequested = Signal(object)
    exportPlotRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = RunsTable()
        self.renameRequested = self.table.renameRequested
        self.use_button = self._button(
            "Use",
            "Use this network: read your drawing with the selected run's network",
            self._on_use,
        )
        self.rename_button = self._button("Rename", "Rename the selected run (F2)", self._on_rename)
        self.delete_button = self._button(
            "Delete", "Delete the selected runs and their files (Delete)", self._on_delete
        )
        self.csv_button = self._button(
            "CSV…",
            "Export the curves of the selected runs (all runs if none is selected) to a CSV file",
            self._on_csv,
        )
        self.plot_button = self._button(
            "Image…",
            "Export the plot as it is shown, as a PNG or SVG image",
            self.exportPlotRequested.emit,
        )
        self.table.deletePressed.connect(self._on_delete)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        for b in (self.use_button, self.rename_button, self.delete_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.csv_button)
        buttons.addWidget(self.plot_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.table.setMinimumHeight(50)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._on_context_menu)
        self._update_buttons()

    def _button(self, text: str, tip: str, slot: Callable) -> QToolButton:
        b = QToolButton()
        b.setText(text)
        b.setToolTip(tip)
        b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        b.clicked.connect(slot)
        return b

    def _update_buttons(self) -> None:
        runs = self.table.selected_runs()
        finished = [r for r in runs if r.finished]
        one = len(finished) == 1
        self.use_button.setEnabled(one and finished[0].outcome not in ("diverged", "failed"))
        self.rename_button.setEnabled(one)
        self.delete_button.setEnabled(bool(finished))
        self.csv_button.setEnabled(self.table.rowCount() > 0)

    def _on_use(self) -> None:
        runs = [r for r in self.table.selected_runs() if r.finished]
        if len(runs) == 1:
            self.useRequested.emit(runs[0])

    def _on_rename(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        if rows:
            self.table.editItem(self.table.item(rows[0], 1))

    def _on_delete(self) -> None:
        runs = [r for r in self.table.selected_runs() if r.finished]
        if runs:
            self.deleteRequested.emit(runs)

    def _on_csv(self) -> None:
        runs = self.table.selected_runs() or self.table.runs()
        if runs:
            self.exportCurvesRequested.emit(runs)

    def _on_context_menu(self, pos) -> None:
        menu = QMenu(self)
        for b in (self.use_button, self.rename_button, self.delete_button, self.csv_button):
            action = menu.addAction(b.text())
            action.setEnabled(b.isEnabled())
            action.triggered.connect(b.click)
        menu.popup(self.table.viewport().mapToGlobal(pos))
