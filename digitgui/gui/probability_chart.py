"""The network's answer: ten softmax probabilities as bars, the predicted digit shown large."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QFont, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

from .palette import blend

__all__ = ["ProbabilityChart"]

HEADER_FRACTION = 0.34
#: Largest header height (px): on a tall window the bars get the room.
MAX_HEADER = 120.0
#: Largest height of one bar's row (px).
MAX_ROW = 30.0


class ProbabilityChart(QWidget):
    """Bars for P(digit = 0..9); above them the most probable digit, large, and its probability.
    With no probabilities (empty canvas, no model) it shows ``hint`` instead of an answer."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("probabilityChart")
        self._probs: np.ndarray | None = None
        self._hint = "Draw a digit to see what the network thinks it is"
        self.setMinimumSize(180, 220)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setToolTip(
            "The softmax output of the network: the probability it gives each digit. The bars "
            "always add up to 100%, even for a drawing that is no digit at all."
        )

    def sizeHint(self) -> QSize:
        return QSize(240, 300)

    def probabilities(self) -> np.ndarray | None:
        """The probabilities shown ``(10,)``, or None."""
        return None if self._probs is None else self._probs.copy()

    def predicted(self) -> int | None:
        return None if self._probs is None else int(np.argmax(self._probs))

    def set_probabilities(self, probs: np.ndarray | None) -> None:
        """Show ``probs (10,)`` (non-negative, summing to 1), or the hint when None."""
        if probs is None:
            self._probs = None
        else:
            p = np.asarray(probs, dtype=np.float64).reshape(-1)
            if p.shape != (10,):
                raise ValueError(f"expected 10 probabilities, got shape {p.shape}")
            self._probs = p.copy()
        self.update()

    def set_hint(self, text: str) -> None:
        self._hint = text
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        pal = self.palette()
        paper = pal.color(QPalette.ColorRole.Base)
        text = pal.color(QPalette.ColorRole.Text)
        highlight = pal.color(QPalette.ColorRole.Highlight)
        muted = blend(paper, text, 0.35)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        w, h = float(self.width()), float(self.height())
        header = QRectF(0, 0, w, min(h * HEADER_FRACTION, MAX_HEADER))
        small = QFont(self.font())
        if self._probs is None:
            painter.setPen(blend(paper, text, 0.55))
            painter.drawText(
                header.adjusted(6, 0, -6, 0),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                self._hint,
            )
        else:
            # The predicted digit large, its probability under it.
            best = int(np.argmax(self._probs))
            caption_h = painter.fontMetrics().height() + 4
            digit_box = header.adjusted(0, 0, 0, -caption_h)
            big = QFont(self.font())
            big.setPixelSize(max(16, int(digit_box.height() * 0.9)))
            big.setBold(True)
            painter.setFont(big)
            painter.setPen(text)
            painter.drawText(digit_box, Qt.AlignmentFlag.AlignCenter, str(best))
            painter.setFont(small)
            painter.drawText(
                QRectF(0, digit_box.bottom(), w, caption_h),
                Qt.AlignmentFlag.AlignCenter,
                f"{100 * self._probs[best]:.1f}% probability",
            )

        # Ten bars, one row each: digit, bar, percentage.
        painter.setFont(small)
        metrics = painter.fontMetrics()
        label_w = metrics.horizontalAdvance("9") + 10
        value_w = metrics.horizontalAdvance("100.0%") + 8
        top = header.bottom() + 4
        row_h = min((h - top) / 10, MAX_ROW)
        bar_max = max(1.0, w - label_w - value_w)
        best = None if self._probs is None else int(np.argmax(self._probs))
        for d in range(10):
            y = top + d * row_h
            row = QRectF(0, y, w, row_h)
            painter.setPen(text)
            painter.drawText(
                QRectF(0, y, label_w - 4, row_h),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                str(d),
            )
            track = QRectF(label_w, y + row_h * 0.18, bar_max, row_h * 0.64)
            painter.fillRect(track, blend(paper, text, 0.06))
            if self._probs is None:
                continue
            p = float(self._probs[d])
            bar = QRectF(track.left(), track.top(), max(0.0, p) * bar_max, track.height())
            painter.fillRect(bar, highlight if d == best else muted)
            painter.setPen(text)
            painter.drawText(
                QRectF(row.right() - value_w, y, value_w, row_h),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                f"{100 * p:.1f}%",
            )
        painter.end()
