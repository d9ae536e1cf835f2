"""House rules checked by machine: which part of digitgui may import which.

The core (``digitgui.core``) runs without Qt and without the app around it: it imports neither
PySide6, shiboken6 nor pyqtgraph, nor ``digitgui.gui`` or ``digitgui.cli``. The GUI does not
import the command line. Read from the source (every ``import`` statement, also those inside
functions, plus ``importlib.import_module``/``__import__`` calls with a literal name), so an
import that only runs on some code path is caught too. test_layers.py imports the core in a
subprocess and checks what actually got loaded.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "digitgui"

QT = ("PySide6", "shiboken6", "pyqtgraph")
FORBIDDEN = {
    "digitgui.core": (*QT, "digitgui.gui", "digitgui.cli"),
    "digitgui.gui": ("digitgui.cli",),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(tree: ast.AST, module: str, is_package: bool):
    """``(line, name)`` for every module an import in ``tree`` may load, relative imports
    resolved against ``module``; ``from a import b`` yields both ``a`` and ``a.b`` (``b`` may be
    a submodule)."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                if node.module:
                    base.append(node.module)
                source = ".".join(base)
            else:
                source = node.module or ""
            yield node.lineno, source
            for alias in node.names:
                if alias.name != "*":
                    yield node.lineno, f"{source}.{alias.name}"
        elif isinstance(node, ast.Call) and _calls_import(node):
            yield node.lineno, node.args[0].value


def _calls_import(call: ast.Call) -> bool:
    """``importlib.import_module("name")``, ``import_module("name")`` or ``__import__("name")``."""
    func = call.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    return (
        name in ("import_module", "__import__")
        and bool(call.args)
        and isinstance(call.args[0], ast.Constant)
        and isinstance(call.args[0].value, str)
    )


def violations(path: Path, source: str, layer: str) -> list[str]:
    """``file:line: imports X`` for every line of ``source`` with an import ``layer`` forbids."""
    tree = ast.parse(source, filename=str(path))
    found: dict[int, str] = {}
    for line, name in imported_names(tree, module_name(path), path.name == "__init__.py"):
        banned = any(name == b or name.startswith(b + ".") for b in FORBIDDEN[layer])
        if banned and line not in found:
            found[line] = f"{path.relative_to(ROOT)}:{line}: imports {name}"
    return [found[line] for line in sorted(found)]


def files_of(layer: str) -> list[Path]:
    return sorted((ROOT / Path(*layer.split("."))).rglob("*.py"))


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_only_what_it_may(layer):
    files = files_of(layer)
    assert len(files) >= 10, f"found only {len(files)} files under {layer}"
    found = [v for f in files for v in violations(f, f.read_text(encoding="utf-8"), layer)]
    assert not found, f"{layer} may not import {', '.join(FORBIDDEN[layer])}:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import PySide6.QtCore", "PySide6.QtCore"),
        ("from pyqtgraph import PlotWidget", "pyqtgraph"),
        ("def f():\n    if True:\n        from ..gui import app", "digitgui.gui"),
        ("from .. import cli", "digitgui.cli"),
        ("from digitgui import gui", "digitgui.gui"),
        ("import importlib\nimportlib.import_module('shiboken6')", "shiboken6"),
    ],
)
def test_checker_catches_a_core_violation(source, expected):
    path = PACKAGE / "core" / "example.py"
    found = violations(path, source, "digitgui.core")
    assert found and expected in found[0], found
    assert found[0].startswith(str(Path("digitgui", "core", "example.py")) + ":")


def test_checker_allows_what_the_core_may_import():
    source = "import numpy\nfrom . import mlp\nfrom .mlp import MLP\nfrom digitgui.core import io\n"
    assert violations(PACKAGE / "core" / "example.py", source, "digitgui.core") == []


def test_checker_catches_the_gui_importing_the_cli():
    path = PACKAGE / "gui" / "insight" / "example.py"
    found = violations(path, "def f():\n    from ...cli import main\n", "digitgui.gui")
    assert found == [f"{Path('digitgui', 'gui', 'insight', 'example.py')}:2: imports digitgui.cli"]
