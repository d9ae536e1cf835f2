"""Architecture guards: the core never loads Qt; the dependency spec avoids a known crash."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement

import digitgui.core

ROOT = Path(__file__).resolve().parent.parent


def test_core_and_cli_import_no_qt():
    modules = [f"digitgui.core.{m.name}" for m in pkgutil.iter_modules(digitgui.core.__path__)]
    modules.append("digitgui.cli")
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}:\n"
        "    importlib.import_module(m)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6',"
        " 'pyqtgraph'))\n"
        "print(len(sys.modules))\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert len(modules) >= 8  # the core really was imported, module by module


def test_dependency_spec_excludes_pyside6_6_12_on_python_3_11():
    """PySide6 6.12.0 on CPython 3.11 aborts after a few hundred signal emits (see the notes)."""
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pyside = [Requirement(d) for d in deps if d.lower().startswith("pyside6")]
    assert pyside, "PySide6-Essentials must be a dependency"

    def allowed(version: str, python: str) -> bool:
        env = {"python_version": python, "python_full_version": python + ".0"}
        active = [r for r in pyside if r.marker is None or Marker(str(r.marker)).evaluate(env)]
        assert active, f"no PySide6 requirement applies on Python {python}"
        return all(r.specifier.contains(version, prereleases=True) for r in active)

    assert not allowed("6.12.0", "3.11")
    assert allowed("6.11.3", "3.11")
    assert allowed("6.12.0", "3.12")
    assert allowed("6.12.0", "3.13")
