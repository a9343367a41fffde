"""From a cohort of subjects to a subject-level score table (with per-subject surrogate nulls).

:func:`score_cohort` is the entry point from a ``Cohort`` (or a list of ``RegionTimeSeries``, or a dict
subject -> array) to one tidy table with one row per (subject, group); :func:`~fmmi_neuro.stats.group_level.
group_statistics` turns it into one row per group. Sign convention: Omega = TC - DTC; Omega > 0
redundancy-dominated, Omega < 0 synergy-dominated.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import signal

from .._validation import check_in, check_positive_int, check_seed
from ..scoring.frames import COLUMNS, ESTIMATORS, SIGN_CONVENTION, as_data, group_frame, group_terms
from ..scoring.groups import check_groups, iter_all_groups
from ..scoring.score import installed_versions
from .nulls import NULL_METHODS, surrogate_test

SUBJECT_COLUMNS = ("subject", *COLUMNS)
NULL_COLUMNS = (
    "null_method",
    "n_surrogates",
    "value",
    "null_mean",
    "null_sd",
    "z",
    "null_quantile",
    "p_value",
    "q_value",
    "significant",
)


def package_versions(*extra: str) -> dict[str, str]:
    """Installed versions of fmmi-neuro, numpy, scipy, pandas, statsmodels, pyarrow and ``extra``."""
    return installed_versions("fmmi-neuro", "numpy", "scipy", "pandas", "statsmodels", "pyarrow", *extra)


def _subjects(cohort: Any) -> tuple[list[tuple[str, Any]], dict[str, str], pd.DataFrame | None]:
    """(subject, loader) pairs, errors already known, and the phenotype table (or None)."""
    errors: dict[str, str] = {}
    phenotype = getattr(cohort, "phenotype", None)
    if hasattr(cohort, "subjects") and hasattr(cohort, "get"):
        errors.update({str(k): str(v) for k, v in (getattr(cohort, "errors", None) or {}).items()})
        items = [(str(s), (lambda s=s: cohort.get(s))) for s in cohort.subjects if str(s) not in errors]
    elif isinstance(cohort, np.ndarray) and cohort.ndim == 3:
        items = [(f"{i:02d}", (lambda v=v: v)) for i, v in enumerate(cohort)]
    elif isinstance(cohort, Mapping):
        items = [(str(s), (lambda v=v: v)) for s, v in cohort.items()]
    elif isinstance(cohort, Sequence) and not isinstance(cohort, (str, bytes, np.ndarray)):
        items = []
        for i, ts in enumerate(cohort):
            subject = getattr(ts, "subject", None)
            items.append((str(subject) if subject is not None else f"{i:02d}", (lambda v=ts: v)))
    else:
        raise TypeError(
            "'cohort' must be a Cohort, a list of RegionTimeSeries or arrays, a dict subject -> array "
            "or an array (n_subjects, n_samples, n_regions); "
            f"got {type(cohort).__name__}."
        )
    labels = [s for s, _ in items]
    duplicates = sorted({s for s in labels if labels.count(s) > 1})
    if duplicates:
        raise ValueError(f"subjects {duplicates[:5]} appear more than once in 'cohort'.")
    if phenotype is not None and not isinstance(phenotype, pd.DataFrame):
        phenotype = None
    return items, errors, phenotype


def _listed_groups(groups: Any) -> Any:
    """``groups`` as a list or array, read once (chunks of a streaming design concatenated)."""
    if groups is None or isinstance(groups, (np.ndarray, str, bytes)):
        return groups
    groups = list(groups)
    if groups and all(isinstance(g, np.ndarray) and g.ndim == 2 for g in groups):
        return np.concatenate(groups)  # chunks from a streaming design (network_groups, ...)
    return groups


def _resolve_groups(groups: Any, size: int, n_regions: int, names: list[str] | None) -> list[np.ndarray]:
    """Groups as int arrays (n_groups, size), one per group size, in the given order."""
    if groups is None:
        if size > n_regions:
            raise ValueError(f"'size' ({size}) is larger than the number of regions ({n_regions}).")
        return [np.concatenate(list(iter_all_groups(n_regions, size)))]
    checked = check_groups(groups, n_regions=n_regions, region_names=names)
    by_size: dict[int, list[tuple[int, ...]]] = {}
    for g in checked:
        by_size.setdefault(len(g), []).append(g)
    return [np.array(v, dtype=np.int64) for _, v in sorted(by_size.items())]


def score_cohort(
    cohort: Any,
    *,
    groups: Any = None,
    size: int = 3,
    estimator: str = "gaussian_copula",
    null: str | None = "time_shift",
    n_surrogates: int = 199,
    alternative: str = "two-sided",
    unit: str = "nats",
    alpha: float = 0.05,
    seed: int = 0,
    phenotype: pd.DataFrame | None = None,
    detrend: bool = True,
    **estimator_kwargs: Any,
) -> pd.DataFrame:
    """Score the same groups in every subject, optionally with a per-subject surrogate test.

    Parameters
    ----------
    cohort : Cohort, list of RegionTimeSeries or arrays, dict subject -> ndarray, or ndarray
        A ``Cohort`` (phenotype taken from it), RegionTimeSeries (subject labels from them), arrays of
        shape (n_samples, n_regions) (labelled "00", "01", ...) or one array (n_subjects, n_samples,
        n_regions).
        Every subject must have the same regions (same count, and same names where given).
    groups : list of sequences of int or str, int ndarray (n_groups, size), or iterable of chunks, optional
        Groups to score (indices or region names; sizes may differ), or the chunks of a design such as
        :func:`~fmmi_neuro.scoring.designs.network_groups`. Default: every ``size``-subset.
    size : int
        Group size when ``groups`` is None.
    estimator : {"gaussian_copula", "fmmi"}
        ``gaussian_copula`` is fast; ``fmmi`` trains a network per subject (and per surrogate).
    null : {"time_shift", "member_shift", "phase", "aaft"} or None
        Per-subject surrogate null (see :func:`~fmmi_neuro.stats.nulls.surrogate_test`); None skips
        it. ``time_shift`` (default) tests against independent regions; ``member_shift`` against "one
        member independent of the others" (Omega-specific, conservative; copula only).
    n_surrogates : int
    alternative : {"two-sided", "greater", "less"}
        For the per-subject p-values of Omega.
    unit : {"nats", "bits"}
    alpha : float
        Per-subject FDR level for ``significant``.
    seed : int
        Subject i uses surrogates seeded by ``(seed, i)``; the same seed gives the same table.
    phenotype : DataFrame indexed by subject, optional
        Joined as extra columns; default ``cohort.phenotype`` when the cohort has one.
    detrend : bool
        Remove each region's linear trend before scoring (harmless on cleaned data, needed for raw
        signals with drift, whose circular shifts are not exchangeable with the original).
    **estimator_kwargs
        Passed to the estimator.

    Returns
    -------
    DataFrame
        One row per (subject, group): ``subject, group_id, regions, region_names, size, o_info, o_info_se,
        tc, tc_se, dtc, dtc_se, s_info, s_info_se, unit, estimator, status`` (``"ok"``, or why the row
        has no estimate or no p-value: see :func:`~fmmi_neuro.stats.nulls.surrogate_test`; the group
        statistics leave such rows out and count them); with a null also ``null_method,
        n_surrogates, value, null_mean, null_sd, z, null_quantile, p_value, q_value, significant``
        (for ``o_info``); then the phenotype columns. ``attrs``: unit, sign convention, estimator and
        settings, null, seed, package versions, ``region_names``, ``networks``, ``errors`` (subject ->
        message for subjects that failed; they are skipped with a warning).
        Omega = TC - DTC; > 0 redundancy, < 0 synergy.
    """
    if not callable(estimator):
        check_in(estimator, ESTIMATORS, "estimator")
    if null is not None:
        check_in(null, NULL_METHODS, "null")
        if null == "member_shift" and estimator != "gaussian_copula":
            raise ValueError("null='member_shift' is implemented for estimator='gaussian_copula' only.")
    check_in(unit, ("nats", "bits"), "unit")
    seed = check_seed(seed)
    n_surrogates = check_positive_int(n_surrogates, "n_surrogates")
    if groups is None:
        size = check_positive_int(size, "size", minimum=3)
    groups = _listed_groups(groups)
    items, errors, cohort_phenotype = _subjects(cohort)
    phenotype = cohort_phenotype if phenotype is None else phenotype
    parts = []
    reference: tuple[int, list[str] | None, list[np.ndarray]] | None = None
    networks = None
    for position, (subject, load) in enumerate(items):
        try:
            ts = load()
            array, names = as_data(ts, None, groups=groups)
        except (ValueError, TypeError, OSError) as err:
            errors[subject] = str(err)
            warnings.warn(f"subject {subject!r} skipped: {err}", RuntimeWarning, stacklevel=2)
            continue
        if reference is None:  # bad groups are the caller's error, not a subject's: raise
            reference = (array.shape[1], names, _resolve_groups(groups, size, array.shape[1], names))
            networks = getattr(ts, "networks", None)
        try:
            if detrend:
                array = signal.detrend(array, axis=0, type="linear")
            _check_same_regions(subject, array.shape[1], names, reference)
            subject_seed = int(np.random.default_rng([seed, position]).integers(2**31 - 1))
            for group_array in reference[2]:
                parts.append(
                    _score_subject(
                        subject,
                        array,
                        reference[1],
                        group_array,
                        estimator,
                        null,
                        n_surrogates,
                        alternative,
                        unit,
                        alpha,
                        subject_seed,
                        estimator_kwargs,
                    )
                )
        except (ValueError, TypeError, OSError) as err:
            errors[subject] = str(err)
            warnings.warn(f"subject {subject!r} skipped: {err}", RuntimeWarning, stacklevel=2)
    if not parts:
        raise ValueError(f"no subject could be scored; errors: {errors}")
    table = pd.concat(parts, ignore_index=True)
    table = table.loc[:, [*SUBJECT_COLUMNS, *(NULL_COLUMNS if null is not None else ())]]
    if phenotype is not None:
        table = join_phenotype(table, phenotype)
    table.attrs = {
        "unit": unit,
        "sign_convention": SIGN_CONVENTION,
        "estimator": estimator,
        "estimator_settings": {k: v for k, v in estimator_kwargs.items() if isinstance(v, (str, int, float))},
        "null_method": null,
        "n_surrogates": n_surrogates if null is not None else 0,
        "alternative": alternative,
        "seed": seed,
        "detrend": bool(detrend),
        "versions": package_versions(*(("torch",) if estimator == "fmmi" else ())),
        "n_regions": reference[0] if reference else None,
        "region_names": list(reference[1]) if reference and reference[1] is not None else None,
        "networks": list(networks) if networks is not None else None,
        "n_subjects": int(table["subject"].nunique()),
        "errors": errors,
    }
    return table


def _check_same_regions(subject: str, n_regions: int, names: list[str] | None, reference: tuple) -> None:
    ref_n, ref_names = reference[0], reference[1]
    if n_regions != ref_n:
        raise ValueError(f"subject {subject!r} has {n_regions} regions; the first subject has {ref_n}.")
    if names is not None and ref_names is not None and list(names) != list(ref_names):
        first = next(i for i, (a, b) in enumerate(zip(names, ref_names, strict=True)) if a != b)
        raise ValueError(
            f"subject {subject!r} has region {first} named {names[first]!r}; "
            f"the first subject has {ref_names[first]!r}."
        )


def _score_subject(
    subject: str,
    array: np.ndarray,
    names: list[str] | None,
    groups: np.ndarray,
    estimator: str,
    null: str | None,
    n_surrogates: int,
    alternative: str,
    unit: str,
    alpha: float,
    seed: int,
    estimator_kwargs: dict,
) -> pd.DataFrame:
    kwargs = dict(estimator_kwargs)
    if null is not None:
        table = surrogate_test(
            array,
            groups,
            method=null,
            n_surrogates=n_surrogates,
            alternative=alternative,
            estimator=estimator,
            unit=unit,
            alpha=alpha,
            seed=seed,
            region_names=names,
            detrend=False,
            **kwargs,
        )
    else:
        if estimator == "fmmi":
            kwargs.setdefault("seed", seed)
        terms = group_terms(array, groups, estimator=estimator, **kwargs)
        table = group_frame(groups, terms, region_names=names, unit=unit, estimator=estimator)
    table.insert(0, "subject", subject)
    return table


def join_phenotype(table: pd.DataFrame, phenotype: pd.DataFrame) -> pd.DataFrame:
    """Add phenotype columns (a DataFrame indexed by subject) to a table with a ``subject`` column.

    Subject labels are compared as strings, with any leading "sub-" removed. Columns that already exist
    in ``table`` are not duplicated. ``attrs`` are kept.
    """
    pheno = phenotype.copy()
    if "subject" in pheno.columns:
        pheno = pheno.set_index("subject")
    pheno.index = [str(s).removeprefix("sub-") for s in pheno.index]
    pheno = pheno.loc[:, [c for c in pheno.columns if c not in table.columns]]
    pheno = pheno[~pheno.index.duplicated()]
    attrs = dict(table.attrs)
    keys = table["subject"].astype(str).str.removeprefix("sub-")
    table = table.reset_index(drop=True)
    out = pd.concat([table, pheno.reindex(keys.to_numpy()).reset_index(drop=True)], axis=1)
    out.attrs = attrs
    return out
