"""Peak memory of scoring every group of an atlas, streamed to Parquet: flat in the number of groups.

Each configuration runs in a fresh Python process that streams ``fn.iter_score_groups`` into
``fn.save_table`` (chunks written as they come) and reports its peak resident set size (``ru_maxrss``),
so one configuration's memory does not carry into the next.

Data: the 94 AAL2 regions of one HCP subject (``../shared/data/hcp7_aal2``); larger atlases are synthetic
Gaussian series (timing and memory only), see ``fmmi_throughput.load_regions``.

Usage::

    python benchmarks/scoring_memory.py                       # the default table
    python benchmarks/scoring_memory.py --only gc:400      # one configuration: estimator:regions[:groups]
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

CONFIGS = ["gc:94", "gc:200", "gc:400", "fmmi:94:2000", "fmmi:94:8000"]
CHILD = """
import itertools, json, resource, sys, time
import numpy as np, torch
sys.path.insert(0, {bench!r})
import fmmi_neuro as fn
from fmmi_throughput import load_regions
estimator, regions, groups = {estimator!r}, {regions}, {groups}
torch.set_num_threads({threads})
data, source = load_regions(regions, 1200)
triplets = itertools.combinations(range(regions), 3)
chosen = None if groups is None else np.array(list(itertools.islice(triplets, groups)))
start = time.perf_counter()
chunks = fn.iter_score_groups(data, groups=chosen, size=3, estimator=estimator, device="cpu")
path = fn.save_table(chunks, {out!r})
seconds = time.perf_counter() - start
n_rows = fn.load_table(path).shape[0] if estimator == "fmmi" else None
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
print(json.dumps({{"seconds": seconds, "peak_gb": peak, "source": source, "rows": n_rows}}))
"""


def run(config: str, threads: int) -> dict:
    parts = config.split(":")
    estimator, regions = {"gc": "gaussian_copula"}.get(parts[0], parts[0]), int(parts[1])
    groups = int(parts[2]) if len(parts) > 2 else None
    with tempfile.TemporaryDirectory() as folder:
        out = str(Path(folder) / "scores.parquet")
        code = CHILD.format(
            bench=str(Path(__file__).resolve().parent),
            estimator=estimator,
            regions=regions,
            groups=groups,
            threads=threads,
            out=out,
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result["file_mb"] = Path(out).stat().st_size / 2**20
    n_groups = groups if groups is not None else regions * (regions - 1) * (regions - 2) // 6
    return {"estimator": estimator, "regions": regions, "groups": n_groups, **result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=CONFIGS, help="estimator:regions[:groups] (triplets)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    print(f"# {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.node()}, {' '.join(sys.argv)}")
    print("| estimator | regions | triplets | seconds | peak memory (GB) | Parquet (MB) | data |")
    print("|---|---|---|---|---|---|---|")
    for config in args.only:
        r = run(config, args.threads)
        print(
            f"| {r['estimator']} | {r['regions']} | {r['groups']:,} | {r['seconds']:.1f} "
            f"| {r['peak_gb']:.2f} "
            f"| {r['file_mb']:.0f} | {r['source']} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
