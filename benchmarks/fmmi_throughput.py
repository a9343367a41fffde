"""FMMI cost model: training vs per-group evaluation, the public ``score_groups`` path beside the engine.

For each configuration (regions R, group size k, time points n) the script, in one process:

1. fits ``MultiTimeFMMI(group_size=k)`` on the first R regions of one real HCP subject (1,200 TRs, AAL2,
   ``../shared/data/hcp7_aal2``, detrended and standardised; rows cut to n) and times the training;
2. times ``score`` on ``--groups`` groups (all of them with ``--all``): groups per second of evaluation;
3. with ``--public``, times ``score_groups(..., estimator="fmmi")`` on the same groups (fit + score + the
   tidy table), so any overhead of the public path shows as the difference;
4. reports peak memory: the process's peak resident set (CPU) or ``torch.cuda.max_memory_allocated`` (GPU).

With ``--two-stage TOP_K N_CONTROL`` it times ``two_stage_score`` instead (every group screened by the
copula, FMMI on the ``TOP_K`` most synergistic, the ``TOP_K`` most redundant and ``N_CONTROL`` random
groups) and prints the agreement of the two stages.

Regions beyond the 94 of the HCP data (``--regions 200``) are synthetic: Gaussian series with the
covariance of a random 200-region factor model, labelled as such (timing only).

Usage::

    python benchmarks/fmmi_throughput.py --regions 20 --sizes 3 --all --public      # 1,140 triplets
    python benchmarks/fmmi_throughput.py --regions 94 --sizes 3 4 5 --groups 2000   # cost model
    python benchmarks/fmmi_throughput.py --device cuda --regions 94 --all           # every triplet
    python benchmarks/fmmi_throughput.py --regions 94 --two-stage 450 100           # 1,000 groups refined
"""

from __future__ import annotations

import argparse
import platform
import resource
import time
from datetime import datetime, timezone
from math import comb
from pathlib import Path

import numpy as np
import torch

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "hcp7_aal2"


def load_regions(n_regions: int, n_samples: int, seed: int = 0) -> tuple[np.ndarray, str]:
    """(n_samples, n_regions) standardised series and a description of where they come from."""
    from scipy.signal import detrend

    files = sorted(DATA.glob("sub-*_timeseries.tsv"))
    if n_regions <= 94 and files:
        x = np.loadtxt(files[0], delimiter="\t", skiprows=1)[:n_samples, :n_regions]
        source = f"HCP {files[0].name.split('_')[0]}, first {n_regions} AAL2 regions"
    else:
        rng = np.random.default_rng(seed)
        loadings = rng.standard_normal((n_regions, 20)) / np.sqrt(20)
        x = rng.standard_normal((n_samples, 20)) @ loadings.T + rng.standard_normal((n_samples, n_regions))
        source = f"synthetic Gaussian factor model, {n_regions} regions (timing only)"
    x = detrend(x, axis=0)
    return (x - x.mean(axis=0)) / x.std(axis=0), source


def peak_memory_gb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def pick_groups(n_regions: int, size: int, n_groups: int | None, seed: int) -> np.ndarray | None:
    """``n_groups`` distinct random groups (sorted rows), or None for every group."""
    if n_groups is None or n_groups >= comb(n_regions, size):
        return None
    rng = np.random.default_rng(seed)
    chosen: set[tuple[int, ...]] = set()
    while len(chosen) < n_groups:
        chosen.add(tuple(sorted(rng.choice(n_regions, size, replace=False).tolist())))
    return np.array(sorted(chosen))


def _header(args: argparse.Namespace) -> None:
    print(
        f"# {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
        f"{platform.processor() or platform.machine()}"
    )
    print(
        f"# torch {torch.__version__}, device {args.device}, {args.threads} CPU thread(s); "
        f"options {args.options}"
    )


def run_two_stage(args: argparse.Namespace) -> None:
    """Time ``two_stage_score`` (copula over every group, FMMI on the extremes and controls)."""
    from fmmi_neuro import two_stage_score

    top_k, n_control = args.two_stage
    print("| regions | k | n | screened | refined | seconds | Spearman (gc vs fmmi) | sign flips | peak GB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n_regions in args.regions:
        data, _ = load_regions(n_regions, args.n)
        for size in args.sizes:
            start = time.perf_counter()
            table = two_stage_score(
                data,
                size=size,
                top_k=top_k,
                n_control=n_control,
                seed=args.seed,
                device=args.device,
                **args.options,
            )
            seconds = time.perf_counter() - start
            rho = table.attrs["spearman_gc_vs_refined"]
            print(
                f"| {n_regions} | {size} | {args.n} | {table.attrs['n_screened']:,} | {len(table):,} "
                f"| {seconds:.1f} | {rho:.3f} | {table.attrs['n_sign_flips']} "
                f"| {peak_memory_gb(torch.device(args.device)):.2f} |",
                flush=True,
            )


def run(args: argparse.Namespace) -> None:
    from fmmi_neuro import score_groups
    from fmmi_neuro.engine.fmmi import MultiTimeFMMI

    device = torch.device(args.device)
    print("| regions | k | n | groups | fit s | steps | score s | groups/s | public s | peak GB | data |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for n_regions in args.regions:
        data, source = load_regions(n_regions, args.n)
        for size in args.sizes:
            groups = None if args.all else pick_groups(n_regions, size, args.groups, args.seed)
            n_groups = comb(n_regions, size) if groups is None else len(groups)
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats(device)
            start = time.perf_counter()
            est = MultiTimeFMMI(group_size=size, device=args.device, seed=args.seed, **args.options).fit(data)
            fit_s = time.perf_counter() - start
            start = time.perf_counter()
            for _ in est.iter_scores(groups, progress=args.progress):
                pass
            score_s = time.perf_counter() - start
            public = ""
            if args.public:
                start = time.perf_counter()
                score_groups(
                    data,
                    groups=groups,
                    size=size,
                    estimator="fmmi",
                    device=args.device,
                    seed=args.seed,
                    **args.options,
                )
                public = f"{time.perf_counter() - start:.1f}"
            steps = "+".join(str(f.report.steps) for f in est.folds_)
            print(
                f"| {n_regions} | {size} | {args.n} | {n_groups} | {fit_s:.1f} | {steps} | {score_s:.1f} | "
                f"{n_groups / score_s:,.0f} | {public} | {peak_memory_gb(device):.2f} | {source} |",
                flush=True,
            )


def _option(text: str) -> tuple[str, int | float | str]:
    key, value = text.split("=", 1)
    for kind in (int, float):
        try:
            return key, kind(value)
        except ValueError:
            pass
    return key, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regions", type=int, nargs="+", default=[20])
    parser.add_argument("--sizes", type=int, nargs="+", default=[3])
    parser.add_argument("--n", type=int, default=1200, help="time points")
    parser.add_argument("--groups", type=int, default=1000, help="groups scored (random, seeded)")
    parser.add_argument("--all", action="store_true", help="score every group")
    parser.add_argument("--public", action="store_true", help="also time score_groups on the same groups")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--progress", action="store_true")
    parser.add_argument("--option", action="append", default=[], help="FMMI option key=value (repeatable)")
    parser.add_argument(
        "--two-stage", type=int, nargs=2, metavar=("TOP_K", "N_CONTROL"), help="time two_stage_score instead"
    )
    args = parser.parse_args()
    args.options = dict(_option(text) for text in args.option)
    torch.set_num_threads(args.threads)
    _header(args)
    run_two_stage(args) if args.two_stage else run(args)


if __name__ == "__main__":
    main()
