"""How honest the probabilities are: reliability tables, calibration error, accuracy on the surest
drawings, temperature scaling, and how probabilities are printed."""

from __future__ import annotations

import math

import numpy as np
import pytest

from digitgui.core.calibration import (
    accuracy_at_coverage,
    apply_temperature,
    confidence_threshold,
    expected_calibration_error,
    fit_temperature,
    format_probability,
    reliability_table,
)
from digitgui.core.evaluation import evaluate


def one_hot_ish(conf: np.ndarray, guess: np.ndarray) -> np.ndarray:
    """Probabilities ``(n, 10)`` whose top class is ``guess`` with probability ``conf``."""
    n = len(conf)
    p = np.tile(((1 - conf) / 9)[:, None], (1, 10))
    p[np.arange(n), guess] = conf
    return p


def test_a_worked_reliability_table():
    # Four drawings at 0.95 confidence (three right), two at 0.55 (one right).
    conf = np.array([0.95, 0.95, 0.95, 0.95, 0.55, 0.55])
    guess = np.zeros(6, dtype=int)
    y = np.array([0, 0, 0, 1, 0, 2])
    table = reliability_table(one_hot_ish(conf, guess), y, n_bins=10)
    assert table.counts.tolist() == [0, 0, 0, 0, 0, 2, 0, 0, 0, 4]
    assert table.accuracy[9] == pytest.approx(0.75) and table.confidence[9] == pytest.approx(0.95)
    assert table.accuracy[5] == pytest.approx(0.5) and table.confidence[5] == pytest.approx(0.55)
    assert math.isnan(table.accuracy[0])
    # ECE = 4/6 * |0.75 - 0.95| + 2/6 * |0.5 - 0.55|
    assert table.ece == pytest.approx(4 / 6 * 0.2 + 2 / 6 * 0.05)
    assert "mean conf" in table.format()
    assert table.to_dict()["accuracy"][0] is None


def test_honest_probabilities_have_a_small_calibration_error_and_overconfident_ones_a_big_one():
    rng = np.random.default_rng(0)
    n = 20_000
    conf = rng.uniform(0.3, 1.0, n)
    right = rng.random(n) < conf  # right exactly as often as it is sure
    y = np.where(right, 0, 1)
    honest = one_hot_ish(conf, np.zeros(n, dtype=int))
    assert expected_calibration_error(honest, y) < 0.02
    sure = one_hot_ish(np.full(n, 0.999), np.zeros(n, dtype=int))
    assert expected_calibration_error(sure, y) == pytest.approx(0.999 - right.mean(), abs=1e-9)


def test_a_confidence_of_exactly_one_lands_in_the_last_bin():
    table = reliability_table(one_hot_ish(np.array([1.0]), np.array([3])), np.array([3]))
    assert table.counts[-1] == 1


def test_accuracy_on_the_surest_drawings_and_the_threshold_that_keeps_them():
    conf = np.array([0.99, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.35, 0.3, 0.25])
    guess = np.zeros(10, dtype=int)
    y = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1])  # the five surest are right
    p = one_hot_ish(conf, guess)
    assert accuracy_at_coverage(p, y, 0.5) == 1.0
    assert accuracy_at_coverage(p, y, 0.7) == pytest.approx(5 / 7)
    assert accuracy_at_coverage(p, y, 1.0) == 0.5
    assert confidence_threshold(p, 0.5) == pytest.approx(0.6)
    assert confidence_threshold(p, 0.7) == pytest.approx(0.4)
    with pytest.raises(ValueError, match="coverage"):
        accuracy_at_coverage(p, y, 0.0)


def test_fit_temperature_recovers_the_temperature_that_made_the_labels():
    rng = np.random.default_rng(1)
    z = rng.normal(0, 3, (20_000, 10))
    true_t = 2.5
    probs = apply_temperature(z, true_t)
    y = np.array([rng.choice(10, p=row) for row in probs])
    assert fit_temperature(z, y) == pytest.approx(true_t, rel=0.05)
    # Temperature scaling never changes which class wins.
    np.testing.assert_array_equal(
        np.argmax(apply_temperature(z, 0.5), axis=1), np.argmax(apply_temperature(z, 7), axis=1)
    )


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (lambda: reliability_table(np.full((2, 9), 0.1), [0, 1]), r"shaped \(n, 10\)"),
        (lambda: reliability_table(np.full((2, 10), np.nan), [0, 1]), "finite"),
        (lambda: reliability_table(np.full((2, 10), 0.1), [0, 10]), "0..9"),
        (lambda: reliability_table(np.full((2, 10), 0.1), [0]), "2 labels"),
        (lambda: reliability_table(np.full((1, 10), 0.1), [0], n_bins=0), "bins"),
        (lambda: fit_temperature(np.zeros((0, 10)), np.zeros(0)), "at least one"),
        (lambda: fit_temperature(np.zeros((1, 10)), [0], bounds=(2, 1)), "bounds"),
        (lambda: apply_temperature(np.zeros(10), 0.0), "positive"),
        (lambda: apply_temperature(np.zeros(10), float("nan")), "positive"),
        (lambda: format_probability(1.5), "between 0 and 1"),
    ],
)
def test_bad_input_is_refused_in_one_sentence(bad, message):
    with pytest.raises(ValueError, match=message):
        bad()


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (1.0, "100.0%"),
        (0.99999, ">99.9%"),
        (0.9996, ">99.9%"),
        (0.973, "97.3%"),
        (0.001, "0.1%"),
        (0.0004, "<0.1%"),
        (1e-10, "<0.1%"),
        (0.0, "0%"),
    ],
)
def test_probabilities_are_printed_without_false_certainty(p, text):
    assert format_probability(p) == text


def test_the_evaluation_report_carries_the_calibration_figures():
    class Fixed:
        def predict_proba(self, rows):
            return one_hot_ish(np.full(len(rows), 0.9), np.zeros(len(rows), dtype=int))

    y = np.array([0] * 9 + [1])
    report = evaluate(Fixed(), np.zeros((10, 64)), y)
    assert report.ece == pytest.approx(0.0)
    assert report.accuracy_at_95 == pytest.approx(0.9)
    d = report.to_dict()["calibration"]
    assert d["coverage"] == 0.95 and d["reliability"]["n"] == 10
    text = report.format("fixed")
    assert "calibration error: 0.000" in text and "surest 95% (10 digits)" in text


def test_the_report_says_how_often_the_not_sure_warning_fires():
    conf = np.array([0.95, 0.9, 0.4, 0.3, 0.35, 0.97])
    guess = np.zeros(6, dtype=int)
    y = np.array([0, 0, 0, 1, 1, 1])  # right: 0.95, 0.9, 0.4; misread: 0.3, 0.35, 0.97

    class Model:
        confidence_threshold = 0.5

        def predict_proba(self, rows):
            return one_hot_ish(conf, guess)

    report = evaluate(Model(), np.zeros((6, 64)), y)
    assert report.not_sure == (pytest.approx(1 / 3), pytest.approx(2 / 3))
    assert report.to_dict()["not_sure"]["on_misread"] == pytest.approx(2 / 3)
    assert '"not sure" warning (below 50.0%): on 33.3%' in report.format("m")
    del Model.confidence_threshold
    assert np.isnan(evaluate(Model(), np.zeros((6, 64)), y).not_sure[0])
