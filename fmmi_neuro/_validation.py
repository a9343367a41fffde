"""One place for checking user input, with one message shape: say what is wrong and where."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np


def check_in(value: Any, allowed: Iterable[Any], name: str) -> Any:
    """Raise ``ValueError`` unless ``value`` is one of ``allowed``; return it."""
    allowed = list(allowed)
    if value not in allowed:
        raise ValueError(f"'{name}' must be one of {sorted(map(str, allowed))}; got {value!r}.")
    return value


def check_positive_int(value: Any, name: str, minimum: int = 1) -> int:
    """Raise ``ValueError`` unless ``value`` is an integer >= ``minimum``; return it as int."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"'{name}' must be an integer >= {minimum}; got {value!r}.")
    return int(value)


def check_seed(value: Any, name: str = "seed") -> int:
    """Raise ``ValueError`` unless ``value`` is a non-negative integer (what numpy and torch seed with)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"'{name}' must be a non-negative integer; got {value!r}.")
    return int(value)


def check_positive_number(value: Any, name: str, unit: str = "") -> float:
    """Raise ``ValueError`` unless ``value`` is a finite number > 0; return it as float.

    ``unit`` is named in the message (e.g. ``" of seconds"``).
    """
    number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not number or not np.isfinite(value) or value <= 0:
        raise ValueError(f"'{name}' must be a positive number{unit}; got {value!r}.")
    return float(value)


def as_samples_array(
    x: Any,
    name: str,
    *,
    min_samples: int = 1,
    allow_constant: bool = False,
    column_names: Sequence[str] | None = None,
) -> np.ndarray:
    """Return ``x`` as a float64 array of shape (n_samples, n_features), checked.

    Parameters
    ----------
    x : array-like, shape (n_samples,) or (n_samples, n_features)
        A 1-D array is taken as one column.
    name : str
        What to call the input in error messages (e.g. ``"x"`` or ``"sub-01 time series"``).
    min_samples : int
        Fewer rows than this raise ``ValueError``.
    allow_constant : bool
        If False, a column with zero variance raises ``ValueError``.
    column_names : sequence of str, optional
        Names of the columns (e.g. region names), used in messages.

    Raises
    ------
    ValueError
        On wrong dimensionality, too few samples, NaN or infinite values, or constant columns.
    """
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"'{name}' must be a numeric array; could not convert it ({err}).") from err
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(
            f"'{name}' must be 1-D (n_samples,) or 2-D (n_samples, n_features); got shape {arr.shape}."
        )
    if arr.shape[1] == 0:
        raise ValueError(f"'{name}' has no columns (shape {arr.shape}).")
    if arr.shape[0] < min_samples:
        raise ValueError(f"'{name}' has {arr.shape[0]} samples; at least {min_samples} are needed.")

    def _label(j: int) -> str:
        if column_names is not None and j < len(column_names):
            return f"column {j} ({column_names[j]!r})"
        return f"column {j}"

    finite = np.isfinite(arr)
    if not finite.all():
        bad_cols = np.flatnonzero(~finite.all(axis=0))
        rows = np.flatnonzero(~finite.all(axis=1))
        labels = ", ".join(_label(j) for j in bad_cols[:5])
        raise ValueError(
            f"'{name}' contains NaN or infinite values in {len(rows)} sample(s) "
            f"(first at row {rows[0]}) of {labels}{' and more' if len(bad_cols) > 5 else ''}."
        )
    if not allow_constant:
        constant = np.flatnonzero(np.ptp(arr, axis=0) == 0)
        if constant.size:
            labels = ", ".join(_label(j) for j in constant[:5])
            raise ValueError(
                f"'{name}' has constant {labels}{' and more' if constant.size > 5 else ''}: "
                "a constant variable carries no information; drop it."
            )
    return arr


def check_same_length(arrays: Sequence[np.ndarray], names: Sequence[str]) -> int:
    """Raise ``ValueError`` unless all arrays have the same number of rows; return it."""
    lengths = [a.shape[0] for a in arrays]
    if len(set(lengths)) > 1:
        listing = ", ".join(f"'{n}': {m}" for n, m in zip(names, lengths, strict=True))
        raise ValueError(f"inputs must have the same number of samples; got {listing}.")
    return lengths[0]


def check_some_finite(values: Any, name: str, *, ndim: int = 1) -> np.ndarray:
    """Return ``values`` as a float64 array of ``ndim`` dimensions with at least one finite entry.

    NaN entries are kept (callers draw them as missing); an empty or all-NaN input raises ``ValueError``
    so that a figure is never drawn blank.
    """
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"'{name}' must be numeric; could not convert it ({err}).") from err
    if arr.ndim != ndim:
        raise ValueError(f"'{name}' must be {ndim}-D; got shape {arr.shape}.")
    if arr.size == 0:
        raise ValueError(f"'{name}' is empty: there is nothing to plot.")
    if not np.isfinite(arr).any():
        raise ValueError(
            f"'{name}' has no finite value (all {arr.size} are NaN or infinite): nothing to plot."
        )
    return arr
