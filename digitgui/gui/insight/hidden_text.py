"""The sentences of the hidden-units views (kept apart from the painting in hidden_units.py)."""

from __future__ import annotations

from digitgui.core.insight import UnitActivity
from digitgui.core.model_io import DigitClassifier

__all__ = ["describe_hidden_member"]


def describe_hidden_member(member: int | None, n: int) -> str:
    """The sentence over the hidden-units views of an ensemble of ``n`` networks."""
    return (
        f"This model is the average of {n} networks; the tiles and bars show network "
        f"{(member or 0) + 1}'s hidden units (each network learned units of its own, so they "
        "cannot be averaged). Show:"
    )


def _network(model: DigitClassifier | None, member: int) -> DigitClassifier | None:
    """Network ``member`` of ``model`` alone (the first when it has fewer)."""
    if model is None:
        return None
    return model.member(member if member < model.n_members else 0)


def _dead_summary(activity: UnitActivity, relu: bool) -> str:
    if not relu:
        return "Sigmoid units never die: none is dead."
    parts = [
        f"layer {l + 1}: {n} of {len(d)}"
        for l, (n, d) in enumerate(zip(activity.n_dead, activity.dead, strict=True))
    ]
    return (
        f"Dead units (never active on the {activity.n_digits:,} training digits, so they can no "
        f"longer learn): {', '.join(parts)}"
    )
