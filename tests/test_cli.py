"""The `digitgui` command: the notebook's numbers, JSON output, exit codes, bad input."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from digitgui.cli import main
from digitgui.core.strokes import Stroke, render_strokes

# Cell 30 of shared/seed/notebook.txt, as printed.
NOTEBOOK_COSTS = [
    0.10841846755807866, 0.004399206130531385, 0.0017630665129825228, 0.0011347690167500995,
    0.0008412035250322298, 0.0006684415625880973, 0.0005557941048293148, 0.0004763981615622828,
    0.00041733777933869334, 0.00037157644791852663, 0.0003349265923796161, 0.00030476453736512555,
    0.0002796745481219137, 0.000258504448029585, 0.00024042568748116217, 0.00022469509573726934,
    0.00021095479069977468, 0.00019883614568093978, 0.0001880587564387737, 0.00017840802975499016,
]  # fmt: skip


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.mark.slow
def test_train_notebook_preset_prints_the_notebooks_costs_and_accuracies(capsys, tmp_path):
    out = tmp_path / "nb.npz"
    code = main(
        [
            "train",
            "--preset",
            "notebook",
            "--log-every",
            "1000",
            "--json",
            "--quiet",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    lines = _json_lines(capsys.readouterr().out)
    logged, final = lines[:-1], lines[-1]
    assert [o["iteration"] for o in logged] == list(range(1000, 20001, 1000))
    for o, expected in zip(logged, NOTEBOOK_COSTS, strict=True):
        assert abs(o["cost"] - expected) / expected < 1e-6, o
    assert final["train_acc"] == 1.0
    assert final["val_acc"] == 0.8629629629629629
    assert final["outcome"] == "completed"
    assert out.exists() and final["model"] == str(out)


def test_train_json_small_run(capsys):
    assert main(["train", "--preset", "default", "--iterations", "20", "--log-every", "10",
                 "--json", "--quiet", "--augment", "0"]) == 0  # fmt: skip
    lines = _json_lines(capsys.readouterr().out)
    assert [o["iteration"] for o in lines[:-1]] == [10, 20]
    assert {"train_acc", "val_acc", "test_acc"} <= set(lines[-1])


def test_divergence_exits_1_with_advice(capsys):
    code = main(["train", "--preset", "notebook", "--lr", "50", "--iterations", "200", "--quiet"])
    err = capsys.readouterr().err
    assert code == 1
    assert "diverged at iteration" in err and "smaller learning rate" in err


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["train", "--hidden", "3x"], "--hidden"),
        (["train", "--lr", "-1"], "--lr"),
        (["train", "--preset", "nope"], "--preset"),
        (["train", "--iterations", "0"], "--iterations"),
        (["train", "--out", "/no/such/folder/m.npz", "--iterations", "1"], "does not exist"),
        (["frobnicate"], "invalid choice"),
        (["predict", "/no/such/image.png"], "no such file"),
        (["eval", "--model", "/no/such/model.npz"], "no such file"),
        (["eval", "--pendigits", "/no/such/dir"], "no such pendigits file"),
        (["eval", "--plot", "/nonexistent/x.png"], "does not exist"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(capsys, argv, fragment):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("digitgui: error:") and fragment in err


def test_bad_model_file_exits_2(capsys, tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_text("not a model")
    assert main(["eval", "--model", str(bad)]) == 2
    assert "not a digitgui model file" in capsys.readouterr().err


def _digit_image(path, dark_ink: bool):
    # A "7": a top bar and a diagonal, drawn with the app's pen.
    raster = render_strokes([Stroke([[80, 50], [180, 50], [110, 210]], 16)])
    pixels = 255 - raster if dark_ink else raster
    Image.fromarray(pixels).save(path)


def test_predict_reads_either_ink_polarity(capsys, tmp_path):
    light, dark = tmp_path / "light.png", tmp_path / "dark.png"
    _digit_image(light, dark_ink=False)
    _digit_image(dark, dark_ink=True)
    assert main(["predict", str(light), str(dark), "--json"]) == 0
    a, b = _json_lines(capsys.readouterr().out)
    assert a["digit"] == b["digit"]
    assert a["probabilities"] == b["probabilities"]
    assert sum(a["probabilities"]) == pytest.approx(1, abs=1e-4)


def test_predict_blank_image_is_reported(capsys, tmp_path):
    blank = tmp_path / "blank.png"
    Image.fromarray(np.full((64, 64), 255, np.uint8)).save(blank)
    assert main(["predict", str(blank)]) == 2
    assert "no ink" in capsys.readouterr().err


def test_predict_not_an_image(capsys, tmp_path):
    p = tmp_path / "x.png"
    p.write_text("hello")
    assert main(["predict", str(p)]) == 2
    assert "not a readable image" in capsys.readouterr().err


def test_predict_one_bad_image_among_good_ones_costs_only_its_own_answer(capsys, tmp_path):
    good, bad = tmp_path / "good.png", tmp_path / "bad.png"
    _digit_image(good, dark_ink=True)
    bad.write_text("not an image")
    missing = tmp_path / "missing.png"
    args = ["predict", str(good), str(bad), str(missing), str(good), "--json"]
    assert main(args) == 2  # something failed
    lines = _json_lines(capsys.readouterr().out)
    assert [("digit" in x, "error" in x) for x in lines] == [
        (True, False),
        (False, True),
        (False, True),
        (True, False),
    ]
    assert "not a readable image" in lines[1]["error"] and "no such file" in lines[2]["error"]


def test_eval_reports_test_accuracy_and_pendigits(capsys, tmp_path):
    # Five rows in the pendigits format (8 points, y up, 0..100, then the label).
    sample = tmp_path / "pendigits.tes"
    sample.write_text(
        "c1,c2,c3,c4,c5,c6,c7,c8,c9,c10,c11,c12,c13,c14,c15,c16,class\n"
        "47,100,27,81,57,37,26,0,0,23,56,53,100,90,40,98,8\n"
        "0,89,27,100,42,75,29,45,15,15,37,0,69,2,100,6,2\n"
        "0,57,31,68,72,90,100,100,76,75,50,51,28,25,16,0,1\n"
        "0,100,7,92,5,68,19,45,86,34,100,45,74,23,67,0,4\n"
        "0,67,49,83,100,100,81,80,60,60,40,40,33,20,47,0,1\n"
    )
    assert main(["eval", "--pendigits", str(tmp_path), "--json", "--quiet"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["load_digits_test"]["n"] == 270
    assert result["load_digits_test"]["accuracy"] >= 0.97
    assert result["pendigits"]["n"] == 5
    assert result["pendigits"]["packed"] is False
    assert result["pendigits"]["file"] == str(sample)
    cm = np.array(result["pendigits"]["confusion"])
    assert cm.sum() == 5 and cm[1].sum() == 2 and cm[8].sum() == 1


@pytest.fixture(scope="module")
def packed_eval(tmp_path_factory) -> tuple[dict, Path]:
    """``digitgui eval --json --plot`` on the packed pendigits.tes, run once for the module (it
    draws 3,498 trajectories): the JSON result and the image."""
    png = tmp_path_factory.mktemp("plot") / "reliability.png"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["eval", "--json", "--quiet", "--plot", str(png)])
    assert code == 0
    return json.loads(out.getvalue()), png


def test_eval_measures_the_packed_pendigits_with_calibration(packed_eval):
    result, png = packed_eval
    pen = result["pendigits"]
    assert pen["file"] == "pendigits.tes" and pen["packed"] is True
    assert pen["n"] == 3498 and 0.5 < pen["accuracy"] <= 1
    for part in (pen, result["load_digits_test"]):
        cal = part["calibration"]
        assert 0 <= cal["ece"] <= 1 and cal["coverage"] == 0.95
        assert part["accuracy"] <= cal["accuracy_at_coverage"] <= 1
        assert sum(cal["reliability"]["counts"]) == part["n"]
    assert result["plot"] == str(png)


def test_eval_plot_writes_a_png(packed_eval):
    _, png = packed_eval
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and 5_000 < len(data) < 2_000_000
    with Image.open(png) as image:
        assert image.format == "PNG"
        width, height = image.size
    assert width > height >= 300  # two diagrams side by side


def test_eval_text_report_shows_calibration(capsys, packed_eval):
    # The drawn pendigits.tes is cached in the process by the fixture's run: this one is quick.
    assert main(["eval", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "pendigits (pendigits.tes, packed copy, drawn with the app's pen)" in out
    assert out.count("calibration error:") == 2
    assert out.count("accuracy on the surest 95%") == 2
    assert out.count("reliability (when the network is this sure") == 2


def test_eval_without_the_packed_pendigits_warns_and_measures_load_digits(
    capsys, tmp_path, monkeypatch
):
    gone = tmp_path / "pendigits.npz"
    monkeypatch.setattr("digitgui.core.pendigits.packed_pendigits_path", lambda: gone)
    assert main(["eval", "--json", "--quiet"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["load_digits_test"]["n"] == 270 and "pendigits" not in result
    err = captured.err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("digitgui: warning:") and str(gone) in err and "missing" in err


def test_eval_plot_into_a_folder_exits_2(capsys, tmp_path):
    assert main(["eval", "--plot", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "is a folder" in err


def test_eval_plot_needs_no_display(tmp_path):
    # A separate process with no display and no Qt platform chosen: the CLI picks offscreen.
    sample = tmp_path / "pendigits.tes"
    sample.write_text(
        "c1,c2,c3,c4,c5,c6,c7,c8,c9,c10,c11,c12,c13,c14,c15,c16,class\n"
        "47,100,27,81,57,37,26,0,0,23,56,53,100,90,40,98,8\n"
    )
    png = tmp_path / "out.png"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    env["OPENBLAS_NUM_THREADS"] = "1"
    argv = ["eval", "--quiet", "--pendigits", str(sample), "--plot", str(png)]
    run = subprocess.run(
        [sys.executable, "-m", "digitgui", *argv], capture_output=True, text=True, env=env
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert f"reliability diagrams saved to {png}" in run.stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_python_dash_m_and_version():
    out = subprocess.run(
        [sys.executable, "-m", "digitgui", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.startswith("digitgui ")


@pytest.mark.parametrize(
    "argv, expected",
    [
        ([], None),
        (["--model", "a.npz"], "a.npz"),
        (["gui", "--model", "b.npz"], "b.npz"),
        (["--model", "c.npz", "gui"], "c.npz"),
    ],
)
def test_the_app_is_the_default_command_and_takes_a_model(monkeypatch, argv, expected):
    opened = []
    monkeypatch.setattr("digitgui.cli._gui", lambda model, data_dir=None: opened.append(model) or 0)
    assert main(argv) == 0
    assert opened == [None if expected is None else Path(expected)]


@pytest.mark.parametrize(
    "argv",
    [["--data-dir", "d"], ["gui", "--data-dir", "d"], ["--data-dir", "d", "--model", "m.npz"]],
)
def test_the_app_takes_a_data_dir(monkeypatch, argv):
    opened = []
    monkeypatch.setattr(
        "digitgui.cli._gui", lambda model, data_dir=None: opened.append(data_dir) or 0
    )
    assert main(argv) == 0
    assert opened == [Path("d")]


def test_help_names_the_model_option_plainly(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "--model PATH" in out and "GUI_MODEL" not in out and "--data-dir DIR" in out


def test_training_on_handwriting_without_the_packed_pendigits_exits_2_in_one_sentence(
    capsys, tmp_path, monkeypatch
):
    gone = tmp_path / "pendigits.npz"
    monkeypatch.setattr("digitgui.core.pendigits.packed_pendigits_path", lambda: gone)
    args = ["train", "--preset", "handwriting", "--iterations", "5", "--quiet"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "cannot train 'handwriting (modified)'" in err and str(gone) in err


def test_the_handwriting_preset_trains_an_ensemble_from_the_command_line(capsys, tmp_path):
    out = tmp_path / "hw.npz"
    args = ["train", "--preset", "handwriting", "--iterations", "40", "--quiet", "--json"]
    assert main([*args, "--out", str(out)]) == 0
    final = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert final["outcome"] == "completed" and final["test_acc"] > 0.3
    from digitgui.core.model_io import DigitClassifier

    model = DigitClassifier.load(out)
    assert model.n_members == 5 and model.temperature >= 1 and model.confidence_threshold
