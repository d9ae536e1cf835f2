"""scripts/run: headless commands need no display, paths are the caller's, a dead DISPLAY is named.

These run the real launcher with the virtual environment the tests run in (DIGITGUI_VENV), and
are skipped when that environment would be reinstalled first (its install stamp is stale), so
they never build or change one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
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


def _free_display(first: int = 57) -> str:
    for n in range(first, 200):
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


# --- the Qt check runs once: its answer is cached with what it depended on -----------------------


@pytest.fixture
def stamp(tmp_path, monkeypatch):
    path = tmp_path / "qt-check.json"
    monkeypatch.setenv(syscheck.STAMP_VARIABLE, str(path))
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    return path


def _count_checks(monkeypatch, result=None) -> list[str]:
    """Counts the library checks; ``result`` (missing, files) replaces the real check."""
    calls: list[str] = []
    real = syscheck._check_libraries

    def counted(platform):
        calls.append(platform)
        return result if result is not None else real(platform)

    monkeypatch.setattr(syscheck, "_check_libraries", counted)
    return calls


def test_the_library_check_runs_once_then_the_stamp_answers(stamp, monkeypatch):
    calls = _count_checks(monkeypatch)
    assert syscheck.cached_missing_libraries() == []
    assert calls == ["offscreen"]
    recorded = json.loads(stamp.read_text())["offscreen"]
    assert recorded["setting"]["python"] == sys.executable
    assert recorded["setting"]["pyside6_version"]
    if sys.platform.startswith("linux") and shutil.which("ldd"):
        files = recorded["files"]
        assert any(name.endswith("QtGui.abi3.so") for name in files)
        assert any("libqoffscreen" in name for name in files)
        assert str(syscheck.LD_CACHE) in files
    for _ in range(3):
        assert syscheck.cached_missing_libraries() == []
    assert calls == ["offscreen"]
    assert syscheck.startup_problem() is None
    assert calls == ["offscreen"]


def test_the_library_check_is_redone_when_the_environment_changes(stamp, monkeypatch, tmp_path):
    lib = tmp_path / "libQt6Fake.so.6"
    lib.write_bytes(b"fake")
    calls = _count_checks(monkeypatch, ([], [lib]))
    syscheck.cached_missing_libraries()
    assert len(calls) == 1

    os.utime(lib, ns=(0, 0))  # a library that was checked is replaced
    syscheck.cached_missing_libraries()
    assert len(calls) == 2
    syscheck.cached_missing_libraries()
    assert len(calls) == 2

    monkeypatch.setenv("QT_PLUGIN_PATH", str(tmp_path))  # Qt is told to look elsewhere
    syscheck.cached_missing_libraries()
    assert len(calls) == 3

    monkeypatch.setattr(syscheck, "_pyside_version", lambda qt: "6.99.0")  # PySide6 upgraded
    syscheck.cached_missing_libraries()
    assert len(calls) == 4

    monkeypatch.setattr(sys, "executable", str(tmp_path / "python3"))  # another interpreter
    syscheck.cached_missing_libraries()
    assert len(calls) == 5

    lib.unlink()  # a library that was found is gone
    syscheck.cached_missing_libraries()
    assert len(calls) == 6

    monkeypatch.setenv("QT_QPA_PLATFORM", "minimal")  # another platform plugin: its own entry
    syscheck.cached_missing_libraries()
    assert len(calls) == 7
    assert set(json.loads(stamp.read_text())) == {"offscreen", "minimal"}

    syscheck.problems()  # the whole check (scripts/test, after a failed start) renews it
    assert len(calls) == 8
    syscheck.forget_checks()
    assert not stamp.exists()


def test_a_failed_library_check_is_never_cached(stamp, monkeypatch, tmp_path):
    calls = _count_checks(monkeypatch, (["libxcb-cursor.so.0"], [tmp_path]))
    for _ in range(2):
        problem = syscheck.startup_problem()
        assert problem.startswith("Qt cannot load: missing system libraries libxcb-cursor.so.0")
        assert "libxcb-cursor0" in problem
    assert len(calls) == 2
    assert not stamp.exists()


def test_a_damaged_stamp_means_checking_again(stamp, monkeypatch, tmp_path):
    lib = tmp_path / "libQt6Fake.so.6"
    lib.write_bytes(b"fake")
    calls = _count_checks(monkeypatch, ([], [lib]))
    stamp.write_text("{not json")
    assert syscheck.cached_missing_libraries() == []
    assert len(calls) == 1
    assert syscheck.cached_missing_libraries() == []
    assert len(calls) == 1


@pytest.fixture
def fake_x_server():
    """Something listening on a free display's abstract X socket that closes every connection:
    the quick check sees a server, Qt (and XOpenDisplay) cannot use it."""
    if not sys.platform.startswith("linux"):
        pytest.skip("abstract sockets are Linux-only")
    display = _free_display()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(f"\0/tmp/.X11-unix/X{display[1:]}")
    server.listen(8)

    def refuse() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            conn.close()

    threading.Thread(target=refuse, daemon=True).start()
    yield display
    server.shutdown(socket.SHUT_RDWR)
    server.close()


def test_the_quick_display_check_connects_to_the_local_socket(monkeypatch, fake_x_server):
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setenv("DISPLAY", fake_x_server)

    def no_probe():
        raise AssertionError("the quick check opened the display in a child process")

    monkeypatch.setattr(syscheck, "_x_display_opens", no_probe)
    assert syscheck.display_problem(quick=True) is None
    assert syscheck._local_x_server(fake_x_server) is True
    assert syscheck._local_x_server(_free_display(int(fake_x_server[1:]) + 1)) is False
    assert syscheck._local_x_server("remote.example:0") is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux X11")
def test_when_qt_fails_although_the_quick_check_passed_the_whole_check_explains(
    tmp_path, fake_x_server
):
    if syscheck.missing_libraries("xcb"):
        pytest.skip("Qt's X11 plugin cannot load here")
    env = launcher_env(
        tmp_path,
        DISPLAY=fake_x_server,
        DIGITGUI_QT_CHECK_STAMP=str(tmp_path / "qt-check.json"),
    )
    result = subprocess.run(
        [str(VENV / "bin" / "digitgui")],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 3, result.stderr  # not Qt's abort (134)
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"digitgui: cannot open the display DISPLAY={fake_x_server} "), (
        result.stderr
    )
    assert len(lines) == 1, result.stderr
    # the whole check ran again: the libraries are fine, the display is not
    assert "xcb" in json.loads((tmp_path / "qt-check.json").read_text())


# --- scripts/run starts nothing before the app ----------------------------------------------------


def _recording_venv(tmp_path: Path) -> tuple[Path, Path]:
    """A venv whose python and digitgui only write down that they ran, and that counts as
    installed (its stamp matches pyproject.toml)."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    log = tmp_path / "started.log"
    for name in ("python", "digitgui"):
        exe = venv / "bin" / name
        exe.write_text(f'#!/bin/sh\necho "{name} $*" >> "{log}"\nexit 0\n')
        exe.chmod(0o755)
    digest = hashlib.sha256((REPO / "pyproject.toml").read_bytes()).hexdigest()[:16]
    (venv / ".digitgui-install").write_text(f"{digest} []\n")
    return venv, log


@pytest.mark.parametrize("args", [[], ["--model", "m.npz"], ["gui"], ["train", "--quiet"]])
def test_the_launcher_starts_the_app_and_nothing_else(tmp_path, args):
    venv, log = _recording_venv(tmp_path)
    result = run(args, tmp_path, launcher_env(tmp_path, DIGITGUI_VENV=str(venv)))
    assert result.returncode == 0, result.stderr
    assert [line.strip() for line in log.read_text().splitlines()] == [
        " ".join(["digitgui", *args])
    ]


@pytest.mark.parametrize(
    ("args", "expected", "parser"),
    [
        ([], "gui", False),
        (["gui"], "gui", False),
        (["--model", "x.npz"], "gui", False),
        (["--model=x.npz", "gui", "--model", "y.npz"], "gui", False),
        (["train", "--preset", "notebook"], "headless", False),
        (["--model", "x.npz", "eval"], "headless", False),
        (["--version"], "headless", False),
        (["gui", "--help"], "headless", False),
        (["--mod", "x.npz"], "gui", True),  # argparse takes abbreviations: its parser decides
        (["--model", "-h"], "headless", True),
    ],
)
def test_common_command_lines_are_told_apart_without_python(tmp_path, args, expected, parser):
    venv, log = _recording_venv(tmp_path)
    python = venv / "bin" / "python"  # writes down each start, then is this venv's python
    python.write_text(f'#!/bin/sh\necho python >> "{log}"\nexec "{VENV}/bin/python" "$@"\n')
    assert _bootstrap_says(args, str(venv)) == expected
    assert log.exists() == parser
