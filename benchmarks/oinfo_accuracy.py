"""O-information accuracy: multi-time FMMI vs Gaussian copula on systems with closed-form truth.

Omega = TC - DTC; Omega > 0 redundancy-dominated, Omega < 0 synergy-dominated. All values in nats.

Usage::

    python benchmarks/oinfo_accuracy.py accuracy --n 1200 10000 --seeds 1
    python benchmarks/oinfo_accuracy.py sweep --systems g-syn-5x1 t3-red-10x1 --out sweep.jsonl
    python benchmarks/oinfo_accuracy.py sweep --suite nonlinear --n 1200 --seeds 3 --out nonlinear.jsonl
    python benchmarks/oinfo_accuracy.py table sweep.jsonl nonlinear.jsonl

``sweep`` is the issue's acceptance check on 3-10 variables of 1-10 dimensions: it appends one JSON line per
(system, n, seed) to ``--out`` and ``table`` turns one or more such files into the pass/fail table.
``--suite nonlinear`` runs the systems whose dependence is nonlinear inside each multivariate variable (a
spiral map of every 5-dimensional block, which per-coordinate rank-to-normal cannot undo) and the
nu = 1 Student-t systems (see ``_nonlinear_systems``); all of them are also ``accuracy`` cases.

Not a test: prints tables (and the command, date and machine) to paste into benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

from fmmi_neuro import information, simulate


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
    return {**cases, **_nonlinear_systems()}


def _nonlinear_systems() -> dict[str, dict]:
    """Within-variable nonlinear and nu = 1 systems (name -> ``simulate`` keyword arguments).

    Truth (closed form, nats; Omega = TC - DTC, > 0 redundancy, < 0 synergy):
      g-mix-6x5-spiral   six 5-dim variables, mixed (redundancy 0.1, noise 0.125), each variable through
                         a spiral (rotation by |x_i|^2 / 5 in the planes (0,1), (2,3), (4,0)): Omega -0.860
      g-mix-6x5          the same without the spiral (control): Omega -0.860
      g-syn-3x5-spiral   X_3 = X_1 + X_2 + noise (noise 1), 5-dim variables, spiral blocks: Omega -0.719
      t1-red-5x1         five scalar variables sharing one source (noise 10), Student-t nu = 1: Omega 0.641
      t1-red-3x5         three 5-dim variables sharing one source (noise 1), Student-t nu = 1: Omega 1.095
    """
    mixed = {"kind": "mixed", "n_vars": 6, "dim": 5, "redundancy": 0.1, "noise": 0.125}
    return {
        "g-mix-6x5-spiral": {**mixed, "block_map": "spiral"},
        "g-mix-6x5": mixed,
        "g-syn-3x5-spiral": {
            "kind": "synergistic",
            "n_vars": 3,
            "dim": 5,
            "noise": 1.0,
            "block_map": "spiral",
        },
        "t1-red-5x1": {"kind": "redundant", "n_vars": 5, "dim": 1, "noise": 10.0, "nu": 1},
        "t1-red-3x5": {"kind": "redundant", "n_vars": 3, "dim": 5, "noise": 1.0, "nu": 1},
    }


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
    for name, n, seed, system, fm, t_fm, gc, t_gc in _fits(cases, names, ns, seeds, training):
        truth = system.truth.o_info
        print(
            f"{name:34s} {n:6d} {seed:4d} {truth:8.4f} {fm.o_info:8.4f} {fm.o_info_se:6.3f} "
            f"{gc.o_info:8.4f} {abs(fm.o_info - truth):10.4f} {abs(gc.o_info - truth):9.4f} "
            f"{t_fm:7.1f} {t_gc:6.2f}",
            flush=True,
        )


def _fits(
    specs: dict[str, dict],
    names: list[str] | None,
    ns: list[int],
    seeds: int,
    training: dict,
    done: frozenset[tuple[str, int, int]] = frozenset(),
):
    """For each (system, n, seed): (name, n, seed, System, fmmi InfoResult, s, gc InfoResult, s).

    Data seed and estimator seed are the same; ``names`` (optional) picks systems of ``specs``; the
    (system, n, seed) triples in ``done`` are skipped.
    """
    unknown = sorted(set(names or []) - set(specs))
    if unknown:
        raise SystemExit(f"unknown system(s) {unknown}; known: {list(specs)}")
    for name, spec in specs.items():
        if names and name not in names:
            continue
        spec = dict(spec)
        kind = spec.pop("kind")
        for n in ns:
            for seed in range(seeds):
                if (name, n, seed) in done:
                    continue
                system = getattr(simulate, kind)(n, seed=seed, **spec)
                start = time.perf_counter()
                fm = information(system.samples, seed=seed, device="cpu", **training)
                t_fm = time.perf_counter() - start
                start = time.perf_counter()
                gc = information(system.samples, estimator="gaussian_copula")
                t_gc = time.perf_counter() - start
                yield name, n, seed, system, fm, t_fm, gc, t_gc


def _sweep_systems() -> dict[str, dict]:
    """Acceptance-sweep systems (name -> ``simulate`` keyword arguments), 3-10 variables, 1-10 dims each.

    Names: ``g`` Gaussian / ``t3`` Student-t nu = 3, ``red`` / ``syn`` / ``mix`` the system kind,
    ``KxD`` variables x dimensions, ``-map`` the per-variable cube/exp/sinh/sigmoid map.
    """
    grid = [
        ("g", "synergistic", 5, 1, None),
        ("t3", "redundant", 5, 1, "mixed"),
        ("g", "mixed", 10, 1, None),
        ("t3", "synergistic", 10, 1, None),
        ("t3", "redundant", 10, 1, "mixed"),
        ("t3", "mixed", 5, 3, None),
        ("g", "redundant", 5, 3, "mixed"),
        ("g", "mixed", 3, 10, "mixed"),
        ("t3", "synergistic", 3, 10, None),
        ("t3", "mixed", 10, 3, "mixed"),
    ]
    short = {"redundant": "red", "synergistic": "syn", "mixed": "mix"}
    systems = {}
    for family, kind, n_vars, dim, transform in grid:
        name = f"{family}-{short[kind]}-{n_vars}x{dim}" + ("-map" if transform else "")
        systems[name] = {
            "kind": kind,
            "n_vars": n_vars,
            "dim": dim,
            "nu": 3 if family == "t3" else None,
            "transform": transform,
        }
    return systems


def sweep(
    ns: list[int], seeds: int, names: list[str] | None, out: Path, training: dict, suite: str = "acceptance"
) -> None:
    """fmmi and gaussian_copula Omega for each (system, n, seed); one JSON line each, appended to ``out``.

    ``suite``: "acceptance" (:func:`_sweep_systems`) or "nonlinear" (:func:`_nonlinear_systems`). An
    interrupted sweep resumes: the (system, n, seed) rows already in ``out`` are not run again.
    """
    systems = _sweep_systems() if suite == "acceptance" else _nonlinear_systems()
    rows = [json.loads(line) for line in out.read_text().splitlines() if line.strip()] if out.exists() else []
    done = frozenset((r["system"], r["n"], r["seed"]) for r in rows)
    _header()
    for name, n, seed, system, fm, t_fm, gc, t_gc in _fits(systems, names, ns, seeds, training, done):
        row = {
            "system": name,
            "n": n,
            "seed": seed,
            "truth": system.truth.o_info,
            "fmmi": fm.o_info,
            "fmmi_se": fm.o_info_se,
            "gc": gc.o_info,
            "s_fmmi": t_fm,
            "s_gc": t_gc,
            "steps": fm.settings.get("steps"),
            "copula_dof": fm.settings.get("copula_dof"),
            "finished": f"{datetime.datetime.now(datetime.timezone.utc):%H:%M:%S}",
        }
        print(json.dumps(row), flush=True)
        with out.open("a") as handle:
            handle.write(json.dumps(row) + "\n")


def tolerance(truth: float, n: int) -> float:
    """The issue's bar on |mean - truth|: max(0.05, 10 % |Omega|) at n >= 10,000, else max(0.1, 20 %)."""
    return max(0.05, 0.1 * abs(truth)) if n >= 10_000 else max(0.1, 0.2 * abs(truth))


def table(files: list[Path]) -> None:
    """Markdown table (one row per system and n) of the rows ``sweep`` wrote, with pass/fail."""
    rows = [json.loads(line) for f in files for line in f.read_text().splitlines() if line.strip()]
    order = [*_sweep_systems(), *_nonlinear_systems()]
    keys = sorted({(r["system"], r["n"]) for r in rows}, key=lambda key: (order.index(key[0]), key[1]))
    print(
        "| system | n | seeds | truth Ω | fmmi mean ± sd | gc mean | \\|err\\| fmmi | \\|err\\| gc | bar "
        "| within bar | sign every seed | s / fmmi estimate |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for system, n in keys:
        group = [r for r in rows if r["system"] == system and r["n"] == n]
        truth = group[0]["truth"]
        fm = np.array([r["fmmi"] for r in group])
        gc = np.array([r["gc"] for r in group])
        err, err_gc, bar = abs(fm.mean() - truth), abs(gc.mean() - truth), tolerance(truth, n)
        signs = int((np.sign(fm) == np.sign(truth)).sum())
        sd = fm.std(ddof=1) if len(fm) > 1 else float("nan")
        seconds = np.mean([r["s_fmmi"] for r in group])
        print(
            f"| {system} | {n} | {len(group)} | {truth:.4f} | {fm.mean():.4f} ± {sd:.4f} | {gc.mean():.4f} "
            f"| {err:.4f} | {err_gc:.4f} | {bar:.3f} | {'pass' if err <= bar else '**FAIL**'} "
            f"| {signs}/{len(group)} | {seconds:.0f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    acc = sub.add_parser("accuracy")
    acc.add_argument("--n", type=int, nargs="+", default=[1200, 10000])
    acc.add_argument("--seeds", type=int, default=1)
    acc.add_argument("--cases", nargs="*", default=None, help=f"subset of {list(_cases())}")
    swp = sub.add_parser("sweep")
    swp.add_argument("--n", type=int, nargs="+", default=[1200, 10000])
    swp.add_argument("--seeds", type=int, default=3)
    swp.add_argument("--suite", choices=["acceptance", "nonlinear"], default="acceptance")
    swp.add_argument(
        "--systems",
        nargs="*",
        default=None,
        help=f"subset of the suite: {list(_sweep_systems())} or {list(_nonlinear_systems())}",
    )
    swp.add_argument("--out", type=Path, required=True, help="JSON-lines file the rows are appended to")
    tab = sub.add_parser("table")
    tab.add_argument("files", type=Path, nargs="+")
    for p in (acc, swp):
        p.add_argument("--threads", type=int, default=2)
        p.add_argument(
            "--training",
            nargs="*",
            default=[],
            help="FMMI option overrides, e.g. max_steps=4000 residual=mlp",
        )
    args = parser.parse_args()
    if args.what == "table":
        table(args.files)
        return
    torch.set_num_threads(args.threads)
    training = dict(_option(a) for a in args.training)
    if training:
        print(f"# training overrides: {training}")
    if args.what == "sweep":
        sweep(args.n, args.seeds, args.systems, args.out, training, args.suite)
    else:
        accuracy(args.n, args.seeds, args.cases, training)


def _option(text: str) -> tuple[str, int | float | bool | str]:
    """``name=value`` -> (name, value as int, float, bool or str)."""
    name, value = text.split("=", 1)
    if value.lower() in ("true", "false"):
        return name, value.lower() == "true"
    for kind in (int, float):
        try:
            return name, kind(value)
        except ValueError:
            pass
    return name, value


if __name__ == "__main__":
    main()
