#!/usr/bin/env python3
"""Run the test suite against the oldest version of every dependency that pyproject.toml allows
(its runtime and test requirements, each pinned to its lower bound), so that the bounds it
declares are bounds that pass.

    .venv/bin/python scripts/test_oldest.py [PYTEST ARGS]

Builds ``.venv-oldest`` with the interpreter that runs this script (needs the network the first
time), installs the pins and digitgui itself, then runs pytest offscreen with one BLAS thread.
``--pins`` only prints the pins.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".venv-oldest"


def oldest_pins() -> list[str]:
    """``name==lowest`` for every requirement that applies to this interpreter."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pins = []
    for text in [*project["dependencies"], *project["optional-dependencies"]["test"]]:
        req = Requirement(text)
        if req.marker is not None and not req.marker.evaluate():
            continue
        lows = [Version(s.version) for s in req.specifier if s.operator in (">=", "==")]
        if not lows:
            raise SystemExit(f"test_oldest: {req.name} declares no lower bound")
        pins.append(f"{req.name}=={max(lows)}")
    return pins


def main() -> int:
    args = sys.argv[1:]
    pins = oldest_pins()
    if args[:1] == ["--pins"]:
        print("\n".join(pins))
        return 0
    python = VENV / "bin" / "python"
    if not python.exists():
        venv.create(VENV, with_pip=True)
    pip = [str(python), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, *pins], check=True)
    subprocess.run([*pip, "--no-deps", "-e", str(REPO)], check=True)
    installed = subprocess.run(
        [str(python), "-m", "pip", "freeze"], check=True, capture_output=True, text=True
    ).stdout
    print("test_oldest: installed\n" + installed, flush=True)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", OPENBLAS_NUM_THREADS="1")
    return subprocess.run([str(python), "-m", "pytest", *args], cwd=REPO, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
