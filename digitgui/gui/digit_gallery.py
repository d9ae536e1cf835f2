"""The My digits gallery's model: one thumbnail per kept digit, framed when it is held out for
testing and marked when the current network misreads it, with a tooltip that says both."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QColor, QImage, QPainter, QPalette, QPen, QPixmap

from ..core.calibration import format_probability
from ..core.my_digits import DigitCollection, DigitEntry
from ..core.reading import Reading
from .palette import ink_color_table, warning_color

__all__ = ["ICON_SIDE", "THUMBNAIL_SIDE", "DigitGalleryModel", "digit_key"]

THUMBNAIL_SIDE = 48
_FRAME = 4  # room around a thumbnail for the held-out frame
ICON_SIDE = THUMBNAIL_SIDE + 2 * _FRAME
_DIGIT_KEYS = {getattr(Qt.Key, f"Key_{d}"): d for d in range(10)}
# Held-out digits get a frame in this colour (a blue that reads on light and dark backgrounds).
_HELD_OUT_COLOR = QColor("#3d7fd9")


def digit_key(event: Any) -> int | None:
    """The digit 0-9 of a key press without Ctrl/Alt/Meta (the keypad is fine), else None."""
    modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
    modifiers &= ~Qt.KeyboardModifier.ShiftModifier  # some layouts need Shift for digits
    if modifiers != Qt.KeyboardModifier.NoModifier:
        return None
    return _DIGIT_KEYS.get(Qt.Key(event.key()))


class DigitGalleryModel(QAbstractListModel):
    """The collection's digits as list items: a thumbnail, the label (and the network's reading
    when it differs), a tooltip saying whether the digit is held out for testing."""

    EntryIdRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self, collection: DigitCollection | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._collection = collection
        self._thumbnails: dict[str, tuple[DigitEntry, QPixmap]] = {}
        #: id -> how the last model shown reads the digit
        self._readings: dict[str, Reading] = {}
        self._ink_table: list[int] = []

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() or self._collection is None:
            return 0
        return len(self._collection)

    def entry(self, row: int) -> DigitEntry:
        assert self._collection is not None
        return self._collection[row]

    def reading(self, entry_id: str) -> Reading | None:
        return self._readings.get(entry_id)

    def set_readings(self, readings: dict[str, Reading]) -> None:
        self._readings = readings
        if self.rowCount():
            self.dataChanged.emit(self.index(0), self.index(self.rowCount() - 1))

    def reset(self) -> None:
        self.beginResetModel()
        self.endResetModel()

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        if not index.isValid() or not 0 <= index.row() < self.rowCount():
            return None
        e = self.entry(index.row())
        reading = self._readings.get(e.id)
        misread = reading is not None and reading.guess != e.label
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{e.label} → {reading.guess}" if misread else str(e.label)
        if role == Qt.ItemDataRole.DecorationRole:
            return self._thumbnail(e)
        if role == Qt.ItemDataRole.ForegroundRole and misread:
            return warning_color(QPalette())
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(e, reading)
        if role == self.EntryIdRole:
            return e.id
        return None

    def _tooltip(self, e: DigitEntry, reading: Reading | None) -> str:
        lines = [f"Labelled {e.label}."]
        if e.created is not None:
            lines.append(f"Added {e.created.astimezone().strftime('%Y-%m-%d %H:%M')}.")
        if e.held_out:
            lines.append("Held out for testing (blue frame): never trained on.")
        else:
            lines.append("Used for training when 'Use my digits in training' is on.")
        if reading is None:
            pass
        elif reading.sure:
            lines.append(
                f"The network reads it as {reading.guess} "
                f"({format_probability(reading.confidence)})."
            )
        else:
            lines.append(
                f"The network is not sure: {reading.headline} "
                f"({format_probability(reading.confidence)} or "
                f"{format_probability(reading.runner_up_probability)})."
            )
        return "\n".join(lines)

    def _thumbnail(self, e: DigitEntry) -> QPixmap:
        cached = self._thumbnails.get(e.id)
        if cached is not None and cached[0] is e:
            return cached[1]
        if not self._ink_table:
            self._ink_table = ink_color_table(QPalette())
        # 0..16 pixel counts as 0..255 indices of the paper-to-ink colour table (display only).
        levels = np.ascontiguousarray(np.rint(e.digit * (255 / 16)), dtype=np.uint8)
        image = QImage(levels.data, 8, 8, 8, QImage.Format.Format_Indexed8)
        image.setColorTable(self._ink_table)
        image = image.scaled(
            THUMBNAIL_SIDE, THUMBNAIL_SIDE, mode=Qt.TransformationMode.FastTransformation
        )
        # The frame goes around the digit, never over it: edge cells carry ink too.
        pixmap = QPixmap(ICON_SIDE, ICON_SIDE)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.drawImage(_FRAME, _FRAME, image)
        if e.held_out:
            painter.setPen(QPen(_HELD_OUT_COLOR, 3))
            painter.drawRect(1, 1, ICON_SIDE - 3, ICON_SIDE - 3)
        else:
            painter.setPen(QPen(QPalette().color(QPalette.ColorRole.Mid), 1))
            painter.drawRect(_FRAME - 1, _FRAME - 1, THUMBNAIL_SIDE + 1, THUMBNAIL_SIDE + 1)
        painter.end()
        self._thumbnails[e.id] = (e, pixmap)
        return pixmap
