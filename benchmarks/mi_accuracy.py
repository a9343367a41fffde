"""Accuracy and speed of ``estimate_mi`` against closed-form truth (not a test; prints a table).

Methods:
  default    estimate_mi with its defaults (Gaussian-aware field, early stopping, 2-fold cross-fitting)
  plain      the same without the Gaussian part (gaussian=False)
  reference  the reference FMMI recipe: MLP width 512, AdamW lr 1e-3 (constant), batch 512, 10,000 steps,
             one 50/50 split (train on the first half, estimate on the second), no early stopping

Cases (truth in nats from fmmi_neuro.engine.closed_form):
  gauss-D-MI    Gaussian, x and y D-dimensional, MI spread over D canonical pairs, random mixing in x, y
  student-5-nu2 multivariate Student-t (nu = 2), 5 x 5, identity scale (dependence only through the tails)
  spiral-3-1    Gaussian 3 x 3 (MI 1) with y passed through a spiral diffeomorphism (rotation by |y|^2)
  indep-5       Gaussian 5 x 5 with y rows shuffled (MI 0): the small-sample bias
  cube-D-MI, exp-D-MI, sigmoid-D-MI
                Gaussian D x D (MI) with x through x^3 and y through exp(y) / sigmoid(y) per coordinate
  shear-D-MI    Gaussian D x D (MI), y through a triangular shear y_k += tanh(y_{k-1}) (not coordinatewise)

Acceptance suite (issue 2, "How it will be checked"): 12 core tasks at n = 10,000, default settings,
seeds 0-4 by default; rows are printed seed by seed (all tasks for seed 0, then seed 1, ...) so that a run
cut short still holds complete seeds. Tolerance max(0.1 nats, 10 %), Gaussian tasks max(0.05, 5 %).
Run the two halves in parallel and summarise their logs:
  python benchmarks/mi_accuracy.py --suite acceptance --part 1 --threads 1 > acc1.log &
  python benchmarks/mi_accuracy.py --suite acceptance --part 2 --threads 1 > acc2.log &
  python benchmarks/mi_accuracy.py --summarize acc1.log,acc2.log

Example:
  python benchmarks/mi_accuracy.py --cases gauss-5-1,student-5-nu2 --n 1200,10000 --methods default,plain
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch

from fmmi_neuro.engine.closed_form import gaussian_mi, student_t_mi
from fmmi_neuro.engine.mi import estimate_mi, flow_contributions
from fmmi_neuro.engine.training import TrainingSettings, init_parameters, train_flow
from fmmi_neuro.engine.transforms import rank_to_normal, whiten
from fmmi_neuro.engine.velocity import VelocityMLP

DEFAULT_CASES = [
    "gauss-1-0.5",
    "gauss-1-2",
    "gauss-5-1",
    "gauss-5-10",
    "gauss-25-2",
    "gauss-25-10",
    "student-5-nu2",
    "spiral-3-1",
    "indep-5",
]

ACCEPTANCE_CASES = [
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
]
"""Twelve core tasks; part 1 is the first six, part 2 the last six (balanced in cost)."""


def _mixing(rng: np.random.Generator, d: int) -> np.ndarray:
    return np.eye(d) + 0.5 * rng.normal(size=(d, d)) / np.sqrt(d)


def _gaussian_pair(rng, n, d, mi):
    rho = math.sqrt(1 - math.exp(-2 * mi / d)) if mi > 0 else 0.0
    x0 = rng.normal(size=(n, d))
    y0 = rho * x0 + math.sqrt(1 - rho**2) * rng.normal(size=(n, d))
    a, b = _mixing(rng, d), _mixing(rng, d)
    cov = np.block([[a @ a.T, rho * a @ b.T], [rho * b @ a.T, b @ b.T]])
    return x0 @ a.T, y0 @ b.T, gaussian_mi(cov, d)


def _spiral(y: np.ndarray, speed: float = 0.5) -> np.ndarray:
    """Rotate the first two coordinates by an angle speed * |y|^2 (a diffeomorphism; MI unchanged)."""
    angle = speed * (y**2).sum(axis=1)
    c, s = np.cos(angle), np.sin(angle)
    out = y.copy()
    out[:, 0], out[:, 1] = c * y[:, 0] - s * y[:, 1], s * y[:, 0] + c * y[:, 1]
    return out


def _shear(y: np.ndarray) -> np.ndarray:
    """y_k <- y_k + tanh(y_{k-1}) for k = 1..d-1, applied in order (triangular, invertible; MI unchanged)."""
    out = y.copy()
    for k in range(1, y.shape[1]):
        out[:, k] = y[:, k] + np.tanh(out[:, k - 1])
    return out


def make_case(name: str, n: int, seed: int):
    """Return x (n, d_x), y (n, d_y) and the true MI in nats."""
    rng = np.random.default_rng(seed)
    kind, *args = name.split("-")
    if kind == "gauss":
        return _gaussian_pair(rng, n, int(args[0]), float(args[1]))
    if kind == "student":
        d, nu = int(args[0]), float(args[1].removeprefix("nu"))
        z = rng.normal(size=(n, 2 * d)) / np.sqrt(rng.chisquare(nu, size=(n, 1)) / nu)
        return z[:, :d], z[:, d:], student_t_mi(np.eye(2 * d), d, nu)
    if kind == "spiral":
        x, y, truth = _gaussian_pair(rng, n, int(args[0]), float(args[1]))
        return x, _spiral(whiten(y)), truth
    if kind in ("cube", "exp", "sigmoid"):
        x, y, truth = _gaussian_pair(rng, n, int(args[0]), float(args[1]))
        y = whiten(y)
        y = np.exp(y) if kind == "exp" else 1 / (1 + np.exp(-y)) if kind == "sigmoid" else y
        return x**3, y, truth
    if kind == "shear":
        x, y, truth = _gaussian_pair(rng, n, int(args[0]), float(args[1]))
        return x, _shear(whiten(y)), truth
    if kind == "indep":
        x, y, _ = _gaussian_pair(rng, n, int(args[0]), 1.0)
        return x, y[rng.permutation(n)], 0.0
    raise ValueError(f"unknown case {name!r}")


def reference(x: np.ndarray, y: np.ndarray, seed: int, max_steps: int = 10_000) -> tuple[float, int]:
    """The reference recipe on one 50/50 split; returns (estimate in nats, steps)."""
    gx, gy = rank_to_normal(x), rank_to_normal(y)
    half = x.shape[0] // 2
    gx, gy = gx - gx[:half].mean(0), gy - gy[:half].mean(0)
    settings = TrainingSettings(
        width=512,
        depth=3,
        batch_size=512,
        max_steps=max_steps,
        lr=1e-3,
        weight_decay=1e-2,
        schedule="constant",
        early_stopping=False,
        ema_window=1,
        eval_every=max_steps,
        val_repeats=1,
    )
    gen = torch.Generator().manual_seed(seed)
    net = init_parameters(VelocityMLP(y.shape[1], x.shape[1], width=512, depth=3), gen)

    def t(a):
        return torch.as_tensor(a, dtype=torch.float32)

    log = train_flow(
        net,
        t(gx[:half]),
        t(gy[:half]),
        t(gx[half - 2 : half]),
        t(gy[half - 2 : half]),
        variant="conditional",
        settings=settings,
        generator=gen,
    )
    contrib = flow_contributions(
        net, t(gx[half:]), t(gy[half:]), variant="conditional", settings=settings, generator=gen
    )
    return float(contrib.mean()), log.steps


def run(cases, ns, methods, seeds, threads, extra):
    torch.set_num_threads(threads)
    print(f"# torch {torch.__version__}, {threads} thread(s), settings overrides {extra}")
    header = (
        f"{'case':<16}{'n':>7}{'method':>11}{'seed':>5}{'truth':>9}{'estimate':>10}{'stderr':>8}"
        f"{'|error|':>9}{'steps':>7}{'seconds':>9}{'cpu_s':>8}"
    )
    print(header)
    for name in cases:
        for n in ns:
            for seed in seeds:
                x, y, truth = make_case(name, n, seed)
                for method in methods:
                    start, cpu_start = time.perf_counter(), time.process_time()
                    stderr = float("nan")
                    if method == "reference":
                        value, steps = reference(x, y, seed)
                    else:
                        res = estimate_mi(
                            x, y, seed=seed, device="cpu", gaussian=method == "default", **extra
                        )
                        value, stderr, steps = res.value, res.stderr, res.steps
                    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
                    print(
                        f"{name:<16}{n:>7}{method:>11}{seed:>5}{truth:>9.3f}{value:>10.3f}{stderr:>8.3f}"
                        f"{abs(value - truth):>9.3f}{steps:>7}{seconds:>9.1f}{cpu:>8.1f}",
                        flush=True,
                    )


def _tolerance(name: str, truth: float) -> float:
    if name.startswith("gauss-"):
        return max(0.05, 0.05 * abs(truth))
    return max(0.1, 0.1 * abs(truth))


def run_acceptance(part: str, seeds, threads, n: int = 10_000) -> None:
    """Print one ``acc`` row per (seed, task), seed-major, default settings."""
    torch.set_num_threads(threads)
    half = len(ACCEPTANCE_CASES) // 2
    cases = {"1": ACCEPTANCE_CASES[:half], "2": ACCEPTANCE_CASES[half:], "all": ACCEPTANCE_CASES}[part]
    print(f"# acceptance part {part}, torch {torch.__version__}, {threads} thread(s), n = {n}, seeds {seeds}")
    print(
        f"# {'case':<15}{'seed':>5}{'truth':>9}{'estimate':>10}{'stderr':>8}{'steps':>7}{'seconds':>9}"
        f"{'cpu_s':>8}"
    )
    for seed in seeds:
        for name in cases:
            x, y, truth = make_case(name, n, seed)
            start, cpu_start = time.perf_counter(), time.process_time()
            res = estimate_mi(x, y, seed=seed, device="cpu")
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
            print(
                f"acc {name:<15}{seed:>5}{truth:>9.4f}{res.value:>10.4f}{res.stderr:>8.4f}{res.steps:>7}"
                f"{seconds:>9.1f}{cpu:>8.1f}",
                flush=True,
            )


def summarize(paths) -> None:
    """Per-task table (mean, sd over seeds, |mean - truth|, pass) from ``acc`` rows of the given logs."""
    rows: dict[str, list] = {}
    for path in paths:
        with open(path) as fh:
            for line in fh:
                if line.startswith("acc "):
                    _, name, seed, truth, value, _se, _steps, seconds, _cpu = line.split()
                    rows.setdefault(name, []).append((int(seed), float(truth), float(value), float(seconds)))
    print("| task | seeds | truth | mean | sd | \\|mean − truth\\| | tolerance | pass | s / estimate |")
    print("|---|---|---|---|---|---|---|---|---|")
    n_pass = 0
    for name in [c for c in ACCEPTANCE_CASES if c in rows]:
        seeds, truths, values, seconds = map(np.array, zip(*rows[name], strict=True))
        truth, mean = float(truths[0]), float(values.mean())
        sd = float(values.std(ddof=1)) if len(values) > 1 else float("nan")
        err, tol = abs(mean - truth), _tolerance(name, truth)
        n_pass += err <= tol
        print(
            f"| {name} | {len(seeds)} | {truth:.3f} | {mean:.3f} | {sd:.3f} | {err:.3f} | {tol:.3f} | "
            f"{'pass' if err <= tol else '**fail**'} | {seconds.mean():.1f} |"
        )
    print(f"\n{n_pass} of {len(rows)} tasks pass")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", default=",".join(DEFAULT_CASES), help="comma-separated case names")
    parser.add_argument("--n", default="1200,10000", help="comma-separated sample sizes")
    parser.add_argument("--methods", default="default,plain,reference", help="default, plain, reference")
    parser.add_argument("--seeds", default=None, help="comma-separated seeds (default 0; suite: 0-4)")
    parser.add_argument("--suite", choices=["acceptance"], help="run a named suite instead of --cases")
    parser.add_argument("--part", choices=["1", "2", "all"], default="all", help="which half of the suite")
    parser.add_argument("--summarize", help="comma-separated suite logs to summarise (runs nothing)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a training setting of default/plain (repeatable), e.g. --set max_steps=2000",
    )
    args = parser.parse_args()
    if args.summarize:
        summarize(args.summarize.split(","))
        return
    default_seeds = "0,1,2,3,4" if args.suite else "0"
    seeds = [int(v) for v in (args.seeds or default_seeds).split(",")]
    if args.suite == "acceptance":
        run_acceptance(args.part, seeds, args.threads)
        return
    extra = {}
    for item in args.set:
        key, value = item.split("=", 1)
        extra[key] = int(value) if value.lstrip("-").isdigit() else float(value) if "." in value else value
    run(
        args.cases.split(","),
        [int(v) for v in args.n.split(",")],
        args.methods.split(","),
        seeds,
        args.threads,
        extra,
    )


if __name__ == "__main__":
    main()
