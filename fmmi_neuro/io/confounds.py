"""Confounds and scrubbing: confound tables, fMRIPrep strategies and sample masks, checked against a run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def read_table(path: str | Path, what: str) -> pd.DataFrame:
    """Read a TSV/CSV table with a header.

    Raises
    ------
    ValueError
        Naming the file: it is missing, a folder, unreadable, or its header repeats a column name (pandas
        would silently rename the second ``X`` to ``X.1``).

    Notes
    -----
    A first row of decimal numbers is data, not a header (see :func:`header_is_data`): the table is then
    read without one (columns 0, 1, ...).
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{what} {str(path)!r} is a folder, not a file.")
    if not path.is_file():
        raise ValueError(f"{what} {str(path)!r} does not exist.")
    sep = "," if path.suffix.lower() == ".csv" else "\t"
    na_values = ["n/a", "N/A", "NaN", "nan"]
    try:
        first_row = pd.read_csv(path, sep=sep, header=None, nrows=1, dtype=str, keep_default_na=False)
        names = [str(v) for v in first_row.iloc[0]] if len(first_row) else []
        if names and header_is_data(names):
            return pd.read_csv(path, sep=sep, header=None, na_values=na_values)
        table = pd.read_csv(path, sep=sep, na_values=na_values)
    except (OSError, UnicodeDecodeError, ValueError, pd.errors.ParserError) as err:
        raise ValueError(f"{what} {str(path)!r} cannot be read: {err}") from err
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(
            f"{what} {str(path)!r} has duplicate column names {repeated[:5]}; column names must be unique."
        )
    return table


def header_is_data(header: list[str]) -> bool:
    """True if a 'header' row is numbers with decimals (a table written without column names)."""
    try:
        values = [float(h) for h in header]
    except ValueError:
        return False
    return not all(v.is_integer() for v in values)


def prepare_confounds(
    confounds: Any,
    n_volumes: int,
    *,
    columns: list[str] | None = None,
    where: str = "the run",
) -> tuple[np.ndarray | None, list[str]]:
    """Return confounds as a float array (n_volumes, n_confounds) and their names, checked against a run.

    Parameters
    ----------
    confounds : str, Path, DataFrame, ndarray or None
        A TSV/CSV file (header = confound names, e.g. fMRIPrep's ``*_desc-confounds_timeseries.tsv``), a
        DataFrame, or an array of shape (n_volumes,) or (n_volumes, n_confounds).
    n_volumes : int
        Number of volumes of the run they belong to.
    columns : list of str, optional
        Columns to keep (all by default); missing names raise ``ValueError``.
    where : str
        How to name the run in messages (subject and file).

    Raises
    ------
    ValueError
        If the file is missing or unreadable, a column is absent, the length differs from ``n_volumes``, or
        values are NaN/infinite (e.g. the first row of a derivative column; choose columns without them or
        use ``confounds_strategy=``).
    """
    if confounds is None:
        return None, []
    label = "confounds"
    if isinstance(confounds, (str, Path)):
        label = f"confounds file {str(confounds)!r}"
        confounds = read_table(confounds, "confounds file")
    if isinstance(confounds, pd.DataFrame):
        table = confounds
        if columns is not None:
            missing = [c for c in columns if c not in table.columns]
            if missing:
                raise ValueError(
                    f"{label} of {where} has no column(s) {missing}; it has {list(table.columns)[:20]}."
                )
            table = table[list(columns)]
        names = [str(c) for c in table.columns]
        try:
            values = table.to_numpy(dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{label} of {where} has non-numeric columns: {err}") from err
    else:
        values = np.asarray(confounds, dtype=np.float64)
        if values.ndim == 1:
            values = values[:, None]
        if values.ndim != 2:
            raise ValueError(f"{label} of {where} must be 2-D (n_volumes, n_confounds); got {values.shape}.")
        if columns is not None:
            raise ValueError("'confound_columns' needs confounds with column names (a table or DataFrame).")
        names = [f"confound_{j}" for j in range(values.shape[1])]
    if values.shape[0] != n_volumes:
        raise ValueError(
            f"{label} of {where} has {values.shape[0]} rows but the image has {n_volumes} volumes; "
            "they must match one to one."
        )
    bad = ~np.isfinite(values)
    if bad.any():
        cols = [names[j] for j in np.flatnonzero(bad.any(axis=0))]
        rows = np.flatnonzero(bad.any(axis=1))
        raise ValueError(
            f"{label} of {where} has NaN/n/a values in column(s) {cols[:8]} (rows {rows[:5].tolist()}); "
            "pick columns without them with confound_columns=, or use confounds_strategy= for fMRIPrep files."
        )
    return values, names


def fmriprep_confounds(
    img_path: str | Path, strategy: str | dict[str, Any], where: str
) -> tuple[pd.DataFrame | None, np.ndarray | None, dict[str, Any]]:
    """Load fMRIPrep confounds for ``img_path`` with nilearn.

    Parameters
    ----------
    img_path : str or Path
        fMRIPrep preprocessed BOLD file (``*_desc-preproc_bold.nii.gz``); its confounds file is found by
        nilearn next to it.
    strategy : str or dict
        A ``denoise_strategy`` of :func:`nilearn.interfaces.fmriprep.load_confounds_strategy`
        (``"simple"``, ``"scrubbing"``, ``"compcor"``, ``"ica_aroma"``), or a dict: either
        ``{"denoise_strategy": ..., **kwargs}`` for that function or ``{"strategy": (...), **kwargs}`` for
        :func:`nilearn.interfaces.fmriprep.load_confounds`.

    Returns
    -------
    confounds : DataFrame or None
    sample_mask : ndarray of int or None
        Volumes kept (non-steady-state volumes and scrubbed volumes removed).
    record : dict
        What was asked, for the preprocessing record.
    """
    from nilearn.interfaces.fmriprep import load_confounds, load_confounds_strategy

    kw = {"denoise_strategy": strategy} if isinstance(strategy, str) else dict(strategy)
    try:
        if "denoise_strategy" in kw:
            confounds, sample_mask = load_confounds_strategy(str(img_path), **kw)
        else:
            confounds, sample_mask = load_confounds(str(img_path), **kw)
    except Exception as err:  # nilearn raises ValueError/FileNotFoundError/KeyError for bad fMRIPrep layouts
        raise ValueError(
            f"fMRIPrep confounds of {where} could not be loaded ({kw}): {type(err).__name__}: {err}"
        ) from err
    return confounds, sample_mask, {k: (list(v) if isinstance(v, tuple) else v) for k, v in kw.items()}


def normalise_sample_mask(sample_mask: Any, n_volumes: int, where: str) -> np.ndarray | None:
    """Return ``sample_mask`` as sorted unique volume indices to keep, or None (keep all).

    Accepts a boolean array of length ``n_volumes`` (True = keep) or integer indices.
    """
    if sample_mask is None:
        return None
    mask = np.asarray(sample_mask)
    if mask.dtype == bool:
        if mask.shape != (n_volumes,):
            raise ValueError(
                f"boolean sample_mask of {where} has length {mask.size}; the image has {n_volumes} volumes."
            )
        return np.flatnonzero(mask)
    if mask.ndim != 1 or not np.issubdtype(mask.dtype, np.integer):
        raise ValueError(
            f"sample_mask of {where} must be a boolean mask or 1-D integer indices; got "
            f"dtype {mask.dtype}, shape {mask.shape}."
        )
    if mask.size and (mask.min() < 0 or mask.max() >= n_volumes):
        raise ValueError(f"sample_mask of {where} has indices outside 0..{n_volumes - 1}.")
    return np.unique(mask)


def scrub_mask(
    framewise_displacement: Any,
    fd_threshold: float = 0.5,
    *,
    n_discard: int = 0,
) -> np.ndarray:
    """Volumes kept after motion scrubbing: FD <= ``fd_threshold`` (mm), not among the first ``n_discard``.

    Parameters
    ----------
    framewise_displacement : array-like, shape (n_volumes,)
        FD per volume in mm; NaN (e.g. the first volume) counts as no motion.
    fd_threshold : float
        Volumes with larger FD are removed.
    n_discard : int
        Initial (non-steady-state) volumes to drop.

    Returns
    -------
    ndarray of int
        Indices of the kept volumes, usable as ``sample_mask``.

    Examples
    --------
    >>> scrub_mask([float("nan"), 0.1, 0.9, 0.2], 0.5, n_discard=1).tolist()
    [1, 3]
    """
    fd = np.nan_to_num(np.asarray(framewise_displacement, dtype=np.float64), nan=0.0)
    keep = fd <= fd_threshold
    keep[: int(n_discard)] = False
    return np.flatnonzero(keep)
