"""The main window with an ensemble of 3 networks: the guess box says when it is not sure and
who reads the drawing, its warning stays readable in light and dark palettes, and every insight
tab works and says which network it shows."""

from __future__ import annotations

import numpy as np
import pytest
from gui_helpers import SEVEN, drag
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from digitgui.core import insight
from digitgui.core.calibration import format_probability
from digitgui.core.data import load_digits_split
from digitgui.core.model_io import DigitClassifier, load_default
from digitgui.core.reading import read_digit
from digitgui.core.strokes import Stroke
from digitgui.gui.main_window import MainWindow
from digitgui.gui.worker import running_threads


def ensemble(threshold: float | None) -> DigitClassifier:
    """Three networks: the shipped one and two perturbed copies, calibrated with T = 1.5."""
    base = load_default()
    rng = np.random.default_rng(0)
    members = [base.mlp.copy() for _ in range(3)]
    for m in members[1:]:
        for w in m.weights:
            w += rng.normal(0.0, 0.05, w.shape)
    return DigitClassifier(
        members, base.mean, base.scale, base.clip, temperature=1.5, confidence_threshold=threshold
    )


def open_window(qtbot, model: DigitClassifier) -> MainWindow:
    window = MainWindow(model)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


@pytest.fixture
def unsure(qtbot):
    """A window whose model is never sure (its probabilities never reach exactly 1)."""
    window = open_window(qtbot, ensemble(1.0))
    yield window
    window.close()
    assert not running_threads()


@pytest.fixture
def sure(qtbot):
    window = open_window(qtbot, ensemble(0.05))
    yield window
    window.close()
    assert not running_threads()


def _luminance(c: QColor) -> float:
    """WCAG 2 relative luminance (written out here, independently of the app's palette module)."""

    def channel(v: int) -> float:
        s = v / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(c.red()) + 0.7152 * channel(c.green()) + 0.0722 * channel(c.blue())


def _contrast(a: QColor, b: QColor) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _dark_palette() -> QPalette:
    pal = QPalette()
    for role, color in (
        (QPalette.ColorRole.Window, "#202124"),
        (QPalette.ColorRole.WindowText, "#e8eaed"),
        (QPalette.ColorRole.Base, "#171717"),
        (QPalette.ColorRole.Text, "#e8eaed"),
        (QPalette.ColorRole.Button, "#303134"),
        (QPalette.ColorRole.ButtonText, "#e8eaed"),
        (QPalette.ColorRole.Highlight, "#4a8fe7"),
        (QPalette.ColorRole.Mid, "#5f6368"),
        (QPalette.ColorRole.PlaceholderText, "#9aa0a6"),
    ):
        pal.setColor(role, QColor(color))
    return pal


def _strokes(k: int) -> list[Stroke]:
    """A few different drawings, each a new reading."""
    x = 60.0 + 12 * k
    return [Stroke(np.array([[x, 50.0], [190.0, 60.0], [x + 30, 215.0]]), 16.0 + 2 * k)]


# --- the guess box --------------------------------------------------------------------------------


def test_not_sure_shows_two_guesses_and_the_warning_under_the_headline(qtbot, unsure):
    drag(qtbot, unsure.canvas, SEVEN)
    reading = read_digit(unsure.model(), unsure.canvas.digit8x8())
    assert not reading.sure
    chart = unsure.probability_chart
    assert chart.headline_text() == f"{reading.guess} or {reading.runner_up}?"
    label = unsure.novelty_label
    assert label.objectName() == "noveltyLabel" and label.isVisible()
    assert label.text() == reading.warning
    # At the top of the guess box: right under the headline, above the bars.
    top = label.mapTo(unsure.guess_box, label.rect().topLeft()).y()
    headline_bottom = chart.headline.mapTo(unsure.guess_box, chart.headline.rect().bottomLeft())
    assert 0 <= top - headline_bottom.y() <= 12
    assert label.geometry().bottom() < chart.bars.geometry().top()


def test_sure_shows_one_digit_and_no_warning(qtbot, sure):
    drag(qtbot, sure.canvas, SEVEN)
    reading = read_digit(sure.model(), sure.canvas.digit8x8())
    assert reading.sure
    assert sure.probability_chart.headline_text() == str(reading.guess)
    assert not sure.novelty_label.isVisible()


def test_probabilities_are_printed_honestly(qtbot, sure):
    drag(qtbot, sure.canvas, SEVEN)
    probs = sure.probabilities()
    texts = sure.probability_chart.value_texts()
    assert texts == [format_probability(p) for p in probs]
    assert "100.0%" not in texts and "0.0%" not in texts


def test_the_guess_box_says_it_reads_with_the_average_of_3_networks(sure):
    assert "the average of 3 networks" in sure.reader_label.text()
    assert sure.reader_label.isVisible()
    assert "3 networks" in sure.guess_box.toolTip()
    shipped = load_default()
    single = DigitClassifier(shipped.members[0], shipped.mean, shipped.scale, shipped.clip)
    sure.set_model(single, "one of the shipped networks")
    assert "one network" in sure.reader_label.text()


def test_warning_stays_readable_in_light_and_dark_palettes(qtbot, unsure):
    app = QApplication.instance()
    original = QPalette(app.palette())
    label = unsure.novelty_label
    try:
        for name, palette in (("light", original), ("dark", _dark_palette())):
            app.setPalette(palette)
            qtbot.wait(10)
            window_bg = unsure.palette().color(QPalette.ColorRole.Window)
            colors = []
            for k in range(6):  # several updates: the old label faded a little with each one
                unsure.canvas.set_strokes(_strokes(k))
                assert label.isVisible()
                pal = label.palette()
                text = pal.color(QPalette.ColorRole.WindowText)
                background = pal.color(QPalette.ColorRole.Window)
                ratio = _contrast(text, background)
                assert ratio >= 4.5, f"{name} update {k}: contrast {ratio:.2f}"
                # The background painted is the label's, a tint of this palette's window.
                assert label.autoFillBackground()
                assert abs(_luminance(background) - _luminance(window_bg)) < 0.15, name
                assert label.grab().toImage().pixelColor(1, 1).name() == background.name()
                colors.append((text.name(), background.name()))
            assert len(set(colors)) == 1, f"{name}: the colours drift between updates"
    finally:
        app.setPalette(original)


# --- every insight tab with an ensemble ---------------------------------------------------------


def test_every_insight_tab_works_with_an_ensemble(qtbot, sure):
    window = sure
    model = window.model()
    qtbot.waitUntil(window.insight_views_ready, timeout=30_000)
    drag(qtbot, window.canvas, SEVEN)
    digit = window.canvas.digit8x8()
    panel = window.insight
    tabs = window.insight_tabs
    for index in range(tabs.count()):
        tabs.setCurrentIndex(index)
        qtbot.wait(5)
        page = tabs.currentWidget()
        assert page.isVisible()
        assert not page.grab().isNull(), tabs.tabText(index)

    # Why this guess: the average of the networks' explanations, or one network's.
    tabs.setCurrentWidget(panel.attribution)
    view = panel.attribution
    assert view.picker.isVisible()
    assert "average of 3 networks" in view.picker.sentence.text()
    assert view.attribution().member is None
    np.testing.assert_allclose(view.map.values(), insight.explain(model, digit).contribution)
    view.picker.set_member(2)
    assert view.attribution().member == 2
    assert "network 3" in view.picker.sentence.text()
    np.testing.assert_allclose(
        view.map.values(), insight.explain(model, digit, member=2).contribution
    )
    assert "network 3 alone" in view.summary.text()
    view.picker.set_member(None)
    assert view.attribution().member is None and "network 3" not in view.summary.text()

    # Test set: the reliability diagram of the test rows, and its figures in words.
    tabs.setCurrentWidget(panel.test_set)
    report = panel.test_set.report().report
    assert panel.test_set.reliability.table().n == report.n == 270
    text = panel.test_set.calibration_label.text()
    assert f"{report.ece:.3f}" in text and format_probability(report.accuracy_at_95) in text

    # Hidden units: one network's weights, picked for both views.
    tabs.setCurrentWidget(panel.hidden_units)
    assert panel.hidden_picker.isVisible()
    assert "network 1" in panel.hidden_picker.sentence.text()
    assert "average of 3 networks" in panel.hidden_picker.sentence.text()
    expected = insight.unit_activity(model.member(0))
    np.testing.assert_array_equal(
        panel.weight_tiles.activity().active_fraction[0], expected.active_fraction[0]
    )
    panel.hidden_picker.set_member(1)
    second = model.member(1)
    np.testing.assert_array_equal(
        panel.weight_tiles.activity().active_fraction[0],
        insight.unit_activity(second).active_fraction[0],
    )
    for got, want in zip(
        panel.activations.activations(), insight.hidden_activations(second, digit), strict=True
    ):
        np.testing.assert_allclose(got, want)
    assert "network 2 of 3" in panel.weight_tiles.status.text()

    # One update step: one network steps (each is trained on its own).
    tabs.setCurrentWidget(panel.step_through)
    step = panel.step_through
    assert not step.picker.isVisible()  # the notebook's example has its own network
    step.set_source("training")
    assert step.picker.isVisible() and "network 1" in step.picker.sentence.text()
    split = load_digits_split(42)
    rows = np.arange(step.first_row_spin.value(), step.first_row_spin.value() + 4)
    step.batch_size_spin.setValue(4)
    for k in (0, 2):
        step.picker.set_member(k)
        X, Y, _ = insight.training_batch(model.member(k), rows, split)
        want = insight.model_update_step(model.member(k), X, Y, step.lr_spin.value())
        np.testing.assert_allclose(step.step()["G1"], want["G1"])
        assert f"network {k + 1} of the current model" in step.title.text()


def test_a_single_network_offers_no_choice(qtbot):
    window = open_window(qtbot, load_default())
    qtbot.waitUntil(window.insight_views_ready, timeout=30_000)
    panel = window.insight
    for picker in (panel.attribution.picker, panel.hidden_picker, panel.step_through.picker):
        assert picker.findChild(QWidget) is not None and not picker.isVisibleTo(window)
    window.close()
