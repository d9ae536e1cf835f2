"""Desktop identity (issue 13 item 9): the app's icon and desktop file name, and
scripts/install_desktop_entry, which writes a .desktop entry and the icon only when asked."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from digitgui.core.model_io import resource_path

REPO = Path(__file__).resolve().parent.parent
INSTALL = REPO / "scripts" / "install_desktop_entry"

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


def test_the_icon_is_shipped_as_svg_and_a_256_px_png():
    svg = resource_path("digitgui.svg")
    png = resource_path("digitgui.png")
    assert svg.parent == png.parent == resource_path("default_model.npz").parent
    root = ET.parse(svg).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("viewBox") == "0 0 256 256"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = (int.from_bytes(png.read_bytes()[16 + 4 * k : 20 + 4 * k]) for k in (0, 1))
    assert (width, height) == (256, 256)
    assert svg.stat().st_size < 8_000 and png.stat().st_size < 16_000  # small files


def test_the_app_has_its_icon_and_desktop_file_name(tmp_path):
    """In a fresh process: the QApplication that create_app makes."""
    code = textwrap.dedent(
        """
        from PySide6.QtWidgets import QWidget
        from digitgui.gui.app import create_app

        app = create_app()
        icon = app.windowIcon()
        print(app.desktopFileName())
        print(app.arguments()[0])
        print(not icon.isNull(), max(s.width() for s in icon.availableSizes()))
        print(not QWidget().windowIcon().isNull())
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QT_", "DISPLAY", "WAYLAND"))}
    env.update(QT_QPA_PLATFORM="offscreen", DIGITGUI_SETTINGS=str(tmp_path / "settings.ini"))
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:4] == ["digitgui", "digitgui", "True 256", "True"]


def install(tmp_path: Path, *args: str, script: Path = INSTALL, **extra: str):
    env = {k: v for k, v in os.environ.items() if k not in ("XDG_DATA_HOME", "DIGITGUI_VENV")}
    env["HOME"] = str(tmp_path / "home")
    env.update(extra)
    return subprocess.run(
        ["bash", str(script), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=tmp_path,
    )


def _entry(path: Path) -> dict[str, str]:
    lines = path.read_text().splitlines()
    assert lines[0] == "[Desktop Entry]"
    return dict(line.split("=", 1) for line in lines[1:])


def test_the_desktop_entry_is_written_where_xdg_data_home_says_and_removed(tmp_path):
    data = tmp_path / "data"
    result = install(tmp_path, XDG_DATA_HOME=str(data))
    assert result.returncode == 0, result.stderr
    entry = data / "applications" / "digitgui.desktop"
    svg = data / "icons" / "hicolor" / "scalable" / "apps" / "digitgui.svg"
    png = data / "icons" / "hicolor" / "256x256" / "apps" / "digitgui.png"
    run = REPO / "scripts" / "run"
    assert result.stdout.splitlines()[:3] == [
        f"digitgui: wrote {entry} (it starts {run})",
        f"digitgui: wrote {svg}",
        f"digitgui: wrote {png}",
    ]
    assert svg.read_bytes() == resource_path("digitgui.svg").read_bytes()
    assert png.read_bytes() == resource_path("digitgui.png").read_bytes()
    keys = _entry(entry)
    if " " not in str(run):
        assert keys["Exec"] == str(run)
    assert keys["TryExec"] == str(run)
    assert keys["Icon"] == "digitgui"  # the icon's name, found in the hicolor theme
    assert keys["StartupWMClass"] == "digitgui"  # the app's desktop file name and window class
    assert keys["Type"] == "Application" and keys["Name"] == "digitgui"
    assert keys["Terminal"] == "false"
    assert not (tmp_path / "home" / ".local").exists()  # nothing outside XDG_DATA_HOME

    result = install(tmp_path, "--uninstall", XDG_DATA_HOME=str(data))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"digitgui: removed {p}" for p in (entry, svg, png)]
    assert not entry.exists() and not svg.exists() and not png.exists()
    result = install(tmp_path, "--uninstall", XDG_DATA_HOME=str(data))
    assert result.returncode == 0
    assert result.stdout == f"digitgui: no desktop entry installed (nothing at {entry})\n"


@pytest.mark.parametrize("xdg", [None, "", "relative/data"])
def test_without_a_usable_xdg_data_home_it_goes_to_local_share(tmp_path, xdg):
    extra = {} if xdg is None else {"XDG_DATA_HOME": xdg}
    result = install(tmp_path, **extra)
    assert result.returncode == 0, result.stderr
    share = tmp_path / "home" / ".local" / "share"
    assert (share / "applications" / "digitgui.desktop").is_file()
    assert (share / "icons" / "hicolor" / "256x256" / "apps" / "digitgui.png").is_file()
    assert not (tmp_path / "relative").exists()


def test_a_checkout_path_with_spaces_and_dollars_is_quoted_in_exec(tmp_path):
    checkout = tmp_path / 'my "digits" $HOME 100%'
    (checkout / "scripts").mkdir(parents=True)
    shutil.copy(INSTALL, checkout / "scripts")
    icons = shutil.ignore_patterns("*.npz", "*.md")
    shutil.copytree(REPO / "resources", checkout / "resources", ignore=icons)
    data = tmp_path / "data"
    result = install(tmp_path, script=checkout / "scripts" / INSTALL.name, XDG_DATA_HOME=str(data))
    assert result.returncode == 0, result.stderr
    keys = _entry(data / "applications" / "digitgui.desktop")
    # The Desktop Entry Specification: quoted, \" \` \$ \\ escaped inside, every \ then doubled
    # as a string value, % written %%.
    quoted = str(checkout / "scripts" / "run").replace('"', '\\\\"').replace("$", "\\\\$")
    assert keys["Exec"] == '"' + quoted.replace("%", "%%") + '"'
    assert keys["TryExec"] == str(checkout / "scripts" / "run")


def test_a_chosen_venv_is_passed_on_by_the_entry(tmp_path):
    data = tmp_path / "data"
    result = install(tmp_path, XDG_DATA_HOME=str(data), DIGITGUI_VENV="venvs/digitgui")
    assert result.returncode == 0, result.stderr
    keys = _entry(data / "applications" / "digitgui.desktop")
    venv = tmp_path / "venvs" / "digitgui"  # a relative path is taken from where it ran
    assert keys["Exec"].startswith("env ") and f"DIGITGUI_VENV={venv}" in keys["Exec"]
    assert "has not installed digitgui yet" in result.stdout


@pytest.mark.parametrize("args", [["--bogus"], ["--uninstall", "extra"]])
def test_a_bad_argument_gets_the_usage_and_exit_2(tmp_path, args):
    data = tmp_path / "data"
    result = install(tmp_path, *args, XDG_DATA_HOME=str(data))
    assert result.returncode == 2
    assert result.stderr.startswith("usage: scripts/install_desktop_entry [--uninstall]")
    assert not data.exists()


@pytest.mark.skipif(shutil.which("dash") is None, reason="needs dash")
def test_it_runs_under_sh_too(tmp_path):
    data = tmp_path / "data"
    result = subprocess.run(
        ["dash", str(INSTALL)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "XDG_DATA_HOME": str(data)},
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert (data / "applications" / "digitgui.desktop").is_file()


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils")
def test_the_entry_passes_desktop_file_validate(tmp_path):
    data = tmp_path / "data"
    assert install(tmp_path, XDG_DATA_HOME=str(data)).returncode == 0
    entry = data / "applications" / "digitgui.desktop"
    result = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout == "", result.stdout
