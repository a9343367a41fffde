"""Search for maximally synergistic or redundant groups of a given size (Varley et al. 2023).

The search runs on the Gaussian-copula covariance of the data (rank-normalised once), where any
group's Omega costs a few small log-determinants. Two strategies:

- ``greedy``: start from the most extreme triplet (all triplets streamed in chunks), then repeatedly add
  the region that makes Omega most extreme, up to ``size``; one row per size along the way.
- ``anneal``: simulated annealing over groups of exactly ``size`` regions; a move swaps one member for a
  non-member and is accepted with the Metropolis rule under a geometrically cooling temperature. The
  best group visited is returned (restarts keep the best of all; the first restart starts from the
  greedy solution by default, since a planted group can be a needle that random moves rarely find).

The groups found can be re-scored with any estimator (``estimator="fmmi"``). Sign convention:
Omega = TC - DTC; Omega > 0 redundancy, Omega < 0 synergy. "synergy" searches for the most negative
Omega, "redundancy" for the most positive.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_in, check_positive_int
from .frames import SIGN_CONVENTION, as_data, group_frame, group_terms
from .groups import iter_all_groups

TARGETS = ("synergy", "redundancy")
METHODS = ("greedy", "anneal")


class _Objective:
    """Omega of groups from a fixed copula covariance; ``energy`` is minimised (sign set by ``target``)."""

    def __init__(self, data: np.ndarray, target: str):
        from ..engine.gaussian.copula import copula_covariance, gc_group_terms_from_cov

        self._terms = gc_group_terms_from_cov
        self.cov = copula_covariance(data)
        self.n_samples = data.shape[0]
        self.sign = 1.0 if target == "synergy" else -1.0

    def omega(self, groups: np.ndarray) -> np.ndarray:
        return self._terms(self.cov, np.asarray(groups, dtype=np.int64), self.n_samples)["o_info"]

    def energy(self, groups: np.ndarray) -> np.ndarray:
        values = self.sign * self.omega(groups)
        return np.where(np.isfinite(values), values, np.inf)


def _greedy(objective: _Objective, n_regions: int, size: int) -> list[tuple[tuple[int, ...], float]]:
    best, best_energy = None, np.inf
    for chunk in iter_all_groups(n_regions, 3):
        energy = objective.energy(chunk)
        i = int(np.argmin(energy))
        if energy[i] < best_energy:
            best, best_energy = chunk[i], float(energy[i])
    if best is None or not np.isfinite(best_energy):
        raise ValueError("no triplet has a finite O-information; check the data for duplicated regions.")
    path = [(tuple(int(r) for r in best), best_energy)]
    members = list(path[0][0])
    while len(members) < size:
        candidates = np.setdiff1d(np.arange(n_regions), members)
        groups = np.column_stack([np.tile(members, (candidates.size, 1)), candidates])
        energy = objective.energy(groups)
        i = int(np.argmin(energy))
        members.append(int(candidates[i]))
        path.append((tuple(sorted(members)), float(energy[i])))
    return path


def _anneal(
    objective: _Objective,
    n_regions: int,
    size: int,
    rng: np.random.Generator,
    n_steps: int,
    temperature: float | None,
    final_temperature: float | None,
    start: Sequence[int] | None = None,
) -> tuple[tuple[int, ...], float, np.ndarray]:
    if start is None:
        current = np.sort(rng.choice(n_regions, size, replace=False))
    else:
        current = np.sort(np.asarray(start, dtype=np.int64))
    energy = float(objective.energy(current[None])[0])
    if temperature is None:
        probes = np.sort(np.argsort(rng.random((64, n_regions)), axis=1)[:, :size], axis=1)
        energies = objective.energy(probes)
        spread = np.std(energies[np.isfinite(energies)])
        temperature = float(spread) if spread > 0 else 1e-3
    final = temperature * 1e-3 if final_temperature is None else final_temperature
    cooling = (final / temperature) ** (1.0 / max(n_steps - 1, 1))
    best, best_energy = current.copy(), energy
    trace = np.empty(n_steps)
    t = temperature
    for step in range(n_steps):
        proposal = current.copy()
        outside = np.setdiff1d(np.arange(n_regions), current)
        proposal[rng.integers(size)] = outside[rng.integers(outside.size)]
        proposal.sort()
        new = float(objective.energy(proposal[None])[0])
        if new <= energy or rng.random() < np.exp(-(new - energy) / t):
            current, energy = proposal, new
            if energy < best_energy:
                best, best_energy = current.copy(), energy
        trace[step] = best_energy
        t *= cooling
    return tuple(int(r) for r in best), best_energy, trace


def search_groups(
    data: Any,
    size: int,
    *,
    target: str = "synergy",
    method: str = "anneal",
    n_steps: int = 5_000,
    n_restarts: int = 4,
    init: str = "greedy",
    temperature: float | None = None,
    final_temperature: float | None = None,
    estimator: str = "gaussian_copula",
    unit: str = "nats",
    seed: int = 0,
    region_names: Sequence[str] | None = None,
    **estimator_kwargs: Any,
) -> pd.DataFrame:
    """Find the most synergistic (or redundant) group of ``size`` regions.

    Parameters
    ----------
    data : ndarray (n_samples, n_regions), DataFrame or RegionTimeSeries
    size : int
        Group size (>= 3, <= n_regions).
    target : {"synergy", "redundancy"}
        Most negative or most positive Omega.
    method : {"anneal", "greedy"}
        See the module docstring.
    n_steps : int
        Annealing moves per restart.
    n_restarts : int
        Independent annealing runs (seeded from ``seed``); the best group is kept.
    init : {"greedy", "random"}
        Start of the first annealing run: the greedy solution (so annealing can only improve on it) or
        a random group. Later restarts always start at random groups.
    temperature, final_temperature : float, optional
        Start and end temperatures in nats of Omega; default: the spread of Omega over 64 random
        groups, cooling by a factor 1,000.
    estimator : {"gaussian_copula", "fmmi"}
        Estimator used to re-score the groups found (the search itself uses the copula).
    unit : {"nats", "bits"}
    seed : int

    Returns
    -------
    DataFrame
        The group score table columns (``group_id, regions, region_names, size, o_info, ..., unit,
        estimator``) plus ``method``, ``target`` and ``search_o_info`` (the copula Omega that guided the
        search, in ``unit``). ``greedy`` gives one row per size from 3 to ``size``; ``anneal`` one row.
        ``attrs["trace"]``: best energy per annealing step of the winning restart.
        Omega = TC - DTC; > 0 redundancy, < 0 synergy.
    """
    check_in(target, TARGETS, "target")
    check_in(method, METHODS, "method")
    array, names = as_data(data, region_names)
    n_regions = array.shape[1]
    size = check_positive_int(size, "size", minimum=3)
    if size > n_regions:
        raise ValueError(f"'size' ({size}) is larger than the number of regions ({n_regions}).")
    objective = _Objective(array, target)
    trace: list[float] = []
    if method == "greedy":
        found = _greedy(objective, n_regions, size)
    else:
        n_steps = check_positive_int(n_steps, "n_steps")
        n_restarts = check_positive_int(n_restarts, "n_restarts")
        check_in(init, ("greedy", "random"), "init")
        start = _greedy(objective, n_regions, size)[-1][0] if init == "greedy" else None
        runs = [
            _anneal(
                objective,
                n_regions,
                size,
                np.random.default_rng([seed, r]),
                n_steps,
                temperature,
                final_temperature,
                start if r == 0 else None,
            )
            for r in range(n_restarts)
        ]
        group, energy, best_trace = min(runs, key=lambda run: run[1])
        found, trace = [(group, energy)], best_trace.tolist()
    tables = []
    for group, _ in found:
        groups = np.array([group], dtype=np.int64)
        kwargs = dict(estimator_kwargs)
        if estimator == "fmmi":
            kwargs.setdefault("seed", seed)
        terms = group_terms(array, groups, estimator=estimator, **kwargs)
        table = group_frame(groups, terms, region_names=names, unit=unit, estimator=estimator)
        table["search_o_info"] = objective.omega(groups) * (1.0 if unit == "nats" else 1.0 / np.log(2.0))
        tables.append(table)
    out = pd.concat(tables, ignore_index=True)
    out["method"] = method
    out["target"] = target
    out.attrs = {
        "unit": unit,
        "sign_convention": SIGN_CONVENTION,
        "estimator": estimator,
        "search": {
            "method": method,
            "target": target,
            "n_steps": n_steps,
            "n_restarts": n_restarts,
            "init": init,
        },
        "seed": seed,
        "trace": trace,
    }
    return out
