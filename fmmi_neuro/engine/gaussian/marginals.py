"""Marginal transforms that leave mutual information unchanged.

``rank_to_normal`` maps each column to standard-normal quantiles of its ranks (a Gaussian copula
transform: strictly monotone per coordinate, so MI, TC, DTC and O-information are unchanged), and
``rank_to_student_t`` to Student-t quantiles (see ``student_t``);
``whitening_matrix`` returns a symmetric (ZCA) whitening map for one multivariate variable (an
invertible linear map inside the variable, which also leaves MI between variables unchanged).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri, stdtrit
from scipy.stats import rankdata


def rank_to_normal(x: np.ndarray) -> np.ndarray:
    """Replace each column by the standard-normal quantiles of its ranks.

    Parameters
    ----------
    x : ndarray, shape (n_samples,) or (n_samples, n_features)
        Finite values. Ties get their average rank.

    Returns
    -------
    ndarray, same shape as ``x``, float64
        ``Phi^{-1}(rank / (n_samples + 1))`` per column: marginally close to N(0, 1).

    Examples
    --------
    >>> rank_to_normal(np.array([3.0, 1.0, 2.0])).round(3)
    array([ 0.674, -0.674,  0.   ])
    """
    return ndtri(_rank_fractions(x))


def rank_to_student_t(x: np.ndarray, dof: float | None) -> np.ndarray:
    """Replace each column by the unit-scale Student-t quantiles (``dof`` degrees of freedom) of its ranks.

    ``dof=None`` is ``rank_to_normal``. A per-coordinate monotone map of a multivariate Student-t with
    ``dof`` degrees of freedom becomes that multivariate t again (up to scale per coordinate).

    Parameters
    ----------
    x : ndarray, shape (n_samples,) or (n_samples, n_features)
    dof : float or None

    Returns
    -------
    ndarray, same shape as ``x``, float64

    Examples
    --------
    >>> rank_to_student_t(np.array([3.0, 1.0, 2.0]), 3.0).round(3)
    array([ 0.765, -0.765,  0.   ])
    """
    fractions = _rank_fractions(x)
    return ndtri(fractions) if dof is None else stdtrit(dof, fractions)


def _rank_fractions(x: np.ndarray) -> np.ndarray:
    """``rank / (n_samples + 1)`` per column (average ranks for ties), in (0, 1)."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim not in (1, 2):
        raise ValueError(f"'x' must be 1-D or 2-D (n_samples, n_features); got shape {arr.shape}.")
    if arr.shape[0] < 1:
        raise ValueError("'x' has no samples.")
    return rankdata(arr, method="average", axis=0) / (arr.shape[0] + 1)


def whitening_matrix(cov: np.ndarray, *, eps: float = 1e-10) -> np.ndarray:
    """Symmetric inverse square root ``cov^{-1/2}`` (ZCA whitening), shape (d, d).

    Right-multiplying centred samples of shape (n, d) by the returned matrix gives identity covariance.
    Eigenvalues below ``eps * max eigenvalue`` raise ``ValueError`` (a degenerate variable).
    """
    cov = np.atleast_2d(np.asarray(cov, dtype=np.float64))
    vals, vecs = np.linalg.eigh(0.5 * (cov + cov.T))
    if vals.min() <= eps * max(vals.max(), 0.0):
        raise ValueError(
            f"covariance is singular (smallest eigenvalue {vals.min():.3g}); a variable is a linear "
            "combination of the others: drop redundant columns."
        )
    return (vecs / np.sqrt(vals)) @ vecs.T


def whiten(x: np.ndarray) -> np.ndarray:
    """Centre and whiten ``x`` (n_samples, d) with its own sample covariance; returns shape (n_samples, d)."""
    arr = np.asarray(x, dtype=np.float64)
    centred = arr - arr.mean(axis=0)
    return centred @ whitening_matrix(np.cov(centred, rowvar=False, bias=True))
