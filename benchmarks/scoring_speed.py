"""Group scoring speed: all triplets of 20 and 94 real regions, ours (Gaussian copula, fmmi) vs thoi and hoi.

Real data: one HCP subject of ``../shared/data/hcp7_aal2`` (1,200 time points, 94 AAL2 regions), linearly
detrended and standardised. For each number of regions the script times, in the same process:

- ``gc kernel``: our ``gc_group_terms`` over every triplet, streamed in chunks (no table);
- ``gc table``: ``score_groups(estimator="gaussian_copula")``, the full tidy DataFrame;
- ``thoi``: ``thoi.measures.gaussian_copula.multi_order_measures(X, 3, 3)`` (its DataFrame);
- ``hoi``: ``hoi.metrics.Oinfo(X).fit(3, 3, method="gc")`` (first call includes JAX compilation);

thoi and hoi are benchmark-only dependencies (``pip install thoi hoi``); missing ones are skipped with a
message. Each timing is the best and the median of ``--repeats`` runs; the O-information of every triplet
is also compared across libraries (max absolute difference, nats). Omega = TC - DTC; > 0 redundancy,
< 0 synergy.

Usage::

    python benchmarks/scoring_speed.py [--threads 1] [--repeats 3] [--regions 20 94]

FMMI's throughput is measured by ``benchmarks/fmmi_throughput.py``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "hcp7_aal2"


def _limit_threads(threads: int) -> None:
    """Give every library the same number of CPU threads (set before numpy/torch/jax load)."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    os.environ["XLA_FLAGS"] = (
        f"--xla_cpu_multi_thread_eigen={'true' if threads > 1 else 'false'} "
        f"intra_op_parallelism_threads={threads}"
    )
    os.environ.setdefault("JAX_PLATFORMS", "cpu")


def _load(path: Path):
    import numpy as np
    import pandas as pd
    from scipy.signal import detrend

    frame = pd.read_csv(path, sep="\t")
    x = detrend(frame.to_numpy(dtype=np.float64), axis=0)
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    return pd.DataFrame(x, columns=frame.columns)


def _time(fn, repeats: int):
    seconds, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        seconds.append(time.perf_counter() - start)
    return seconds, result


def _ours_kernel(x):
    import numpy as np

    from fmmi_neuro.engine.gaussian.copula import copula_covariance, gc_group_terms_from_cov
    from fmmi_neuro.scoring.groups import iter_all_groups

    cov = copula_covariance(x)
    omegas = [
        gc_group_terms_from_cov(cov, chunk, x.shape[0])["o_info"]
        for chunk in iter_all_groups(x.shape[1], 3, chunk_size=65_536)
    ]
    return np.concatenate(omegas)


def _thoi(x):
    import numpy as np
    from thoi.measures.gaussian_copula import multi_order_measures

    table = multi_order_measures(np.array(x), min_order=3, max_order=3)
    members = table[[f"var_{j}" for j in range(x.shape[1])]].to_numpy().astype(bool)
    keys = ["-".join(map(str, np.flatnonzero(row))) for row in members]
    return dict(zip(keys, table["o"].to_numpy(), strict=True))


def _hoi(x):
    from hoi.metrics import Oinfo

    model = Oinfo(x, verbose=False)
    values = model.fit(minsize=3, maxsize=3, method="gc")
    keys = ["-".join(map(str, row[row >= 0])) for row in model.multiplets]
    return dict(zip(keys, values[:, 0], strict=True))


def _row(n_regions: int, n_groups: int, method: str, seconds: list[float], diff: str = "") -> None:
    best, median = min(seconds), statistics.median(seconds)
    cells = [
        str(n_regions),
        str(n_groups),
        method,
        f"{best:.3f}",
        f"{median:.3f}",
        f"{n_groups / best:,.1f}",
        diff,
    ]
    print("| " + " | ".join(cells) + " |")
    sys.stdout.flush()


def _compare(ours_table, theirs: dict, scale: float = 1.0) -> float:
    import numpy as np

    values = np.array([theirs[g] for g in ours_table["group_id"]]) * scale
    return float(np.max(np.abs(values - ours_table["o_info"].to_numpy())))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--regions", type=int, nargs="+", default=[20, 94])
    parser.add_argument("--subject", default="sub-101309")
    args = parser.parse_args(argv)
    _limit_threads(args.threads)

    import numpy as np

    from fmmi_neuro import score_groups

    path = DATA / f"{args.subject}_task-rest_run-REST1LR_timeseries.tsv"
    if not path.is_file():
        sys.exit(f"real data {path} not found (needs ../shared/data/hcp7_aal2).")
    frame = _load(path)
    print(f"# group scoring speed, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC")
    print(f"# machine: {platform.node()} {platform.machine()}, {os.cpu_count()} CPUs, threads={args.threads}")
    print(f"# data: {path.name}, {frame.shape[0]} time points, detrended + standardised; Omega in nats")
    print("| regions | triplets | method | best s | median s | groups/s (best) | max abs diff vs ours |")
    print("|---|---|---|---|---|---|---|")

    for n_regions in args.regions:
        sub = frame.iloc[:, :n_regions]
        x = sub.to_numpy()
        n_trip = n_regions * (n_regions - 1) * (n_regions - 2) // 6

        seconds, kernel_omega = _time(lambda x=x: _ours_kernel(x), args.repeats)
        _row(n_regions, n_trip, "ours gc kernel (streamed, no table)", seconds)
        seconds, table = _time(lambda sub=sub: score_groups(sub, estimator="gaussian_copula"), args.repeats)
        _row(
            n_regions,
            n_trip,
            "ours gc score_groups (DataFrame)",
            seconds,
            f"{np.max(np.abs(kernel_omega - table['o_info'])):.1e}",
        )
        try:
            import thoi  # noqa: F401
        except ImportError:
            print(f"| {n_regions} | {n_trip} | thoi | skipped: not installed (pip install thoi) | | | |")
        else:
            seconds, theirs = _time(lambda x=x: _thoi(x), args.repeats)
            _row(n_regions, n_trip, "thoi multi_order_measures", seconds, f"{_compare(table, theirs):.1e}")
        try:
            import hoi  # noqa: F401
        except ImportError:
            print(f"| {n_regions} | {n_trip} | hoi | skipped: not installed (pip install hoi) | | | |")
        else:
            first, theirs = _time(lambda x=x: _hoi(x), 1)
            _row(n_regions, n_trip, "hoi Oinfo gc, first call (with JIT)", first)
            seconds, theirs = _time(lambda x=x: _hoi(x), args.repeats)
            _row(
                n_regions,
                n_trip,
                "hoi Oinfo gc, later calls",
                seconds,
                f"{_compare(table, theirs, scale=np.log(2)):.1e}",
            )


if __name__ == "__main__":
    main()
