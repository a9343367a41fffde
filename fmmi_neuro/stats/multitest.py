"""Multiple comparisons across groups: Benjamini-Hochberg false discovery rate."""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class FdrFloor:
    """How low Benjamini-Hochberg q-values of Monte-Carlo p-values can go.

    With ``B`` surrogates no p-value is below ``1 / (B + 1)`` (two-sided: ``2 / (B + 1)``), so over ``m``
    tests the ``k`` groups whose observed value lies beyond every surrogate get q = p_min m / k at best.

    Attributes
    ----------
    smallest_p : float
        The smallest p-value the surrogates allow.
    n_tests : int
        Tests with a p-value.
    n_at_floor : int
        Tests whose p-value is ``smallest_p``.
    smallest_q : float
        Their BH q-value (that of one test at the floor when none is there), capped at 1.
    surrogates_needed : int
        Fewest surrogates for which ``n_at_floor`` (at least one) tests at the floor reach q <= alpha.
    """

    smallest_p: float
    n_tests: int
    n_at_floor: int
    smallest_q: float
    surrogates_needed: int


def fdr_floor(
    p_values: np.ndarray, n_surrogates: int, *, alternative: str = "two-sided", alpha: float = 0.05
) -> FdrFloor:
    """The smallest BH q-value that surrogate p-values can reach (see :class:`FdrFloor`).

    Parameters
    ----------
    p_values : array-like, shape (n_tests,)
        Monte-Carlo p-values with the +1 correction (NaN entries are not tests).
    n_surrogates : int
    alternative : {"two-sided", "greater", "less"}
    alpha : float
        FDR level, for ``surrogates_needed``.

    Examples
    --------
    >>> floor = fdr_floor(np.full(300, 0.02), 99)
    >>> round(floor.smallest_q, 3), floor.n_at_floor
    (0.02, 300)
    >>> round(fdr_floor(np.r_[np.full(78, 0.02), np.ones(222)], 99).smallest_q, 3)
    0.077
    """
    p = np.asarray(p_values, dtype=np.float64).reshape(-1)
    p = p[np.isfinite(p)]
    tails = 2.0 if alternative == "two-sided" else 1.0
    smallest_p = min(1.0, tails / (n_surrogates + 1.0))
    n_at_floor = int(np.sum(p <= smallest_p * (1 + 1e-9)))
    m = p.size
    smallest_q = min(1.0, smallest_p * m / max(n_at_floor, 1))
    needed = int(np.ceil(tails * m / (alpha * max(n_at_floor, 1)))) - 1
    return FdrFloor(smallest_p, m, n_at_floor, smallest_q, max(needed, 1))
