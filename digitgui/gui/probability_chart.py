"""The network's answer: the guess as a headline, a warning when it is not sure, and the ten
probabilities as bars.

The window hands it a :class:`~digitgui.core.reading.Reading` (the core decides what is sure and
writes the warning); this widget only shows it. Probabilities are printed with
:func:`~digitgui.core.calibration.format_probability`, so a bar never claims a certain 100.0%
or an impossible 0.0% that the model does not mean.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QRectF, QSize, Qt
from PySide6.QtGui import QFont, QFontMetricsF, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from digitgui.core.calibration import format_probability
from digitgui.core.reading import Reading

from .accessibility import add_focus_ring
from .palette import blend, readable_on, warning_color

__all__ = ["ProbabilityChart"]

#: Height of the headline (px): the guess, large, and a caption under it.
HEADLINE_HEIGHT = 110
#: Largest height of one bar's row (px).
MAX_ROW = 30.0
#: How much of the warning colour tints the warning's background.
WARNING_TINT = 0.12
#: Contrast of the warning's text on its background: above WCAG AA's 4.5 for small text.
WARNING_CONTRAST = 5.0

TOOLTIP = (
    "The probability the model gives each digit. The bars always add up to 100%, even for a "
    "drawing that is no digit at all."
)


class _Headline(QWidget):
    """The guess, large: ``"3"`` when the model is sure, ``"3 or 8?"`` and "not sure" when it is
    not; the hint when there is nothing to read."""

    def __init__(self, chart: ProbabilityChart) -> None:
        super().__init__(chart)
        self._chart = chart
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(HEADLINE_HEIGHT)

    def paintEvent(self, event: QPaintEvent) -> None:
        chart = self._chart
        pal = self.palette()
        window = pal.color(QPalette.ColorRole.Window)
        text = pal.color(QPalette.ColorRole.WindowText)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        w, h = float(self.width()), float(self.height())
        probs = chart._probs
        if probs is None:
            painter.setPen(readable_on(blend(window, text, 0.6), window))
            painter.drawText(
                QRectF(6, 0, w - 12, h),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                chart._hint,
            )
            painter.end()
            return
        reading = chart._reading
        sure = reading is None or reading.sure
        best = int(np.argmax(probs))
        caption_h = painter.fontMetrics().height() + 6
        digit_box = QRectF(0, 0, w, h - caption_h)
        big = QFont(self.font())
        big.setBold(sure)
        if sure:
            headline = str(best)
            big.setPixelSize(max(16, int(digit_box.height() * 0.9)))
            caption = f"{chart.value_texts()[best]} probability"
            caption_color = text
        else:
            headline = reading.headline
            # Not one big digit: the two candidates, smaller, fitted to the width.
            size = max(14, int(digit_box.height() * 0.55))
            big.setPixelSize(size)
            advance = QFontMetricsF(big).horizontalAdvance(headline)
            if advance > w - 12:
                big.setPixelSize(max(12, int(size * (w - 12) / advance)))
            caption = "not sure"
            caption_color = readable_on(warning_color(pal), window)
        painter.setFont(big)
        painter.setPen(text)
        painter.drawText(digit_box, Qt.AlignmentFlag.AlignCenter, headline)
        small = QFont(self.font())
        small.setBold(not sure)
        painter.setFont(small)
        painter.setPen(caption_color)
        painter.drawText(
            QRectF(0, digit_box.bottom(), w, caption_h), Qt.AlignmentFlag.AlignCenter, caption
        )
        painter.end()


class _Bars(QWidget):
    """Ten bars, one row each: digit, bar, probability."""

    def __init__(self, chart: ProbabilityChart) -> None:
        super().__init__(chart)
        self._chart = chart
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Maximum)
        self.setMinimumHeight(100)
        # Taller rows would only spread the bars apart; the guess box keeps the rest.
        self.setMaximumHeight(int(10 * MAX_ROW))

    def sizeHint(self) -> QSize:
        return QSize(240, int(10 * MAX_ROW))

    def paintEvent(self, event: QPaintEvent) -> None:
        probs = self._chart._probs
        pal = self.palette()
        paper = pal.color(QPalette.ColorRole.Base)
        window = pal.color(QPalette.ColorRole.Window)
        text = pal.color(QPalette.ColorRole.WindowText)
        highlight = pal.color(QPalette.ColorRole.Highlight)
        muted = blend(paper, text, 0.35)
        # The track sits on the window, not on Base: in dark themes the two are nearly equal.
        track_color = blend(window, text, 0.08)
        painter = QPainter(self)
        metrics = painter.fontMetrics()
        label_w = metrics.horizontalAdvance("9") + 10
        value_w = metrics.horizontalAdvance(">99.9%") + 8
        w, h = float(self.width()), float(self.height())
        row_h = min(h / 10, MAX_ROW)
        bar_max = max(1.0, w - label_w - value_w)
        best = None if probs is None else int(np.argmax(probs))
        values = self._chart.value_texts()
        for d in range(10):
            y = d * row_h
            painter.setPen(text)
            painter.drawText(
                QRectF(0, y, label_w - 4, row_h),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                str(d),
            )
            track = QRectF(label_w, y + row_h * 0.18, bar_max, row_h * 0.64)
            painter.fillRect(track, track_color)
            if probs is None:
                continue
            p = float(probs[d])
            bar = QRectF(track.left(), track.top(), max(0.0, p) * bar_max, track.height())
            painter.fillRect(bar, highlight if d == best else muted)
            painter.setPen(text)
            painter.drawText(
                QRectF(w - value_w, y, value_w, row_h),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                values[d],
            )
        painter.end()


class ProbabilityChart(QWidget):
    """The guess for the current drawing: a headline (the digit, or its two best candidates and
    "not sure"), the :class:`Reading`'s warning under it when there is one (``warning_label``,
    object name ``noveltyLabel``), and bars for P(digit = 0..9). With no probabilities (empty
    canvas, no model) it shows ``hint`` instead of an answer."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("probabilityChart")
        self._probs: np.ndarray | None = None
        self._reading: Reading | None = None
        self._hint = "Draw a digit to see what the network thinks it is"
        self.setMinimumSize(180, 220)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Maximum)
        self.setToolTip(TOOLTIP)

        self.headline = _Headline(self)
        self.warning_label = QLabel()
        self.warning_label.setObjectName("noveltyLabel")
        self.warning_label.setWordWrap(True)
        self.warning_label.setMargin(6)
        self.warning_label.setAutoFillBackground(True)
        self.warning_label.setTextFormat(Qt.TextFormat.PlainText)
        self.warning_label.setToolTip(
            "Shown when the model's best guess is below the probability at which it is usually "
            "right: it then gives its two best guesses instead of one."
        )
        self.warning_label.hide()
        self.bars = _Bars(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.headline)
        layout.addWidget(self.warning_label)
        layout.addWidget(self.bars, 1)
        self._style_warning()
        # The answer is painted; a screen reader gets it as text (``spoken_text``), and Tab
        # stops here so that it can be read at any time.
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        add_focus_ring(self)
        self.bars.setAccessibleName("Probability of each digit")
        self._update_accessible_text()

    # public ---------------------------------------------------------------------------------------

    def probabilities(self) -> np.ndarray | None:
        """The probabilities shown ``(10,)``, or None."""
        return None if self._probs is None else self._probs.copy()

    def predicted(self) -> int | None:
        return None if self._probs is None else int(np.argmax(self._probs))

    def reading(self) -> Reading | None:
        """The reading shown (None: nothing, or bare probabilities from
        :meth:`set_probabilities`)."""
        return self._reading

    def headline_text(self) -> str:
        """What the headline says: ``"3"``, ``"3 or 8?"``, or ``""`` with nothing to read."""
        if self._probs is None:
            return ""
        if self._reading is not None:
            return self._reading.headline
        return str(int(np.argmax(self._probs)))

    def value_texts(self) -> list[str]:
        """The ten probabilities as printed beside the bars (empty with nothing to show)."""
        if self._probs is None:
            return []
        # Rounding can leave a softmax output a hair outside [0, 1].
        return [format_probability(min(max(float(p), 0.0), 1.0)) for p in self._probs]

    def spoken_text(self) -> str:
        """The answer in words, as a screen reader gets it (the chart's accessible name):
        ``"Guess: 7, 93.1% probability"``, ``"Not sure: 3 or 8? 3: 45.0%, 8: 40.0%"``, or the
        hint when there is nothing to read."""
        if self._probs is None:
            return self._hint
        values = self.value_texts()
        best = int(np.argmax(self._probs))
        reading = self._reading
        if reading is not None and not reading.sure:
            second = reading.runner_up
            return (
                f"Not sure: {reading.headline} {best}: {values[best]}, {second}: {values[second]}"
            )
        return f"Guess: {best}, {values[best]} probability"

    def set_reading(self, reading: Reading | None) -> None:
        """Show a reading of the drawing (headline, warning, bars), or the hint when None."""
        self._reading = reading
        self._probs = None if reading is None else _checked(reading.probabilities)
        warning = None if reading is None else reading.warning
        if warning:
            self.warning_label.setText(warning)
            self._style_warning()
        self.warning_label.setVisible(bool(warning))
        self._repaint()

    def set_probabilities(self, probs: np.ndarray | None) -> None:
        """Show bare probabilities ``(10,)`` (non-negative, summing to 1) with the most probable
        digit as the headline and no warning, or the hint when None."""
        self._reading = None
        self._probs = None if probs is None else _checked(probs)
        self.warning_label.hide()
        self._repaint()

    def set_hint(self, text: str) -> None:
        self._hint = text
        self.headline.update()
        self._update_accessible_text()

    # internals ------------------------------------------------------------------------------------

    def _repaint(self) -> None:
        self.headline.update()
        self.bars.update()
        self._update_accessible_text()

    def _update_accessible_text(self) -> None:
        """The painted answer as text: the chart's and the headline's accessible names say the
        guess, the descriptions add the warning and all ten probabilities."""
        spoken = self.spoken_text()
        values = self.value_texts()
        every = "; ".join(f"{d}: {v}" for d, v in enumerate(values))
        parts = []
        if self.warning_label.isVisibleTo(self) and self.warning_label.text():
            parts.append(self.warning_label.text())
        if every:
            parts.append(f"Probability of each digit: {every}.")
        description = " ".join(parts)
        if self.accessibleName() != f"The network's guess. {spoken}":
            self.setAccessibleName(f"The network's guess. {spoken}")
        self.setAccessibleDescription(description)
        self.headline.setAccessibleName(spoken)
        self.bars.setAccessibleDescription(every)

    def _style_warning(self) -> None:
        """Colour the warning from this chart's palette, which it inherits from the window and
        the application. Never from the label's own palette: that one holds the colours of the
        last call, and blending from it again drifted the text into its background."""
        pal = self.palette()
        window = pal.color(QPalette.ColorRole.Window)
        background = blend(window, warning_color(pal), WARNING_TINT)
        label_pal = QPalette(pal)
        label_pal.setColor(QPalette.ColorRole.Window, background)
        label_pal.setColor(
            QPalette.ColorRole.WindowText,
            readable_on(warning_color(pal), background, WARNING_CONTRAST),
        )
        self.warning_label.setPalette(label_pal)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._style_warning()  # a light/dark switch: recolour at once, not on the next read
        super().changeEvent(event)


def _checked(probs: np.ndarray) -> np.ndarray:
    p = np.asarray(probs, dtype=np.float64).reshape(-1)
    if p.shape != (10,):
        raise ValueError(f"expected 10 probabilities, got shape {p.shape}")
    return p.copy()
