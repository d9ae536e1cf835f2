"""A page of ``insightTabs`` that scrolls when the window is narrower (or lower) than the page's
natural size, instead of making the whole window that wide.

A :class:`~PySide6.QtWidgets.QTabWidget` is as wide as its widest page's minimum: one wide page
would keep the window at 1,200 px and squeeze the canvas. :func:`scroll_inside` moves a page's
content into a :class:`~PySide6.QtWidgets.QScrollArea` *inside the page widget itself*, so the
page stays the tab's widget (``insight_tabs.indexOf(view)`` still finds the view) and every
attribute of the view still points at its widgets. At or above its natural size the page looks
exactly as before; below it, scroll bars appear.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QScrollArea, QVBoxLayout, QWidget

__all__ = ["scroll_inside"]


def scroll_inside(page: QWidget) -> QScrollArea:
    """Put ``page``'s layout (and so its content) in a scroll area that fills ``page``; returns
    the scroll area (object name ``<page's object name>Scroll``)."""
    layout = page.layout()
    if layout is None:
        raise ValueError("scroll_inside: the page has no layout yet")
    content = QWidget()
    content.setObjectName(f"{page.objectName() or 'page'}Content")
    content.setLayout(layout)  # reparents the layout and the widgets it manages
    area = QScrollArea(page)
    area.setObjectName(f"{page.objectName() or 'page'}Scroll")
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the content's widgets take the focus
    area.setWidget(content)
    outer = QVBoxLayout(page)
    outer.setContentsMargins(0, 0, 0, 0)
    outer.addWidget(area)
    return area
