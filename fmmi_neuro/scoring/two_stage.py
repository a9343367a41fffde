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

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from .._validation import as_samples_array, check_in, check_positive_int

ESTIMATORS = ("gaussian_copula", "fmmi")
TERMS = ("o_info", "tc", "dtc", "s_info")
SIGN_CONVENTION = "Omega = TC - DTC; > 0 redundancy, < 0 synergy"
GroupKernel = Callable[[np.ndarray, np.ndarray], dict]


def group_terms(
    data: np.ndarray,
    groups: np.ndarray,
    *,
    estimator: str | GroupKernel = "gaussian_copula",
    **estimator_kwargs: Any,
) -> dict[str, np.ndarray]:
    """Information terms of many groups of columns of one data set, in nats.

    Dispatches to the engine's group kernels: ``gaussian_copula`` ->
    :func:`fmmi_neuro.engine.gaussian_copula.gc_group_terms`, ``fmmi`` ->
    :func:`fmmi_neuro.engine.batched.fmmi_group_terms`.

    Parameters
    ----------
    data : ndarray, shape (n_samples, n_regions)
    groups : int ndarray, shape (n_groups, size)
    estimator : {"gaussian_copula", "fmmi"} or callable
        A callable ``kernel(data, groups) -> dict`` with the same keys may be passed instead.
    **estimator_kwargs
        Passed to the kernel (e.g. ``bias_correct`` for the copula, ``seed``/``device``/training for fmmi).

    Returns
    -------
    dict of str -> ndarray, shape (n_groups,)
        ``o_info, tc, dtc, s_info`` and ``*_se`` (NaN where the estimator gives no standard error), nats.
        Omega = TC - DTC; > 0 redundancy, < 0 synergy.
    """
    groups = np.asarray(groups, dtype=np.int64)
    if groups.ndim != 2:
        raise ValueError(f"'groups' must be a 2-D int array (n_groups, size); got shape {groups.shape}.")
    if callable(estimator):
        kernel = estimator
    else:
        check_in(estimator, ESTIMATORS, "estimator")
        if estimator == "gaussian_copula":
            from ..engine.gaussian_copula import gc_group_terms as kernel
        else:
            from ..engine.batched import fmmi_group_terms as kernel
    if groups.shape[0] == 0:
        return {key: np.empty(0) for term in TERMS for key in (term, f"{term}_se")}
    out = kernel(data, groups, **estimator_kwargs)
    result = {}
    for term in TERMS:
        result[term] = np.asarray(out[term], dtype=np.float64).reshape(-1)
        se = out.get(f"{term}_se")
        result[f"{term}_se"] = (
            np.full(groups.shape[0], np.nan) if se is None else np.asarray(se, dtype=np.float64).reshape(-1)
        )
    return result


def unit_factor(unit: str) -> float:
    """Multiply nats by this to get ``unit`` ("nats" or "bits")."""
    check_in(unit, ("nats", "bits"), "unit")
    return 1.0 if unit == "nats" else 1.0 / np.log(2.0)


def group_frame(
    groups: np.ndarray,
    terms: dict[str, np.ndarray],
    *,
    region_names: Sequence[str] | None,
    unit: str,
    estimator: str,
) -> pd.DataFrame:
    """Tidy group score table (the shared column set) from groups and kernel terms in nats."""
    groups = np.sort(np.asarray(groups, dtype=np.int64), axis=1)
    factor = unit_factor(unit)
    names = None if region_names is None else list(region_names)
    frame = pd.DataFrame(
        {
            "group_id": ["-".join(map(str, g)) for g in groups],
            "regions": [tuple(int(i) for i in g) for g in groups],
            "region_names": [
                tuple(f"region_{i}" for i in g) if names is None else tuple(names[i] for i in g)
                for g in groups
            ],
            "size": np.full(groups.shape[0], groups.shape[1], dtype=np.int64),
        }
    )
    for term in TERMS:
        frame[term] = terms[term] * factor
        frame[f"{term}_se"] = terms[f"{term}_se"] * factor
    frame["unit"] = unit
    frame["estimator"] = estimator
    return frame


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
    array, names = _as_data(data, region_names)
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


def _as_data(data: Any, region_names: Sequence[str] | None) -> tuple[np.ndarray, list[str] | None]:
    """(n_samples, n_regions) float array and region names from an array or a RegionTimeSeries."""
    names = list(region_names) if region_names is not None else None
    if isinstance(data, pd.DataFrame):
        names = [str(c) for c in data.columns] if names is None else names
        data = data.to_numpy()
    if hasattr(data, "data") and hasattr(data, "region_names"):
        if names is None:
            names = list(data.region_names)
        label = f"time series of subject {getattr(data, 'subject', None)!r}"
        data = data.data
    else:
        label = "data"
    array = as_samples_array(data, label, min_samples=3, column_names=names)
    if names is not None and len(names) != array.shape[1]:
        raise ValueError(f"'region_names' has {len(names)} names for {array.shape[1]} regions.")
    return array, names
