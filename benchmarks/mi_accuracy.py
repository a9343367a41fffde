"""Accuracy and cost of ``fmmi_neuro.estimate_mi`` and its peers against known truth (prints a table).

Every method runs on the same samples in the same run. Rows: ``row task n seed method truth estimate
|error| seconds cpu_seconds`` (nats); ``--summarize`` turns logs into the per-task table.

Methods (``--methods``, comma-separated):
  fmmi       fmmi_neuro.estimate_mi(x, y, seed=seed, device=..., **training) (``--training`` overrides)
  ksg        KSG algorithm 1, k = 10, max-norm (benchmarks/peers.py)
  cca        Gaussian MI from the canonical correlations of the raw data
  gc         the same after rank-to-normal (Gaussian copula)
  infonce    InfoNCE, concatenation MLP critic (bmi's defaults: 10,000 steps, batch 256)
  reference  the reference FMMI recipe (width 512, depth 3, AdamW 1e-3, batch 512, 10,000 steps, 50/50)
``--budget method.key=value`` changes a peer's budget for smoke runs (e.g. infonce.steps=200).

Tasks: any name of ``fmmi_neuro.simulate.MI_TASKS`` (bmi task ids, truth from a closed form or a stated
quadrature), or a closed-form case below. Suites (``--suite``, seeds 0, 1, 2 and n = 10,000 by default):
  bmi         the bmi benchmark v2 tasks (Czyz et al.; 21) and spiral 25 x 25
  bmi-extra   the other bmi families in MI_TASKS (1-D Gaussian, uniform margins, wiggly, half-cube,
              dense 2 x 2 / 3 x 3, sparse 3 x 3, Student-t identity, transformed sparse 5 x 5)
  acceptance  the twelve closed-form cases of the first MI acceptance check
Closed-form cases (x, y D-dimensional; truth from simulate.closed_form_mi):
  gauss-D-MI    Gaussian, MI spread over D canonical pairs, random mixing in x and y
  student-D-nuV multivariate Student-t (nu = V), D x D, identity scale
  spiral-D-MI   gauss-D-MI with whitened y through a spiral (rotation of (y_0, y_1) by |y|^2 / 2)
  indep-D       gauss-D-1 with y rows shuffled (MI 0)
  cube-D-MI, exp-D-MI, sigmoid-D-MI   x^3 and exp / sigmoid of whitened y
  shear-D-MI    whitened y through y_k += tanh(y_{k-1})

Pass rule of the summary: |mean over seeds - truth| <= max(0.1, 10 % of truth) (gauss- cases:
max(0.05, 5 %)); "no worse than the best peer": fmmi's |mean - truth| <= the smallest |mean - truth|
of the other methods in the logs.

Examples:
  python benchmarks/mi_accuracy.py --suite bmi --threads 2 > bmi.log
  python benchmarks/mi_accuracy.py --suite bmi --part 1/2 --threads 1 > bmi1.log &
  python benchmarks/mi_accuracy.py --suite bmi --part 2/2 --threads 1 > bmi2.log &
  python benchmarks/mi_accuracy.py --summarize bmi1.log,bmi2.log
  python benchmarks/mi_accuracy.py --cases 1v1-AI,gauss-5-1 --n 2000 --seeds 0 --methods ksg,cca,gc \\
      --training max_steps=200
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import platform
import shlex
import sys
import time
from collections import defaultdict

import numpy as np
import torch
from peers import PEERS

import fmmi_neuro
from fmmi_neuro import simulate

BMI_SUITE = [
    "1v1-additive-0.75",
    "asinh-student-identity-1-1-1",
    "1v1-X-0.9",
    "1v1-AI",
    "swissroll_x-normal_cdf-1v1-normal-0.75",
    "2v1-waves-12-5.0-3.0",
    "2v1-galaxy-0.5-3.0",
    "3v1-concentric_gaussians-5",
    "5v1-concentric_gaussians-5",
    "multinormal-dense-5-5-0.5",
    "multinormal-dense-25-25-0.5",
    "multinormal-dense-50-50-0.5",
    "multinormal-sparse-5-5-2-2.0",
    "multinormal-sparse-25-25-2-2.0",
    "mult-sparse-w-inliers-5-5-2-2.0-0.2",
    "mult-sparse-w-inliers-25-25-2-2.0-0.2",
    "asinh-student-identity-2-2-1",
    "asinh-student-identity-3-3-2",
    "asinh-student-identity-5-5-2",
    "spiral-multinormal-sparse-3-3-2-2.0",
    "spiral-multinormal-sparse-5-5-2-2.0",
    "spiral-multinormal-sparse-25-25-2-2.0",
]
"""bmi benchmark v2 (workflows/benchmark/v2/config.py, the tasks without '*') plus spiral 25 x 25."""

SUITES = {
    "bmi": BMI_SUITE,
    "bmi-extra": [name for name in simulate.MI_TASKS if name not in BMI_SUITE],
    "acceptance": [
        "gauss-1-0.2",
        "gauss-5-1",
        "gauss-25-10",
        "student-1-nu1",
        "student-10-nu3",
        "cube-5-1",
        "gauss-5-5",
        "gauss-25-13",
        "student-5-nu2",
        "exp-3-1",
        "sigmoid-3-2",
        "spiral-3-1",
    ],
}

METHODS = ["fmmi", *PEERS]


def _mixing(rng: np.random.Generator, d: int) -> np.ndarray:
    return np.eye(d) + 0.5 * rng.normal(size=(d, d)) / np.sqrt(d)


def _whiten(a: np.ndarray) -> np.ndarray:
    """Centre and ZCA-whiten a (n, d) with its own sample covariance."""
    centred = a - a.mean(axis=0)
    vals, vecs = np.linalg.eigh(np.cov(centred, rowvar=False, bias=True).reshape(a.shape[1], -1))
    return centred @ (vecs / np.sqrt(vals)) @ vecs.T


def _gaussian_pair(rng, n, d, mi):
    rho = math.sqrt(1 - math.exp(-2 * mi / d)) if mi > 0 else 0.0
    x0 = rng.normal(size=(n, d))
    y0 = rho * x0 + math.sqrt(1 - rho**2) * rng.normal(size=(n, d))
    a, b = _mixing(rng, d), _mixing(rng, d)
    cov = np.block([[a @ a.T, rho * a @ b.T], [rho * b @ a.T, b @ b.T]])
    return x0 @ a.T, y0 @ b.T, simulate.closed_form_mi(cov, d)


def _shear(y: np.ndarray) -> np.ndarray:
    """y_k <- y_k + tanh(y_{k-1}) for k = 1..d-1, applied in order (triangular, invertible; MI unchanged)."""
    out = y.copy()
    for k in range(1, y.shape[1]):
        out[:, k] = y[:, k] + np.tanh(out[:, k - 1])
    return out


def closed_form_case(name: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray, float]:
    """x (n, d_x), y (n, d_y) and the true MI in nats of a closed-form case (see the module docstring)."""
    rng = np.random.default_rng(seed)
    kind, *args = name.split("-")
    if kind == "gauss":
        return _gaussian_pair(rng, n, int(args[0]), float(args[1]))
    if kind == "student":
        d, nu = int(args[0]), float(args[1].removeprefix("nu"))
        z = rng.normal(size=(n, 2 * d)) / np.sqrt(rng.chisquare(nu, size=(n, 1)) / nu)
        return z[:, :d], z[:, d:], simulate.closed_form_mi(np.eye(2 * d), d, nu)
    if kind == "indep":
        x, y, _ = _gaussian_pair(rng, n, int(args[0]), 1.0)
        return x, y[rng.permutation(n)], 0.0
    if kind not in ("spiral", "cube", "exp", "sigmoid", "shear"):
        raise SystemExit(
            f"unknown task {name!r}; known: {sorted(simulate.MI_TASKS)} and the closed-form cases"
        )
    x, y, truth = _gaussian_pair(rng, n, int(args[0]), float(args[1]))
    y = _whiten(y)
    if kind == "spiral":
        return x, simulate.spiral(y, speed=0.5, planes=[(0, 1)]), truth
    if kind == "shear":
        return x, _shear(y), truth
    y = np.exp(y) if kind == "exp" else 1 / (1 + np.exp(-y)) if kind == "sigmoid" else y
    return x**3, y, truth


def make_data(name: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Samples (x, y) and the true MI (nats) of a task of simulate.MI_TASKS or a closed-form case."""
    if name in simulate.MI_TASKS:
        data = simulate.MI_TASKS[name](n, seed=seed)
        return data.x, data.y, data.mi
    return closed_form_case(name, n, seed)


def tolerance(name: str, truth: float) -> float:
    """The pass bar on |mean - truth|: max(0.05, 5 %) for gauss- cases, max(0.1, 10 %) otherwise."""
    if name.startswith("gauss-"):
        return max(0.05, 0.05 * abs(truth))
    return max(0.1, 0.1 * abs(truth))


def _estimate(method: str, x, y, seed: int, device: str, threads: int, training: dict, budget: dict) -> float:
    if method == "fmmi":
        return float(fmmi_neuro.estimate_mi(x, y, seed=seed, device=device, **training).value)
    options = dict(budget.get(method, {}))
    if method == "ksg":
        options.setdefault("workers", threads)
    if method == "reference":
        options.setdefault("device", device)
    return PEERS[method](x, y, seed, **options)


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            return next(line.split(":", 1)[1].strip() for line in handle if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def _header(args: argparse.Namespace) -> None:
    print(f"# command: python {shlex.join(sys.argv)}")
    print(
        f"# {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
        f"{_cpu_name()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
        f"{args.threads} thread(s), device {args.device}"
    )
    print(f"# fmmi training overrides {args.training_dict}; peer budgets {args.budget_dict}")
    print(
        f"# {'task':<40}{'n':>7}{'seed':>5}{'method':>11}{'truth':>9}{'estimate':>10}{'|error|':>9}"
        f"{'seconds':>9}{'cpu_s':>8}"
    )


def run(tasks: list[str], ns: list[int], seeds: list[int], methods: list[str], args) -> None:
    """One row per (seed, task, n, method), seed-major so that a run cut short holds complete seeds."""
    torch.set_num_threads(args.threads)
    _header(args)
    for seed in seeds:
        for name in tasks:
            for n in ns:
                x, y, truth = make_data(name, n, seed)
                for method in methods:
                    start, cpu_start = time.perf_counter(), time.process_time()
                    try:
                        value = _estimate(
                            method,
                            x,
                            y,
                            seed,
                            args.device,
                            args.threads,
                            args.training_dict,
                            args.budget_dict,
                        )
                    except Exception as err:  # a failed estimate is reported and the run goes on
                        print(f"# {name} n={n} seed={seed} {method} failed: {err!r}", flush=True)
                        value = float("nan")
                    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
                    print(
                        f"row {name:<40}{n:>7}{seed:>5}{method:>11}{truth:>9.4f}{value:>10.4f}"
                        f"{abs(value - truth):>9.4f}{seconds:>9.1f}{cpu:>8.1f}",
                        flush=True,
                    )


def summarize(paths: list[str]) -> None:
    """Per (task, n): mean estimate per method, fmmi's pass and whether it is no worse than the best peer."""
    values: dict[tuple[str, int], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    truths: dict[tuple[str, int], float] = {}
    order: list[tuple[str, int]] = []
    for path in paths:
        with open(path) as handle:
            for line in handle:
                if not line.startswith("row "):
                    continue
                _, name, n, _seed, method, truth, value, *_ = line.split()
                key = (name, int(n))
                if key not in truths:
                    order.append(key)
                truths[key] = float(truth)
                values[key][method].append(float(value))
    methods = [m for m in METHODS if any(m in values[key] for key in order)]
    print(
        "Mean estimate over seeds (nats). pass: |fmmi mean - truth| <= bar; best peer: smallest "
        "|mean - truth| among the other methods; fmmi <= peer: fmmi's |mean - truth| is no larger.\n"
    )
    print(
        "| task | n | seeds | truth | "
        + " | ".join(methods)
        + " | bar | fmmi pass | best peer | fmmi <= peer |"
    )
    print("|---|---|---|---|" + "---|" * len(methods) + "---|---|---|---|")
    n_pass = n_peer = n_fmmi = 0
    for key in order:
        name, n = key
        truth = truths[key]
        means = {m: float(np.mean(values[key][m])) for m in methods if values[key][m]}
        errors = {m: abs(v - truth) for m, v in means.items()}
        peers = {m: e for m, e in errors.items() if m != "fmmi"}
        best = min(peers, key=peers.get) if peers else None
        cells = " | ".join(f"{means[m]:.3f}" if m in means else "–" for m in methods)
        bar = tolerance(name, truth)
        verdict, versus = "–", "–"
        if "fmmi" in errors:
            n_fmmi += 1
            ok = errors["fmmi"] <= bar
            n_pass += ok
            verdict = "pass" if ok else "**fail**"
            if best is not None:
                no_worse = errors["fmmi"] <= peers[best]
                n_peer += no_worse
                versus = "yes" if no_worse else "**no**"
        seeds = max(len(v) for v in values[key].values())
        best_cell = f"{best} ({peers[best]:.3f})" if best else "–"
        print(
            f"| {name} | {n} | {seeds} | {truth:.3f} | {cells} | {bar:.3f} | {verdict} | {best_cell} ", end=""
        )
        print(f"| {versus} |")
    if n_fmmi:
        print(f"\nfmmi passes {n_pass} of {n_fmmi} tasks and is no worse than the best peer on {n_peer}.")


def _value(text: str) -> int | float | bool | str:
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--suite", choices=sorted(SUITES), help="a named task list (seeds 0,1,2, n 10000)")
    parser.add_argument("--cases", help="comma-separated task names (instead of --suite)")
    parser.add_argument("--part", default="1/1", help="I/K: run every K-th task of the list from the I-th")
    parser.add_argument("--n", default="10000", help="comma-separated sample sizes")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (data and estimators)")
    parser.add_argument("--methods", default=",".join(METHODS), help=f"comma-separated, of {METHODS}")
    parser.add_argument("--threads", type=int, default=2, help="torch threads and KSG tree workers")
    parser.add_argument("--device", default="cpu", help="torch device of fmmi and the reference recipe")
    parser.add_argument(
        "--training",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="estimate_mi overrides, e.g. max_steps=200",
    )
    parser.add_argument(
        "--budget",
        nargs="*",
        default=[],
        metavar="METHOD.KEY=VALUE",
        help="peer budgets, e.g. infonce.steps=200",
    )
    parser.add_argument("--summarize", help="comma-separated logs to summarise (runs nothing)")
    args = parser.parse_args()
    if args.summarize:
        summarize(args.summarize.split(","))
        return
    methods = args.methods.split(",")
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        parser.error(f"unknown method(s) {unknown}; known: {METHODS}")
    if bool(args.suite) == bool(args.cases):
        parser.error("give exactly one of --suite and --cases")
    tasks = SUITES[args.suite] if args.suite else args.cases.split(",")
    index, count = (int(v) for v in args.part.split("/"))
    args.training_dict = dict((k, _value(v)) for k, v in (item.split("=", 1) for item in args.training))
    args.budget_dict = defaultdict(dict)
    for item in args.budget:
        key, value = item.split("=", 1)
        method, option = key.split(".", 1)
        args.budget_dict[method][option] = _value(value)
    args.budget_dict = dict(args.budget_dict)
    run(
        tasks[index - 1 :: count],
        [int(v) for v in args.n.split(",")],
        [int(v) for v in args.seeds.split(",")],
        methods,
        args,
    )


if __name__ == "__main__":
    main()
