"""The tutorial notebooks run top to bottom (small settings, FMMI_NOTEBOOK_FAST=1) and match their script."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
# modules each notebook needs; while one is missing the notebook is skipped, saying which
NEEDS = {
    "01_quickstart.ipynb": ["fmmi_neuro.simulate", "fmmi_neuro.engine.information"],
    "02_one_subject.ipynb": [
        "fmmi_neuro.io.tables",
        "fmmi_neuro.scoring.score",
        "fmmi_neuro.stats.nulls",
        "fmmi_neuro.report.brain",
    ],
    "03_cohort.ipynb": [
        "fmmi_neuro.batch.pipeline",
        "fmmi_neuro.stats.group_level",
        "fmmi_neuro.report.html",
    ],
}


def test_notebooks_are_generated_from_the_script():
    nbformat = pytest.importorskip("nbformat")
    spec = importlib.util.spec_from_file_location("make_notebooks", NOTEBOOKS / "make_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    names = {
        "01_quickstart": module.QUICKSTART,
        "02_one_subject": module.ONE_SUBJECT,
        "03_cohort": module.COHORT,
    }
    for name, cells in names.items():
        stored = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
        assert [c.source for c in stored.cells] == [c.source for c in cells], (
            f"{name}.ipynb is out of date: run python notebooks/make_notebooks.py"
        )
        assert stored.cells[0].source.startswith("# ")


@pytest.mark.parametrize("name", sorted(NEEDS))
def test_notebook_runs(name, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    missing = [m for m in NEEDS[name] if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"{name} needs {missing}, not written yet")
    monkeypatch.setenv("FMMI_NOTEBOOK_FAST", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=300,
        startup_timeout=180,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"
    ]
    assert not errors
