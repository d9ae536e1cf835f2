"""digitgui.core.reading: the guess, how sure it is, and the plain-words warning (no Qt)."""

from __future__ import annotations

import numpy as np
import pytest

from digitgui.core.calibration import format_probability
from digitgui.core.data import load_digits_split
from digitgui.core.mlp import MLP
from digitgui.core.model_io import DigitClassifier
from digitgui.core.reading import FALLBACK_THRESHOLD, Reading, read_digit, read_digits


@pytest.fixture(scope="module")
def split():
    return load_digits_split(42)


def _ensemble(split, threshold=0.6, seeds=(0, 1, 2)) -> DigitClassifier:
    members = [MLP.create((64, 16, 10), init="he", seed=s) for s in seeds]
    return DigitClassifier(
        members,
        split.scaler.mean_,
        split.scaler.scale_,
        temperature=1.5,
        confidence_threshold=threshold,
    )


def _reading(probs, threshold=0.6, networks=1, agree=True) -> Reading:
    return Reading(np.asarray(probs, dtype=np.float64), threshold, networks, agree)


def test_a_sure_reading_is_one_digit_without_a_warning():
    p = np.full(10, 0.01)
    p[3] = 0.91
    r = _reading(p)
    assert (r.guess, r.confidence, r.sure) == (3, pytest.approx(0.91), True)
    assert r.headline == "3" and r.warning is None


def test_an_unsure_reading_names_its_two_best_guesses_in_plain_words():
    p = np.zeros(10)
    p[[8, 3, 5]] = [0.45, 0.40, 0.15]
    r = _reading(p)
    assert not r.sure and (r.guess, r.runner_up) == (8, 3)
    assert r.headline == "8 or 3?"
    assert r.warning.startswith("Not sure.")
    assert f"an 8 ({format_probability(0.45)})" in r.warning  # "an 8", not "a 8"
    assert f"a 3 ({format_probability(0.40)})" in r.warning
    assert "networks" not in r.warning  # one network: nothing to disagree with


def test_the_threshold_itself_counts_as_sure():
    p = np.full(10, 0.4 / 9)
    p[7] = 0.6
    assert _reading(p, threshold=0.6).sure
    assert not _reading(p, threshold=0.6000001).sure


def test_disagreeing_networks_are_mentioned_only_when_unsure():
    p = np.zeros(10)
    p[[1, 7]] = [0.55, 0.45]
    assert "3 networks do not agree" in _reading(p, networks=3, agree=False).warning
    assert "do not agree" not in _reading(p, networks=3, agree=True).warning
    q = np.zeros(10)
    q[[1, 7]] = [0.95, 0.05]
    assert _reading(q, networks=3, agree=False).warning is None


def test_read_digit_uses_the_models_calibrated_probabilities_and_threshold(split):
    model = _ensemble(split, threshold=0.6)
    digit = split.X_test[0].reshape(8, 8)
    r = read_digit(model, digit)
    np.testing.assert_allclose(r.probabilities, model.predict_proba(digit))
    assert r.threshold == 0.6 and r.networks == 3
    own = np.argmax(model.member_probabilities(digit)[:, 0, :], axis=1)
    assert r.networks_agree == bool(np.all(own == r.guess))


def test_a_model_without_a_threshold_falls_back(split):
    model = _ensemble(split, threshold=None)
    assert read_digit(model, split.X_test[1]).threshold == FALLBACK_THRESHOLD


def test_read_digits_equals_reading_one_by_one(split):
    model = _ensemble(split, threshold=0.5)
    rows = split.X_test[:25]
    batch = read_digits(model, rows)
    assert len(batch) == 25
    for row, r in zip(rows, batch, strict=True):
        one = read_digit(model, row.reshape(8, 8))
        np.testing.assert_allclose(r.probabilities, one.probabilities)
        assert (r.sure, r.networks_agree) == (one.sure, one.networks_agree)
        assert r.headline == one.headline
    assert read_digits(model, np.zeros((0, 64))) == []


def test_every_reading_of_an_always_unsure_model_warns(split):
    # Probabilities of a calibrated ensemble never reach exactly 1: a threshold of 1 is never met.
    model = _ensemble(split, threshold=1.0)
    for r in read_digits(model, split.X_test[:40]):
        assert not r.sure and r.warning and " or " in r.headline
