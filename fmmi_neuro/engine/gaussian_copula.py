"""Gaussian-copula estimates of TC, DTC, O-information and S-information (in nats).

Each coordinate is mapped to standard-normal quantiles of its ranks (``transforms.rank_to_normal``), then
entropies are those of a Gaussian with the sample covariance, optionally with the small-sample bias
correction of Ince et al. (2017), as in gcmi and hoi's ``ent_g``: for a d-dimensional block estimated from
n samples, E[log det S] = log det Sigma + d log(2 / (n - 1)) + sum_{k=1..d} psi((n - k) / 2), so that
expectation is subtracted. This is fast and exact for Gaussian copulas but blind to non-Gaussian
dependence.

Known small-sample behaviour (measured in ``tests/engine/test_gaussian_copula.py``): on the raw sample
covariance of Gaussian data the corrected terms are unbiased, but the rank-to-normal step attenuates
strong correlations by O(1/n), so for strongly dependent systems (TC of order 1 nat or more) the copula
estimates are pulled towards zero (e.g. Omega of a noisy-sum triplet: +0.05 nats at n = 500, +0.015 at
n = 2000) and the correction does not remove that part.

O-information sign convention: Omega = TC - DTC; Omega > 0 is redundancy-dominated, Omega < 0
synergy-dominated (Rosas et al. 2019).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import psi

from fmmi_neuro._validation import as_samples_array, check_same_length
from fmmi_neuro.engine.closed_form import InfoTerms, terms_from_entropies
from fmmi_neuro.engine.transforms import rank_to_normal

_LOG_2PI_E = np.log(2 * np.pi * np.e)

GROUP_TERM_KEYS = ("o_info", "tc", "dtc", "s_info", "o_info_se", "tc_se", "dtc_se", "s_info_se")


def entropy_bias(n_samples: int, dim: int) -> float:
    """Expected excess of the plug-in Gaussian entropy over the true one, in nats.

    ``0.5 * (dim * log(2 / (n - 1)) + sum_{k=1..dim} psi((n - k) / 2))`` for the covariance with the
    ``n - 1`` divisor (Ince et al. 2017). Needs ``n_samples > dim``.
    """
    if n_samples <= dim:
        raise ValueError(f"a {dim}-dimensional entropy needs more than {dim} samples; got {n_samples}.")
    k = np.arange(1, dim + 1)
    return float(0.5 * (dim * np.log(2.0 / (n_samples - 1)) + psi((n_samples - k) / 2.0).sum()))


def _entropy(logdet: np.ndarray | float, dim: int, n_samples: int, bias_correct: bool) -> np.ndarray:
    """Gaussian entropy in nats from log det of a (dim, dim) covariance (any array shape)."""
    h = 0.5 * (dim * _LOG_2PI_E + np.asarray(logdet, dtype=np.float64))
    return h - entropy_bias(n_samples, dim) if bias_correct else h


def _copula_covariance(z: np.ndarray) -> np.ndarray:
    """Sample covariance (n - 1 divisor) of rank-normalised columns; shape (D, D)."""
    centred = z - z.mean(axis=0)
    return centred.T @ centred / (z.shape[0] - 1)


def _logdet(a: np.ndarray, what: str) -> float:
    """log det of a covariance, refusing (numerically) singular ones."""
    eigenvalues = np.linalg.eigvalsh(a)
    if eigenvalues.min() <= 1e-10 * eigenvalues.max():
        raise ValueError(
            f"the copula covariance of {what} is singular: some coordinates are (nearly) linear "
            "combinations of others; drop redundant columns."
        )
    return float(np.log(eigenvalues).sum())


def gaussian_copula_information(
    variables: Sequence[np.ndarray] | np.ndarray, *, bias_correct: bool = True
) -> InfoTerms:
    """TC, DTC, O-information and S-information of a system under a Gaussian copula, in nats.

    Parameters
    ----------
    variables : list of ndarray, each shape (n_samples,) or (n_samples, d_i); or ndarray (n_samples, n_vars)
        One (possibly multivariate) variable per list entry; a 2-D array is one scalar variable per column.
    bias_correct : bool
        Subtract the expected small-sample bias of each Gaussian entropy (Ince et al. 2017).

    Returns
    -------
    InfoTerms
        ``tc``, ``dtc``, ``o_info`` (Omega = TC - DTC; > 0 redundancy, < 0 synergy), ``s_info``,
        ``tc_minus`` (n_vars,) and ``mi_one_rest`` (n_vars,), all in nats.

    Raises
    ------
    ValueError
        Fewer than 3 variables, mismatched lengths, NaN/inf, constant coordinates, too few samples,
        or a singular copula covariance.
    """
    if isinstance(variables, np.ndarray):
        arr = as_samples_array(variables, "X")
        variables = [arr[:, j] for j in range(arr.shape[1])]
    variables = list(variables)
    if len(variables) < 3:
        raise ValueError(f"O-information needs at least 3 variables; got {len(variables)}.")
    arrays = [as_samples_array(v, f"variable {i}") for i, v in enumerate(variables)]
    n = check_same_length(arrays, [f"variable {i}" for i in range(len(arrays))])
    dims = [a.shape[1] for a in arrays]
    total = sum(dims)
    if n < total + 2:
        raise ValueError(f"{total} coordinates need at least {total + 2} samples; got {n}.")
    cov = _copula_covariance(rank_to_normal(np.hstack(arrays)))
    return information_from_covariance(cov, dims, n, bias_correct=bias_correct)


def information_from_covariance(
    cov: np.ndarray, dims: Sequence[int], n_samples: int, *, bias_correct: bool = True
) -> InfoTerms:
    """Gaussian TC, DTC, O-information and S-information from a sample covariance, in nats.

    With the raw sample covariance of Gaussian data and ``bias_correct=True`` every entropy, and hence
    every term, is unbiased (the correction is the exact Wishart expectation of log det).

    Parameters
    ----------
    cov : ndarray, shape (D, D)
        Sample covariance with the ``n - 1`` divisor (e.g. of rank-normalised data for the copula).
    dims : sequence of int
        Dimension of each variable (contiguous blocks of coordinates), at least 3 variables.
    n_samples : int
        Number of samples behind ``cov`` (for the bias correction).
    bias_correct : bool

    Returns
    -------
    InfoTerms
        Omega = TC - DTC; > 0 redundancy, < 0 synergy.
    """
    dims = [int(d) for d in dims]
    edges = np.cumsum([0, *dims])
    blocks = [np.arange(edges[i], edges[i + 1]) for i in range(len(dims))]
    total = int(edges[-1])

    def h(index: np.ndarray, what: str) -> float:
        return float(_entropy(_logdet(cov[np.ix_(index, index)], what), len(index), n_samples, bias_correct))

    n_vars = len(dims)
    marginal = np.array([h(b, f"variable {i}") for i, b in enumerate(blocks)])
    joint = h(np.arange(total), "the system")
    rest = np.array(
        [
            h(
                np.concatenate([blocks[j] for j in range(n_vars) if j != i]),
                f"the system without variable {i}",
            )
            for i in range(n_vars)
        ]
    )
    return terms_from_entropies(marginal, joint, rest)


def _group_logdets(cov: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """log det of each group's sub-covariance and of each leave-one-out sub-covariance.

    Returns ``full`` of shape (n_groups,) and ``minus`` of shape (n_groups, size). Size 3 uses closed-form
    2x2 / 3x3 determinants; other sizes use batched ``slogdet`` and det(C_-i) = det(C) (C^-1)_ii.
    """
    size = groups.shape[1]
    if size == 3:
        a, b, c = groups[:, 0], groups[:, 1], groups[:, 2]
        caa, cbb, ccc = cov[a, a], cov[b, b], cov[c, c]
        cab, cac, cbc = cov[a, b], cov[a, c], cov[b, c]
        minus = np.stack([cbb * ccc - cbc**2, caa * ccc - cac**2, caa * cbb - cab**2], axis=1)
        det = caa * minus[:, 0] - cab * (cab * ccc - cbc * cac) + cac * (cab * cbc - cbb * cac)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.log(det), np.log(minus)
    sub = cov[groups[:, :, None], groups[:, None, :]]
    sign, full = np.linalg.slogdet(sub)
    full = np.where(sign > 0, full, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        diag_inv = np.diagonal(np.linalg.inv(sub), axis1=1, axis2=2)
        minus = full[:, None] + np.log(diag_inv)
    return full, minus


def gc_group_terms(
    data: np.ndarray, groups: np.ndarray, *, bias_correct: bool = True
) -> dict[str, np.ndarray]:
    """Gaussian-copula TC, DTC, O-information and S-information of many groups of scalar variables.

    The data are rank-normalised and their covariance computed once; each group then needs only the
    log-determinants of its sub-matrix and of the sub-matrices without one member.

    Parameters
    ----------
    data : ndarray, shape (n_samples, n_regions)
        One column per variable (region); finite, no constant column.
    groups : int ndarray, shape (n_groups, size)
        Column indices of each group, size >= 3, distinct within a row.
    bias_correct : bool
        Subtract the small-sample bias of each Gaussian entropy (Ince et al. 2017).

    Returns
    -------
    dict of str to ndarray, each shape (n_groups,)
        ``o_info`` (Omega = TC - DTC; > 0 redundancy, < 0 synergy), ``tc``, ``dtc``, ``s_info`` in nats,
        and ``o_info_se``, ``tc_se``, ``dtc_se``, ``s_info_se`` (NaN: the closed form has no stderr).
        A group whose sub-covariance is singular gets NaN.
    """
    arr = as_samples_array(data, "data")
    groups = np.asarray(groups)
    if groups.ndim != 2 or not np.issubdtype(groups.dtype, np.integer):
        raise ValueError(
            f"'groups' must be an int array of shape (n_groups, size); got {groups.dtype} {groups.shape}."
        )
    n, n_regions = arr.shape
    size = groups.shape[1]
    if size < 3:
        raise ValueError(f"O-information needs groups of at least 3 variables; got size {size}.")
    if groups.size and (groups.min() < 0 or groups.max() >= n_regions):
        raise ValueError(f"'groups' has indices outside 0..{n_regions - 1} (data has {n_regions} columns).")
    if n < size + 2:
        raise ValueError(f"groups of {size} variables need at least {size + 2} samples; got {n}.")
    cov = _copula_covariance(rank_to_normal(arr))
    return gc_group_terms_from_cov(cov, groups, n, bias_correct=bias_correct)


def gc_group_terms_from_cov(
    cov: np.ndarray, groups: np.ndarray, n_samples: int, *, bias_correct: bool = True
) -> dict[str, np.ndarray]:
    """``gc_group_terms`` from a precomputed copula covariance (n_regions, n_regions) of ``n_samples`` rows.

    Lets a caller that streams many chunks of groups over the same data rank-normalise it only once.
    """
    size = groups.shape[1]
    full, minus = _group_logdets(cov, groups)
    marginal = _entropy(np.log(cov[groups, groups]), 1, n_samples, bias_correct)
    joint = _entropy(full, size, n_samples, bias_correct)
    rest = _entropy(minus, size - 1, n_samples, bias_correct)
    sum_marginal = marginal.sum(axis=1)
    tc = sum_marginal - joint
    tc_minus = (sum_marginal[:, None] - marginal) - rest
    o_info = (2 - size) * tc + tc_minus.sum(axis=1)
    dtc = tc - o_info
    nan = np.full(len(groups), np.nan)
    return {
        "o_info": o_info,
        "tc": tc,
        "dtc": dtc,
        "s_info": tc + dtc,
        "o_info_se": nan,
        "tc_se": nan.copy(),
        "dtc_se": nan.copy(),
        "s_info_se": nan.copy(),
    }


def copula_covariance(data: np.ndarray) -> np.ndarray:
    """Covariance (n - 1 divisor) of the rank-normalised columns of ``data`` (n_samples, n_regions)."""
    return _copula_covariance(rank_to_normal(as_samples_array(data, "data")))
