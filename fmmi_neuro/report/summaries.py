"""Adapters from the score and statistics tables to what the figures draw (per-region values, labels,
per-size summaries, the two estimators' values side by side).

Sign convention: Omega = TC - DTC; Omega > 0 redundancy, Omega < 0 synergy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ._common import parse_regions, require_columns

TERMS = ("o_info", "tc", "dtc", "s_info")


def group_members(table: pd.DataFrame) -> list[tuple[int, ...]]:
    """Region indices of every row, from ``regions`` (preferred) or ``group_id``."""
    key = "regions" if "regions" in table.columns else "group_id"
    require_columns(table, [key], "table")
    return [parse_regions(v) for v in table[key]]


def group_labels(table: pd.DataFrame, region_names: Sequence[str] | None = None) -> list[str]:
    """Readable group names: region names joined by " · ".

    Names come from ``region_names`` (one per region index) when given, else from the table's
    ``region_names`` column, else the group's indices.
    """
    if region_names is not None:
        return [" · ".join(str(region_names[r]) for r in g) for g in group_members(table)]
    if "region_names" in table.columns and table["region_names"].notna().all():
        return [" · ".join(map(str, names)) for names in table["region_names"]]
    return ["-".join(map(str, g)) for g in group_members(table)]


def region_mean(table: pd.DataFrame, n_regions: int, column: str = "o_info") -> np.ndarray:
    """Mean of ``column`` over the groups each region belongs to; NaN for regions in no group.

    Returns
    -------
    ndarray, shape (n_regions,)
    """
    require_columns(table, [column], "table")
    members = group_members(table)
    values = table[column].to_numpy(dtype=float)
    total = np.zeros(n_regions)
    count = np.zeros(n_regions)
    for regs, value in zip(members, values, strict=True):
        if np.isfinite(value):
            if max(regs) >= n_regions:
                raise ValueError(
                    f"group {regs} refers to region {max(regs)} but there are {n_regions} regions."
                )
            total[list(regs)] += value
            count[list(regs)] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


def average_over_subjects(table: pd.DataFrame) -> pd.DataFrame:
    """One row per group from a subject-level table: mean of each term across subjects, ``n_subjects``.

    The stderr columns become the standard error of the mean across subjects. Subjects without a finite
    Ω for a group (status not "ok") are left out of its mean and of its ``n_subjects``.
    """
    require_columns(table, ["subject", "group_id", "o_info"], "table")
    keys = [c for c in ("group_id", "regions", "region_names", "size", "unit", "estimator") if c in table]
    terms = [t for t in TERMS if t in table.columns]
    grouped = table.groupby("group_id", sort=False)
    out = grouped[keys].first().reset_index(drop=True)
    means = grouped[terms].mean().reset_index(drop=True)
    sems = grouped[terms].sem().reset_index(drop=True).add_suffix("_se")
    out = pd.concat([out, means, sems], axis=1)
    out["n_subjects"] = grouped["o_info"].count().to_numpy()
    out.attrs = dict(table.attrs)
    return out


def size_summary(table: pd.DataFrame, *, q_column: str | None = None, alpha: float = 0.05) -> pd.DataFrame:
    """Per group size: number of groups, mean / median Ω, fraction with Ω < 0, and (with q-values) the
    numbers significantly synergistic and redundant at FDR ``alpha``."""
    require_columns(table, ["size", "o_info"], "table")
    rows = []
    for size, part in table.groupby("size"):
        omega = part["o_info"].to_numpy(dtype=float)
        row = {
            "size": int(size),
            "n_groups": int(len(part)),
            "mean Ω": float(np.nanmean(omega)),
            "median Ω": float(np.nanmedian(omega)),
            "fraction Ω < 0 (synergy)": float(np.mean(omega[np.isfinite(omega)] < 0)),
        }
        if q_column is not None:
            sig = part[q_column].to_numpy(dtype=float) < alpha
            row[f"significant synergy (q < {alpha:g})"] = int((sig & (omega < 0)).sum())
            row[f"significant redundancy (q < {alpha:g})"] = int((sig & (omega > 0)).sum())
        rows.append(row)
    return pd.DataFrame(rows)


def agreement_values(
    first: pd.DataFrame, second: pd.DataFrame | None = None, column: str = "o_info"
) -> tuple[np.ndarray, np.ndarray, np.ndarray, str, str]:
    """Values of ``column`` from two estimators on the same groups.

    ``first`` alone must be a two-stage table (``o_info_gc`` next to the refined ``o_info``); with
    ``second``, the two score tables are matched on ``group_id``.

    Returns
    -------
    x, y, y_se : ndarray, shape (n_groups,)
    x_name, y_name : str
        Estimator names.
    """
    if second is None:
        require_columns(first, ["o_info_gc", column], "two-stage table")
        se = first[f"{column}_se"] if f"{column}_se" in first else pd.Series(np.nan, index=first.index)
        name = str(first["estimator"].iloc[0]) if "estimator" in first else "refined"
        return (
            first["o_info_gc"].to_numpy(float),
            first[column].to_numpy(float),
            se.to_numpy(float),
            "gaussian_copula",
            name,
        )
    require_columns(first, ["group_id", column], "first table")
    require_columns(second, ["group_id", column], "second table")
    merged = first.merge(second, on="group_id", suffixes=("_a", "_b"))
    if merged.empty:
        raise ValueError("the two score tables share no group_id: nothing to compare.")
    se = merged[f"{column}_se_b"] if f"{column}_se_b" in merged else pd.Series(np.nan, index=merged.index)
    names = [str(t["estimator"].iloc[0]) if "estimator" in t else n for t, n in ((first, "a"), (second, "b"))]
    return (
        merged[f"{column}_a"].to_numpy(float),
        merged[f"{column}_b"].to_numpy(float),
        se.to_numpy(float),
        names[0],
        names[1],
    )


def enrichment_matrix(enrichment: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Direction × network matrices of ``enrichment`` and of significance stars (from ``q_value``)."""
    from .style import significance_stars

    require_columns(enrichment, ["direction", "network", "enrichment", "q_value"], "enrichment")
    values = enrichment.pivot(index="direction", columns="network", values="enrichment")
    stars = enrichment.assign(stars=[significance_stars(q) for q in enrichment["q_value"]]).pivot(
        index="direction", columns="network", values="stars"
    )
    return values.astype(float), stars.reindex_like(values).fillna("")
