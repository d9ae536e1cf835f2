"""The main window's actions, menus and Help dialogs, built for a :class:`MainWindow` ``w``.

Every action is a window shortcut (it works from any widget of the window), carries its shortcut
in its tooltip and its help in the status bar. The Lessons menu lists the lessons of
:mod:`digitgui.core.lessons`. Ctrl+Tab and Ctrl+PgDown (Ctrl+Shift+Tab and Ctrl+PgUp) show the
next (previous) tab of ``insightTabs`` from anywhere in the window, even from a table that would
keep those keys for itself.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from digitgui import __version__
from digitgui.core.lessons import LESSONS

from . import lesson_actions as lessons
from . import presentation
from . import window_files as files

__all__ = ["build_actions", "build_menus", "show_about", "show_shortcuts", "switch_tab"]


def _action(w, text: str, shortcut, tip: str, slot, *, checkable: bool = False) -> QAction:
    action = QAction(text, w)
    if shortcut is not None:
        keys = shortcut if isinstance(shortcut, list) else [shortcut]
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    first = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
    action.setToolTip(f"{tip} ({first})" if first else tip)
    action.setStatusTip(tip)
    action.setCheckable(checkable)
    (action.toggled if checkable else action.triggered).connect(slot)
    w.addAction(action)
    return action


def build_actions(w) -> None:
    def A(*args, **kwargs):
        return _action(w, *args, **kwargs)

    w.open_action = A(
        "&Open model…",
        QKeySequence.StandardKey.Open,
        "Load a model file (.npz)",
        lambda: files.ask_open_model(w),
    )
    w.save_action = A(
        "&Save model…",
        QKeySequence.StandardKey.Save,
        "Save the current model to a file",
        lambda: files.ask_save_model(w),
    )
    w.shipped_action = A(
        "Use the shipped &model",
        None,
        "Read your drawing with the model that comes with digitgui again",
        lambda: files.use_shipped_model(w),
    )
    w.export_action = A(
        "&Export drawing as PNG…",
        "Ctrl+E",
        "Save the drawing as a 256x256 PNG image",
        lambda: files.ask_export_drawing(w),
    )
    w.save_lesson_action = A(
        "Save &lesson…",
        None,
        "Save the training settings, the drawing and the view as a lesson file for next time",
        lambda: lessons.ask_save_lesson(w),
    )
    w.open_lesson_action = A(
        "Open lesso&n…",
        None,
        "Open a lesson file: its settings, drawing and view",
        lambda: lessons.ask_open_lesson(w),
    )
    w.export_handout_action = A(
        "Export &handout…",
        None,
        "One page (PDF or PNG) with the plot, the runs' accuracies and the command line, and "
        "the curves as CSV",
        lambda: lessons.ask_export_handout(w),
    )
    w.copy_command_action = A(
        "Copy as &command line",
        None,
        "Copy the digitgui train command that trains the latest run again",
        lambda: lessons.copy_command(w),
    )
    for action, name in (
        (w.save_lesson_action, "saveLessonAction"),
        (w.open_lesson_action, "openLessonAction"),
        (w.export_handout_action, "exportHandoutAction"),
        (w.copy_command_action, "copyCommandAction"),
    ):
        action.setObjectName(name)
    w.quit_action = A(
        "&Quit",
        QKeySequence.StandardKey.Quit,
        "Close digitgui (stops any training)",
        w.close,
    )
    w.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
    w.undo_action = A(
        "&Undo stroke",
        QKeySequence.StandardKey.Undo,
        "Remove the last stroke",
        w.canvas.undo,
    )
    w.clear_action = A(
        "&Clear drawing",
        [QKeySequence.StandardKey.Delete, "Backspace"],
        "Erase the whole drawing",
        w.canvas.clear,
    )
    w.wider_action = A("Pen &wider", "]", "Make the pen wider", w._on_wider_triggered)
    w.thinner_action = A("Pen &thinner", "[", "Make the pen thinner", w._on_thinner_triggered)
    w.train_action = A(
        "&Train",
        ["F5", "Ctrl+Return"],
        "Train a network with these settings",
        w._on_train_triggered,
    )
    w.pause_action = A("&Pause", "F6", "Pause the training, or resume it", w._on_pause_triggered)
    w.stop_action = A(
        "&Stop",
        "Shift+F5",
        "Stop training now and keep the network as it is",
        w._on_stop_triggered,
    )
    w.reset_action = A(
        "&Reset",
        "Ctrl+R",
        "Stop training, clear the plot and go back to the model you had before training",
        w._on_reset_triggered,
    )
    w.use_run_action = A(
        "&Use this network",
        None,
        "Read your drawing with the network of the stopped run instead of the one in use",
        w._on_use_run_triggered,
    )
    w.lr_action = A(
        "Change the &learning rate…",
        "Ctrl+Shift+L",
        "Change the learning rate of the run in progress; it takes effect at the next update",
        w.training_tab.ask_learning_rate,
    )
    w.export_plot_action = A(
        "Export the &plot…",
        "Ctrl+Shift+E",
        "Save the runs plot as it is shown, as a PNG or SVG image",
        lambda: files.ask_export_plot(w),
    )
    w.lesson_actions = []
    for lesson in LESSONS:
        action = A(lesson.title, None, lesson.question, w._on_lesson_triggered)
        action.setData(lesson.key)
        w.lesson_actions.append(action)
    w.next_tab_action = A(
        "&Next tab",
        ["Ctrl+Tab", "Ctrl+PgDown"],
        "Show the next tab on the right",
        lambda: switch_tab(w, 1),
    )
    w.previous_tab_action = A(
        "Pre&vious tab",
        ["Ctrl+Shift+Tab", "Ctrl+PgUp"],
        "Show the previous tab on the left",
        lambda: switch_tab(w, -1),
    )
    w.chance_action = A(
        "Show the “&knows nothing” cost",
        None,
        "A dashed line at ln 10 = 2.30: the cost of a network that gives every digit 1/10",
        w.cost_plot.show_chance_line,
        checkable=True,
    )
    w.chance_action.setObjectName("chanceLineAction")
    w.presentation_action = A(
        "&Presentation mode",
        "F11",
        "Large text and a large plot for a projector; the secondary panes fold away",
        lambda on: presentation.zoom_present(w, on),
        checkable=True,
    )
    w.presentation_action.setObjectName("presentationAction")
    w.zoom_in_action = A(
        "Zoom &in",
        ["Ctrl+=", "Ctrl++"],
        "Larger text, plots and tables",
        lambda: presentation.zoom_step(w, 1),
    )
    w.zoom_out_action = A(
        "Zoom &out", "Ctrl+-", "Smaller text", lambda: presentation.zoom_step(w, -1)
    )
    w.zoom_reset_action = A(
        "&Actual size", "Ctrl+0", "Text at its normal size", lambda: presentation.zoom_reset(w)
    )
    w.log_action = A(
        "&Logarithmic cost axis",
        "Ctrl+L",
        "Show the cost on a logarithmic axis",
        w.cost_plot.set_log_y,
        checkable=True,
    )
    w.shortcuts_action = A(
        "&Keyboard shortcuts",
        QKeySequence.StandardKey.HelpContents,
        "List every keyboard shortcut",
        lambda: show_shortcuts(w),
    )
    w.about_action = A("&About digitgui", None, "About digitgui", lambda: show_about(w))

    w.lr_action.setIconText("Learning rate…")
    w.train_button.setDefaultAction(w.train_action)
    w.training_tab.lr_button.setDefaultAction(w.lr_action)
    w.pause_button.setDefaultAction(w.pause_action)
    w.stop_button.setDefaultAction(w.stop_action)
    w.reset_button.setDefaultAction(w.reset_action)
    w.use_run_button.setDefaultAction(w.use_run_action)
    w.log_button.setDefaultAction(w.log_action)
    # Buttons show the actions' short icon texts; menus keep the full texts.
    w.undo_action.setIconText("Undo")
    w.clear_action.setIconText("Clear")
    w.log_action.setIconText("Log scale")
    w.undo_button.setDefaultAction(w.undo_action)
    w.clear_button.setDefaultAction(w.clear_action)


def build_menus(w) -> None:
    bar = w.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.addActions([w.open_action, w.shipped_action, w.save_action, w.export_action])
    file_menu.addSeparator()
    file_menu.addActions([w.open_lesson_action, w.save_lesson_action])
    file_menu.addActions([w.export_handout_action, w.copy_command_action])
    file_menu.addSeparator()
    file_menu.addAction(w.quit_action)
    edit_menu = bar.addMenu("&Edit")
    edit_menu.addActions([w.undo_action, w.clear_action, w.wider_action, w.thinner_action])
    train_menu = bar.addMenu("&Training")
    train_menu.addActions([w.train_action, w.pause_action, w.stop_action, w.reset_action])
    train_menu.addSeparator()
    train_menu.addActions([w.lr_action, w.use_run_action])
    w.lessons_menu = bar.addMenu("Le&ssons")
    w.lessons_menu.setObjectName("lessonsMenu")
    w.lessons_menu.setToolTipsVisible(True)
    w.lessons_menu.addActions(w.lesson_actions)
    view_menu = bar.addMenu("&View")
    view_menu.addActions([w.log_action, w.chance_action, w.export_plot_action])
    view_menu.addSeparator()
    view_menu.addActions(
        [w.presentation_action, w.zoom_in_action, w.zoom_out_action, w.zoom_reset_action]
    )
    view_menu.addSeparator()
    view_menu.addActions([w.next_tab_action, w.previous_tab_action])
    help_menu = bar.addMenu("&Help")
    help_menu.addActions([w.shortcuts_action, w.about_action])


def switch_tab(w, step: int) -> None:
    """Show the tab ``step`` places to the right of the current one (wrapping around, skipping
    disabled tabs). The keyboard focus, when it was on the tab left behind, goes to the tab
    bar: on screen, and one Tab away from the new tab's contents."""
    tabs = w.insight_tabs
    n = tabs.count()
    if n < 2:
        return
    index = tabs.currentIndex()
    for _ in range(n - 1):
        index = (index + step) % n
        if tabs.isTabEnabled(index) and tabs.isTabVisible(index):
            break
    else:
        return
    focus = QApplication.focusWidget()
    inside = focus is not None and tabs.isAncestorOf(focus) and focus is not tabs.tabBar()
    tabs.setCurrentIndex(index)
    if inside or QApplication.focusWidget() is None:
        tabs.tabBar().setFocus(Qt.FocusReason.TabFocusReason)


def show_shortcuts(w) -> None:
    dialog = QDialog(w)
    dialog.setObjectName("shortcutsDialog")
    dialog.setWindowTitle("Keyboard shortcuts")
    actions = [a for a in w.actions() if not a.shortcut().isEmpty()]
    rows = [
        (
            "Pause / Resume" if a is w.pause_action else a.text().replace("&", "").rstrip("…"),
            ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in a.shortcuts()),
        )
        for a in actions
    ]
    # Keys handled by the canvas and the "My digits" gallery rather than by menu actions.
    rows += [
        ("Add the drawing to my digits (canvas focused)", "0 … 9"),
        ("Relabel the selected digits (My digits gallery)", "0 … 9"),
        ("Delete the selected digits (My digits gallery)", "Del"),
        ("Undo the delete (My digits gallery)", "Ctrl+Z"),
    ]
    rows += [
        ("Move through cells, tiles and plots (when focused)", "Arrow keys, Home, End"),
        ("Pick the digit, cell or tile under the cursor", "Enter, Space"),
    ]
    table = QTableWidget(len(rows), 2, dialog)
    table.setObjectName("shortcutsTable")
    table.setAccessibleName("Keyboard shortcuts")
    table.setHorizontalHeaderLabels(["Action", "Shortcut"])
    table.verticalHeader().hide()
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    # Focused, with a row cursor: the arrow keys, PgUp/PgDown, Home and End scroll the list, and
    # Tab goes on to Close.
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setTabKeyNavigation(False)
    table.setWordWrap(True)  # on a narrow screen the actions wrap; the keys never do
    for row, (name, keys) in enumerate(rows):
        table.setItem(row, 0, QTableWidgetItem(name))
        table.setItem(row, 1, QTableWidgetItem(keys))
    header = table.horizontalHeader()
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
    table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.setCurrentCell(0, 0)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, dialog)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addWidget(table)
    layout.addWidget(buttons)
    _fit_to_rows(dialog, table, layout, buttons)
    table.setFocus(Qt.FocusReason.OtherFocusReason)
    w.open_dialog(dialog)


def _fit_to_rows(dialog: QDialog, table: QTableWidget, layout, buttons) -> None:
    """Size the shortcuts dialog to show every row and column when the screen has room; where
    it has not, the table scrolls (from the keyboard too)."""
    frame = 2 * table.frameWidth()
    width = table.sizeHintForColumn(0) + table.sizeHintForColumn(1)
    width += table.verticalScrollBar().sizeHint().width()
    height = table.horizontalHeader().sizeHint().height()
    height += sum(table.sizeHintForRow(r) for r in range(table.rowCount()))
    margins = layout.contentsMargins()
    width += frame + margins.left() + margins.right()
    height += frame + margins.top() + margins.bottom() + layout.spacing()
    height += buttons.sizeHint().height()
    screen = dialog.screen() or QApplication.primaryScreen()
    room = screen.availableGeometry() if screen is not None else None
    if room is not None:
        width = min(width, int(room.width() * 0.9))
        height = min(height, int(room.height() * 0.9))
    dialog.resize(max(width, 420), height)


def show_about(w) -> None:
    box = QMessageBox(w)
    box.setObjectName("aboutDialog")
    box.setWindowTitle("About digitgui")
    box.setIcon(QMessageBox.Icon.Information)
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(
        f"<h3>digitgui {__version__}</h3>"
        "<p>Watch a from-scratch NumPy neural network learn to read handwritten digits, then "
        "draw your own.</p>"
        "<p>It trains on scikit-learn's <i>load_digits</i>: 1,797 digits written by 13 "
        "people, scanned and reduced to 8x8 cells of 0..16 ink pixels. Your drawing is "
        "reduced the same way before the network reads it.</p>"
        "<p>MIT licence.</p>"
    )
    w.open_dialog(box)
