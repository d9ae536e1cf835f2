"""The wheel and sdist: the shipped resources inside the package, the licence, the metadata.

They are built with the hatchling installed in this venv (the test tools bring it), calling its
build hooks directly: no isolated build environment, so nothing is downloaded and the tests pass
offline once the venv is set up.
"""

from __future__ import annotations

import email
import importlib.metadata
import os
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

import digitgui

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]

BUILD = """
import sys
import hatchling.build as backend
print(backend.build_wheel(sys.argv[1]))
print(backend.build_sdist(sys.argv[1]))
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    """(wheel, sdist), built from the checkout without a network."""
    try:
        import hatchling  # noqa: F401
    except ImportError:
        pytest.skip("hatchling is not in this venv (scripts/test installs it with the test tools)")
    out = tmp_path_factory.mktemp("dist")
    env = dict(os.environ)
    # Should anything try the network, it gets nowhere.
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        env[name] = "http://127.0.0.1:9"
    env["PIP_NO_INDEX"] = "1"
    result = subprocess.run(
        [sys.executable, "-c", BUILD, str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    wheel_name, sdist_name = result.stdout.split()
    return out / wheel_name, out / sdist_name


def _wheel_metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as zf:
        (name,) = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA")]
        return email.message_from_bytes(zf.read(name))


def test_wheel_contains_the_shipped_resources(built):
    wheel, _ = built
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        for name in ("default_model.npz", "pendigits.npz", "digitgui.svg", "digitgui.png"):
            assert f"digitgui/resources/{name}" in names
            assert zf.read(f"digitgui/resources/{name}") == (ROOT / "resources" / name).read_bytes()
    assert "digitgui/core/mlp.py" in names and "digitgui/cli/__init__.py" in names
    assert not any(n.startswith(("tests/", "scripts/")) for n in names)


def test_the_licence_is_in_the_repository_the_wheel_and_the_sdist(built):
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n")
    assert "Copyright (c) " in text and " the digitgui authors\n" in text
    assert PROJECT["license"] == "MIT"
    wheel, sdist = built
    with zipfile.ZipFile(wheel) as zf:
        (licence,) = [n for n in zf.namelist() if n.endswith(".dist-info/licenses/LICENSE")]
        assert zf.read(licence).decode() == text
    with tarfile.open(sdist) as tf:
        member = tf.extractfile(f"{sdist.name.removesuffix('.tar.gz')}/LICENSE")
        assert member is not None and member.read().decode() == text
    meta = _wheel_metadata(wheel)
    assert meta["License-Expression"] == "MIT"
    assert meta["License-File"] == "LICENSE"


def test_the_version_is_written_once(built):
    assert "version" not in PROJECT and "version" in PROJECT["dynamic"]
    assert PYPROJECT["tool"]["hatch"]["version"]["path"] == "digitgui/__init__.py"
    wheel, sdist = built
    assert _wheel_metadata(wheel)["Version"] == digitgui.__version__
    assert wheel.name.startswith(f"digitgui-{digitgui.__version__}-")
    assert sdist.name == f"digitgui-{digitgui.__version__}.tar.gz"


def test_the_metadata_names_the_pythons_it_supports(built):
    classifiers = _wheel_metadata(built[0]).get_all("Classifier")
    supported = [c for c in classifiers if c.startswith("Programming Language :: Python :: 3.")]
    assert supported == [f"Programming Language :: Python :: 3.{n}" for n in (11, 12, 13)]
    assert PROJECT["requires-python"] == ">=3.11"


def _test_tool(name: str) -> Requirement:
    requirements = [Requirement(r) for r in PROJECT["optional-dependencies"]["test"]]
    (found,) = [r for r in requirements if r.name == name]
    return found


def test_the_lint_tool_is_pinned_to_the_version_installed():
    (spec,) = _test_tool("ruff").specifier
    assert spec.operator == "=="
    assert spec.version == importlib.metadata.version("ruff")


@pytest.mark.parametrize(
    ("name", "lowest"),
    [
        ("pytest-qt", "4.5"),  # 4.4.0 fails GUI tests (a RuntimeWarning on signal disconnects)
        ("pytest", "8.0"),
        ("pytest-timeout", "2.3.1"),  # 2.3.0 was never published
        ("hatchling", "1.24"),
    ],
)
def test_the_test_tools_lower_bounds_are_ones_that_pass(name, lowest):
    (spec,) = _test_tool(name).specifier
    assert spec.operator == ">=" and Version(spec.version) >= Version(lowest)
    assert Version(importlib.metadata.version(name)) in _test_tool(name).specifier


def test_a_model_prints_in_one_line():
    from digitgui.core.model_io import load_default

    model = load_default()
    text = repr(model)
    assert "\n" not in text and len(text) < 120
    assert text == f"<DigitClassifier {model.description}>"
    assert text.startswith("<DigitClassifier 64-")
    assert "\n" not in str(model.member(0))
