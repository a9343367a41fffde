"""O-information accuracy and cost: multi-time FMMI vs Gaussian copula on systems with closed-form truth,
and the cost of scoring all triplets of 20 real regions (batched / system-level vs one by one).

Omega = TC - DTC; Omega > 0 redundancy-dominated, Omega < 0 synergy-dominated. All values in nats.

Usage::

    python benchmarks/oinfo_accuracy.py accuracy --n 1200 10000 --seeds 1
    python benchmarks/oinfo_accuracy.py triplets --data ../shared/data/hcp7_aal2

Not a test: prints tables (and the command, date and machine) to paste into benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch
from scipy.signal import detrend

from fmmi_neuro import simulate
from fmmi_neuro.engine.batched import fmmi_group_terms
from fmmi_neuro.engine.gaussian_copula import gc_group_terms
from fmmi_neuro.engine.information import information


def _cases() -> dict[str, dict]:
    """Name -> keyword arguments of a ``fmmi_neuro.simulate`` system."""
    cases = {}
    for kind in ("redundant", "synergistic", "mixed"):
        for dim in (1, 5):
            cases[f"gauss-{kind}-d{dim}"] = {"kind": kind, "dim": dim}
    for nu in (2, 3, 5):
        cases[f"t{nu}-redundant-d1"] = {"kind": "redundant", "dim": 1, "nu": nu}
        cases[f"t{nu}-synergistic-d1"] = {"kind": "synergistic", "dim": 1, "nu": nu}
    cases["t3-mixed-d5"] = {"kind": "mixed", "dim": 5, "nu": 3}
    cases["gauss-synergistic-d1-mixedmap"] = {"kind": "synergistic", "dim": 1, "transform": "mixed"}
    cases["t3-redundant-d1-mixedmap"] = {"kind": "redundant", "dim": 1, "nu": 3, "transform": "mixed"}
    cases["t4-synergistic-d5-rot-mixedmap"] = {
        "kind": "synergistic",
        "dim": 5,
        "nu": 4,
        "transform": "mixed",
        "rotate": True,
    }
    return cases


def _header() -> None:
    print(
        f"# {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
        f"{os.cpu_count()} CPUs, torch {torch.__version__}, {torch.get_num_threads()} threads"
    )


def accuracy(ns: list[int], seeds: int, names: list[str] | None, training: dict) -> None:
    """Truth, fmmi, gaussian_copula, |error| and seconds for each closed-form case."""
    cases = _cases()
    _header()
    print(
        f"{'case':34s} {'n':>6s} {'seed':>4s} {'truth':>8s} {'fmmi':>8s} {'±se':>6s} {'gc':>8s} "
        f"{'|err| fmmi':>10s} {'|err| gc':>9s} {'s fmmi':>7s} {'s gc':>6s}",
        flush=True,
    )
    for name, spec in cases.items():
        if names and name not in names:
            continue
        spec = dict(spec)
        kind = spec.pop("kind")
        for n in ns:
            for seed in range(seeds):
                system = getattr(simulate, kind)(n, seed=seed, **spec)
                start = time.perf_counter()
                fm = information(system.samples, seed=seed, device="cpu", **training)
                t_fm = time.perf_counter() - start
                start = time.perf_counter()
                gc = information(system.samples, estimator="gaussian_copula")
                t_gc = time.perf_counter() - start
                truth = system.truth.o_info
                print(
                    f"{name:34s} {n:6d} {seed:4d} {truth:8.4f} {fm.o_info:8.4f} {fm.o_info_se:6.3f} "
                    f"{gc.o_info:8.4f} {abs(fm.o_info - truth):10.4f} {abs(gc.o_info - truth):9.4f} "
                    f"{t_fm:7.1f} {t_gc:6.2f}",
                    flush=True,
                )


def _load_regions(folder: Path, n_regions: int) -> np.ndarray:
    files = sorted(folder.glob("sub-*_timeseries.tsv"))
    if not files:
        raise SystemExit(f"no sub-*_timeseries.tsv in {folder}")
    data = detrend(np.loadtxt(files[0], delimiter="\t", skiprows=1)[:, :n_regions], axis=0)
    return data / data.std(axis=0)


def triplets(folder: Path, n_regions: int, sample_batched: int, sample_single: int) -> None:
    """Seconds for all triplets of ``n_regions`` real regions: system mode (all), batched mode and one by
    one (both timed on a sample of triplets and extrapolated)."""
    data = _load_regions(folder, n_regions)
    groups = np.array(list(itertools.combinations(range(n_regions), 3)))
    _header()
    print(
        f"data: {folder.name}, first subject, {data.shape[0]} time points, {n_regions} regions, "
        f"{len(groups)} triplets",
        flush=True,
    )
    gc = gc_group_terms(data, groups)
    start = time.perf_counter()
    system = fmmi_group_terms(data, groups, mode="system", device="cpu")
    t_system = time.perf_counter() - start
    print(
        f"system  : {t_system:8.1f} s for all {len(groups)} triplets "
        f"= {t_system / len(groups):.4f} s/triplet; "
        f"corr with gc {np.corrcoef(system['o_info'], gc['o_info'])[0, 1]:.3f}, "
        f"mean |fmmi - gc| {np.abs(system['o_info'] - gc['o_info']).mean():.4f}",
        flush=True,
    )
    rng = np.random.default_rng(0)
    pick = rng.choice(len(groups), size=sample_batched, replace=False)
    start = time.perf_counter()
    batched = fmmi_group_terms(data, groups[pick], mode="batched", device="cpu")
    t_batched = (time.perf_counter() - start) / sample_batched
    print(
        f"batched : {t_batched:8.4f} s/triplet (timed on {sample_batched}) "
        f"-> {t_batched * len(groups):8.1f} s "
        f"for all; mean |batched - system| on them "
        f"{np.abs(batched['o_info'] - system['o_info'][pick]).mean():.4f}",
        flush=True,
    )
    start = time.perf_counter()
    for g in groups[pick[:sample_single]]:
        information(data[:, g], seed=0, device="cpu")
    t_single = (time.perf_counter() - start) / sample_single
    print(
        f"one-by-one information(): {t_single:8.2f} s/triplet (timed on {sample_single}) -> "
        f"{t_single * len(groups):8.1f} s for all",
        flush=True,
    )
    print(
        f"cost ratio one-by-one / system  = {t_single / (t_system / len(groups)):.1f}x; "
        f"one-by-one / batched = {t_single / t_batched:.1f}x",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    acc = sub.add_parser("accuracy")
    acc.add_argument("--n", type=int, nargs="+", default=[1200, 10000])
    acc.add_argument("--seeds", type=int, default=1)
    acc.add_argument("--cases", nargs="*", default=None, help=f"subset of {list(_cases())}")
    acc.add_argument("--training", nargs="*", default=[], help="training overrides, e.g. max_steps=4000")
    tri = sub.add_parser("triplets")
    tri.add_argument(
        "--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/hcp7_aal2"
    )
    tri.add_argument("--regions", type=int, default=20)
    tri.add_argument("--sample-batched", type=int, default=128)
    tri.add_argument("--sample-single", type=int, default=3)
    for p in (acc, tri):
        p.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.what == "accuracy":
        training = {
            k: float(v) if "." in v or "e" in v else int(v) for k, v in (a.split("=") for a in args.training)
        }
        if training:
            print(f"# training overrides: {training}")
        accuracy(args.n, args.seeds, args.cases, training)
    else:
        triplets(args.data, args.regions, args.sample_batched, args.sample_single)


if __name__ == "__main__":
    main()
