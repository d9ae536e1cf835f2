"""What the window says about a model, in words: the Model tab's table, the reader line's
tooltip, and how many networks read a drawing."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea

from digitgui.core.calibration import format_probability
from digitgui.core.model_io import DigitClassifier
from digitgui.core.reading import FALLBACK_THRESHOLD

__all__ = [
    "model_details_html",
    "model_details_view",
    "networks_phrase",
    "reader_tip",
    "threshold_text",
]


def networks_phrase(model: DigitClassifier) -> str:
    """``"the average of 3 networks (64-32-32-10)"`` or ``"one network (64-32-32-10)"``."""
    sizes = "-".join(str(s) for s in model.layer_sizes)
    if model.n_members > 1:
        return f"the average of {model.n_members} networks ({sizes})"
    return f"one network ({sizes})"


def threshold_text(model: DigitClassifier) -> str:
    threshold = model.confidence_threshold
    if threshold is None:
        return f"{format_probability(FALLBACK_THRESHOLD)} (a default: the model file sets none)"
    return format_probability(threshold)


def model_details_html(model: DigitClassifier, source: str) -> str:
    """The Model tab: a table of what the model is, where it came from and how it was trained."""
    meta = model.metadata
    rows = [
        ("Network", html.escape(model.description)),
        ("Reads with", html.escape(networks_phrase(model))),
        ("Source", html.escape(source or "-")),
    ]
    if meta.get("created"):
        rows.append(("Created", html.escape(str(meta["created"]))))
    if meta.get("outcome"):
        rows.append(("Training outcome", html.escape(str(meta["outcome"]))))
    if meta.get("iterations_done"):
        rows.append(("Iterations", str(meta["iterations_done"])))
    clip = "none" if model.clip is None else f"±{model.clip:g}"
    rows.append(("Standardised inputs clipped to", clip))
    rows.append(("Calibration temperature", f"{model.temperature:.3g}"))
    rows.append(("Says “not sure” below", html.escape(threshold_text(model))))
    training = meta.get("training")
    if isinstance(training, dict):
        settings = ", ".join(f"{k}={v}" for k, v in training.items())
        rows.append(("Training settings", html.escape(settings)))
    table = "".join(
        f"<tr><td style='padding-right:12px'><b>{k}</b></td><td>{v}</td></tr>" for k, v in rows
    )
    return f"<table>{table}</table>"


def reader_tip(model: DigitClassifier) -> str:
    """How the model reads a drawing: members averaged, calibration, the "not sure" rule."""
    return (
        f"{model.description}.\n"
        + (
            f"Each of its {model.n_members} networks reads the drawing; the bars show the "
            "average of their probabilities"
            if model.n_members > 1
            else "One network reads the drawing; the bars show its probabilities"
        )
        + (
            f", calibrated (temperature {model.temperature:.3g}) so that an answer given "
            "with 90% is right about 9 times in 10."
            if model.temperature != 1.0
            else "."
        )
        + f"\nBelow {threshold_text(model)} for its best guess it says “not sure” and "
        "shows its two best guesses."
    )


def model_details_view() -> tuple[QScrollArea, QLabel]:
    """The Model tab: a scroll area and the label (``modelDetails``) it shows."""
    details = QLabel()
    details.setObjectName("modelDetails")
    details.setMargin(10)
    details.setWordWrap(True)
    details.setTextFormat(Qt.TextFormat.RichText)
    details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
    details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    scroll = QScrollArea()
    scroll.setWidget(details)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    return scroll, details
