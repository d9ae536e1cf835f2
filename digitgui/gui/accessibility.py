"""Keyboard and screen-reader rules shared by the window's widgets.

- **Focus ring.** A widget that paints itself (the canvas, the confusion matrix, the tiles, the
  plots) shows that it has the keyboard focus with the same ring: a frame in the palette's
  highlight colour, :func:`paint_focus_ring`. Widgets painted by code we do not control
  (pyqtgraph's plots) get it from a :class:`FocusRing` laid over them (:func:`add_focus_ring`).
- **Grid keys.** Widgets made of cells or tiles move a cursor with the arrow keys, Home and End
  (:func:`grid_key_target`) and act on it with Enter or Space (:func:`is_activation_key`), as a
  click would.
- **Names.** Every interactive widget tells a screen reader what it is. Buttons say their text
  and form fields their buddy label; :func:`name_widgets` gives every other one an accessible
  name (from :data:`NAMES`, the tab it fills, its tooltip or its object name) and a focus ring to
  every plot, once the window is built. :func:`spoken_name` is the name a widget gives.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import QEvent, QObject, QRectF, Qt
from PySide6.QtGui import QKeyEvent, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractScrollArea,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QGraphicsView,
    QHeaderView,
    QLabel,
    QLineEdit,
    QScrollBar,
    QStackedWidget,
    QTabBar,
    QTabWidget,
    QWidget,
)

__all__ = [
    "FOCUS_RING_WIDTH",
    "NAMES",
    "FocusRing",
    "add_focus_ring",
    "buddy_label",
    "grid_key_target",
    "hidden_focus_rings",
    "interactive_widgets",
    "is_activation_key",
    "name_widgets",
    "paint_focus_ring",
    "spoken_name",
]

#: Width of the focus ring (px).
FOCUS_RING_WIDTH = 2

#: Accessible names of widgets whose text, label or tooltip makes no good one, by object name.
NAMES = {
    "costPlot": "Cost plot: training and validation cost, and validation accuracy, of the runs",
    "runsTable": "Training runs",
    "penWidthSlider": "Pen width",
    "xAxisCombo": "Plot x axis",
}


# focus ring ---------------------------------------------------------------------------------------


def paint_focus_ring(painter: QPainter, rect: QRectF, palette: QPalette) -> None:
    """Frame ``rect`` (inside it) in the highlight colour: the keyboard focus is here."""
    painter.save()
    pen = QPen(palette.color(QPalette.ColorRole.Highlight), FOCUS_RING_WIDTH)
    pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    half = FOCUS_RING_WIDTH / 2
    painter.drawRect(rect.adjusted(half, half, -half, -half))
    painter.restore()


class FocusRing(QWidget):
    """A transparent overlay over ``target`` that paints the focus ring while ``target`` has the
    keyboard focus; mouse events pass through it."""

    def __init__(self, target: QWidget) -> None:
        super().__init__(target)
        self.setObjectName("focusRing")
        self._target = target
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setGeometry(target.rect())
        self.setVisible(target.hasFocus())
        target.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._target:
            kind = event.type()
            if kind == QEvent.Type.FocusIn:
                self.setGeometry(self._target.rect())
                self.raise_()
                self.show()
            elif kind == QEvent.Type.FocusOut:
                self.hide()
            elif kind == QEvent.Type.Resize:
                self.setGeometry(self._target.rect())
        return super().eventFilter(watched, event)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        paint_focus_ring(painter, QRectF(self.rect()), self._target.palette())
        painter.end()


def add_focus_ring(widget: QWidget) -> FocusRing:
    """Give ``widget`` a :class:`FocusRing` (once)."""
    for child in widget.children():
        if isinstance(child, FocusRing):
            return child
    return FocusRing(widget)


@contextmanager
def hidden_focus_rings(widget: QWidget) -> Iterator[None]:
    """Hide ``widget``'s focus rings for the ``with`` block, e.g. while it is grabbed into an
    image file: the ring shows the focus on screen and has no place in an export."""
    shown = [ring for ring in widget.findChildren(FocusRing) if ring.isVisible()]
    for ring in shown:
        ring.hide()
    try:
        yield
    finally:
        for ring in shown:
            ring.show()


# keys ---------------------------------------------------------------------------------------------

_ACTIVATION_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space, Qt.Key.Key_Select)


def is_activation_key(event: QKeyEvent) -> bool:
    """Enter, Return or Space without Ctrl/Alt/Meta: act on the item under the cursor."""
    held = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
    return held == Qt.KeyboardModifier.NoModifier and event.key() in _ACTIVATION_KEYS


def grid_key_target(event: QKeyEvent, current: int | None, count: int, columns: int) -> int | None:
    """Where the arrow keys, Home and End move a cursor in ``count`` items laid out row by row
    in ``columns`` columns (a row of items: ``columns == count``); None for any other key or
    with modifiers (Ctrl+arrows and friends stay the window's). From no cursor (``current`` is
    None) any of these keys goes to the first item."""
    held = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
    if count <= 0 or held != Qt.KeyboardModifier.NoModifier:
        return None
    columns = max(1, min(columns, count))
    step = {
        Qt.Key.Key_Left: -1,
        Qt.Key.Key_Right: 1,
        Qt.Key.Key_Up: -columns,
        Qt.Key.Key_Down: columns,
    }
    key = event.key()
    if key == Qt.Key.Key_Home:
        return 0
    if key == Qt.Key.Key_End:
        return count - 1
    if key not in step:
        return None
    if current is None or not 0 <= current < count:
        return 0
    target = current + step[key]
    sideways = key in (Qt.Key.Key_Left, Qt.Key.Key_Right)
    if sideways and target // columns != current // columns:
        return current  # Left and Right stay in the row
    return target if 0 <= target < count else current


# names --------------------------------------------------------------------------------------------

_INTERACTIVE = (
    QAbstractButton,
    QComboBox,
    QAbstractSpinBox,
    QLineEdit,
    QAbstractSlider,
    QAbstractItemView,
    QTabBar,
    QGraphicsView,
)
# Qt's own parts of other widgets: a screen reader meets them through their owner.
_PARTS = (
    "qt_tableview_cornerbutton",
    "qt_menubar_ext_button",
    "ScrollLeftButton",
    "ScrollRightButton",
)


def _is_part(widget: QWidget) -> bool:
    parent = widget.parentWidget()
    if isinstance(widget, (QScrollBar, QHeaderView, QTabWidget, FocusRing)):
        return True
    if widget.objectName() in _PARTS:
        return True
    if isinstance(widget, QLineEdit) and isinstance(parent, (QAbstractSpinBox, QComboBox)):
        return True
    return isinstance(parent, QAbstractScrollArea) and widget is parent.viewport()


def interactive_widgets(root: QWidget) -> list[QWidget]:
    """The widgets of ``root``'s window a user works with (buttons, fields, lists, tables, plots
    and any other widget that takes the focus with Tab), without Qt's own parts of them (a spin
    box's line edit, a table's headers, scroll bars) and without popups."""
    window = root.window()
    found = []
    for w in root.findChildren(QWidget):
        if w.window() is not window or _is_part(w):
            continue
        takes_tab = bool(w.focusPolicy() & Qt.FocusPolicy.TabFocus)
        if isinstance(w, QLabel) or not (isinstance(w, _INTERACTIVE) or takes_tab):
            continue
        found.append(w)
    return found


def buddy_label(widget: QWidget) -> QLabel | None:
    """The label whose buddy ``widget`` is (its text names the widget), or None."""
    parent = widget.parentWidget()
    while parent is not None:
        for label in parent.findChildren(QLabel):
            if label.buddy() is widget:
                return label
        if parent.isWindow():
            break
        parent = parent.parentWidget()
    return None


def _plain(text: str) -> str:
    """A label's text as it is read: no mnemonic ampersands, tags or trailing colon."""
    text = re.sub(r"<[^>]*>", "", text).replace("&&", "\0").replace("&", "").replace("\0", "&")
    return " ".join(text.split()).rstrip(":").strip()


def _own_text(widget: QWidget) -> str:
    if isinstance(widget, QAbstractButton):
        return widget.text().replace("&", "").strip()
    if isinstance(widget, QTabBar) and widget.count():
        return widget.tabText(widget.currentIndex())
    return ""


def spoken_name(widget: QWidget) -> str:
    """The name a screen reader gives ``widget``: its accessible name, else its buddy label's
    text, else its own text (a button's, the current tab's)."""
    if widget.accessibleName():
        return widget.accessibleName()
    label = buddy_label(widget)
    if label is not None and _plain(label.text()):
        return _plain(label.text())
    return _own_text(widget)


def _tab_title(widget: QWidget) -> str:
    """The title of the tab ``widget`` fills, if it is a tab widget's page."""
    stack = widget.parentWidget()
    tabs = stack.parentWidget() if isinstance(stack, QStackedWidget) else None
    if isinstance(tabs, QTabWidget):
        index = tabs.indexOf(widget)
        if index >= 0:
            return tabs.tabToolTip(index) or tabs.tabText(index).replace("&", "")
    return ""


def _first_clause(tip: str) -> str:
    """A tooltip's opening words, up to the first colon, bracket or full stop."""
    text = _plain(tip.splitlines()[0] if tip else "")
    return re.split(r":\s|\s\(|\.\s|\.$|;\s", text, maxsplit=1)[0].strip()


def _from_object_name(name: str) -> str:
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).split()
    return " ".join(words).capitalize()


def _made_name(widget: QWidget) -> str:
    return (
        NAMES.get(widget.objectName())
        or _tab_title(widget)
        or _first_clause(widget.toolTip())
        or _from_object_name(widget.objectName())
    )


def name_widgets(root: QWidget) -> int:
    """Give each interactive widget of ``root``'s window that names nothing itself an accessible
    name, and each plot (a focusable ``QGraphicsView``) a focus ring; returns how many widgets
    were named. Buttons keep speaking their own text (it changes, e.g. Pause/Resume), form
    fields their buddy label; a combo box is named too, but on Linux screen readers read a
    combo's label only from a buddy label."""
    named = 0
    for widget in interactive_widgets(root):
        if isinstance(widget, QGraphicsView) and widget.focusPolicy() & Qt.FocusPolicy.TabFocus:
            add_focus_ring(widget)
        if widget.accessibleName() or buddy_label(widget) is not None or _own_text(widget):
            continue
        name = _made_name(widget)
        if name:
            widget.setAccessibleName(name)
            named += 1
    return named
