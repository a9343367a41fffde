"""Denoising of region signals with ``nilearn.signal.clean``: confounds, scrubbing, detrending, filtering."""

from __future__ import annotations

import difflib
import inspect
import warnings
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from .._validation import check_in, check_positive_int, check_positive_number
from .confounds import normalise_sample_mask, prepare_confounds
from .timeseries import RegionTimeSeries, describe_source


def normalise_standardize(standardize: Any) -> str | None:
    """nilearn's ``standardize`` values; True means ``"zscore_sample"``, False means None (no scaling)."""
    if standardize is True:
        return "zscore_sample"
    if standardize is False or standardize is None:
        return None
    check_in(standardize, ("zscore_sample", "zscore", "psc"), "standardize")
    return standardize


def check_kept(keep: np.ndarray | None, n_volumes: int, min_volumes: int | None, where: str) -> int:
    """Number of volumes kept; ``ValueError`` if below ``min_volumes`` (or below 2)."""
    n_kept = n_volumes if keep is None else int(keep.size)
    if min_volumes is not None and n_kept < min_volumes:
        raise ValueError(
            f"{where} keeps {n_kept} of {n_volumes} volumes after scrubbing; at least {min_volumes} "
            "are required (min_volumes)."
        )
    if n_kept < 2:
        raise ValueError(f"{where} keeps {n_kept} volume(s) after scrubbing; at least 2 are needed.")
    return n_kept


def apply_clean(
    signals: np.ndarray,
    *,
    confounds: np.ndarray | None,
    keep: np.ndarray | None,
    detrend: bool,
    standardize: str | None,
    low_pass: float | None,
    high_pass: float | None,
    t_r: float | None,
) -> np.ndarray:
    """Run ``nilearn.signal.clean`` on (n_volumes, n_regions) signals; return (n_kept, n_regions)."""
    if not (detrend or standardize or low_pass or high_pass or confounds is not None):
        return signals if keep is None else signals[keep]
    from nilearn.signal import clean as nilearn_clean

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", category=FutureWarning)
        return nilearn_clean(
            signals,
            detrend=detrend,
            standardize=standardize,
            confounds=confounds,
            sample_mask=keep,
            standardize_confounds=True,
            low_pass=low_pass,
            high_pass=high_pass,
            t_r=t_r,
        )


def clean_region_signals(
    ts: RegionTimeSeries,
    *,
    confounds: Any = None,
    confound_columns: list[str] | None = None,
    sample_mask: Any = None,
    min_volumes: int | None = None,
    standardize: Any = None,
    detrend: bool = False,
    low_pass: float | None = None,
    high_pass: float | None = None,
    t_r: float | None = None,
) -> RegionTimeSeries:
    """Denoise already-extracted region time series (e.g. a region table) like :func:`parcellate` does.

    Parameters
    ----------
    ts : RegionTimeSeries
        Signals of shape (n_volumes, n_regions).
    confounds : str, Path, DataFrame or ndarray, optional
        One row per volume; see :func:`parcellate`.
    confound_columns : list of str, optional
    sample_mask : array-like, optional
        Volumes to keep (boolean or indices), e.g. from :func:`scrub_mask`.
    min_volumes : int, optional
        ``ValueError`` if fewer volumes remain.
    standardize, detrend, low_pass, high_pass, t_r
        As in ``nilearn.signal.clean`` (``t_r`` in seconds, default ``ts.t_r``; band edges in Hz).

    Returns
    -------
    RegionTimeSeries
        A new object, shape (n_kept, n_regions); ``preprocessing`` records what was done.
    """
    where = describe_source(ts.subject, ts.source)
    n_volumes = ts.n_timepoints
    t_r = check_positive_number(t_r, "t_r", " of seconds") if t_r is not None else ts.t_r
    if (low_pass is not None or high_pass is not None) and t_r is None:
        raise ValueError(f"band-pass filtering of {where} needs t_r (seconds): none was given or stored.")
    standardize = normalise_standardize(standardize)
    conf, names = prepare_confounds(confounds, n_volumes, columns=confound_columns, where=where)
    keep = normalise_sample_mask(sample_mask, n_volumes, where)
    n_kept = check_kept(keep, n_volumes, min_volumes, where)
    data = apply_clean(
        ts.data,
        confounds=conf,
        keep=keep,
        detrend=detrend,
        standardize=standardize,
        low_pass=low_pass,
        high_pass=high_pass,
        t_r=t_r,
    )
    record = {
        **ts.preprocessing,
        "confounds": names,
        "sample_mask_kept": n_kept,
        "standardize": standardize,
        "detrend": detrend,
        "low_pass": low_pass,
        "high_pass": high_pass,
        "scrubbed_volumes": [] if keep is None else np.setdiff1d(np.arange(n_volumes), keep).tolist(),
    }
    return replace(ts, data=data, t_r=t_r, preprocessing=record)


CLEAN_OPTIONS = tuple(inspect.signature(clean_region_signals).parameters)[1:]
"""Keyword arguments of :func:`clean_region_signals` (what a batch config's ``data.clean`` may hold)."""


def clean_option_problems(options: Any) -> list[tuple[str, str]]:
    """Every problem of :func:`clean_region_signals` keyword arguments that shows without data.

    Parameters
    ----------
    options : mapping
        E.g. ``{"detrend": True, "standardize": "zscore_sample", "high_pass": 0.01}``.

    Returns
    -------
    list of (str, str)
        ``(option, what is wrong)``, empty when the options are fine: unknown names (with the closest
        known one), ``detrend`` that is not true/false, an unknown ``standardize``, band edges or ``t_r``
        that are not positive numbers, ``high_pass`` not below ``low_pass``, ``min_volumes`` below 2.
    """
    if not isinstance(options, Mapping):
        return [("", f"must be a mapping of clean_region_signals options; got {options!r}")]
    problems = []
    for key in options:
        if key not in CLEAN_OPTIONS:
            close = difflib.get_close_matches(str(key), CLEAN_OPTIONS, n=1)
            known = ", ".join(CLEAN_OPTIONS)
            hint = f" (did you mean '{close[0]}'?)" if close else f"; known options: {known}"
            problems.append((str(key), f"is not a cleaning option{hint}"))
    if "detrend" in options and not isinstance(options["detrend"], bool):
        problems.append(("detrend", f"must be true or false; got {options['detrend']!r}"))
    if "standardize" in options:
        try:
            normalise_standardize(options["standardize"])
        except ValueError:
            allowed = "true, false, null, 'zscore_sample', 'zscore' or 'psc'"
            problems.append(("standardize", f"must be {allowed}; got {options['standardize']!r}"))
    edges = {}
    for key in ("low_pass", "high_pass", "t_r"):
        value = options.get(key)
        if value is None:
            continue
        try:
            edges[key] = check_positive_number(value, key)
        except ValueError:
            unit = "seconds" if key == "t_r" else "Hz"
            problems.append((key, f"must be a positive number ({unit}); got {value!r}"))
    if "low_pass" in edges and "high_pass" in edges and edges["high_pass"] >= edges["low_pass"]:
        problems.append(
            ("high_pass", f"must be below low_pass ({edges['low_pass']} Hz); got {edges['high_pass']}")
        )
    min_volumes = options.get("min_volumes")
    if min_volumes is not None:
        try:
            check_positive_int(min_volumes, "min_volumes", minimum=2)
        except ValueError:
            problems.append(("min_volumes", f"must be an integer >= 2; got {min_volumes!r}"))
    return problems
