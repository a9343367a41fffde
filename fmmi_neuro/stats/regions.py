"""Region- and network-level summaries of a group table.

Works on any table with one row per group, a ``regions`` column (tuple of int) and a signed effect column
(``estimate`` from :func:`group_statistics`, else ``o_info``) plus ``significant`` (or ``q_value``).
A significant group counts as synergistic when its effect is < 0 and as redundant when > 0
(Omega = TC - DTC; > 0 redundancy, < 0 synergy).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from .._validation import check_positive_int
from .multitest import fdr_bh

DIRECTIONS = ("synergy", "redundancy")


def _effect_column(table: pd.DataFrame, effect: str | None) -> str:
    if effect is not None:
        if effect not in table.columns:
            raise ValueError(f"the group table has no column {effect!r}.")
        return effect
    for name in ("estimate", "o_info"):
        if name in table.columns:
            return name
    raise ValueError("the group table needs an 'estimate' or 'o_info' column (or pass 'effect').")


def _significant(table: pd.DataFrame, alpha: float) -> np.ndarray:
    if "significant" in table.columns:
        return table["significant"].to_numpy(dtype=bool)
    if "q_value" in table.columns:
        return (table["q_value"] <= alpha).to_numpy()
    raise ValueError("the group table needs a 'significant' or 'q_value' column.")


def _membership(table: pd.DataFrame, n_regions: int) -> tuple[np.ndarray, np.ndarray]:
    """Flattened (row index, region index) pairs of every group membership."""
    if "regions" not in table.columns:
        raise ValueError("the group table needs a 'regions' column (tuple of region indices).")
    sizes = table["regions"].map(len).to_numpy()
    rows = np.repeat(np.arange(len(table)), sizes)
    regions = np.fromiter((r for g in table["regions"] for r in g), dtype=np.int64, count=int(sizes.sum()))
    if regions.size and (regions.min() < 0 or regions.max() >= n_regions):
        raise ValueError(f"region indices must be in 0..{n_regions - 1}; got up to {int(regions.max())}.")
    return rows, regions


def _n_regions(
    table: pd.DataFrame, region_names: Sequence[str] | None, networks: Sequence[str] | None
) -> int:
    for labels in (region_names, networks):
        if labels is not None:
            return len(labels)
    names = table.attrs.get("region_names")
    if names:
        return len(names)
    return int(max(max(g) for g in table["regions"])) + 1


def region_summary(
    group_table: pd.DataFrame,
    *,
    region_names: Sequence[str] | None = None,
    networks: Sequence[str] | None = None,
    effect: str | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Per region: participation in significant synergistic / redundant groups and a synergy-redundancy rank.

    Parameters
    ----------
    group_table : DataFrame
        One row per group (``regions``, effect column, ``significant`` or ``q_value``).
    region_names, networks : sequence of str, optional
        Labels per region index (default ``group_table.attrs["region_names"]`` / ``["networks"]``).
    effect : str, optional
        Signed effect column; default ``estimate`` if present, else ``o_info``.
    alpha : float
        Used only when the table has ``q_value`` but no ``significant``.

    Returns
    -------
    DataFrame
        One row per region: ``region, region_name, network, n_groups, n_significant_synergy,
        n_significant_redundancy, participation_synergy, participation_redundancy`` (fractions of the
        region's groups), ``mean_effect``, ``synergy_strength`` (mean of max(-effect, 0) over its
        groups), ``redundancy_strength`` (mean of max(effect, 0)), ``synergy_rank``, ``redundancy_rank``
        (1 = weakest), ``synergy_minus_redundancy_rank`` (> 0: the region leans synergistic; as in
        Luppi et al. 2022).
    """
    region_names = region_names if region_names is not None else group_table.attrs.get("region_names")
    networks = networks if networks is not None else group_table.attrs.get("networks")
    n_regions = _n_regions(group_table, region_names, networks)
    column = _effect_column(group_table, effect)
    rows, regions = _membership(group_table, n_regions)
    values = group_table[column].to_numpy(dtype=np.float64)[rows]
    significant = _significant(group_table, alpha)[rows]
    ok = np.isfinite(values)
    rows, regions, values, significant = rows[ok], regions[ok], values[ok], significant[ok]

    def per_region(weights: np.ndarray) -> np.ndarray:
        return np.bincount(regions, weights=weights, minlength=n_regions)

    n_groups = per_region(np.ones(regions.size))
    with np.errstate(invalid="ignore", divide="ignore"):
        syn = per_region(significant & (values < 0))
        red = per_region(significant & (values > 0))
        summary = pd.DataFrame(
            {
                "region": np.arange(n_regions),
                "region_name": list(region_names)
                if region_names is not None
                else [f"region_{i}" for i in range(n_regions)],
                "network": list(networks) if networks is not None else [None] * n_regions,
                "n_groups": n_groups.astype(np.int64),
                "n_significant_synergy": syn.astype(np.int64),
                "n_significant_redundancy": red.astype(np.int64),
                "participation_synergy": syn / n_groups,
                "participation_redundancy": red / n_groups,
                "mean_effect": per_region(values) / n_groups,
                "synergy_strength": per_region(np.maximum(-values, 0.0)) / n_groups,
                "redundancy_strength": per_region(np.maximum(values, 0.0)) / n_groups,
            }
        )
    summary["synergy_rank"] = sps.rankdata(summary["synergy_strength"].fillna(-np.inf))
    summary["redundancy_rank"] = sps.rankdata(summary["redundancy_strength"].fillna(-np.inf))
    summary["synergy_minus_redundancy_rank"] = summary["synergy_rank"] - summary["redundancy_rank"]
    summary.attrs = {
        "effect": column,
        "sign_convention": "Omega = TC - DTC; > 0 redundancy, < 0 synergy",
        "unit": group_table.attrs.get("unit"),
    }
    return summary


def network_enrichment(
    group_table: pd.DataFrame,
    networks: Sequence[str] | None = None,
    *,
    effect: str | None = None,
    n_permutations: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
) -> pd.DataFrame:
    """Are a network's regions over-represented among significant synergistic / redundant groups?

    The statistic for network N and a direction is the number of memberships of N's regions in the
    significant groups of that direction. The null permutes the network labels across regions (keeping
    every network's size and the groups fixed); p = (1 + #{null >= observed}) / (1 + n_permutations),
    with BH-FDR across networks within each direction.

    Parameters
    ----------
    group_table : DataFrame
        One row per group (``regions``, effect column, ``significant`` or ``q_value``).
    networks : sequence of str, optional
        Network label per region index; default ``group_table.attrs["networks"]``.
    effect : str, optional
        Signed effect column; default ``estimate`` if present, else ``o_info``.
    n_permutations : int
    alpha : float
    seed : int

    Returns
    -------
    DataFrame
        One row per (direction, network): ``direction, network, n_regions, n_significant_groups,
        observed, null_mean, null_sd, enrichment`` (observed / null_mean), ``p_value, q_value,
        significant``.
    """
    networks = networks if networks is not None else group_table.attrs.get("networks")
    if networks is None:
        raise ValueError("'networks' (one label per region) is needed for network enrichment.")
    n_permutations = check_positive_int(n_permutations, "n_permutations")
    labels = np.asarray([str(n) for n in networks])
    names, codes = np.unique(labels, return_inverse=True)
    n_regions = labels.size
    column = _effect_column(group_table, effect)
    rows, regions = _membership(group_table, n_regions)
    values = group_table[column].to_numpy(dtype=np.float64)
    significant = _significant(group_table, alpha)
    rng = np.random.default_rng(seed)
    permutations = np.stack([rng.permutation(codes) for _ in range(n_permutations)])
    parts = []
    for direction in DIRECTIONS:
        chosen = significant & ((values < 0) if direction == "synergy" else (values > 0))
        weight = np.bincount(regions[chosen[rows]], minlength=n_regions).astype(np.float64)
        observed = np.bincount(codes, weights=weight, minlength=names.size)
        offsets = (np.arange(n_permutations) * names.size)[:, None]
        null = np.bincount(
            (permutations + offsets).reshape(-1),
            weights=np.tile(weight, n_permutations),
            minlength=n_permutations * names.size,
        ).reshape(n_permutations, names.size)
        p = (1.0 + (null >= observed).sum(axis=0)) / (1.0 + n_permutations)
        reject, q = fdr_bh(p, alpha=alpha)
        null_mean = null.mean(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            enrichment = observed / null_mean
        parts.append(
            pd.DataFrame(
                {
                    "direction": direction,
                    "network": names,
                    "n_regions": np.bincount(codes, minlength=names.size),
                    "n_significant_groups": int(chosen.sum()),
                    "observed": observed,
                    "null_mean": null_mean,
                    "null_sd": null.std(axis=0, ddof=1) if n_permutations > 1 else np.nan,
                    "enrichment": enrichment,
                    "p_value": p,
                    "q_value": q,
                    "significant": reject,
                }
            )
        )
    out = pd.concat(parts, ignore_index=True)
    out.attrs = {
        "effect": column,
        "n_permutations": n_permutations,
        "seed": seed,
        "null": "network label permutation",
    }
    return out
