"""The wheel carries the shipped resources inside the package."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_contains_the_default_model(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (wheel,) = tmp_path.glob("digitgui-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        assert "digitgui/resources/default_model.npz" in names
        shipped = zf.read("digitgui/resources/default_model.npz")
        assert "digitgui/resources/pendigits.npz" in names
        packed = zf.read("digitgui/resources/pendigits.npz")
    assert shipped == (ROOT / "resources" / "default_model.npz").read_bytes()
    assert packed == (ROOT / "resources" / "pendigits.npz").read_bytes()
    assert "digitgui/core/mlp.py" in names and "digitgui/cli/__init__.py" in names
    assert not any(n.startswith("tests/") for n in names)
