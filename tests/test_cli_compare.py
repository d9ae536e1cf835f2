"""`digitgui compare`, `digitgui runs` and `digitgui lesson`: runs trained headless with the
`train` command's loop, kept where the app shows them, listed and exported; bad input."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import pytest

from digitgui.cli import build_parser, main
from digitgui.core.runs import RunStore, default_runs_dir

TINY = ["compare", "--preset", "notebook", "--iterations", "20", "--quiet"]


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _store(folder: Path) -> RunStore:
    return RunStore(default_runs_dir(folder))


@pytest.fixture(scope="module")
def compared(tmp_path_factory) -> tuple[Path, list[dict]]:
    """One small comparison kept in a data folder, with its JSON output: a learning rate that
    trains and one that diverges."""
    import contextlib
    import io

    folder = tmp_path_factory.mktemp("data")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main([*TINY, "--vary", "lr=0.01,50", "--json", "--data-dir", str(folder)])
    assert code == 0  # a diverged run is a result, not a failure
    return folder, _json_lines(out.getvalue())


def test_compare_prints_one_json_object_per_run(compared):
    _, lines = compared
    assert [o["name"] for o in lines] == ["lr 0.01", "lr 50"]
    ok, bad = lines
    assert ok["varied"] == {"lr": 0.01} and ok["config"]["lr"] == 0.01
    assert ok["config"]["name"] == "notebook" and ok["config"]["iterations"] == 20
    assert ok["outcome"] == "completed" and ok["iterations"] == 20
    assert ok["cost"] > 0 and ok["val_cost"] > 0
    assert 0 <= ok["val_acc"] <= 1 and 0 <= ok["train_acc"] <= 1 and 0 <= ok["test_acc"] <= 1
    assert ok["seconds"] > 0 and ok["it_per_s"] > 0
    assert bad["outcome"] == "diverged" and "diverged" in bad["message"]
    assert isinstance(bad["cost"], str) or bad["cost"] > 1  # NaN/inf are written as strings


def test_compared_runs_are_kept_where_the_app_reads_them(compared):
    folder, lines = compared
    store = _store(folder)
    assert store.problems == []
    assert [r.id for r in store.runs] == [o["id"] for o in lines]
    ok, bad = store.runs
    assert ok.name == "lr 0.01" and ok.outcome == "completed" and ok.config.lr == 0.01
    assert len(ok.history) >= 19 and ok.history.last("val_acc") is not None
    assert ok.difference == "iters 20"  # what differs from the preset (notebook: lr 0.01)
    assert store.model(ok).predict_proba is not None  # its network was saved
    assert bad.outcome == "diverged" and bad.difference == "lr 50, iters 20"


def test_compare_table_and_several_settings(capsys, tmp_path):
    argv = [*TINY, "--vary", "hidden=16,8-8", "--vary", "batch-size=full,32"]
    assert main([*argv, "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == [
        "name", "outcome", "final", "cost", "train", "val", "test", "seconds", "it/s"
    ]  # fmt: skip
    names = [
        "hidden 16, batch_size full",
        "hidden 16, batch_size 32",
        "hidden 8-8, batch_size full",
        "hidden 8-8, batch_size 32",
    ]
    for line, name in zip(out[1:5], names, strict=True):
        assert line.startswith(name) and "completed" in line and "%" in line
    assert "runs kept in" in out[5] and str(tmp_path) in out[5]
    runs = _store(tmp_path).runs
    assert [r.name for r in runs] == names
    assert [(r.config.hidden, r.config.batch_size) for r in runs] == [
        ((16,), None),
        ((16,), 32),
        ((8, 8), None),
        ((8, 8), 32),
    ]


def test_compare_no_save_keeps_nothing(capsys, tmp_path):
    assert (
        main([*TINY, "--vary", "seed=1,2", "--json", "--no-save", "--data-dir", str(tmp_path)]) == 0
    )
    lines = _json_lines(capsys.readouterr().out)
    assert [o["name"] for o in lines] == ["seed 1", "seed 2"]
    assert all(o["id"] is None for o in lines)
    assert list(tmp_path.iterdir()) == []


def test_compare_no_save_needs_no_data_folder(capsys, monkeypatch):
    # Under the tests there is no default data folder: --no-save never asks for one.
    monkeypatch.delenv("DIGITGUI_DATA_DIR", raising=False)
    assert main([*TINY, "--vary", "lr=0.01", "--no-save"]) == 0
    assert "lr 0.01" in capsys.readouterr().out
    assert main([*TINY, "--vary", "lr=0.01"]) == 2
    assert "real user data folder" in capsys.readouterr().err


@pytest.mark.parametrize(
    "vary, fragment",
    [
        (["--vary", "bogus=1"], "unknown setting 'bogus'"),
        (["--vary", "lr=abc"], "--vary lr=abc: expected a number"),
        (["--vary", "lr=-1"], "--vary lr=-1: learning rate must be a positive number"),
        (["--vary", "lr"], "expected FIELD=V1,V2"),
        (["--vary", "lr=0.1,,1"], "separated by commas"),
        (["--vary", "hidden=3x"], "layer sizes"),
        (["--vary", "batch_size=0"], "batch size must be a positive integer"),
        (["--vary", "early_stopping=maybe"], "on or off"),
        (["--vary", "lr=1", "--vary", "lr=2"], "varied twice"),
        (["--vary", "iterations=5"], "--iterations and --vary iterations"),
        (["--vary", "seed=" + ",".join(map(str, range(61)))], "too many"),
        ([], "required: --vary"),
    ],
)
def test_compare_bad_vary_exits_2_with_one_line(capsys, tmp_path, vary, fragment):
    assert main([*TINY, *vary, "--data-dir", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("digitgui: error:") and fragment in err, err
    assert captured.out == ""
    assert list(tmp_path.iterdir()) == []  # nothing ran, nothing kept


def test_runs_lists_the_kept_runs(capsys, compared):
    folder, lines = compared
    assert main(["runs", "--data-dir", str(folder)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:4] == ["id", "created", "name", "outcome"]
    assert len(out) == 3
    for line, obj in zip(out[1:], lines, strict=True):
        assert line.startswith(obj["id"]) and obj["name"] in line and obj["outcome"] in line
    assert main(["runs", "--json", "--data-dir", str(folder)]) == 0
    listed = _json_lines(capsys.readouterr().out)
    assert [o["id"] for o in listed] == [o["id"] for o in lines]
    assert listed[0]["config"]["lr"] == 0.01 and listed[0]["history_rows"] >= 19


def test_runs_with_none_kept(capsys, tmp_path):
    assert main(["runs", "--data-dir", str(tmp_path)]) == 0
    assert "no saved runs" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []  # listing creates nothing


def test_runs_export_writes_the_curves_as_csv(capsys, compared, tmp_path):
    folder, lines = compared
    target = tmp_path / "export" / "here"
    assert main(["runs", "--data-dir", str(folder), "--export", str(target)]) == 0
    assert "curves of 2 runs" in capsys.readouterr().out
    with open(target / "curves.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == [
        "run_id",
        "run_name",
        "iteration",
        "seconds",
        "epoch",
        "cost",
        "val_cost",
        "val_acc",
        "train_acc",
    ]
    first = [r for r in rows if r["run_id"] == lines[0]["id"]]
    checked = [r for r in first if r["val_acc"]]
    assert checked and all(0 <= float(r["train_acc"]) <= 1 for r in checked)
    assert [int(r["iteration"]) for r in first][:3] == [1, 2, 3]
    assert first[0]["run_name"] == "lr 0.01" and float(first[0]["cost"]) > 0
    assert {r["run_id"] for r in rows} == {o["id"] for o in lines}
    with open(target / "runs.csv", newline="") as f:
        summary = list(csv.DictReader(f))
    assert [r["run_id"] for r in summary] == [o["id"] for o in lines]
    assert summary[0]["lr"] == "0.01" and summary[0]["hidden"] == "32-32"
    assert summary[1]["outcome"] == "diverged"


def test_runs_export_into_a_file_exits_2(capsys, compared, tmp_path):
    folder, _ = compared
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("x")
    assert main(["runs", "--data-dir", str(folder), "--export", str(not_a_folder)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "is a file" in err
    assert not_a_folder.read_text() == "x"


def test_a_damaged_runs_file_is_reported_and_kept_aside(capsys, tmp_path):
    index = default_runs_dir(tmp_path) / "runs.json"
    index.parent.mkdir(parents=True)
    damaged = b'{"format": "digitgui-runs", "version": 1, "runs": [{"id": '
    index.write_bytes(damaged)
    for _ in range(2):  # listing twice keeps one copy
        assert main(["runs", "--data-dir", str(tmp_path)]) == 0
        captured = capsys.readouterr()
        err = captured.err.strip()
        assert len(err.splitlines()) == 1, err
        assert err.startswith("digitgui: warning:") and "copy of the file was kept" in err
        assert "no saved runs" in captured.out
    [aside] = index.parent.glob("runs.json.damaged-*")
    assert aside.read_bytes() == damaged and index.read_bytes() == damaged
    # A comparison still keeps its run (the index is rewritten; the damaged copy stays).
    assert main([*TINY, "--vary", "lr=0.01", "--json", "--data-dir", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "copy of the file was kept" in captured.err
    assert [r.name for r in _store(tmp_path).runs] == ["lr 0.01"]
    assert aside.read_bytes() == damaged


def test_data_dir_and_the_environment_choose_the_folder(capsys, tmp_path, monkeypatch):
    env_folder, arg_folder = tmp_path / "env", tmp_path / "arg"
    monkeypatch.setenv("DIGITGUI_DATA_DIR", str(env_folder))
    assert main([*TINY, "--vary", "lr=0.01", "--json"]) == 0
    assert main([*TINY, "--vary", "lr=0.02", "--json", "--data-dir", str(arg_folder)]) == 0
    capsys.readouterr()
    assert [r.name for r in _store(env_folder).runs] == ["lr 0.01"]
    assert [r.name for r in _store(arg_folder).runs] == ["lr 0.02"]
    assert main(["runs"]) == 0
    assert "lr 0.01" in capsys.readouterr().out


def test_lesson_lists_and_runs_a_lesson(capsys, tmp_path, monkeypatch):
    from digitgui.core import lessons

    assert main(["lesson"]) == 0
    keys = capsys.readouterr().out.split()
    assert all(item.key in keys for item in lessons.LESSONS)
    # A lesson the size of a test: the real ones take tens of seconds.
    real = lessons.lesson("learning-rate")
    tiny = dataclasses.replace(
        real,
        key="tiny",
        runs=tuple((name, dataclasses.replace(c, iterations=20)) for name, c in real.runs[2:4]),
    )
    monkeypatch.setattr(lessons, "LESSONS", (*lessons.LESSONS, tiny))
    assert main(["lesson", "tiny", "--quiet", "--data-dir", str(tmp_path)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert real.title in out and "lr 0.01" in out and "lr 0.1" in out
    assert "reached validation" in out and "Each update moves the weights" in out
    kept = _store(tmp_path).runs
    assert [(r.name, r.lesson) for r in kept] == [("lr 0.01", "tiny"), ("lr 0.1", "tiny")]
    assert main(["lesson", "tiny", "--quiet", "--json", "--no-save"]) == 0
    lines = _json_lines(capsys.readouterr().out)
    assert [o.get("name") for o in lines[:2]] == ["lr 0.01", "lr 0.1"]
    assert lines[2]["lesson"] == "tiny" and "Each update" in lines[2]["summary"]


def test_lesson_unknown_key_exits_2(capsys):
    assert main(["lesson", "nope"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "invalid choice" in err


def test_compare_help_documents_the_vary_syntax():
    text = build_parser()._subparsers._group_actions[0].choices["compare"].format_help()
    assert "hidden=32-32,64" in text and "batch_size=none" in text and "--no-save" in text
