"""Multiple comparisons across groups: Benjamini-Hochberg false discovery rate."""

from __future__ import annotations

import numpy as np


def fdr_bh(p_values: np.ndarray, *, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Benjamini-Hochberg step-up procedure (same as ``statsmodels`` ``multipletests(method="fdr_bh")``).

    Parameters
    ----------
    p_values : array-like, shape (n_tests,)
        NaN entries (tests that could not be run) are left out and stay NaN / not rejected.
    alpha : float
        False discovery rate.

    Returns
    -------
    reject : bool ndarray, shape (n_tests,)
    q_values : ndarray, shape (n_tests,)
        BH-adjusted p-values, ``min_{j >= i} (m / j) p_(j)`` capped at 1.
    """
    p = np.asarray(p_values, dtype=np.float64).reshape(-1)
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"'alpha' must be in (0, 1); got {alpha!r}.")
    finite = np.isfinite(p)
    if np.any((p[finite] < 0) | (p[finite] > 1)):
        raise ValueError("'p_values' must lie in [0, 1].")
    q = np.full(p.shape, np.nan)
    valid = p[finite]
    m = valid.size
    if m:
        order = np.argsort(valid, kind="mergesort")
        scaled = valid[order] * m / np.arange(1, m + 1)
        adjusted = np.minimum.accumulate(scaled[::-1])[::-1]
        out = np.empty(m)
        out[order] = np.minimum(adjusted, 1.0)
        q[finite] = out
    reject = np.zeros(p.shape, dtype=bool)
    reject[finite] = q[finite] <= alpha
    return reject, q
