"""The training digits closest to the current drawing, as the network's input layer sees them."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from digitgui.core.data import DigitsSplit
from digitgui.core.insight import NearestExamples, Neighbours
from digitgui.core.model_io import DigitClassifier

from .digit_tiles import DigitGallery, TileContent

__all__ = ["NearestExamplesView"]


class NearestExamplesView(QWidget):
    """The ``k`` nearest ``load_digits`` training digits to the current digit, in the model's
    standardised input space, with their labels. ``digitRequested(digit)`` when one is clicked."""

    digitRequested = Signal(object)

    def __init__(
        self, parent: QWidget | None = None, split: DigitsSplit | None = None, k: int = 6
    ) -> None:
        super().__init__(parent)
        self.setObjectName("nearestExamples")
        self._split = split
        self._index: NearestExamples | None = None
        self._digit: np.ndarray | None = None
        self._neighbours: Neighbours | None = None

        self.summary = QLabel()
        self.summary.setObjectName("nearestSummary")
        self.summary.setWordWrap(True)
        self.k_spin = QSpinBox()
        self.k_spin.setObjectName("nearestCountSpin")
        self.k_spin.setRange(1, 24)
        self.k_spin.setValue(k)
        self.k_spin.valueChanged.connect(self._on_k_spin_valueChanged)
        self.k_spin.setAccessibleName("Number of nearest training digits shown")
        self.gallery = DigitGallery()
        self.gallery.setObjectName("nearestGallery")
        self.gallery.setAccessibleName("Nearest training digits")
        self.gallery.digitClicked.connect(self._on_gallery_digitClicked)
        note = QLabel(
            "Distance is measured on the 64 inputs after the model's standardisation, the numbers "
            "the first layer multiplies: a pixel that is rarely inked in training weighs more. "
            "load_digits was written by 13 people; if your digit's neighbours carry other labels, "
            "the network has seen little like it."
        )
        note.setWordWrap(True)
        note.setForegroundRole(QPalette.ColorRole.PlaceholderText)

        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        show_label = QLabel("show")
        show_label.setBuddy(self.k_spin)
        top.addWidget(show_label)
        top.addWidget(self.k_spin)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.gallery, 1)
        layout.addWidget(note)
        self._refresh()

    def set_model(self, model: DigitClassifier | None) -> None:
        """Standardise the training digits as ``model`` does (a few milliseconds)."""
        self._index = None if model is None else NearestExamples(model, self._split)
        self._refresh()

    def set_digit(self, digit: np.ndarray | None) -> None:
        self._digit = None if digit is None else np.array(digit, dtype=np.float64).reshape(8, 8)
        self._refresh()

    def neighbours(self) -> Neighbours | None:
        return self._neighbours

    def _on_k_spin_valueChanged(self, _k: int) -> None:
        self._refresh()

    def _refresh(self) -> None:
        if self._index is None or self._digit is None:
            self._neighbours = None
            self.gallery.set_tiles([])
            self.summary.setText(
                "No model loaded."
                if self._index is None
                else "Draw a digit to see the training digits closest to it."
            )
            return
        nb = self._neighbours = self._index.query(self._digit, self.k_spin.value())
        labels, counts = np.unique(nb.labels, return_counts=True)
        common = int(labels[np.argmax(counts)])
        guess = int(self._index.model.predict(self._digit))
        self.summary.setText(
            f"The {len(nb.labels)} training digits nearest to yours: "
            f"<b>{int(counts.max())} of {len(nb.labels)} are {common}s</b>; the network reads "
            f"yours as <b>{guess}</b>."
        )
        self.gallery.set_tiles(
            [
                TileContent(
                    digit=d,
                    title=f"label {int(label)}",
                    subtitle=f"distance {dist:.2f}",
                    tooltip=f"training digit #{int(i)}, labelled {int(label)}; click to load it",
                )
                for d, label, dist, i in zip(
                    nb.digits, nb.labels, nb.distances, nb.indices, strict=True
                )
            ]
        )

    def _on_gallery_digitClicked(self, index: int) -> None:
        if self._neighbours is not None and 0 <= index < len(self._neighbours.labels):
            self.digitRequested.emit(self._neighbours.digits[index].copy())
