"""scripts/run: headless commands need no display, paths are the caller's, a dead DISPLAY is named.

These run the real launcher with the virtual environment the tests run in (DIGITGUI_VENV), and
are skipped when that environment would be reinstalled first (its install stamp is stale), so
they never build or change one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from digitgui.gui import syscheck

REPO = Path(__file__).resolve().parents[1]
RUN = REPO / "scripts" / "run"
VENV = Path(sys.prefix)


def _venv_is_ready() -> bool:
    stamp = VENV / ".digitgui-install"
    if not (VENV / "bin" / "digitgui").exists() or not stamp.exists():
        return False
    digest = hashlib.sha256((REPO / "pyproject.toml").read_bytes()).hexdigest()[:16]
    return stamp.read_text().strip() in (f"{digest} []", f"{digest} [test]")


pytestmark = [
    pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash"),
    pytest.mark.skipif(not _venv_is_ready(), reason="scripts/run would reinstall this venv first"),
]


def _free_display() -> str:
    for n in range(57, 200):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return f":{n}"
    pytest.skip("no free X display number")


def launcher_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """No display and no Qt platform chosen (scripts/test sets offscreen), this venv."""
    env = dict(os.environ)
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        env.pop(name, None)
    env["DIGITGUI_VENV"] = str(VENV)
    env["DIGITGUI_SETTINGS"] = str(tmp_path / "settings.ini")
    env["DIGITGUI_DATA_DIR"] = str(tmp_path / "data")
    env.update(extra)
    return env


def run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run(
        ["bash", str(RUN), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=cwd,
    )
    assert "installing digitgui" not in result.stderr  # never rebuilds the venv
    return result


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["-h"],
        ["--version"],
        ["train", "--help"],
        ["predict", "--help"],
        ["eval", "--help"],
        ["gui", "--help"],
    ],
)
def test_headless_commands_need_no_display(tmp_path, args):
    result = run(args, tmp_path, launcher_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "display" not in result.stderr
    assert result.stdout.startswith(("usage: digitgui", "digitgui "))


def test_a_bad_command_line_gets_digitguis_own_error_not_a_display_one(tmp_path):
    result = run(["no-such-command"], tmp_path, launcher_env(tmp_path))
    assert result.returncode == 2
    assert "invalid choice" in result.stderr and "display" not in result.stderr


@pytest.mark.parametrize("args", [[], ["gui"], ["--model", "m.npz"], ["gui", "--model", "m.npz"]])
def test_the_app_without_a_display_names_commands_that_work(tmp_path, args):
    result = run(args, tmp_path, launcher_env(tmp_path))
    assert result.returncode == 3
    first = result.stderr.splitlines()[0]
    assert first.startswith("digitgui: no display found"), result.stderr
    assert "`xvfb-run -a scripts/run`" in first
    assert "`scripts/run train`" in first and "`.venv/bin/digitgui train`" in first
    assert "`xvfb-run -a digitgui`" not in first and "`digitgui train`" not in first


def test_relative_paths_are_taken_from_the_callers_folder(tmp_path):
    image = Image.new("L", (64, 64), 255)
    ImageDraw.Draw(image).line([(20, 10), (44, 10), (30, 54)], fill=0, width=5)
    image.save(tmp_path / "7.png")
    env = launcher_env(tmp_path)

    result = run(["predict", "7.png"], tmp_path, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("7.png: ")

    before = set(REPO.glob("*.npz"))
    args = ["train", "--preset", "notebook", "--iterations", "2", "--out", "m.npz", "--quiet"]
    result = run(args, tmp_path, env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "m.npz").is_file()
    assert set(REPO.glob("*.npz")) == before


def test_an_unreachable_display_is_named_in_one_sentence(tmp_path):
    display = _free_display()
    env = launcher_env(tmp_path, DISPLAY=display)
    result = run([], tmp_path, env)
    assert result.returncode == 3, result.stderr  # not Qt's abort (134)
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"digitgui: cannot open the display DISPLAY={display} "), first
    assert first.count(". ") == 0
    # ... and the headless commands do not care
    assert run(["--version"], tmp_path, env).returncode == 0


def test_display_problem_probes_the_display(monkeypatch):
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setenv("DISPLAY", _free_display())
    assert syscheck.display_problem().startswith("cannot open the display DISPLAY=:")
    monkeypatch.delenv("DISPLAY")
    assert syscheck.display_problem() == syscheck.NO_DISPLAY
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert syscheck.display_problem() is None


@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="needs Xvfb")
def test_a_running_x_server_passes_the_probe(monkeypatch):
    display = _free_display()
    server = subprocess.Popen(
        ["Xvfb", display, "-nolisten", "tcp"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 20
        while not Path(f"/tmp/.X11-unix/X{display[1:]}").exists():
            if time.monotonic() > deadline or server.poll() is not None:
                pytest.skip("Xvfb did not start")
            time.sleep(0.05)
        monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
        monkeypatch.setenv("DISPLAY", display)
        assert syscheck.display_problem() is None
    finally:
        server.terminate()
        server.wait(timeout=10)


def _bootstrap_says(args: list[str], venv: str) -> str:
    script = (
        'source scripts/_bootstrap.sh; venv="$1"; shift; '
        'if is_gui_command "$@"; then echo gui; else echo headless; fi'
    )
    result = subprocess.run(
        ["bash", "-c", script, "_", venv, *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env=launcher_env(Path("/nonexistent")),
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize("venv", [str(VENV), "/nonexistent-venv"], ids=["parser", "fallback"])
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], "gui"),
        (["gui"], "gui"),
        (["--model", "train"], "gui"),
        (["gui", "--model", "x.npz"], "gui"),
        (["train"], "headless"),
        (["predict", "x.png"], "headless"),
        (["--model", "x.npz", "eval"], "headless"),
        (["--version"], "headless"),
        (["-h"], "headless"),
        (["gui", "--help"], "headless"),
    ],
)
def test_which_command_lines_open_the_app(venv, args, expected):
    assert _bootstrap_says(args, venv) == expected
