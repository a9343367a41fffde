"""Gaussian TC, DTC, O-information and S-information from a covariance: the one place they are computed.

For a Gaussian system every term is a signed sum of entropies of variable subsets, and the entropy of a
subset S is ``1/2 log det Sigma_SS`` plus constants that cancel in every term (``closed_form.assemble_terms``
does the assembly). The same assembly gives

- the value of each term (``gaussian_terms``), optionally with the small-sample bias correction of a
  sample covariance with the ``n - 1`` divisor (Ince et al. 2017; ``entropy_bias``), which makes every
  term unbiased for Gaussian data;
- its per-sample influence function (``gaussian_term_influence``), whose batch means give standard
  errors: the influence of ``1/2 log det Sigma_SS`` at a centred sample x is
  ``(x_S' Sigma_SS^-1 x_S - d_S) / 2``.

Everything broadcasts over leading axes, so many groups are computed at once; determinants of 1, 2 and 3
coordinates are written out (all triplets of an atlas in one vectorised pass).

Sign convention: Omega = TC - DTC; Omega > 0 redundancy-dominated, Omega < 0 synergy-dominated.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy.special import psi

from fmmi_neuro.engine.gaussian.closed_form import assemble_terms, variable_blocks

SINGULAR_TOLERANCE = 1e-10
"""A sub-covariance is singular where some coordinate keeps less than this fraction of its variance once
regressed on the coordinates before it (a Cholesky pivot of the correlation matrix; numerically a linear
combination of the others); its entropy is NaN. A bound on each pivot, not on their product (the
determinant), so that many strongly but not exactly dependent coordinates (a 30-coordinate near-sum) stay
finite."""


def entropy_bias(n_samples: int, dim: int) -> float:
    """Expected excess of the plug-in Gaussian entropy over the true one, in nats.

    ``0.5 * (dim * log(2 / (n - 1)) + sum_{k=1..dim} psi((n - k) / 2))`` for the covariance with the
    ``n - 1`` divisor (Ince et al. 2017). Needs ``n_samples > dim``.
    """
    if n_samples <= dim:
        raise ValueError(f"a {dim}-dimensional entropy needs more than {dim} samples; got {n_samples}.")
    k = np.arange(1, dim + 1)
    return float(0.5 * (dim * np.log(2.0 / (n_samples - 1)) + psi((n_samples - k) / 2.0).sum()))


def half_logdet(a: np.ndarray) -> np.ndarray:
    """``1/2 log det a`` of covariance matrices, shape (..., m, m) -> (...); NaN where singular.

    Closed-form determinants for m <= 3, batched Cholesky factors above. Singular: a non-positive
    variance, or a pivot of the correlation matrix at most ``SINGULAR_TOLERANCE``.
    """
    a = np.asarray(a, dtype=np.float64)
    m = a.shape[-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        diag = np.diagonal(a, axis1=-2, axis2=-1)
        if m == 1:
            return np.where(diag[..., 0] > 0, 0.5 * np.log(diag[..., 0]), np.nan)
        scale = np.prod(diag, axis=-1)
        if m > 3:
            pivots = _correlation_pivots(a / np.sqrt(diag[..., :, None] * diag[..., None, :]))
            ok = (diag > 0).all(axis=-1) & (pivots > SINGULAR_TOLERANCE).all(axis=-1)
            log_det = np.log(np.where(ok[..., None], pivots, 1.0)).sum(axis=-1) + np.log(np.abs(scale))
            return np.where(ok, 0.5 * log_det, np.nan)
        # second pivot 1 - r01^2; for m = 3 the last is det(corr) / (first two)
        second = 1.0 - a[..., 0, 1] * a[..., 1, 0] / (a[..., 0, 0] * a[..., 1, 1])
        if m == 2:
            det = a[..., 0, 0] * a[..., 1, 1] - a[..., 0, 1] * a[..., 1, 0]
            ok = second > SINGULAR_TOLERANCE
        else:
            det = (
                a[..., 0, 0] * (a[..., 1, 1] * a[..., 2, 2] - a[..., 1, 2] * a[..., 2, 1])
                - a[..., 0, 1] * (a[..., 1, 0] * a[..., 2, 2] - a[..., 1, 2] * a[..., 2, 0])
                + a[..., 0, 2] * (a[..., 1, 0] * a[..., 2, 1] - a[..., 1, 1] * a[..., 2, 0])
            )
            ok = (second > SINGULAR_TOLERANCE) & (det > SINGULAR_TOLERANCE * second * scale)
        ok &= (diag > 0).all(axis=-1)
        return np.where(ok, 0.5 * np.log(np.where(ok, det, 1.0)), np.nan)


def _correlation_pivots(corr: np.ndarray) -> np.ndarray:
    """Squared diagonal of the Cholesky factor of correlation matrices (..., m, m) -> (..., m): the share of
    each coordinate's variance left after regressing it on the ones before. NaN where not positive
    definite."""
    try:
        return np.diagonal(np.linalg.cholesky(corr), axis1=-2, axis2=-1) ** 2
    except np.linalg.LinAlgError:  # some matrix of the batch is not positive definite: one at a time
        flat = corr.reshape(-1, *corr.shape[-2:])
        pivots = np.full(flat.shape[:2], np.nan)
        for i, matrix in enumerate(flat):
            if np.isfinite(matrix).all():
                try:
                    pivots[i] = np.diagonal(np.linalg.cholesky(matrix)) ** 2
                except np.linalg.LinAlgError:
                    pass
        return pivots.reshape(corr.shape[:-1])


def _sub(a: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Sub-matrices ``a[..., index, index]`` (a view where ``index`` is a contiguous range)."""
    if index.size and np.array_equal(index, np.arange(index[0], index[0] + index.size)):
        return a[..., index[0] : index[-1] + 1, index[0] : index[-1] + 1]
    return a[..., index[:, None], index[None, :]]


def terms_by_subsets(
    subset_entropy: Callable[[np.ndarray], np.ndarray], dims: Sequence[int]
) -> dict[str, np.ndarray]:
    """Assemble TC, DTC, Omega, S, TC(X_-i) and I(X_i; X_-i) from a per-subset entropy function.

    ``subset_entropy(index)`` returns the entropy (or its per-sample influence) of the coordinates
    ``index``; the variables are contiguous blocks of ``dims``.
    """
    blocks = variable_blocks(dims)
    k = len(blocks)
    marginal = np.stack([subset_entropy(b) for b in blocks], axis=-1)
    joint = subset_entropy(np.concatenate(blocks))
    rest = np.stack(
        [subset_entropy(np.concatenate([blocks[j] for j in range(k) if j != i])) for i in range(k)], axis=-1
    )
    return assemble_terms(marginal, joint, rest)


def gaussian_terms(cov: np.ndarray, dims: Sequence[int], *, n_samples: int | None = None) -> dict:
    """TC, DTC, O-information, S-information, TC(X_-i) and I(X_i; X_-i) of Gaussian systems, in nats.

    Parameters
    ----------
    cov : ndarray, shape (..., D, D)
        Covariance(s); leading axes are independent systems (e.g. the groups of an atlas).
    dims : sequence of int, length k
        Dimension of each variable (contiguous blocks of coordinates).
    n_samples : int, optional
        Sample size behind a sample covariance with the ``n - 1`` divisor: subtracts ``entropy_bias``
        from every entropy.

    Returns
    -------
    dict
        ``tc, dtc, o_info, s_info`` (shape (...)) and ``tc_minus, mi_one_rest`` (shape (..., k)).
        A singular sub-covariance makes the terms that use it NaN. Omega = TC - DTC.
    """
    cov = np.asarray(cov, dtype=np.float64)

    def entropy(index: np.ndarray) -> np.ndarray:
        h = half_logdet(_sub(cov, index))
        return h - entropy_bias(n_samples, index.size) if n_samples is not None else h

    return terms_by_subsets(entropy, dims)


def gaussian_term_influence(x: np.ndarray, cov: np.ndarray, dims: Sequence[int]) -> dict:
    """Per-sample influence functions of the terms of ``gaussian_terms`` (first order, mean zero), nats.

    Parameters
    ----------
    x : ndarray, shape (..., n, D)
        Centred samples (the rows ``cov`` was computed from, or rows whose outer products average to it).
    cov : ndarray, shape (..., D, D)
    dims : sequence of int, length k

    Returns
    -------
    dict
        The keys of ``gaussian_terms``, shapes (..., n) and (..., n, k).
    """
    x = np.asarray(x, dtype=np.float64)
    cov = np.asarray(cov, dtype=np.float64)

    def influence(index: np.ndarray) -> np.ndarray:
        xs = x[..., index]
        solved = np.linalg.solve(_sub(cov, index)[..., None, :, :], xs[..., None])[..., 0]
        return 0.5 * ((xs * solved).sum(-1) - index.size)

    return terms_by_subsets(influence, dims)
