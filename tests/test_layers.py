"""Imports flow one way: io -> engine -> scoring/stats -> report -> cli; never upwards."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "fmmi_neuro"

# layer -> layers it must not import
FORBIDDEN = {
    "engine": {"io", "scoring", "stats", "report", "batch", "cli"},
    "io": {"engine", "scoring", "stats", "report", "batch", "cli"},
    "scoring": {"stats", "report", "batch", "cli"},
    "stats": {"report", "batch", "cli"},
    "report": {"batch", "cli"},
    "batch": {"cli"},
}


def _imported_layers(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    layers = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.ImportFrom) and node.level >= 2 and node.module:
            names = [f"fmmi_neuro.{node.module}"]
        for name in names:
            parts = name.split(".")
            if parts[0] == "fmmi_neuro" and len(parts) > 1:
                layers.add(parts[1])
    return layers


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_does_not_import_higher_layers(layer):
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        bad = _imported_layers(path) & FORBIDDEN[layer]
        assert not bad, f"{path.relative_to(PACKAGE)} imports higher layer(s) {sorted(bad)}"


def test_import_is_light():
    """``import fmmi_neuro`` must not pull torch or nilearn (the CLI starts fast)."""
    import subprocess
    import sys

    code = "import sys, fmmi_neuro; print('torch' in sys.modules, 'nilearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported_modules(path: Path, modules: set[str]) -> set[str]:
    """Modules of the package that ``path`` imports anywhere (also inside functions); a package named
    only as the source of its submodules (``from . import brain``) does not count."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            submodules = [f"{source}.{alias.name}" for alias in node.names]
            candidates = [m for m in submodules if m in modules] or [source]
        else:
            continue
        found.update(c for c in candidates if c in modules and c != name)
    return found


def test_no_two_modules_import_each_other_in_a_circle():
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {_module_name(p) for p in paths}
    graph = {_module_name(p): _imported_modules(p, modules) for p in paths}

    def reaches(start: str, target: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            current = todo.pop()
            if current == target:
                return True
            if current not in seen:
                seen.add(current)
                todo.extend(graph[current])
        return False

    circles = sorted(f"{a} <-> {b}" for a in graph for b in graph[a] if a < b and reaches(b, a))
    assert not circles, f"modules import each other in a circle: {circles}"
