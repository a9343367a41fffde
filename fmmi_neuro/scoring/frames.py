"""The shared pieces of every group score table: term names, units, data unpacking, kernel dispatch.

Sign convention: Omega = TC - DTC; Omega > 0 redundancy-dominated, Omega < 0 synergy-dominated.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._validation import as_samples_array, check_in
from ..engine.information import MIN_SAMPLES

ESTIMATORS = ("gaussian_copula", "fmmi")
TERMS = ("o_info", "tc", "dtc", "s_info")
TERM_COLUMNS = tuple(key for term in TERMS for key in (term, f"{term}_se"))
COLUMNS = ("group_id", "regions", "region_names", "size", *TERM_COLUMNS, "unit", "estimator", "status")
"""Columns of every group score table, in order (``group_frame``)."""
SIGN_CONVENTION = "Omega = TC - DTC; > 0 redundancy, < 0 synergy"
STATUSES = {
    "ok": "finite estimate (and, with a null, finite surrogate values)",
    "nonfinite": "the estimator returned NaN or inf for this group: no estimate, no p-value",
    "nonfinite_null": "some surrogate values were NaN or inf: the estimate stands, no p-value",
}
"""Values of the ``status`` column of group tables; the statistics and the report leave out what is not ok."""
GroupKernel = Callable[[np.ndarray, np.ndarray], dict]


def group_terms(
    data: np.ndarray,
    groups: np.ndarray,
    *,
    estimator: str | GroupKernel = "gaussian_copula",
    **estimator_kwargs: Any,
) -> dict[str, np.ndarray]:
    """Information terms of many groups of columns of one data set, in nats.

    Dispatches to the engine: ``gaussian_copula`` -> :func:`fmmi_neuro.engine.gaussian.copula.gc_group_terms`,
    ``fmmi`` -> ``fmmi_neuro.engine.fmmi.MultiTimeFMMI`` fitted on all of ``data``'s columns and scored on
    ``groups`` (``fmmi_group_terms``).

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
            from ..engine.gaussian.copula import gc_group_terms as kernel
        else:
            kernel = fmmi_group_terms
    if groups.shape[0] == 0:
        return {key: np.empty(0) for key in TERM_COLUMNS}
    out = kernel(data, groups, **estimator_kwargs)
    result = {}
    for term in TERMS:
        result[term] = np.asarray(out[term], dtype=np.float64).reshape(-1)
        se = out.get(f"{term}_se")
        result[f"{term}_se"] = (
            np.full(groups.shape[0], np.nan) if se is None else np.asarray(se, dtype=np.float64).reshape(-1)
        )
    return result


def fmmi_group_terms(
    data: np.ndarray, groups: np.ndarray, *, seed: int = 0, device: str = "auto", **options: Any
) -> dict[str, np.ndarray]:
    """FMMI terms of ``groups`` (n_groups, size): one ``MultiTimeFMMI`` fitted on every column of ``data``."""
    from ..engine.fmmi import MultiTimeFMMI

    estimator = MultiTimeFMMI(**options, group_size=groups.shape[1], seed=seed, device=device)
    return estimator.fit(data).score(groups)


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
    """Tidy group score table (the shared column set plus ``status``) from groups and kernel terms in nats.

    A group whose terms are not all finite keeps its row, with NaN values and ``status="nonfinite"``
    (see :data:`STATUSES`), and a warning says how many there are.
    """
    groups = np.sort(np.asarray(groups, dtype=np.int64), axis=1)
    factor = unit_factor(unit)
    n_names = int(groups.max()) + 1 if groups.size else 0
    names = [f"region_{i}" for i in range(n_names)] if region_names is None else list(region_names)
    index_text = np.array([str(j) for j in range(max(len(names), n_names))], dtype=object)
    name_array = np.array(names, dtype=object)
    columns = groups.T
    frame = pd.DataFrame(
        {
            "group_id": ["-".join(ids) for ids in zip(*index_text[columns], strict=True)],
            "regions": list(zip(*columns.tolist(), strict=True)),
            "region_names": list(zip(*name_array[columns], strict=True)),
            "size": np.full(groups.shape[0], groups.shape[1], dtype=np.int64),
        }
    )
    rows = frame["regions"]
    status = estimate_status(terms)
    for key in TERM_COLUMNS:
        value = np.asarray(terms[key], dtype=np.float64).reshape(-1)
        if value.shape != (len(rows),):
            raise ValueError(
                f"the estimator returned {value.shape} values for '{key}'; expected {len(rows)}."
            )
        frame[key] = np.where(status == "ok", value, np.nan) * factor
    frame["unit"] = unit
    frame["estimator"] = estimator
    frame["status"] = status
    bad = np.flatnonzero(status != "ok")
    if bad.size:
        warnings.warn(
            f"{bad.size} of {len(frame)} groups have no finite estimate (e.g. group "
            f"{frame['group_id'].iloc[bad[0]]}); they are kept with status 'nonfinite' and NaN values, get "
            "no p-value, and the statistics leave them out.",
            RuntimeWarning,
            stacklevel=3,
        )
    return frame


def estimate_status(terms: dict[str, np.ndarray]) -> np.ndarray:
    """``"ok"`` for groups whose four terms are finite, else ``"nonfinite"`` (see :data:`STATUSES`).

    Parameters
    ----------
    terms : dict of str -> ndarray, shape (n_groups,)
        At least ``o_info, tc, dtc, s_info``.

    Returns
    -------
    ndarray of str, shape (n_groups,)
    """
    finite = np.logical_and.reduce([np.isfinite(np.asarray(terms[t], dtype=np.float64)) for t in TERMS])
    return np.where(finite, "ok", "nonfinite").astype(object)


def unpack_data(data: Any) -> tuple[Any, list[str] | None, str, dict[str, Any]]:
    """Split ``data`` into (array-like, region names or None, name for messages, metadata).

    ``data`` is a RegionTimeSeries-like object (``.data`` and ``.region_names``; metadata: its subject,
    session, run, task, atlas and t_r where set), a DataFrame (columns are region names) or an array.
    """
    if isinstance(data, pd.DataFrame):
        return data.to_numpy(), [str(c) for c in data.columns], "data", {}
    if hasattr(data, "data") and hasattr(data, "region_names"):
        meta = {
            key: getattr(data, key)
            for key in ("subject", "session", "run", "task", "atlas", "t_r")
            if getattr(data, key, None) is not None
        }
        where = f"time series of sub-{meta['subject']}" if "subject" in meta else "time series"
        return data.data, [str(n) for n in data.region_names], where, meta
    return data, None, "data", {}


@dataclass(frozen=True)
class RegionData:
    """Region time series checked for group scoring (see :func:`check_region_data`).

    Attributes
    ----------
    values : ndarray, shape (n_samples, n_regions)
        float64, finite, at least ``MIN_SAMPLES`` rows; no constant region and no two regions with the
        same ranks.
    region_names : list of str or None
        Unique names, one per column, where the input had them (None for a bare array).
    where : str
        How messages name the input (e.g. "time series of sub-01").
    source : dict
        The input's subject, session, run, task, atlas and t_r, where known.
    """

    values: np.ndarray
    region_names: list[str] | None
    where: str
    source: dict[str, Any] = field(default_factory=dict)


def check_region_data(
    data: Any,
    region_names: Sequence[str] | None = None,
    *,
    groups: Any = None,
    min_samples: int = MIN_SAMPLES,
) -> RegionData:
    """Check the input of every group scorer before any work, naming the input and the region at fault.

    Parameters
    ----------
    data : RegionTimeSeries, DataFrame or array-like, shape (n_samples, n_regions)
        See :func:`unpack_data`.
    region_names : sequence of str, optional
        Overrides the names ``data`` carries.
    groups : list of sequences of int or str, or int ndarray (n_groups, size), optional
        The groups that will be scored; None means every group. Two regions with the same ranks are an
        error when some group holds both, else a warning.
    min_samples : int
        Fewest time points accepted; default ``MIN_SAMPLES`` (100), the same as
        :func:`fmmi_neuro.information`.

    Returns
    -------
    RegionData

    Raises
    ------
    ValueError
        Too few time points, NaN or infinite values, a constant region, names that do not match the
        columns or repeat, or two regions of one group with the same ranks (see
        :func:`same_rank_pairs`).
    """
    raw, names, where, source = unpack_data(data)
    if region_names is not None:
        names = [str(n) for n in region_names]
    values = as_samples_array(raw, where, column_names=names)
    if values.shape[0] < min_samples:
        raise ValueError(
            f"{where} has {values.shape[0]} time points; at least {min_samples} are needed to estimate "
            "information terms (rows are time points, columns regions)."
        )
    if names is not None:
        if len(names) != values.shape[1]:
            raise ValueError(f"{where} has {values.shape[1]} regions but {len(names)} region names.")
        seen: set[str] = set()
        duplicates = sorted({n for n in names if n in seen or seen.add(n)})
        if duplicates:
            raise ValueError(f"{where} has duplicate region names {duplicates[:5]}; names must be unique.")
    pairs = same_rank_pairs(values)
    if pairs:

        def label(k: int) -> str:
            return f"{k} ({names[k]!r})" if names is not None else str(k)

        shared = pairs if groups is None else _pairs_in_groups(pairs, groups, names)
        listing = ", ".join(f"{label(i)} and {label(j)}" for i, j in (shared or pairs)[:3])
        more = f" (and {len(shared or pairs) - 3} more pairs)" if len(shared or pairs) > 3 else ""
        what = (
            "have the same ranks (a duplicated region, or one a monotone function of the other)"
            f"{more}: a group holding both has a singular copula covariance and no finite O-information"
        )
        if shared:
            raise ValueError(f"{where}: regions {listing} {what}; drop one of each pair.")
        warnings.warn(
            f"{where}: regions {listing} {what}. No group scored here holds both, so the scores are "
            "finite; check the data (drop one of each pair) to silence this warning.",
            UserWarning,
            stacklevel=3,
        )
    return RegionData(values, names, where, source)


def same_rank_pairs(values: np.ndarray, *, block: int = 512) -> list[tuple[int, int]]:
    """Pairs of regions (i < j) whose normal scores are (nearly) collinear.

    Such a pair (a duplicated column, or one a monotone function of the other) makes the copula
    covariance of every group holding both singular, so its O-information is not finite. The test is the
    one :func:`fmmi_neuro.information` applies: the smallest eigenvalue of the pair's normal-score
    correlation is at most 1e-10 times the largest.

    Parameters
    ----------
    values : ndarray, shape (n_samples, n_regions)
        Finite values.
    block : int
        Regions compared at once (memory grows as ``block * n_regions``).
    """
    from scipy.special import ndtri
    from scipy.stats import rankdata

    z = ndtri(rankdata(values, axis=0) / (values.shape[0] + 1.0))  # the copula's normal scores
    z = z - z.mean(axis=0)
    z = z / np.linalg.norm(z, axis=0)
    pairs: list[tuple[int, int]] = []
    for start in range(0, z.shape[1], block):
        corr = np.abs(z[:, start : start + block].T @ z[:, start:])
        rows, cols = np.nonzero(np.triu((1.0 - corr) <= 1e-10 * (1.0 + corr), 1))
        pairs += [(start + int(i), start + int(j)) for i, j in zip(rows, cols, strict=True)]
    return pairs


def _pairs_in_groups(
    pairs: list[tuple[int, int]], groups: Any, names: Sequence[str] | None
) -> list[tuple[int, int]]:
    """The pairs that some group holds (group members as indices or names; unknown names are skipped,
    the group checks name them later)."""
    lookup = {name: j for j, name in enumerate(names or [])}
    member_sets = []
    for group in groups:
        members = set()
        for item in np.asarray(group, dtype=object).reshape(-1).tolist():
            index = lookup.get(item) if isinstance(item, str) else item
            if isinstance(index, (int, np.integer)) and not isinstance(index, bool):
                members.add(int(index))
        member_sets.append(members)
    return [(i, j) for i, j in pairs if any(i in m and j in m for m in member_sets)]


def as_data(
    data: Any, region_names: Sequence[str] | None, *, groups: Any = None
) -> tuple[np.ndarray, list[str] | None]:
    """(n_samples, n_regions) float array and region names, checked by :func:`check_region_data` for
    ``groups`` (None: every group)."""
    checked = check_region_data(data, region_names, groups=groups)
    return checked.values, checked.region_names
