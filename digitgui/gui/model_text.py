"""What the window says about a model, in words: the Model tab's table, the reader line's
tooltip, and how many networks read a drawing."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea

from digitgui.core.calibration import format_probability
from digitgui.core.model_io import DigitClassifier
from digitgui.core.reading import FALLBACK_THRESHOLD

from .training_panel import OPTIMIZER_TEXT, UPDATE_ORDER_TEXT

__all__ = [
    "model_details_html",
    "model_details_view",
    "networks_phrase",
    "plural",
    "reader_tip",
    "threshold_text",
    "training_settings_lines",
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
        settings = training_settings_lines(training)
        rows.append(("Trained with", "<br>".join(html.escape(line) for line in settings)))
    table = "".join(
        f"<tr><td style='padding-right:12px'><b>{k}</b></td><td>{v}</td></tr>" for k, v in rows
    )
    return f"<table>{table}</table>"


def plural(n: int, one: str, many: str | None = None) -> str:
    """``"1 digit"``, ``"6 digits"``, ``"1,200 distorted copies"``: a count and its noun, never
    ``"digit(s)"``. ``many`` for irregular plurals (default: ``one`` + s)."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def _optimizer_lines(t: dict) -> list[str]:
    lines = []
    optimizer = t.get("optimizer")
    opt = OPTIMIZER_TEXT.get(optimizer, str(optimizer)) if optimizer else None
    if opt is not None:
        line = f"Optimizer: {opt}"
        if optimizer == "momentum" and t.get("momentum") is not None:
            line += f" (momentum {t['momentum']:g})"
        if t.get("lr") is not None:
            line += f", learning rate {t['lr']:g}"
        if t.get("lr_schedule") not in (None, "constant"):
            line += f" on a {t['lr_schedule']} schedule"
        lines.append(line)
    return lines


def _optional_lines(t: dict) -> list[str]:
    """The settings worth a line only when used."""
    lines = []
    if t.get("l2"):
        lines.append(f"L2 penalty: {t['l2']:g}")
    if t.get("early_stopping"):
        lines.append(f"Early stop: after {plural(t.get('patience', 0), 'check')} without gain")
    if t.get("augment"):
        lines.append(f"Augmentation: {plural(t['augment'], 'distorted copy', 'distorted copies')}")
    if t.get("handwriting"):
        lines.append(f"Pen trajectories: {plural(t['handwriting'], 'copy', 'copies')}")
    if t.get("members", 1) > 1:
        lines.append(f"Networks averaged: {t['members']}")
    if t.get("calibrate"):
        lines.append("Calibrated: yes")
    if t.get("seed") is not None:
        lines.append(f"Seed: {t['seed']}")
    return lines


def training_settings_lines(t: dict) -> list[str]:
    """A model's training settings (``TrainConfig.to_dict()``) in words, as the Training tab
    names them, and only those that mattered: momentum only for the momentum optimizer, the
    L2 penalty, early stopping and augmentation only when used."""
    lines = []
    if t.get("name"):
        lines.append(f"Preset: {t['name']}")
    hidden = ", ".join(str(h) for h in t.get("hidden", ())) or "none"
    layers = f"Hidden layers: {hidden}"
    if t.get("activation"):
        layers += f"; activation {t['activation']}"
    if t.get("init"):
        layers += f"; initialisation {t['init']}"
    lines.append(layers)
    lines += _optimizer_lines(t)
    if "batch_size" in t:
        batch = t["batch_size"]
        lines.append(f"Batches: {'the full training set' if not batch else plural(batch, 'digit')}")
    if t.get("iterations"):
        lines.append(f"Iterations: {t['iterations']:,}")
    if t.get("update_order"):
        order = UPDATE_ORDER_TEXT.get(t["update_order"], t["update_order"])
        lines.append(f"Update order: {order}")
    lines += _optional_lines(t)
    return lines


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
