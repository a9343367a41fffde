"""Learning curves of the residual: the held-out correction -E[div r_theta] against training steps.

For each task the estimator is fitted with ``fit(..., on_validation=...)``: at every validation of every
fold, with the weights being validated, the script records the validation loss and the correction the
field would add on that fold's held-out rows (the MI path for MI tasks, the diagonal-identity Omega for
O-information systems), next to the correction the truth asks for (truth minus the closed-form Gaussian
part). It prints one table row per validation and draws one panel per task (``--plot``).

Usage::

    python benchmarks/learning_curves.py --tasks 1v1-AI spiral-multinormal-sparse-5-5-2-2.0 \\
        --n 10000 --plot benchmarks/figures/learning_curves.png
    python benchmarks/learning_curves.py --tasks g-mix-6x5-spiral --n 1200 --option max_steps=4000

Tasks: names of ``fmmi_neuro.simulate.MI_TASKS`` (MI, conditional path) or of the O-information systems of
``benchmarks/oinfo_accuracy.py`` (``sweep`` and ``nonlinear`` suites).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

from fmmi_neuro import simulate
from fmmi_neuro.engine.fmmi import MultiTimeFMMI

sys.path.insert(0, str(Path(__file__).resolve().parent))
from oinfo_accuracy import _nonlinear_systems, _sweep_systems  # noqa: E402


def load_task(name: str, n: int, seed: int) -> tuple[list[np.ndarray], float, str]:
    """Variables, true value (nats) and the estimator's ``paths`` for an MI task or an Omega system."""
    if name in simulate.MI_TASKS:
        task = simulate.MI_TASKS[name](n, seed=seed)
        return [task.x, task.y], task.mi, "last_moving"
    systems = {**_sweep_systems(), **_nonlinear_systems()}
    if name not in systems:
        raise SystemExit(f"unknown task {name!r}")
    spec = dict(systems[name])
    system = getattr(simulate, spec.pop("kind"))(n, seed=seed, **spec)
    return system.samples, system.truth.o_info, "terms"


def curve(name: str, n: int, seed: int, options: dict) -> tuple[list[tuple], dict]:
    """Rows (fold, step, validation loss, held-out correction) and a summary of the fit."""
    variables, truth, paths = load_task(name, n, seed)
    k = len(variables)
    kinds = ("tc", "tc_minus") if paths == "terms" else ("mi_one_rest",)
    est = MultiTimeFMMI(paths=paths, seed=seed, device="cpu", **options)
    rows: list[tuple] = []

    def record(fold, step: int, loss: float) -> None:
        c = est.fold_corrections(fold, np.arange(k)[None], kinds)
        value = (2 - k) * c["tc"] + c["tc_minus"].sum(-1) if paths == "terms" else c["mi_one_rest"][..., -1]
        rows.append((len(est.folds_), step, loss, float(value.mean())))

    start = time.perf_counter()
    est.fit(variables, on_validation=record)
    terms = est.score_paths()
    if paths == "terms":
        gauss = float((2 - k) * terms.gauss["tc"][0] + terms.gauss["tc_minus"][0].sum())
        from fmmi_neuro.engine.fmmi.terms import omega_terms

        final = float(omega_terms(terms)["o_info"][0])
    else:
        gauss = float(terms.gauss["mi_one_rest"][0, -1])
        final = float(terms.value("mi_one_rest")[0, -1])
    summary = {
        "truth": truth,
        "gauss": gauss,
        "final": final,
        "best": [f.report.best_step for f in est.folds_],
        "steps": [f.report.steps for f in est.folds_],
        "residual": est.residual_,
        "gaussianize": None if est.gaussianize_ is None else est.gaussianize_.best_step,
        "seconds": time.perf_counter() - start,
    }
    return rows, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", required=True)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--option", action="append", default=[], help="FMMI option key=value (repeatable)")
    parser.add_argument("--plot", type=Path, help="PNG with one panel per task")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    options = {"eval_every": 100}
    for text in args.option:
        key, value = text.split("=", 1)
        options[key] = int(value) if value.isdigit() else float(value) if "." in value else value
    print(f"# {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.node()}, torch {torch.__version__}")
    print(f"# {' '.join(sys.argv)}")
    results = {}
    for name in args.tasks:
        rows, summary = curve(name, args.n, args.seed, options)
        results[name] = (rows, summary)
        target = summary["truth"] - summary["gauss"]
        print(
            f"\n## {name}, n = {args.n}: truth {summary['truth']:.4f}, Gaussian part {summary['gauss']:.4f}, "
            f"correction needed {target:+.4f}; estimate {summary['final']:.4f}; kept steps {summary['best']} "
            f"of {summary['steps']}; residual {summary['residual']}; gaussianize kept step "
            f"{summary['gaussianize']}; {summary['seconds']:.0f} s"
        )
        print("| fold | step | validation loss | held-out correction |")
        print("|---|---|---|---|")
        for fold, step, loss, value in rows:
            print(f"| {fold} | {step} | {loss:.5f} | {value:+.4f} |")
    if args.plot:
        plot(results, args.plot, args.n)


def plot(results: dict, path: Path, n: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(4.2 * len(results), 3.4), squeeze=False)
    for ax, (name, (rows, summary)) in zip(axes[0], results.items(), strict=True):
        for fold in sorted({r[0] for r in rows}):
            steps = [r[1] for r in rows if r[0] == fold]
            ax.plot(steps, [r[3] for r in rows if r[0] == fold], label=f"fold {fold}")
            best = summary["best"][fold]
            kept = [r[3] for r in rows if r[0] == fold and r[1] == best]
            if kept:
                ax.plot([best], kept, "o", color="k")
        ax.axhline(summary["truth"] - summary["gauss"], color="k", ls="--", lw=1, label="needed")
        ax.axhline(0, color="grey", lw=0.5)
        ax.set_title(f"{name}\nn = {n}", fontsize=8)
        ax.set_xlabel("training step")
        ax.set_ylabel("held-out -E[div r] (nats)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
