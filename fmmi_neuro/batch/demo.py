"""The offline demo: the whole pipeline (load -> score -> stats -> report) in about 20 s on 2 CPU cores.

``dataset="sample"`` (default, no network needed) runs two parts:

1. **Real data**: one resting-state run shipped with the package (``fmmi_neuro/data/brainfc_rest01``, from
   BrainFC 0.5.1, Apache-2.0; Schaefer-2018 100 parcels, 150 volumes, TR 2 s). Its signals are denoised
   with their confounds, every triplet of the 100 regions is scored with the Gaussian copula, and a random
   sample of 300 triplets is tested against 999 circular time-shift surrogates (enough for BH-FDR to reach
   q < 0.05; the report states the smallest attainable q whenever it is above). Report:
   ``real_rest01/report.html``.
2. **SYNTHETIC cohort** (generated at run time from ``seed``, clearly labelled): subjects of two groups with
   BOLD-like autocorrelated signals, a planted redundant triplet in every subject and a planted
   synergistic triplet in group "B" only. It runs as a batch (one job per subject, resumable), then group
   statistics (two-group contrast B - A, FDR across groups) and a report:
   ``synthetic_cohort/report.html``.

``dataset="development_fmri"`` uses nilearn's children/adults movie-watching cohort with the Schaefer
atlas (network access needed once to download it).

Sign convention: O-information Omega = TC - DTC; Omega > 0 redundancy, Omega < 0 synergy.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fmmi_neuro._validation import check_in, check_positive_int
from fmmi_neuro.batch.demo_index import DemoResult, write_index

DATASETS = ("sample", "development_fmri")
SAMPLE_MOTION = [f"motion_matrix_{i}{j}" for i in range(3) for j in range(3)] + [
    f"motion_offset_{a}" for a in "xyz"
]
PLANTED_REDUNDANT = (0, 1, 2)
PLANTED_SYNERGISTIC = (3, 4, 5)


def sample_dir() -> Path:
    """Folder of the shipped real sample (``fmmi_neuro/data/brainfc_rest01``, Apache-2.0, see its NOTICE)."""
    return Path(str(resources.files("fmmi_neuro") / "data" / "brainfc_rest01"))


def load_sample(*, clean: bool = True):
    """The shipped real resting-state run as a ``RegionTimeSeries`` (150 volumes x 100 Schaefer regions).

    Parameters
    ----------
    clean : bool
        Denoise as BrainFC documents for this sample: drop 5 initial volumes, regress 12 motion terms,
        white-matter and CSF means, detrend, band-pass 0.01-0.08 Hz, z-score.
    """
    from fmmi_neuro.io import clean_region_signals, load_region_table

    folder = sample_dir()
    ts = load_region_table(
        folder / "timeseries.tsv",
        regions=folder / "rois.tsv",
        t_r=2.0,
        subject="rest01",
        task="rest",
        atlas="Schaefer2018_100Parcels_7Networks",
    )
    if not clean:
        return ts
    return clean_region_signals(
        ts,
        confounds=folder / "confounds.tsv",
        confound_columns=[*SAMPLE_MOTION, "csf", "white_matter"],
        sample_mask=np.arange(5, ts.n_timepoints),
        detrend=True,
        standardize="zscore_sample",
        high_pass=0.01,
        low_pass=0.08,
    )


def _ar1(rng: np.random.Generator, n: int, k: int, phi: float) -> np.ndarray:
    """k independent unit-variance AR(1) series of length n (BOLD-like autocorrelation)."""
    e = rng.standard_normal((n + 50, k)) * np.sqrt(1 - phi**2)
    x = np.empty_like(e)
    x[0] = rng.standard_normal(k)
    for t in range(1, len(e)):
        x[t] = phi * x[t - 1] + e[t]
    return x[50:]


def make_synthetic_cohort(
    folder: str | os.PathLike,
    *,
    n_subjects: int = 16,
    n_regions: int = 12,
    n_timepoints: int = 300,
    phi: float = 0.5,
    seed: int = 0,
) -> Path:
    """Write a SYNTHETIC cohort with planted effects as region tables plus ``participants.tsv``.

    Half the subjects are in group "A", half in "B". Every subject has a redundant triplet (regions 0, 1,
    2: a shared source plus noise, Omega > 0); group B also has a synergistic triplet (regions 3, 4, 5:
    x5 = x3 + x4 + noise, Omega < 0), which in group A is independent noise. Every signal is AR(1) with
    coefficient ``phi`` (TR 2 s). Regions borrow the names, networks and MNI centroids of evenly spaced
    Schaefer-100 parcels, for display only: the signals are simulated.

    Returns
    -------
    Path
        The folder (``sub-<id>_..._timeseries.tsv`` + JSON sidecars, ``participants.tsv``, ``README.md``).
    """
    from fmmi_neuro.io import RegionTimeSeries

    n_subjects = check_positive_int(n_subjects, "n_subjects", minimum=4)
    n_regions = check_positive_int(n_regions, "n_regions", minimum=6)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rois = pd.read_csv(sample_dir() / "rois.tsv", sep="\t")
    pick = np.linspace(0, len(rois) - 1, n_regions).round().astype(int)
    names = [f"SYNTH_{n.removeprefix('7Networks_')}" for n in rois["name"].iloc[pick]]
    rows = []
    for i in range(n_subjects):
        subject = f"synth{i + 1:02d}"
        group = "A" if i < n_subjects // 2 else "B"
        rng = np.random.default_rng([seed, i])
        x = _ar1(rng, n_timepoints, n_regions, phi)
        shared = _ar1(rng, n_timepoints, 1, phi)[:, 0]
        for r in PLANTED_REDUNDANT:
            x[:, r] = shared + 0.6 * x[:, r]
        if group == "B":
            a, b, c = PLANTED_SYNERGISTIC
            x[:, c] = x[:, a] + x[:, b] + 0.5 * x[:, c]
        ts = RegionTimeSeries(
            x,
            names,
            networks=list(rois["network"].iloc[pick]),
            coordinates=rois[["x", "y", "z"]].to_numpy(float)[pick],
            t_r=2.0,
            subject=subject,
            task="synthetic",
            atlas="synthetic (region names and centroids borrowed from Schaefer-100)",
            preprocessing={"synthetic": True, "seed": seed, "group": group},
        )
        ts.save(folder)
        rows.append({"participant_id": f"sub-{subject}", "group": group, "synthetic": True})
    pd.DataFrame(rows).to_csv(folder / "participants.tsv", sep="\t", index=False)
    (folder / "README.md").write_text(
        "# SYNTHETIC cohort (not real data)\n\n"
        f"Generated by fmmi_neuro.batch.demo.make_synthetic_cohort(seed={seed}). AR(1) signals (phi={phi}), "
        f"{n_subjects} subjects in groups A/B, {n_regions} regions x {n_timepoints} volumes.\n"
        f"Planted: redundant triplet {PLANTED_REDUNDANT} in all subjects (Omega > 0); synergistic triplet "
        f"{PLANTED_SYNERGISTIC} in group B only (Omega < 0). Region names/centroids are borrowed from "
        "Schaefer-100 for display.\n"
    )
    return folder


def _group_id(regions: tuple[int, ...]) -> str:
    return "-".join(map(str, sorted(regions)))


def _real_part(
    out: Path, *, seed: int, n_tested: int, n_surrogates: int, progress: bool
) -> tuple[Path, dict]:
    from fmmi_neuro.report import report
    from fmmi_neuro.scoring.score import score_groups
    from fmmi_neuro.stats.multitest import fdr_floor
    from fmmi_neuro.stats.nulls import surrogate_test
    from fmmi_neuro.stats.tables import save_table

    ts = load_sample()
    scores = score_groups(ts, size=3, estimator="gaussian_copula", unit="bits", progress=progress)
    save_table(scores, out / "scores_all_triplets.parquet")
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(len(scores), size=min(n_tested, len(scores)), replace=False))
    groups = np.array([scores["regions"].iloc[i] for i in pick], dtype=np.int64)
    tested = surrogate_test(
        ts,
        groups,
        method="time_shift",
        n_surrogates=n_surrogates,
        unit="bits",
        seed=seed,
        region_names=ts.region_names,
    )
    save_table(tested, out / "surrogate_test.parquet")
    description = (
        "REAL data: one resting-state run (BrainFC 0.5.1 sample 'rest01', Apache-2.0), Schaefer-2018 100 "
        f"parcels / 7 networks, TR 2 s; {ts.n_timepoints} volumes after dropping 5 and denoising (12 motion "
        "terms, WM, CSF, detrend, 0.01-0.08 Hz, z-score). Gaussian-copula O-information of all "
        f"{len(scores):,} triplets; {len(groups)} random triplets tested against {n_surrogates} circular "
        "time-shift surrogates (BH-FDR). Omega = TC - DTC; > 0 redundancy, < 0 synergy."
    )
    path = report(
        tested,
        out,
        atlas=ts.atlas,
        coordinates=ts.coordinates,
        region_names=ts.region_names,
        networks=ts.networks,
        title="fmmi_neuro demo: one real resting-state run (Schaefer-100)",
        data_description=description,
        provenance={
            "seed": seed,
            "command": "fmmi-neuro demo",
            "groups scored": f"{len(scores):,} (every triplet of the {ts.n_regions} regions)",
        },
        formats=("png",),
        maps=("glass",),
    )
    floor = fdr_floor(tested["p_value"].to_numpy(), n_surrogates)
    findings = {
        "n_triplets": len(scores),
        "fraction_synergistic": float((scores["o_info"] < 0).mean()),
        "n_tested": len(groups),
        "n_surrogates": n_surrogates,
        "smallest_possible_p": floor.smallest_p,
        "smallest_attainable_q": floor.smallest_q,
        "n_significant": int(tested["significant"].sum()),
    }
    return path, findings


def _synthetic_part(
    out: Path,
    *,
    seed: int,
    n_subjects: int,
    n_surrogates: int,
    n_jobs: int,
    dask_scheduler: Any,
    progress: bool,
) -> tuple[Path, dict]:
    from fmmi_neuro.batch.pipeline import CohortSource, cohort_report, cohort_statistics, score_cohort_batch

    data = make_synthetic_cohort(out / "data_SYNTHETIC", n_subjects=n_subjects, seed=seed)
    source = CohortSource("region_tables", str(data))
    scores = score_cohort_batch(
        source,
        out / "run",
        size=3,
        estimator="gaussian_copula",
        null="time_shift",
        n_surrogates=n_surrogates,
        unit="bits",
        seed=seed,
        n_jobs=n_jobs,
        dask_scheduler=dask_scheduler,
        progress=progress,
    )
    stats = cohort_statistics(scores.table, out, by="group", levels=["B", "A"], seed=seed)
    one_sample = cohort_statistics(scores.table, out / "one_sample", test="stouffer", seed=seed)
    description = (
        "SYNTHETIC cohort (simulated signals, not real data): "
        f"{scores.table['subject'].nunique()} subjects in groups A and B, 12 regions x 300 volumes, AR(1) "
        f"signals. Planted: redundant triplet {_group_id(PLANTED_REDUNDANT)} in all subjects, synergistic "
        f"triplet {_group_id(PLANTED_SYNERGISTIC)} in group B only. Per-subject Gaussian-copula Omega with "
        f"{n_surrogates} time-shift surrogates; two-group contrast B - A across subjects, BH-FDR over groups."
    )
    first = source.get(source.cohort().subjects[0])
    path = cohort_report(
        scores.table,
        out,
        statistics=stats,
        coordinates=first.coordinates,
        atlas=first.atlas,
        title="fmmi_neuro demo: SYNTHETIC cohort with planted effects",
        data_description=description,
        provenance={"seed": seed, "synthetic": True},
    )
    contrast = stats.group_stats.set_index("group_id")
    within = one_sample.group_stats.set_index("group_id")
    red, syn = _group_id(PLANTED_REDUNDANT), _group_id(PLANTED_SYNERGISTIC)
    planted = {red, syn}
    findings = {
        "planted_redundant": red,
        "planted_synergistic": syn,
        "redundant_q_all_subjects": float(within.loc[red, "q_value"]),
        "redundant_estimate": float(within.loc[red, "estimate"]),
        "synergistic_contrast_q": float(contrast.loc[syn, "q_value"]),
        "synergistic_contrast_estimate": float(contrast.loc[syn, "estimate"]),
        "null_groups_significant_contrast": int(
            contrast.loc[[g for g in contrast.index if g not in planted], "significant"].sum()
        ),
        "n_groups": len(contrast),
        "failed_subjects": scores.errors,
    }
    return path, findings


def demo(
    out_dir: str | os.PathLike = "fmmi_neuro_results/demo",
    *,
    dataset: str = "sample",
    n_jobs: int = 2,
    seed: int = 0,
    n_subjects: int = 16,
    n_surrogates: int = 999,
    cohort_surrogates: int = 99,
    n_tested: int = 300,
    dask_scheduler: Any = None,
    progress: bool = True,
) -> DemoResult:
    """Run the demo pipeline and write its reports; see the module docstring for what it does.

    Parameters
    ----------
    out_dir : path
        Output folder (created). Rerunning resumes the batch part.
    dataset : {"sample", "development_fmri"}
        ``"sample"``: the shipped real run plus a SYNTHETIC cohort (offline). ``"development_fmri"``:
        nilearn's children/adults cohort (downloads once; fails with a clear message offline).
    n_jobs : int
        Local worker processes for the cohort part.
    seed : int
        Fixes the synthetic cohort, the surrogates and the sampled triplets.
    n_subjects : int
        Subjects of the synthetic cohort (or of development_fmri).
    n_surrogates : int
        Time-shift surrogates of the real run. With ``n_tested`` tests, BH-FDR can only reach q <= 0.05 when
        enough groups lie beyond every surrogate: the default 999 (smallest two-sided p 0.002) lets 300
        tests do so; the report states the smallest attainable q whenever it exceeds 0.05.
    cohort_surrogates : int
        Time-shift surrogates per subject of the cohort part (their mid-rank quantiles feed the Stouffer
        test, which has no such floor).
    n_tested : int
        Triplets of the real run tested against surrogates.
    dask_scheduler : str, optional
        Run the cohort part on a Dask cluster.
    progress : bool
        Progress bars.

    Returns
    -------
    DemoResult
    """
    check_in(dataset, DATASETS, "dataset")
    out = Path(out_dir).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    if dataset == "development_fmri":
        from fmmi_neuro.batch.development import development_demo

        return development_demo(
            out,
            n_subjects=n_subjects,
            n_jobs=n_jobs,
            seed=seed,
            dask_scheduler=dask_scheduler,
            progress=progress,
        )
    real_path, real = _real_part(
        out / "real_rest01", seed=seed, n_tested=n_tested, n_surrogates=n_surrogates, progress=progress
    )
    synth_path, synth = _synthetic_part(
        out / "synthetic_cohort",
        seed=seed,
        n_subjects=n_subjects,
        n_surrogates=cohort_surrogates,
        n_jobs=n_jobs,
        dask_scheduler=dask_scheduler,
        progress=progress,
    )
    reports = {
        "Real resting-state run (BrainFC rest01)": real_path,
        "SYNTHETIC cohort with planted effects": synth_path,
    }
    findings = {"real_rest01": real, "synthetic_cohort": synth}
    index = write_index(out, reports, findings)
    return DemoResult(out_dir=out, index=index, reports=reports, findings=findings)
