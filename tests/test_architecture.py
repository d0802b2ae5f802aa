"""The shape of the package (docs/architecture.md): no import cycles, a Qt-free core, no torch at napari start-up.

Imports are read from the source (module level and inside functions alike), so a lazy import that closes a
cycle counts as one too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "self_vision"
GUI = ("napari", "qtpy", "PyQt5", "PyQt6", "PySide2", "PySide6", "magicgui", "superqt", "vispy")
#: The most lines a module may have (split by purpose beyond it).
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted((SRC / PACKAGE).rglob("*.py"))}


def imports(path: Path, name: str, known: dict[str, Path] | None = None) -> set[str]:
    """Every module ``path`` imports (absolute names), at any depth of the file.

    ``from package import module`` imports the module, not (for this graph) the package's ``__init__``.
    """
    known = known or {}
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                found.add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in known else target)
    return found


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: {m for m in imports(path, name, known) if m in known and m != name} for name, path in known.items()}


def test_no_import_cycles() -> None:
    edges = graph()
    # packages import their children implicitly: an ``__init__`` importing nothing heavy is not an edge back
    cycles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_core_imports_no_gui() -> None:
    offenders = {
        name: sorted(m for m in imports(path, name) if m.split(".")[0] in GUI)
        for name, path in modules().items()
        if name.startswith(f"{PACKAGE}.core") or name in (f"{PACKAGE}.api", f"{PACKAGE}.defaults")
    }
    assert not {k: v for k, v in offenders.items() if v}


def test_modules_stay_small() -> None:
    big = {name: n for name, path in modules().items() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert not big, f"modules over {MAX_LINES} lines (split them by purpose): {big}"


@pytest.mark.parametrize("module", [PACKAGE, f"{PACKAGE}.defaults", f"{PACKAGE}.cli", f"{PACKAGE}._napari.widget"])
def test_importing_does_not_load_torch(module: str) -> None:
    """napari imports the package and builds the dock at start-up; torch must wait for the first run."""
    if module.endswith("widget"):
        pytest.importorskip("qtpy")
    code = f"import sys, {module}; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
