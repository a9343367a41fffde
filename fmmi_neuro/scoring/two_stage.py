"""Two-stage scoring for large atlases: screen every group with the Gaussian copula, refine a few with FMMI.

Stage 1 streams every candidate group through the fast closed-form Gaussian-copula estimator and keeps,
without materialising C(n, k), the ``top_k`` most synergistic (most negative Omega) and the ``top_k`` most
redundant (most positive Omega) groups, plus a seeded uniform random control set (each group gets a
uniform random key and the smallest keys are kept, so the sample is uniform without knowing the total).
Stage 2 re-scores those groups with a slower estimator (FMMI by default) and reports where the two
disagree: sign flips and rank changes.

Sign convention: Omega = TC - DTC; Omega > 0 redundancy-dominated, Omega < 0 synergy-dominated.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from .._validation import check_positive_int
from .frames import SIGN_CONVENTION, GroupKernel, as_data, group_frame, group_terms, unit_factor


def _chunks(groups: Iterable[Any], chunk_size: int) -> Iterable[np.ndarray]:
    """Yield int arrays (<= chunk_size, size) from an iterable of groups or of group arrays."""
    buffer: list[Sequence[int]] = []
    for item in groups:
        arr = np.asarray(item, dtype=np.int64)
        if arr.ndim == 2:
            if buffer:
                yield np.asarray(buffer, dtype=np.int64)
                buffer = []
            for start in range(0, arr.shape[0], chunk_size):
                yield arr[start : start + chunk_size]
            continue
        buffer.append(arr)
        if len(buffer) == chunk_size:
            yield np.asarray(buffer, dtype=np.int64)
            buffer = []
    if buffer:
        yield np.asarray(buffer, dtype=np.int64)


def screen_groups(
    data: np.ndarray,
    groups: Iterable[Any],
    *,
    top_k: int = 50,
    n_control: int = 50,
    chunk_size: int = 20_000,
    seed: int = 0,
    bias_correct: bool = True,
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Stage 1: stream groups through the Gaussian copula; keep extremes and a random control set.

    Parameters
    ----------
    data : ndarray, shape (n_samples, n_regions)
    groups : iterable
        Groups of one size: an iterable of index sequences or of (chunk, size) int arrays (streamed).
    top_k : int
        Number of most synergistic and of most redundant groups kept (each).
    n_control : int
        Size of the uniform random control sample (groups already among the extremes are dropped from
        it, so it can be a little smaller).
    chunk_size : int
        Groups scored per kernel call.
    seed : int
        Seed of the control sample.

    Returns
    -------
    selected : int ndarray, shape (n_selected, size)
    selection : ndarray of str, shape (n_selected,)
        "synergy_top", "redundancy_top" or "control".
    counts : dict
        ``n_screened``.
    """
    top_k = check_positive_int(top_k, "top_k")
    n_control = check_positive_int(n_control, "n_control", minimum=0)
    chunk_size = check_positive_int(chunk_size, "chunk_size")
    rng = np.random.default_rng(seed)
    keep: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    seen = 0
    for chunk in _chunks(groups, chunk_size):
        chunk = np.sort(chunk, axis=1)
        omega = group_terms(data, chunk, estimator="gaussian_copula", bias_correct=bias_correct)["o_info"]
        seen += chunk.shape[0]
        # smallest scores are kept: -Omega for synergy, Omega for redundancy, a uniform key for controls
        scores = {"synergy_top": omega, "redundancy_top": -omega, "control": rng.random(chunk.shape[0])}
        for label, score in scores.items():
            limit = n_control if label == "control" else top_k
            old_score, old_groups = keep.get(label, (np.empty(0), np.empty((0, chunk.shape[1]), np.int64)))
            score = np.concatenate([old_score, score])
            pool = np.concatenate([old_groups, chunk])
            if score.size > limit:
                idx = np.argpartition(score, limit - 1)[:limit] if limit else np.empty(0, np.int64)
                score, pool = score[idx], pool[idx]
            keep[label] = (score, pool)
    if seen == 0:
        raise ValueError("'groups' is empty: nothing to screen.")
    ordered: dict[tuple[int, ...], str] = {}
    for label in ("synergy_top", "redundancy_top", "control"):
        score, pool = keep[label]
        for g in pool[np.argsort(score, kind="stable")]:
            ordered.setdefault(tuple(int(i) for i in g), label)
    selected = np.asarray(list(ordered), dtype=np.int64)
    return selected, np.asarray(list(ordered.values())), {"n_screened": seen}


def two_stage_score(
    data: Any,
    groups: Iterable[Any] | None = None,
    *,
    size: int = 3,
    top_k: int = 50,
    n_control: int = 50,
    refine: str | GroupKernel = "fmmi",
    unit: str = "nats",
    seed: int = 0,
    chunk_size: int = 20_000,
    region_names: Sequence[str] | None = None,
    **refine_kwargs: Any,
) -> pd.DataFrame:
    """Screen groups with the Gaussian copula, re-score the extremes and a random control set with FMMI.

    Parameters
    ----------
    data : ndarray (n_samples, n_regions) or RegionTimeSeries
    groups : iterable, optional
        Groups to screen (index sequences or (chunk, size) arrays, streamed). Default: every
        ``size``-subset of the regions, streamed in chunks.
    size : int
        Group size when ``groups`` is None.
    top_k, n_control : int
        Most synergistic and most redundant groups kept (each), and random controls.
    refine : {"fmmi", "gaussian_copula"} or callable
        Stage-2 estimator (a kernel callable ``(data, groups) -> dict`` is accepted).
    unit : {"nats", "bits"}
    seed : int
        Seeds the control sample and the refinement estimator.
    **refine_kwargs
        Passed to the refinement kernel (training settings for fmmi).

    Returns
    -------
    DataFrame
        One row per refined group: ``group_id, regions, region_names, size, selection`` (synergy_top /
        redundancy_top / control), ``o_info_gc, o_info_gc_se, o_info, o_info_se`` and the other terms of
        the refinement estimator (``tc, dtc, s_info`` and ``*_se``), ``rank_gc, rank_refined`` (1 = most
        synergistic, among the refined groups), ``rank_change`` (refined - gc), ``sign_gc, sign_refined``
        (+1 redundancy, -1 synergy), ``sign_flip`` (bool), ``unit``, ``estimator``. ``attrs`` holds
        ``n_screened``, the Spearman rank correlation and the number of sign flips.
        Omega = TC - DTC; > 0 redundancy, < 0 synergy.
    """
    array, names = as_data(data, region_names)
    if groups is None:
        from .groups import iter_all_groups

        size = check_positive_int(size, "size", minimum=3)
        groups = iter_all_groups(array.shape[1], size, chunk_size=chunk_size)
    selected, selection, counts = screen_groups(
        array, groups, top_k=top_k, n_control=n_control, chunk_size=chunk_size, seed=seed
    )
    gc = group_terms(array, selected, estimator="gaussian_copula")
    kwargs = dict(refine_kwargs)
    if refine == "fmmi":
        kwargs.setdefault("seed", seed)
    refined = group_terms(array, selected, estimator=refine, **kwargs)
    label = refine if isinstance(refine, str) else getattr(refine, "__name__", "custom")
    table = group_frame(selected, refined, region_names=names, unit=unit, estimator=label)
    factor = unit_factor(unit)
    table.insert(4, "selection", selection)
    table.insert(5, "o_info_gc", gc["o_info"] * factor)
    table.insert(6, "o_info_gc_se", gc["o_info_se"] * factor)
    table["rank_gc"] = sps.rankdata(table["o_info_gc"], method="min").astype(np.int64)
    table["rank_refined"] = sps.rankdata(table["o_info"], method="min").astype(np.int64)
    table["rank_change"] = table["rank_refined"] - table["rank_gc"]
    table["sign_gc"] = np.sign(table["o_info_gc"]).astype(np.int64)
    table["sign_refined"] = np.sign(table["o_info"]).astype(np.int64)
    table["sign_flip"] = table["sign_gc"] != table["sign_refined"]
    rho = sps.spearmanr(table["o_info_gc"], table["o_info"]).statistic if len(table) > 2 else np.nan
    table.attrs.update(
        {
            "n_screened": counts["n_screened"],
            "spearman_gc_vs_refined": float(rho),
            "n_sign_flips": int(table["sign_flip"].sum()),
            "unit": unit,
            "sign_convention": SIGN_CONVENTION,
            "estimator": label,
            "screen_estimator": "gaussian_copula",
            "top_k": int(top_k),
            "n_control": int(n_control),
            "seed": int(seed),
        }
    )
    return table


def disagreement_table(two_stage: pd.DataFrame, *, min_rank_change: int | None = None) -> pd.DataFrame:
    """Rows of a :func:`two_stage_score` table where the estimators disagree, largest change first.

    A row disagrees when the sign flips or ``|rank_change| >= min_rank_change`` (default: a quarter
    of the number of refined groups).
    """
    if min_rank_change is None:
        min_rank_change = max(1, len(two_stage) // 4)
    mask = two_stage["sign_flip"] | (two_stage["rank_change"].abs() >= min_rank_change)
    out = two_stage.loc[mask].copy()
    out["abs_rank_change"] = out["rank_change"].abs()
    return out.sort_values(["sign_flip", "abs_rank_change"], ascending=False).reset_index(drop=True)
