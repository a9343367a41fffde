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
