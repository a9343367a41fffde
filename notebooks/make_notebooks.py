"""Write the tutorial notebooks (run: python notebooks/make_notebooks.py).

The notebooks are generated, so edit them here. Each reads FMMI_NOTEBOOK_FAST=1 (set by
tests/test_notebooks.py) to run with small settings in CI.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
FAST = 'import os\n\nFAST = os.environ.get("FMMI_NOTEBOOK_FAST") == "1"  # small settings (CI)'

QUICKSTART = [
    new_markdown_cell(
        "# Quickstart: O-information on systems with a known answer\n\n"
        "We simulate two small systems whose information terms are known in closed form — a **redundant** "
        "triplet (three noisy copies of one source) and a **synergistic** one (the third variable is the sum "
        "of the other two) — and estimate total correlation (TC), dual total correlation (DTC) and "
        "O-information with the fast Gaussian-copula estimator and the neural FMMI estimator.\n\n"
        "Sign convention: **Ω = TC − DTC; Ω > 0 redundancy, Ω < 0 synergy**. Values in nats."
    ),
    new_code_cell(FAST),
    new_code_cell(
        "import pandas as pd\n\n"
        "import fmmi_neuro as fn\n"
        "from fmmi_neuro import simulate\n\n"
        "n = 1000 if FAST else 5000\n"
        "systems = {\n"
        '    "redundant": simulate.redundant(n, n_vars=3, seed=0),\n'
        '    "synergistic": simulate.synergistic(n, n_vars=3, seed=0),\n'
        "}\n"
        "{name: round(s.truth.o_info, 3) for name, s in systems.items()}"
    ),
    new_markdown_cell(
        "`information` takes one array per variable (or one column per variable). The Gaussian copula is "
        "closed-form and instant; FMMI trains a small flow-matching network (seconds on a CPU)."
    ),
    new_code_cell(
        'training = {"max_steps": 200, "min_steps": 100} if FAST else {}\n'
        "rows = []\n"
        "for name, system in systems.items():\n"
        '    gc = fn.information(system.samples, estimator="gaussian_copula")\n'
        '    nn = fn.information(system.samples, estimator="fmmi", seed=0, device="auto", **training)\n'
        '    rows.append({"system": name, "truth": system.truth.o_info, "gaussian_copula": gc.o_info,\n'
        '                 "fmmi": nn.o_info, "fmmi_stderr": nn.o_info_se})\n'
        'table = pd.DataFrame(rows).set_index("system")\n'
        "table"
    ),
    new_code_cell(
        'assert table.loc["redundant", "gaussian_copula"] > 0 > table.loc["synergistic", "gaussian_copula"]\n'
        "table.round(3)"
    ),
    new_markdown_cell(
        "Both estimators recover the sign and size of Ω. On non-Gaussian data (e.g. "
        "`simulate.redundant(..., nu=2)`, a Student-t system) the copula is blind to part of the "
        "dependence and FMMI is the estimator to use."
    ),
]

ONE_SUBJECT = [
    new_markdown_cell(
        "# One subject: region time series → scores → brain maps\n\n"
        "We load one **real** resting-state run shipped with the package (BrainFC 0.5.1 sample `rest01`, "
        "Apache-2.0: 150 volumes, Schaefer-2018 100 parcels, TR 2 s), denoise it with its confounds, score "
        "every triplet of regions with the Gaussian copula, test a sample of triplets against circular "
        "time-shift surrogates, and draw the result on the brain. With your own fMRIPrep data, "
        '`fmmi_neuro.parcellate(img, atlas, confounds_strategy="simple")` gives the same kind of object.\n\n'
        "**Ω = TC − DTC; Ω > 0 redundancy (red), Ω < 0 synergy (blue).**"
    ),
    new_code_cell(FAST),
    new_code_cell(
        "import numpy as np\n\n"
        "import fmmi_neuro as fn\n"
        "from fmmi_neuro.batch import load_sample\n\n"
        "ts = load_sample()  # cleaned: motion + WM/CSF regressed, detrended, 0.01-0.08 Hz, z-scored\n"
        "ts"
    ),
    new_code_cell(
        "regions = ts if not FAST else ts.select(list(range(0, 100, 3)))  # fewer regions in CI\n"
        'scores = fn.score_groups(regions, size=3, estimator="gaussian_copula", unit="bits")\n'
        'print(len(scores), "triplets;", f"{(scores[\'o_info\'] < 0).mean():.0%} synergy-dominated")\n'
        'scores.sort_values("o_info").head()'
    ),
    new_code_cell(
        "rng = np.random.default_rng(0)\n"
        "pick = rng.choice(len(scores), size=50 if FAST else 300, replace=False)\n"
        'groups = np.array(scores["regions"].iloc[np.sort(pick)].tolist())\n'
        'tested = fn.surrogate_test(regions, groups, method="time_shift", n_surrogates=19 if FAST else 199,\n'
        '                           unit="bits", seed=0, region_names=regions.region_names)\n'
        'tested[["region_names", "o_info", "null_mean", "p_value", "q_value"]].head()'
    ),
    new_code_cell(
        "from fmmi_neuro.report.brain import plot_region_markers\n"
        "from fmmi_neuro.report.summaries import region_mean\n\n"
        "mean_omega = region_mean(scores, regions.n_regions)  # mean Ω of each region's triplets\n"
        'fig = plot_region_markers(mean_omega, regions.coordinates, unit="bits", atlas=regions.atlas,\n'
        '                          title="mean Ω of each region\'s triplets")'
    ),
]

COHORT = [
    new_markdown_cell(
        "# A cohort: batch scoring → group statistics → report\n\n"
        "We generate a small **SYNTHETIC** cohort (simulated signals, not real data) with planted effects: a "
        "redundant triplet in every subject and a synergistic triplet only in group B. The batch runner scores "
        "every subject as its own job (resumable: rerun the cell and finished subjects are skipped; a bad "
        "subject is recorded and the others finish), then we test every triplet across subjects (B − A, "
        'FDR across triplets) and write the HTML report. `dask_scheduler="tcp://..."` runs the same jobs '
        "on a Dask cluster.\n\n"
        "**Ω = TC − DTC; Ω > 0 redundancy, Ω < 0 synergy.**"
    ),
    new_code_cell(FAST),
    new_code_cell(
        "import tempfile\n"
        "from pathlib import Path\n\n"
        "from fmmi_neuro.batch import (cohort_report, cohort_statistics, make_synthetic_cohort,\n"
        "                              score_cohort_batch)\n\n"
        'work = Path(tempfile.mkdtemp(prefix="fmmi_cohort_"))\n'
        'data = make_synthetic_cohort(work / "data_SYNTHETIC", n_subjects=8 if FAST else 20, seed=0)\n'
        "sorted(p.name for p in data.iterdir())[:4]"
    ),
    new_code_cell(
        'scores = score_cohort_batch(data, work / "run", size=3, estimator="gaussian_copula",\n'
        '                            null="time_shift", n_surrogates=19 if FAST else 99, unit="bits",\n'
        "                            seed=0, n_jobs=1 if FAST else 2)\n"
        "scores.run.summary"
    ),
    new_code_cell(
        'stats = cohort_statistics(scores.table, work / "stats", by="group", levels=["B", "A"])\n'
        'top = stats.group_stats.sort_values("q_value").head(5)\n'
        'top[["group_id", "region_names", "estimate", "q_value", "significant"]]'
    ),
    new_code_cell(
        'assert top.iloc[0]["group_id"] == "3-4-5"  # the planted synergistic triplet (B only)\n'
        'path = cohort_report(scores.table, work / "report", statistics=stats,\n'
        '                     title="SYNTHETIC cohort with planted effects")\n'
        'print("report:", path)'
    ),
]


def write() -> list[Path]:
    """Write the three notebooks next to this script; return their paths."""
    out = []
    for name, cells in (
        ("01_quickstart", QUICKSTART),
        ("02_one_subject", ONE_SUBJECT),
        ("03_cohort", COHORT),
    ):
        nb = new_notebook(cells=cells)
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        path = HERE / f"{name}.ipynb"
        nbformat.write(nb, path)
        out.append(path)
    return out


if __name__ == "__main__":
    for p in write():
        print(p)
