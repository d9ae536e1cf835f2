"""Which network of an ensemble a view looks inside, said in one sentence, with a choice."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from digitgui.core.model_io import DigitClassifier

__all__ = ["NetworkPicker"]

#: ``describe(member, n)``: the sentence for ``member`` (0-based, or None for the average) of an
#: ensemble of ``n`` networks.
Describe = Callable[[int | None, int], str]


class NetworkPicker(QWidget):
    """For a model of several networks: one plain sentence saying which network the view shows
    and why, and a combo box to pick another (or, with ``allow_average``, the average of all of
    them, the default then). Hidden for a model of one network, where there is nothing to pick.

    ``memberChanged(member)``: the user picked ``member`` (an int from 0, or None for the
    average).
    """

    memberChanged = Signal(object)

    def __init__(
        self,
        describe: Describe,
        *,
        allow_average: bool = False,
        name: str = "networkPicker",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self._describe = describe
        self._allow_average = allow_average
        self._n = 1
        self.sentence = QLabel()
        self.sentence.setObjectName(f"{name}Sentence")
        self.sentence.setWordWrap(True)
        self.combo = QComboBox()
        self.combo.setObjectName(f"{name}Combo")
        self.combo.setToolTip("Which of the model's networks this view shows")
        self.combo.setAccessibleName("Network shown")
        self.sentence.setBuddy(self.combo)  # the sentence, ending in "Show:", labels the choice
        self.combo.currentIndexChanged.connect(self._on_combo_currentIndexChanged)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.sentence, 1)
        layout.addWidget(self.combo)
        self.setVisible(False)

    def member(self) -> int | None:
        """The network shown (0-based), or None for the average; 0 for a single network."""
        if self._n == 1:
            return 0
        return self.combo.currentData()

    def n_networks(self) -> int:
        return self._n

    def set_model(self, model: DigitClassifier | None) -> None:
        """Offer the networks of ``model``; keeps the choice when the count stays the same."""
        n = 1 if model is None else model.n_members
        if n != self._n or self.combo.count() == 0:
            self._n = n
            self.combo.blockSignals(True)
            self.combo.clear()
            if self._allow_average:
                self.combo.addItem(f"the average of all {n}", None)
            for k in range(n):
                self.combo.addItem(f"network {k + 1}", k)
            self.combo.setCurrentIndex(0)
            self.combo.blockSignals(False)
        self.setVisible(n > 1)
        self._update_sentence()

    def set_member(self, member: int | None) -> None:
        """Pick ``member`` (0-based, or None for the average) as if the user had."""
        index = self.combo.findData(member)
        if index >= 0:
            self.combo.setCurrentIndex(index)

    def _update_sentence(self) -> None:
        self.sentence.setText(self._describe(self.member(), self._n) if self._n > 1 else "")

    def _on_combo_currentIndexChanged(self, _index: int) -> None:
        self._update_sentence()
        self.memberChanged.emit(self.member())
