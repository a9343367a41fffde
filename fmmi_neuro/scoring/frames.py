"""The shared pieces of every group score table: term names, units, data unpacking, kernel dispatch.

Sign convention: Omega = TC - DTC; Omega > 0 redundancy-dominated, Omega < 0 synergy-dominated.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._validation import as_samples_array, check_in

ESTIMATORS = ("gaussian_copula", "fmmi")
TERMS = ("o_info", "tc", "dtc", "s_info")
TERM_COLUMNS = tuple(key for term in TERMS for key in (term, f"{term}_se"))
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
    for key in TERM_COLUMNS:
        frame[key] = terms[key] * factor
    frame["unit"] = unit
    frame["estimator"] = estimator
    return frame


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


def as_data(data: Any, region_names: Sequence[str] | None) -> tuple[np.ndarray, list[str] | None]:
    """(n_samples, n_regions) float array and region names from an array, DataFrame or RegionTimeSeries."""
    raw, names, label, _ = unpack_data(data)
    if region_names is not None:
        names = list(region_names)
    array = as_samples_array(raw, label, min_samples=3, column_names=names)
    if names is not None and len(names) != array.shape[1]:
        raise ValueError(f"'region_names' has {len(names)} names for {array.shape[1]} regions.")
    return array, names
