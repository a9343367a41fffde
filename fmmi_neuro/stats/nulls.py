"""Per-group surrogate tests and moving-block bootstrap confidence intervals for one data set.

Nulls: ``time_shift`` (all regions shifted independently: independence), ``member_shift`` (one group
member shifted at a time: that member independent of the others; intersection-union over members),
``phase`` / ``aaft`` (linear Gaussian process; see :mod:`fmmi_neuro.stats.surrogates`).

Sign convention: Omega = TC - DTC; Omega > 0 redundancy-dominated, Omega < 0 synergy-dominated.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import signal

from .._validation import check_in, check_positive_int, check_seed
from ..scoring.frames import (
    ESTIMATORS,
    TERMS,
    GroupKernel,
    as_data,
    group_frame,
    group_terms,
    unit_factor,
)
from .multitest import fdr_bh
from .surrogates import SURROGATE_METHODS, moving_block_indices, surrogates

ALTERNATIVES = ("two-sided", "greater", "less")
NULL_METHODS = (*SURROGATE_METHODS, "member_shift")


def empirical_p_values(
    observed: np.ndarray, null: np.ndarray, *, alternative: str = "two-sided"
) -> np.ndarray:
    """Monte-Carlo p-values with the +1 correction (Phipson & Smyth 2010).

    Parameters
    ----------
    observed : ndarray, shape (n_tests,)
    null : ndarray, shape (n_surrogates, n_tests)
    alternative : {"two-sided", "greater", "less"}
        ``greater``: p = (1 + #{null >= obs}) / (1 + B); ``less`` likewise with <=; ``two-sided``:
        twice the smaller one-sided p, capped at 1.

    Returns
    -------
    ndarray, shape (n_tests,)
        In (0, 1]; never 0.
    """
    check_in(alternative, ALTERNATIVES, "alternative")
    observed = np.asarray(observed, dtype=np.float64).reshape(-1)
    null = np.asarray(null, dtype=np.float64)
    if null.ndim == 1:
        null = null[:, None]
    if null.shape[1] != observed.size:
        raise ValueError(f"'null' must have shape (n_surrogates, {observed.size}); got {null.shape}.")
    n = null.shape[0]
    greater = (1.0 + (null >= observed).sum(axis=0)) / (n + 1.0)
    less = (1.0 + (null <= observed).sum(axis=0)) / (n + 1.0)
    return _combine(greater, less, alternative)


def _combine(greater: np.ndarray, less: np.ndarray, alternative: str) -> np.ndarray:
    if alternative == "greater":
        return greater
    if alternative == "less":
        return less
    return np.minimum(1.0, 2.0 * np.minimum(greater, less))


def surrogate_test(
    data: Any,
    groups: np.ndarray,
    *,
    method: str = "time_shift",
    n_surrogates: int = 199,
    value: str = "o_info",
    alternative: str = "two-sided",
    estimator: str | GroupKernel = "gaussian_copula",
    unit: str = "nats",
    alpha: float = 0.05,
    seed: int = 0,
    min_shift: int | None = None,
    detrend: bool = True,
    region_names: Sequence[str] | None = None,
    **estimator_kwargs: Any,
) -> pd.DataFrame:
    """Score groups and test each against surrogate data (Monte-Carlo p-values, BH-FDR across groups).

    The surrogate statistics are accumulated one surrogate at a time (counts, mean, variance), so memory
    does not grow with ``n_surrogates``.

    Parameters
    ----------
    data : ndarray (n_samples, n_regions) or RegionTimeSeries
    groups : int ndarray, shape (n_groups, size)
    method : {"time_shift", "member_shift", "phase", "aaft"}
        ``time_shift`` tests against independent regions with the same autocorrelation (every region
        shifted). ``member_shift`` (copula only) shifts one member of a group at a time, keeping the
        others aligned, and reports the largest of the per-member p-values: its null is "some member is
        independent of the rest" (then Omega = 0 for a triplet), so a group whose only dependence is a
        pair is not flagged; conservative, and the Omega-specific choice. ``phase`` tests
        what is beyond a linear Gaussian process with the same (cross-)spectra, ``aaft`` the same with
        each region's values kept (use it for non-Gaussian marginals). With the copula estimator only
        ``time_shift`` is informative (see :mod:`fmmi_neuro.stats.surrogates`).
    n_surrogates : int
        The smallest possible p-value is 1 / (n_surrogates + 1) (two-sided: twice that).
    value : {"o_info", "tc", "dtc", "s_info"}
        Which term is tested.
    alternative : {"two-sided", "greater", "less"}
        ``less`` asks for synergy beyond the null, ``greater`` for redundancy (for ``value="o_info"``).
    estimator : {"gaussian_copula", "fmmi"} or kernel callable
    unit : {"nats", "bits"}
    alpha : float
        FDR level for the ``significant`` column.
    seed : int
        Seeds the surrogates (and is passed to fmmi).
    min_shift : int, optional
        Smallest lag between regions for ``time_shift`` (see :func:`time_shift_surrogate`).
    detrend : bool
        Remove each region's linear trend first (as nilearn's ``signal.clean`` does by default): a drift
        makes a series non-stationary, and circular shifts of a drifting series are not exchangeable
        with it. Recorded in ``attrs``.

    Returns
    -------
    DataFrame
        The group score table (``group_id, regions, region_names, size, o_info, o_info_se, tc, tc_se,
        dtc, dtc_se, s_info, s_info_se, unit, estimator, status``) plus ``null_method, n_surrogates,
        value, null_mean, null_sd, z, null_quantile, p_value, q_value, significant`` (null_* in ``unit``,
        for ``value``). ``status`` is ``"ok"``, ``"nonfinite"`` (no finite estimate: NaN values) or
        ``"nonfinite_null"`` (NaN/inf on some surrogates); only ``"ok"`` rows get a p-value, and the FDR
        runs over them alone (a warning says how many are not ok). ``null_quantile`` is the mid-rank
        position of the observed value among the surrogates, (#below + #ties/2 + 1/2) / (n_surrogates +
        1): symmetric and near-uniform under the null, close to 0 for synergy beyond it and to 1 for
        redundancy (for ``o_info``).
        Omega = TC - DTC; > 0 redundancy, < 0 synergy.
    """
    check_in(value, TERMS, "value")
    check_in(alternative, ALTERNATIVES, "alternative")
    check_in(method, NULL_METHODS, "method")
    n_surrogates = check_positive_int(n_surrogates, "n_surrogates")
    if not callable(estimator):
        check_in(estimator, ESTIMATORS, "estimator")
    check_in(unit, ("nats", "bits"), "unit")
    seed = check_seed(seed)
    if estimator == "gaussian_copula" and method in ("phase", "aaft"):
        warnings.warn(
            f"method={method!r} keeps the (copula) covariance, which is all the Gaussian-copula estimator "
            "sees: its p-values say little (near 1 for 'aaft'). Use method='time_shift' with the copula, "
            "or estimator='fmmi' to test dependence beyond linear.",
            UserWarning,
            stacklevel=2,
        )
    groups = np.asarray(groups, dtype=np.int64)
    array, names = as_data(data, region_names, groups=groups)
    n_regions = array.shape[1]
    used, local = _used_regions(groups, n_regions)
    kwargs = dict(estimator_kwargs)
    if estimator == "fmmi":
        kwargs.setdefault("seed", seed)
    array = array[:, used]
    if detrend:
        array = signal.detrend(array, axis=0, type="linear")
    observed_terms = group_terms(array, local, estimator=estimator, **kwargs)
    observed = observed_terms[value]
    if method == "member_shift":
        if estimator != "gaussian_copula":
            raise ValueError("method='member_shift' is implemented for estimator='gaussian_copula' only.")
        members = [_NullAccumulator(observed) for _ in range(groups.shape[1])]
        for nulls in _copula_member_shift_nulls(array, local, n_surrogates, seed, min_shift, value, **kwargs):
            for accumulator, null in zip(members, nulls, strict=True):
                accumulator.add(null)
        member_p = np.stack([a.p_values(alternative) for a in members])
        pick, columns = np.argmax(member_p, axis=0), np.arange(observed.size)
        p = member_p[pick, columns]
        mean, sd, quantile = (
            np.stack([getattr(a, key) for a in members])[pick, columns] for key in ("mean", "sd", "quantile")
        )
        null_nonfinite = np.any([a.n_nonfinite > 0 for a in members], axis=0)
    else:
        stats = _NullAccumulator(observed)
        if estimator == "gaussian_copula" and method == "time_shift":
            null_values = _copula_time_shift_nulls(
                array, local, n_surrogates, seed, min_shift, value, **kwargs
            )
        else:
            null_values = (
                group_terms(surrogate, local, estimator=estimator, **kwargs)[value]
                for surrogate in surrogates(
                    array, n_surrogates, method=method, seed=seed, min_shift=min_shift
                )
            )
        for null in null_values:
            stats.add(null)
        p, mean, sd, quantile = stats.p_values(alternative), stats.mean, stats.sd, stats.quantile
        null_nonfinite = stats.n_nonfinite > 0
    label = estimator if isinstance(estimator, str) else getattr(estimator, "__name__", "custom")
    table = group_frame(groups, observed_terms, region_names=names, unit=unit, estimator=label)
    status = np.where((table["status"] == "ok") & null_nonfinite, "nonfinite_null", table["status"])
    table["status"] = status
    if (status == "nonfinite_null").any():
        warnings.warn(
            f"{int((status == 'nonfinite_null').sum())} of {len(status)} groups had NaN or inf values on "
            "some surrogates; they keep their estimate with status 'nonfinite_null' but get no p-value.",
            RuntimeWarning,
            stacklevel=2,
        )
    tested = status == "ok"
    p, mean, sd, quantile = (np.where(tested, v, np.nan) for v in (p, mean, sd, quantile))
    factor = unit_factor(unit)
    reject, q = fdr_bh(p, alpha=alpha)
    table["null_method"] = method
    table["n_surrogates"] = n_surrogates
    table["value"] = value
    table["null_mean"] = mean * factor
    table["null_sd"] = sd * factor
    with np.errstate(divide="ignore", invalid="ignore"):
        table["z"] = np.where(sd > 0, (observed - mean) / sd, np.nan)
    table["null_quantile"] = quantile
    table["p_value"] = p
    table["q_value"] = q
    table["significant"] = reject
    table.attrs.update(
        {
            "unit": unit,
            "sign_convention": "Omega = TC - DTC; > 0 redundancy, < 0 synergy",
            "estimator": label,
            "estimator_settings": {k: v for k, v in kwargs.items() if _jsonable(v)},
            "null_method": method,
            "n_surrogates": n_surrogates,
            "alternative": alternative,
            "alpha": alpha,
            "detrend": bool(detrend),
            "seed": seed,
            "n_regions": n_regions,
        }
    )
    return table


def _copula_time_shift_nulls(
    data: np.ndarray,
    groups: np.ndarray,
    n_surrogates: int,
    seed: int,
    min_shift: int | None,
    value: str,
    *,
    bias_correct: bool = True,
) -> Iterator[np.ndarray]:
    """Gaussian-copula ``value`` of every group on time-shift surrogates, without re-ranking.

    A circular shift permutes a column's values, so its normal scores are the shifted normal scores:
    the data are rank-normalised once, and only the covariance entries the groups use are recomputed
    per surrogate (same numbers as scoring each surrogate from scratch).
    """
    from ..engine.gaussian.copula import gc_group_terms_from_cov
    from ..engine.gaussian.marginals import rank_to_normal

    z = rank_to_normal(data)
    z = z - z.mean(axis=0)
    n, size = z.shape[0], groups.shape[1]
    rows, cols = np.triu_indices(size, 1)
    pairs = np.unique(
        np.sort(np.stack([groups[:, rows], groups[:, cols]], axis=-1).reshape(-1, 2), axis=1), axis=0
    )
    use_pairs = pairs.shape[0] < z.shape[1] ** 2 // 8
    cov = z.T @ z / (n - 1)
    for surrogate in surrogates(z, n_surrogates, method="time_shift", seed=seed, min_shift=min_shift):
        if use_pairs:
            off = np.einsum("ti,ti->i", surrogate[:, pairs[:, 0]], surrogate[:, pairs[:, 1]]) / (n - 1)
            cov[pairs[:, 0], pairs[:, 1]] = off
            cov[pairs[:, 1], pairs[:, 0]] = off
        else:
            cov = surrogate.T @ surrogate / (n - 1)
        yield gc_group_terms_from_cov(cov, groups, n, bias_correct=bias_correct)[value]


def _copula_member_shift_nulls(
    data: np.ndarray,
    groups: np.ndarray,
    n_surrogates: int,
    seed: int,
    min_shift: int | None,
    value: str,
    *,
    bias_correct: bool = True,
) -> Iterator[np.ndarray]:
    """Copula ``value`` of every group with one member circularly shifted, for each member in turn.

    Only the shifted member's covariances with the other members change: they are read from circular
    cross-covariances at every lag, computed once by FFT for the (member, other) pairs the groups use.

    Yields
    ------
    ndarray, shape (size, n_groups)
        Row m: the value with member m of every group shifted by its own random lag.
    """
    from ..engine.gaussian.marginals import rank_to_normal
    from ..engine.gaussian.terms import gaussian_terms

    z = rank_to_normal(data)
    z = z - z.mean(axis=0)
    n, size = z.shape[0], groups.shape[1]
    min_shift = max(1, n // 10) if min_shift is None else check_positive_int(min_shift, "min_shift")
    if 2 * min_shift > n:
        raise ValueError(f"'min_shift' ({min_shift}) must be at most half the series length ({n}).")
    others = np.array([[j for j in range(size) if j != m] for m in range(size)])  # (size, size - 1)
    directed = np.stack([np.repeat(groups[:, :, None], size - 1, 2), groups[:, others]], axis=-1)
    pairs, index = np.unique(directed.reshape(-1, 2), axis=0, return_inverse=True)
    if pairs.shape[0] * n > 50_000_000:
        raise ValueError(
            f"method='member_shift' would store {pairs.shape[0]} x {n} lagged covariances; "
            "score fewer groups at a time."
        )
    spectrum = np.fft.rfft(z, axis=0)
    lagged = np.fft.irfft(spectrum[:, pairs[:, 0]].conj() * spectrum[:, pairs[:, 1]], n=n, axis=0) / (n - 1)
    index = index.reshape(groups.shape[0], size, size - 1)
    cov = z.T @ z / (n - 1)
    observed = cov[groups[:, :, None], groups[:, None, :]]
    rng = np.random.default_rng(seed)
    rows = np.arange(groups.shape[0])
    for _ in range(n_surrogates):
        shifts = rng.integers(min_shift, n - min_shift + 1, size=(groups.shape[0], size))
        out = np.empty((size, groups.shape[0]))
        for m in range(size):
            sub = observed.copy()
            values = lagged[shifts[:, m][:, None], index[:, m, :]]  # (n_groups, size - 1)
            sub[rows[:, None], m, others[m][None, :]] = values
            sub[rows[:, None], others[m][None, :], m] = values
            out[m] = gaussian_terms(sub, [1] * size, n_samples=n if bias_correct else None)[value]
        yield out


class _NullAccumulator:
    """Streaming counts and moments of surrogate statistics against an observed vector."""

    def __init__(self, observed: np.ndarray):
        self.observed = observed
        self.n = 0
        self.n_nonfinite = np.zeros(observed.shape)
        self.n_greater = np.zeros(observed.shape)
        self.n_less = np.zeros(observed.shape)
        self.n_below = np.zeros(observed.shape)
        self._sum = np.zeros(observed.shape)
        self._sumsq = np.zeros(observed.shape)

    def add(self, null: np.ndarray) -> None:
        self.n += 1
        self.n_nonfinite += ~np.isfinite(null)
        self.n_greater += null >= self.observed
        self.n_less += null <= self.observed
        self.n_below += null < self.observed
        self._sum += null
        self._sumsq += null**2

    @property
    def mean(self) -> np.ndarray:
        return self._sum / self.n

    @property
    def sd(self) -> np.ndarray:
        if self.n < 2:
            return np.full(self.observed.shape, np.nan)
        var = (self._sumsq - self.n * self.mean**2) / (self.n - 1)
        return np.sqrt(np.maximum(var, 0.0))

    @property
    def quantile(self) -> np.ndarray:
        """Mid-rank position of the observed value in the null, (#below + #ties / 2 + 1/2) / (n + 1)."""
        ties = self.n_less - self.n_below
        return (self.n_below + 0.5 * ties + 0.5) / (self.n + 1.0)

    def p_values(self, alternative: str) -> np.ndarray:
        greater = (1.0 + self.n_greater) / (self.n + 1.0)
        less = (1.0 + self.n_less) / (self.n + 1.0)
        return _combine(greater, less, alternative)


def block_bootstrap_ci(
    data: Any,
    groups: np.ndarray,
    *,
    n_boot: int = 200,
    block_length: int | None = None,
    confidence: float = 0.95,
    estimator: str | GroupKernel = "gaussian_copula",
    unit: str = "nats",
    seed: int = 0,
    region_names: Sequence[str] | None = None,
    **estimator_kwargs: Any,
) -> pd.DataFrame:
    """Percentile confidence intervals of every term from a circular moving-block bootstrap.

    Parameters
    ----------
    data : ndarray (n_samples, n_regions) or RegionTimeSeries
    groups : int ndarray, shape (n_groups, size)
    n_boot : int
        Bootstrap resamples.
    block_length : int, optional
        Time points per block; default ``ceil(sqrt(n_samples))``. Choose it longer than the
        autocorrelation time of the signal.
    confidence : float
        Coverage of the interval.
    seed : int

    Returns
    -------
    DataFrame
        The group score table plus ``<term>_ci_low, <term>_ci_high`` for ``o_info, tc, dtc, s_info``
        (in ``unit``), ``confidence``, ``n_boot``, ``block_length``.
        Omega = TC - DTC; > 0 redundancy, < 0 synergy.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"'confidence' must be in (0, 1); got {confidence!r}.")
    n_boot = check_positive_int(n_boot, "n_boot", minimum=2)
    seed = check_seed(seed)
    groups = np.asarray(groups, dtype=np.int64)
    array, names = as_data(data, region_names, groups=groups)
    used, local = _used_regions(groups, array.shape[1])
    array = array[:, used]
    n = array.shape[0]
    block_length = int(np.ceil(np.sqrt(n))) if block_length is None else block_length
    kwargs = dict(estimator_kwargs)
    if estimator == "fmmi":
        kwargs.setdefault("seed", seed)
    observed = group_terms(array, local, estimator=estimator, **kwargs)
    rng = np.random.default_rng(seed)
    draws = {term: np.empty((n_boot, groups.shape[0])) for term in TERMS}
    for b in range(n_boot):
        rows = moving_block_indices(n, block_length=block_length, seed=rng)
        terms = group_terms(array[rows], local, estimator=estimator, **kwargs)
        for term in TERMS:
            draws[term][b] = terms[term]
    label = estimator if isinstance(estimator, str) else getattr(estimator, "__name__", "custom")
    table = group_frame(groups, observed, region_names=names, unit=unit, estimator=label)
    factor = unit_factor(unit)
    tail = (1.0 - confidence) / 2.0
    for term in TERMS:
        low, high = np.quantile(draws[term], [tail, 1.0 - tail], axis=0)
        table[f"{term}_ci_low"] = low * factor
        table[f"{term}_ci_high"] = high * factor
    table["confidence"] = confidence
    table["n_boot"] = n_boot
    table["block_length"] = int(block_length)
    table.attrs.update(
        {
            "unit": unit,
            "sign_convention": "Omega = TC - DTC; > 0 redundancy, < 0 synergy",
            "estimator": label,
            "ci_method": "circular moving-block bootstrap, percentile",
            "seed": seed,
        }
    )
    return table


def _used_regions(groups: np.ndarray, n_regions: int) -> tuple[np.ndarray, np.ndarray]:
    """Regions used by any group, and the groups re-indexed into that subset (so surrogates stay small)."""
    if groups.ndim != 2 or groups.shape[0] == 0:
        raise ValueError(
            f"'groups' must be a non-empty int array (n_groups, size); got shape {groups.shape}."
        )
    if groups.min() < 0 or groups.max() >= n_regions:
        raise ValueError(
            f"'groups' has indices outside 0..{n_regions - 1} (the data has {n_regions} regions)."
        )
    used = np.unique(groups)
    return used, np.searchsorted(used, groups)


def _jsonable(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool, type(None)))
