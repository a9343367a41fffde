"""Cohort throughput of the batch runner: 1 vs 2 local worker processes, gaussian_copula path.

A cohort of N subjects is made from the 7 real HCP subjects of ../shared/data/hcp7_aal2 (94 AAL2 regions x
1,200 volumes), replicated with new subject labels (copy k of a subject is circularly shifted by k*37
volumes, so no two jobs see the same array). Each job loads one subject, detrends and z-scores it, and
scores every triplet (134,044) with the Gaussian copula (no surrogates). The same jobs run with
``LocalExecutor(1)`` and ``LocalExecutor(2)``, each into a fresh run folder, and the tables are checked
to be identical.

Usage::

    python benchmarks/cohort_throughput.py --subjects 14 [--data ../shared/data/hcp7_aal2]
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from fmmi_neuro.batch import LocalExecutor
from fmmi_neuro.batch.jobs import plan_jobs
from fmmi_neuro.batch.pipeline import CohortSource, score_subject_job
from fmmi_neuro.batch.runner import run_jobs


def make_cohort(data: Path, folder: Path, n_subjects: int) -> list[str]:
    files = sorted(data.glob("sub-*_timeseries.tsv"))
    shutil.copy(data / "regions.tsv", folder / "regions.tsv")
    subjects = []
    for i in range(n_subjects):
        src = files[i % len(files)]
        copy = i // len(files)
        label = src.name.split("_")[0].removeprefix("sub-") + f"c{copy}"
        table = pd.read_csv(src, sep="\t")
        table = pd.DataFrame(np.roll(table.to_numpy(), copy * 37, axis=0), columns=table.columns)
        table.to_csv(folder / f"sub-{label}_task-rest_timeseries.tsv", sep="\t", index=False)
        subjects.append(label)
    return subjects


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).resolve().parents[2] / "shared" / "data" / "hcp7_aal2"
    parser.add_argument("--data", type=Path, default=default)
    parser.add_argument("--subjects", type=int, default=14)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="fmmi_throughput_"))
    try:
        cohort = work / "cohort"
        cohort.mkdir()
        subjects = make_cohort(args.data, cohort, args.subjects)
        source = CohortSource(
            "region_tables",
            str(cohort),
            {"t_r": 0.72},
            clean={"detrend": True, "standardize": "zscore_sample"},
        )
        func = functools.partial(
            score_subject_job,
            source=source,
            groups=None,
            size=3,
            estimator="gaussian_copula",
            null=None,
            n_surrogates=0,
            unit="nats",
            alpha=0.05,
            estimator_kwargs={},
        )
        jobs = plan_jobs(subjects, seed=0)
        print(
            f"cohort: {len(subjects)} subjects x 94 regions x 1200 volumes; 134,044 triplets per subject; "
            f"{os.cpu_count()} CPUs"
        )
        times, tables = {}, {}
        for n in args.workers:
            start = time.perf_counter()
            res = run_jobs(jobs, func, work / f"run_{n}", executor=LocalExecutor(n), progress=False)
            times[n] = time.perf_counter() - start
            assert res.ok, res.errors
            tables[n] = res.results()
            print(
                f"{n} worker(s): {times[n]:.1f} s wall, {len(subjects) / times[n]:.2f} subjects/s, "
                f"job time total {res.summary['job_seconds_total']:.1f} s"
            )
        first = args.workers[0]
        for n in args.workers[1:]:
            pd.testing.assert_frame_equal(tables[first], tables[n], check_exact=True)
            print(f"speed-up {n} vs {first} worker(s): {times[first] / times[n]:.2f}x (identical tables)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
