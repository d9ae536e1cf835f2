"""scripts/run: headless commands need no display, paths are the caller's, a dead DISPLAY is named;
the venv it sets up is checked, rebuilt when broken or of another Python, installed visibly.

The tests of the app's start run the real launcher with the virtual environment the tests run in
(DIGITGUI_VENV), and are skipped when that environment would be reinstalled first (its install
stamp is stale), so they never build or change one. The tests of the set-up use a fake python
(tmp folders, no network): it makes fake venvs and a fake pip, and writes down each start.
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


pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
#: For the tests that start the real app with this venv.
needs_installed_venv = pytest.mark.skipif(
    not _venv_is_ready(), reason="scripts/run would reinstall this venv first"
)


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
@needs_installed_venv
def test_headless_commands_need_no_display(tmp_path, args):
    result = run(args, tmp_path, launcher_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "display" not in result.stderr
    assert result.stdout.startswith(("usage: digitgui", "digitgui "))


@needs_installed_venv
def test_a_bad_command_line_gets_digitguis_own_error_not_a_display_one(tmp_path):
    result = run(["no-such-command"], tmp_path, launcher_env(tmp_path))
    assert result.returncode == 2
    assert "invalid choice" in result.stderr and "display" not in result.stderr


@needs_installed_venv
@pytest.mark.parametrize("args", [[], ["gui"], ["--model", "m.npz"], ["gui", "--model", "m.npz"]])
def test_the_app_without_a_display_names_commands_that_work(tmp_path, args):
    result = run(args, tmp_path, launcher_env(tmp_path))
    assert result.returncode == 3
    first = result.stderr.splitlines()[0]
    assert first.startswith("digitgui: no display found"), result.stderr
    assert "`xvfb-run -a scripts/run`" in first
    assert "`scripts/run train`" in first and "`.venv/bin/digitgui train`" in first
    assert "`xvfb-run -a digitgui`" not in first and "`digitgui train`" not in first


@needs_installed_venv
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


@needs_installed_venv
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


@needs_installed_venv
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


# --- setting up the venv (issue 14 item 4), with a fake python ------------------------------------

#: Stands in for python3 (its version from its name, python3.13, else $FAKE_VERSION) and, copied
#: into a venv by `-m venv`, for that venv's python (its version from the venv's pyvenv.cfg).
#: Its pip prints what pip prints and installs a bin/digitgui (and bin/ruff with the test tools)
#: that write down their arguments; FAKE_VENV=no-ensurepip fails like Debian without
#: python3-venv, FAKE_PIP=offline like pip without a network.
FAKE_PYTHON = r"""#!/bin/bash
root="$(cd "$(dirname "$0")/.." && pwd)"
echo "python $*" >> "$FAKE_LOG"
version="$FAKE_VERSION"
name="$(basename "$0")"
case "$name" in python3.[0-9]*) version="${name#python}" ;; esac
if [ -f "$root/pyvenv.cfg" ]; then
  version="$(sed -n 's/^version = \([0-9]*\.[0-9]*\).*/\1/p' "$root/pyvenv.cfg")"
fi
case "$1" in
  --version) echo "Python $version.0" ;;
  -c)
    case "$2" in
      *'version_info[:2]'*) echo "$version" ;;
      'import pip') [ -f "$root/has-pip" ] || { echo "No module named pip" >&2; exit 1; } ;;
    esac
    ;;
  -m)
    case "$2" in
      venv)
        mkdir -p "$3/bin"
        printf 'home = %s\nversion = %s.0\n' "$(dirname "$0")" "$version" > "$3/pyvenv.cfg"
        cp "$0" "$3/bin/python"
        if [ "${FAKE_VENV:-}" = no-ensurepip ]; then
          echo "The virtual environment was not created successfully because ensurepip is not"
          echo "available.  On Debian/Ubuntu systems, you need to install the python3-venv"
          echo "package using the following command."
          echo "    apt install python$version-venv"
          exit 1
        fi
        touch "$3/has-pip"
        ;;
      pip)
        [ -f "$root/has-pip" ] || { echo "$0: No module named pip" >&2; exit 1; }
        if [ "${FAKE_PIP:-}" = offline ]; then
          echo "Obtaining file:///repo"
          echo "  Installing build dependencies: started"
          echo "  error: subprocess-exited-with-error"
          printf '      %s %s %s\n' "WARNING: Retrying (Retry(total=0, ...)) after connection" \
            "broken by 'NewConnectionError(...: Failed to establish a new connection: [Errno -3]" \
            "Temporary failure in name resolution')': /simple/hatchling/"
          printf '      %s %s\n' "ERROR: Could not find a version that satisfies the" \
            "requirement hatchling>=1.24 (from versions: none)"
          echo "      ERROR: No matching distribution found for hatchling>=1.24"
          echo "error: subprocess-exited-with-error" >&2
          exit 1
        fi
        case " $* " in
          *" --quiet "*) ;;
          *)
            echo "Obtaining file:///repo"
            echo "Collecting numpy>=1.26 (from digitgui==0.1.0)"
            echo "  Downloading numpy-2.4.6-cp311-cp311-manylinux_2_27_x86_64.whl.metadata (6.6 kB)"
            echo "  Downloading numpy-2.4.6-cp311-cp311-manylinux_2_27_x86_64.whl (16.6 MB)"
            echo "Installing collected packages: numpy, digitgui"
            echo "Successfully installed digitgui-0.1.0 numpy-2.4.6"
            ;;
        esac
        printf '#!/bin/bash\necho "digitgui $*" >> "$FAKE_LOG"\n' > "$root/bin/digitgui"
        chmod +x "$root/bin/digitgui"
        case " $* " in
          *"[test]"*)
            printf '#!/bin/bash\necho "ruff $*" >> "$FAKE_LOG"\n' > "$root/bin/ruff"
            chmod +x "$root/bin/ruff"
            ;;
        esac
        ;;
    esac
    ;;
esac
exit 0
"""


class FakePython:
    """A folder of fake interpreters (python3 is 3.11, python3.13 is 3.13) first on PATH, the venv
    folder the launcher is pointed at, and the log of every start."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.bin = tmp_path / "python-bin"
        self.bin.mkdir()
        for name in ("python3", "python3.13"):
            exe = self.bin / name
            exe.write_text(FAKE_PYTHON)
            exe.chmod(0o755)
        self.venv = tmp_path / "venv"
        self.log = tmp_path / "started.log"
        self.stamp = self.venv / ".digitgui-install"

    def env(self, **extra: str) -> dict[str, str]:
        env = launcher_env(self.tmp_path, DIGITGUI_VENV=str(self.venv))
        env.pop("PYTHON", None)
        env["PATH"] = f"{self.bin}:{env['PATH']}"
        env["FAKE_LOG"] = str(self.log)
        env["FAKE_VERSION"] = "3.11"
        env.update(extra)
        return env

    def launch(self, script: str, args: list[str], **extra: str) -> subprocess.CompletedProcess:
        self.log.unlink(missing_ok=True)
        return subprocess.run(
            ["bash", str(REPO / "scripts" / script), *args],
            capture_output=True,
            text=True,
            timeout=60,
            env=self.env(**extra),
            cwd=self.tmp_path,
        )

    def started(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    def pip_runs(self) -> list[str]:
        return [line for line in self.started() if line.startswith("python -m pip")]

    def venv_version(self) -> str:
        return (self.venv / "pyvenv.cfg").read_text().split("version = ")[1].strip()


def _digest() -> str:
    return hashlib.sha256((REPO / "pyproject.toml").read_bytes()).hexdigest()[:16]


@pytest.fixture
def fake(tmp_path) -> FakePython:
    return FakePython(tmp_path)


def test_a_first_run_installs_once_and_shows_its_progress(fake):
    result = fake.launch("run", ["--version"])
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == (
        f"digitgui: creating a virtual environment in {fake.venv} with Python 3.11 (python3)"
    )
    assert lines[1] == (
        f"digitgui: installing digitgui and its dependencies into {fake.venv} "
        "(first run only; a few minutes)"
    )
    assert "digitgui:   downloading numpy 2.4.6 (16.6 MB)" in lines  # not pip --quiet
    assert "digitgui:   installing 2 packages" in lines
    assert not any("metadata" in line for line in lines)
    assert all(" --quiet" not in run for run in fake.pip_runs())
    assert fake.started()[-1] == "digitgui --version"
    assert fake.stamp.read_text().strip() == f"{_digest()} []"
    assert "Successfully installed" in (fake.venv / ".digitgui-install.log").read_text()

    result = fake.launch("run", ["--version"])  # set up: nothing but the command
    assert result.returncode == 0 and result.stderr == ""
    assert fake.started() == ["digitgui --version"]


def test_a_venv_whose_creation_failed_at_ensurepip_is_rebuilt_not_trusted(fake):
    subprocess.run(  # what `python3 -m venv` leaves on Debian without python3-venv
        [str(fake.bin / "python3"), "-m", "venv", str(fake.venv)],
        env=fake.env(FAKE_VENV="no-ensurepip"),
        capture_output=True,
        check=False,
    )
    assert (fake.venv / "bin" / "python").exists() and not (fake.venv / "has-pip").exists()

    result = fake.launch("run", ["--version"])
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0] == (
        f"digitgui: {fake.venv} is incomplete (it has no pip: its creation did not finish): "
        "rebuilding it (deleting it, then creating it again with python3)"
    )
    assert "No module named pip" not in result.stderr
    assert (fake.venv / "has-pip").exists()
    assert fake.started()[-1] == "digitgui --version"


def test_a_failed_venv_creation_names_the_package_and_leaves_nothing_behind(fake):
    result = fake.launch("run", ["--version"], FAKE_VENV="no-ensurepip")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        "digitgui: could not create a virtual environment: Python 3.11 (python3) lacks "
        "ensurepip; on Debian/Ubuntu: sudo apt-get install python3.11-venv"
    )
    assert not fake.venv.exists()  # the next run starts afresh
    result = fake.launch("run", ["--version"])
    assert result.returncode == 0, result.stderr
    assert "rebuilding" not in result.stderr


def test_python_asking_for_another_version_rebuilds_the_venv_with_it(fake):
    assert fake.launch("test", []).returncode == 0  # a venv of Python 3.11 with the test tools
    assert fake.venv_version().startswith("3.11")

    result = fake.launch("run", ["--version"], PYTHON="python3.13")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0] == (
        f"digitgui: {fake.venv} was made with Python 3.11, but PYTHON=python3.13 is Python 3.13: "
        "rebuilding it (deleting it, then creating it again with python3.13)"
    )
    assert fake.venv_version().startswith("3.13")
    assert fake.stamp.read_text().strip() == f"{_digest()} [test]"  # the test tools stay

    for extra in ({"PYTHON": "python3.13"}, {}):  # the same version, or none asked for: kept
        result = fake.launch("run", ["--version"], **extra)
        assert result.returncode == 0 and result.stderr == ""
        assert fake.pip_runs() == [] and fake.started()[-1] == "digitgui --version"
    assert fake.venv_version().startswith("3.13")


def test_a_venv_this_launcher_did_not_set_up_is_never_deleted(fake):
    subprocess.run([str(fake.bin / "python3"), "-m", "venv", str(fake.venv)], env=fake.env())
    result = fake.launch("run", ["--version"], PYTHON="python3.13")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"digitgui: {fake.venv} was made with Python 3.11, but PYTHON=python3.13 is Python 3.13; "
        "delete it or choose another folder with DIGITGUI_VENV=..."
    ]
    assert fake.venv_version().startswith("3.11") and (fake.venv / "has-pip").exists()


def test_a_reinstall_after_a_pyproject_change_says_why_and_keeps_the_test_tools(fake):
    assert fake.launch("test", []).returncode == 0
    fake.stamp.write_text("0123456789abcdef [test]\n")  # pyproject.toml has changed since

    result = fake.launch("run", ["--version"])
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0] == (
        f"digitgui: pyproject.toml changed since {fake.venv} was set up: "
        "updating the packages installed there"
    )
    assert "first run" not in result.stderr
    (pip,) = fake.pip_runs()
    assert pip.endswith("-e .[test]")
    assert fake.stamp.read_text().strip() == f"{_digest()} [test]"

    result = fake.launch("test", ["-q"])  # ... so scripts/test installs nothing again
    assert result.returncode == 0, result.stderr
    assert fake.pip_runs() == [] and result.stderr == ""
    assert fake.started()[-1] == "python -m pytest -q"


def test_the_test_tools_are_added_to_a_venv_set_up_by_scripts_run(fake):
    assert fake.launch("run", ["--version"]).returncode == 0
    result = fake.launch("test", [])
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0] == f"digitgui: adding the test tools to {fake.venv}"
    assert fake.stamp.read_text().strip() == f"{_digest()} [test]"


def test_an_offline_install_is_explained_in_one_sentence(fake):
    result = fake.launch("run", ["--version"], FAKE_PIP="offline")
    assert result.returncode == 2
    log = fake.venv / ".digitgui-install.log"
    last = result.stderr.splitlines()[-1]
    assert last == (
        "digitgui: could not download digitgui's dependencies (no connection to the package "
        f"index, pypi.org); connect to the internet and run this again (pip's messages: {log})"
    )
    assert "ERROR" not in result.stderr and "error:" not in result.stderr
    assert "NewConnectionError" in log.read_text()  # pip's own words are kept
    assert not fake.stamp.exists()

    result = fake.launch("run", ["--version"])  # back online: installs, no rebuild
    assert result.returncode == 0, result.stderr
    assert "rebuilding" not in result.stderr and fake.started()[-1] == "digitgui --version"


@pytest.mark.skipif(shutil.which("dash") is None, reason="needs dash")
@pytest.mark.parametrize(("script", "last"), [("run", "digitgui --version"), ("test", None)])
def test_sh_starts_the_launchers_with_bash(fake, script, last):
    assert fake.launch("test", []).returncode == 0
    fake.log.unlink()
    args = ["--version"] if script == "run" else ["-q"]
    result = subprocess.run(
        ["dash", f"scripts/{script}", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=fake.env(),
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    assert fake.started()[-1] == (last or "python -m pytest -q")


@pytest.mark.skipif(shutil.which("dash") is None, reason="needs dash")
@pytest.mark.parametrize("script", ["run", "test"])
def test_sh_without_bash_says_run_it_with_bash(tmp_path, script):
    result = subprocess.run(
        [shutil.which("dash"), f"scripts/{script}", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": str(tmp_path), "HOME": str(tmp_path)},
        cwd=REPO,
    )
    assert result.returncode == 2
    assert result.stderr == (
        f"digitgui: scripts/{script} needs bash; run it with bash: bash scripts/{script}\n"
    )
