"""``fmmi-neuro demo --dataset development_fmri``: nilearn's children/adults cohort with the Schaefer atlas.

The data (Richardson et al. 2018, movie watching, fMRIPrep-preprocessed, 2 mm MNI) are downloaded once by
:func:`nilearn.datasets.fetch_development_fmri` into the nilearn data dir; without network access (and no
local copy) this raises ``OSError`` saying so.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pandas as pd

from fmmi_neuro.batch.demo_index import DemoResult, write_index
from fmmi_neuro.batch.jobs import Job, plan_jobs
from fmmi_neuro.batch.runner import run_jobs


def _parcellate_file(
    job: Job, *, files: dict[str, tuple[str, str]], atlas: str, data_dir: Any, out_dir: str
) -> pd.DataFrame:
    from fmmi_neuro.io import load_atlas, parcellate

    img, confounds_file = files[job.subject]
    confounds = pd.read_csv(confounds_file, sep="\t", na_values=["n/a"])
    confounds = confounds.loc[:, confounds.notna().all()]  # derivative columns start with n/a
    ts = parcellate(
        img,
        load_atlas(atlas, data_dir=data_dir),
        confounds=confounds,
        detrend=True,
        standardize="zscore_sample",
        high_pass=0.01,
        low_pass=0.1,
        t_r=2.0,
        subject=job.subject,
        task="pixar",
    )
    path = ts.save(Path(out_dir))
    return pd.DataFrame({"subject": [job.subject], "path": [str(path)], "n_timepoints": [ts.n_timepoints]})


def fetch_development(n_subjects: int, data_dir: Any = None):
    """nilearn's development_fmri bunch, or ``OSError`` with what to do when it cannot be fetched."""
    from nilearn.datasets import fetch_development_fmri

    try:
        bunch = fetch_development_fmri(n_subjects=n_subjects, data_dir=data_dir, verbose=0)
    except Exception as err:
        raise OSError(
            "the development_fmri dataset could not be fetched (it needs network access the first time: "
            f"{type(err).__name__}: {err}). Run 'fmmi-neuro demo' for the offline sample, or point "
            "NILEARN_DATA at a folder that already holds it."
        ) from err
    if not bunch.func:
        raise OSError("the development_fmri fetch returned no images; check network access and NILEARN_DATA.")
    return bunch


def development_demo(
    out: Path,
    *,
    n_subjects: int = 16,
    n_jobs: int = 2,
    seed: int = 0,
    dask_scheduler: Any = None,
    progress: bool = True,
    data_dir: Any = None,
):
    """Children vs adults: parcellate (Schaefer-100) -> score triplets -> contrast -> report."""
    from fmmi_neuro.batch.pipeline import CohortSource, cohort_report, cohort_statistics, score_cohort_batch
    from fmmi_neuro.io import load_atlas

    bunch = fetch_development(n_subjects, data_dir)
    atlas = load_atlas("schaefer100", data_dir=data_dir)
    pheno = pd.DataFrame(bunch.phenotypic)
    subjects = [str(s).removeprefix("sub-") for s in pheno["participant_id"]]
    files = {s: (str(f), str(c)) for s, f, c in zip(subjects, bunch.func, bunch.confounds, strict=True)}
    tables = out / "region_tables"
    tables.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(
        {
            "participant_id": [f"sub-{s}" for s in subjects],
            "group": pheno["Child_Adult"].to_numpy(),
            "age": pheno["Age"].to_numpy(),
        }
    ).to_csv(tables / "participants.tsv", sep="\t", index=False)
    func = functools.partial(
        _parcellate_file, files=files, atlas="schaefer100", data_dir=data_dir, out_dir=str(tables)
    )
    run_jobs(
        plan_jobs(subjects, seed=seed),
        func,
        out / "parcellate_run",
        n_jobs=n_jobs,
        dask_scheduler=dask_scheduler,
        progress=progress,
        desc="parcellating subjects",
    )
    source = CohortSource("region_tables", str(tables), {"atlas": atlas.name})
    scores = score_cohort_batch(
        source,
        out / "scoring",
        size=3,
        estimator="gaussian_copula",
        null=None,
        unit="bits",
        seed=seed,
        n_jobs=n_jobs,
        dask_scheduler=dask_scheduler,
        progress=progress,
    )
    stats = cohort_statistics(scores.table, out / "stats", by="group", levels=["child", "adult"], seed=seed)
    description = (
        f"REAL data: nilearn development_fmri (Richardson et al. 2018), {scores.table['subject'].nunique()} "
        "subjects (children and adults, movie watching), Schaefer-2018 100 parcels; Gaussian-copula Omega of "
        "all triplets per subject; Welch contrast child - adult per triplet, BH-FDR across triplets."
    )
    path = cohort_report(
        scores.table,
        out / "report",
        statistics=stats,
        atlas=atlas,
        title="fmmi_neuro demo: children vs adults (nilearn development_fmri)",
        data_description=description,
        provenance={"seed": seed},
    )
    findings = {
        "development_fmri": {
            "n_subjects": int(scores.table["subject"].nunique()),
            "n_significant_contrast": int(stats.group_stats["significant"].sum()),
            "failed_subjects": scores.errors,
        }
    }
    reports = {"Children vs adults (development_fmri)": path}
    index = write_index(out, reports, findings)
    return DemoResult(out_dir=out, index=index, reports=reports, findings=findings)
