"""Calibration, power and cost of the group statistics.

Prints, for synthetic cohorts with planted synergistic (0-1-2) and redundant (3-4-5) triplets in a subset
of subjects (AR(1) BOLD-like autocorrelation, 15 regions, all 455 triplets): the planted groups' q-values
and the false positives among null groups for each group-level test; for real HCP data shuffled across
subjects (independent regions with real autocorrelation): KS uniformity and FPR of per-group surrogate
p-values; and the seconds taken by the main entry points.

Run: ``python benchmarks/stats_calibration.py [--quick]`` (needs ../shared/data for the real-data part).
Sign convention: Omega = TC - DTC; > 0 redundancy, < 0 synergy.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from scipy import stats as sps
from scipy.signal import fftconvolve, lfilter

from fmmi_neuro.scoring.designs import random_groups
from fmmi_neuro.scoring.search import search_groups
from fmmi_neuro.stats.cohort import score_cohort
from fmmi_neuro.stats.group_level import group_statistics
from fmmi_neuro.stats.nulls import surrogate_test

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def ar1(rng: np.random.Generator, n: int, k: int, phi: float) -> np.ndarray:
    e = rng.standard_normal((n + 50, k)) * np.sqrt(1 - phi**2)
    return lfilter([1.0], [1.0, -phi], e, axis=0)[50:]


def planted_subject(rng: np.random.Generator, n: int, k: int, planted: bool, phi: float) -> np.ndarray:
    x = ar1(rng, n, k, phi)
    if planted:
        source = ar1(rng, n, 1, phi)[:, 0]
        for i in (3, 4, 5):
            x[:, i] = 0.75 * source + np.sqrt(1 - 0.75**2) * x[:, i]
        x[:, 2] = 0.9 * (x[:, 0] + x[:, 1]) / np.sqrt(2) + np.sqrt(1 - 0.81) * x[:, 2]
    return x


def synthetic(quick: bool) -> None:
    print("## synthetic cohorts: planted 0-1-2 (synergy), 3-4-5 (redundancy); 15 regions, 455 triplets")
    print(
        "n_samples n_subj n_planted phi | test | q(0-1-2) q(3-4-5) | pure-null FP@q.05, p<.05 (of 84) |"
        " mixed FP@q.05, p<.05 (of 369) | seconds"
    )
    configs = [(300, 16, 10, 0.6), (600, 20, 12, 0.6), (1200, 20, 8, 0.8)]
    for n, n_subjects, n_planted, phi in configs[:1] if quick else configs:
        rng = np.random.default_rng(n)
        cohort = {f"{i:02d}": planted_subject(rng, n, 15, i < n_planted, phi) for i in range(n_subjects)}
        start = time.perf_counter()
        table = score_cohort(cohort, size=3, null="time_shift", n_surrogates=99, seed=1)
        seconds = time.perf_counter() - start
        member = score_cohort(cohort, size=3, null="member_shift", n_surrogates=99, seed=1)
        runs = [
            (table, "one_sample", 0.0),
            (table, "one_sample", "surrogate"),
            (table, "stouffer", 0.0),
            (member, "stouffer", "member_shift"),
        ]
        for scored, test, against in runs:
            g = group_statistics(scored, test=test, against=0.0 if against == "member_shift" else against)
            g = g.set_index("group_id")
            planted = g.index.isin(["0-1-2", "3-4-5"])
            pure = g["regions"].map(lambda r: min(r) >= 6).to_numpy()
            mixed = ~planted & ~pure
            print(
                f"{n} {n_subjects} {n_planted} {phi} | {test} vs {against} | "
                f"{g.loc['0-1-2', 'q_value']:.2g} {g.loc['3-4-5', 'q_value']:.2g} | "
                f"{int(g['significant'][pure].sum())}, {int((g['p_value'][pure] <= 0.05).sum())} | "
                f"{int(g['significant'][mixed].sum())}, {int((g['p_value'][mixed] <= 0.05).sum())} | "
                f"{seconds:.1f}"
            )


def null_fpr(quick: bool) -> None:
    print("## disjoint null triplets (independent AR(1)), 10 subjects x 200 groups, n=300")
    for phi in (0.6,) if quick else (0.6, 0.9):
        rng = np.random.default_rng(int(phi * 10))
        cohort = {f"{i:02d}": ar1(rng, 300, 600, phi) for i in range(10)}
        table = score_cohort(cohort, groups=np.arange(600).reshape(200, 3), n_surrogates=99, seed=2)
        sub = table["p_value"].to_numpy()
        print(
            f"phi={phi}: subject-level FPR {np.mean(sub <= 0.05):.3f} (n={sub.size}), "
            f"KS p={sps.kstest(sub, 'uniform').pvalue:.3g}"
        )
        for test in ("one_sample", "stouffer"):
            p = group_statistics(table, test=test)["p_value"].to_numpy()
            print(
                f"  {test}: FPR {np.mean(p <= 0.05):.3f} of 200, KS p={sps.kstest(p, 'uniform').pvalue:.3g}"
            )


def hrf_bold(rng: np.random.Generator, n: int, k: int, t_r: float = 0.72) -> np.ndarray:
    """White noise convolved with a double-gamma HRF (TR 0.72 s) plus a little white noise, unit variance."""
    t = np.arange(0.0, 30.0, t_r)
    h = sps.gamma.pdf(t, 6) - sps.gamma.pdf(t, 16) / 6
    x = fftconvolve(rng.standard_normal((n + 60, k)), (h / np.linalg.norm(h))[:, None], axes=0)[60 : n + 60]
    x = x + 0.3 * rng.standard_normal((n, k))
    return x / x.std(axis=0)


def hrf(quick: bool) -> None:
    print("## HRF-convolved noise (TR 0.72 s, n = 600): calibration and planted recovery")
    rng = np.random.default_rng(3)
    cohort = {f"{i:02d}": hrf_bold(rng, 600, 600) for i in range(10)}
    table = score_cohort(cohort, groups=np.arange(600).reshape(200, 3), n_surrogates=99, seed=2)
    print(f"disjoint null triplets: subject-level FPR {np.mean(table['p_value'] <= 0.05):.3f} of 2,000")
    for test in ("one_sample", "stouffer"):
        p = group_statistics(table, test=test)["p_value"].to_numpy()
        print(f"  {test}: FPR {np.mean(p <= 0.05):.3f} of 200, KS p={sps.kstest(p, 'uniform').pvalue:.3g}")
    cohort = {}
    for i in range(20):
        x = hrf_bold(rng, 600, 12)
        if i < 8:
            source = hrf_bold(rng, 600, 1)[:, 0]
            for j in (3, 4, 5):
                x[:, j] = 0.75 * source + np.sqrt(1 - 0.75**2) * x[:, j]
            x[:, 2] = 0.9 * (x[:, 0] + x[:, 1]) / np.sqrt(2) + np.sqrt(1 - 0.81) * x[:, 2]
        cohort[f"{i:02d}"] = x
    g = group_statistics(score_cohort(cohort, size=3, n_surrogates=99, seed=1)).set_index("group_id")
    pure = g["regions"].map(lambda r: min(r) >= 6).to_numpy()
    print(
        f"planted in 8 of 20 ({g['test'].iloc[0]}): q(0-1-2) {g.loc['0-1-2', 'q_value']:.2g}, "
        f"q(3-4-5) {g.loc['3-4-5', 'q_value']:.2g}; pure-null FDR hits {int(g['significant'][pure].sum())} "
        f"of {int(pure.sum())}, p<.05 {int((g['p_value'][pure] <= 0.05).sum())}"
    )


def real(quick: bool) -> None:
    folder = SHARED / "hcp7_aal2"
    if not folder.is_dir():
        print("## real data: skipped (no ../shared/data)")
        return
    from fmmi_neuro.io import Cohort

    cohort = Cohort.from_region_tables(folder, t_r=0.72)
    data = np.stack([cohort.get(s).data for s in cohort.subjects])
    print(
        "## HCP shuffled across subjects (3 regions from 3 subjects per triplet), 150 triplets, 99 surrogates"
    )
    for method in ("time_shift", "phase", "aaft"):
        for detrend in (True, False):
            p_all = []
            for rep in range(1 if quick else 3):
                rng = np.random.default_rng(rep)
                columns = []
                for _ in range(150):
                    subjects = rng.choice(7, 3, replace=False)
                    regions = rng.choice(94, 3, replace=False)
                    columns += [data[s, :, r] for s, r in zip(subjects, regions, strict=True)]
                x = np.column_stack(columns)
                table = surrogate_test(
                    x,
                    np.arange(450).reshape(150, 3),
                    method=method,
                    n_surrogates=99,
                    seed=rep,
                    detrend=detrend,
                )
                p_all.append(table["p_value"].to_numpy())
            p = np.concatenate(p_all)
            print(
                f"{method} detrend={detrend}: FPR {np.mean(p <= 0.05):.3f} of {p.size}, "
                f"KS p={sps.kstest(p, 'uniform').pvalue:.3g}"
            )

    print("## cost on HCP (7 subjects x 94 regions x 1,200 TRs)")
    start = time.perf_counter()
    table = score_cohort(cohort, size=3, null=None)
    print(
        f"score_cohort all 134,044 triplets, no null: {time.perf_counter() - start:.1f} s ({len(table)} rows)"
    )
    groups = random_groups(94, 1000, sizes=3, seed=0)[0]
    start = time.perf_counter()
    table = score_cohort(cohort, groups=groups, n_surrogates=199, seed=0)
    print(f"score_cohort 1,000 triplets x 199 time-shift surrogates: {time.perf_counter() - start:.1f} s")
    start = time.perf_counter()
    stats = group_statistics(table)
    print(
        f"group_statistics ({stats['test'].iloc[0]}): {time.perf_counter() - start:.2f} s, "
        f"{int(stats['significant'].sum())} significant of 1,000"
    )
    ts = cohort.get(cohort.subjects[0])
    for method in ("greedy", "anneal"):
        for size in (3, 6):
            start = time.perf_counter()
            found = search_groups(ts, size, method=method, target="synergy", seed=0)
            print(
                f"search {method} size {size}: {time.perf_counter() - start:.1f} s, best Omega "
                f"{found['o_info'].iloc[-1]:.3f} nats ({found['group_id'].iloc[-1]})"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one configuration per part")
    args = parser.parse_args()
    synthetic(args.quick)
    null_fpr(args.quick)
    hrf(args.quick)
    real(args.quick)


if __name__ == "__main__":
    main()
