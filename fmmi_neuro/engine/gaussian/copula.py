"""Gaussian-copula estimates of TC, DTC, O-information and S-information (in nats).

Each coordinate is mapped to standard-normal quantiles of its ranks (``marginals.rank_to_normal``); the
terms are then those of a Gaussian with the sample covariance (``terms.gaussian_terms``), by default with
the small-sample bias correction of Ince et al. (2017), as in gcmi and hoi's ``ent_g``. Fast and exact for
Gaussian copulas, blind to non-Gaussian dependence.

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

from fmmi_neuro._validation import as_samples_array, check_same_length
from fmmi_neuro.engine.gaussian.closed_form import InfoTerms, variable_blocks
from fmmi_neuro.engine.gaussian.marginals import rank_to_normal, rank_to_student_t, whiten
from fmmi_neuro.engine.gaussian.terms import gaussian_terms, half_logdet

GROUP_TERM_KEYS = ("o_info", "tc", "dtc", "s_info", "o_info_se", "tc_se", "dtc_se", "s_info_se")


def copula_transform(variables: Sequence[np.ndarray], dof: float | None = None) -> np.ndarray:
    """Rank-to-normal (or rank-to-Student-t with ``dof``) per coordinate, then whiten each variable.

    list of (n, d_i) -> (n, D). Both maps are invertible within a variable, so every information term is
    unchanged.
    """
    return np.hstack([whiten(rank_to_student_t(v, dof)) for v in variables])


def sample_covariance(x: np.ndarray) -> np.ndarray:
    """Covariance with the ``n - 1`` divisor of the rows of ``x`` (..., n, D) -> (..., D, D)."""
    centred = x - x.mean(axis=-2, keepdims=True)
    return np.einsum("...ni,...nj->...ij", centred, centred) / (x.shape[-2] - 1)


def copula_covariance(data: np.ndarray) -> np.ndarray:
    """Covariance (n - 1 divisor) of the rank-normalised columns of ``data`` (n_samples, n_regions)."""
    return sample_covariance(rank_to_normal(as_samples_array(data, "data")))


def check_variables(variables: Sequence[np.ndarray] | np.ndarray, min_samples: int = 1) -> list[np.ndarray]:
    """Validate a system and return it as a list of float64 arrays of shape (n_samples, d_i).

    ``variables`` is an array (one scalar variable per column) or a list of (n_samples, d_i) arrays.

    Raises
    ------
    ValueError
        Fewer than 3 variables, mismatched lengths, too few samples (``min_samples`` and one more than the
        coordinates plus one), NaN/inf, or a constant coordinate (named by its variable).
    """
    if not isinstance(variables, (list, tuple)):
        arr = as_samples_array(variables, "X", min_samples=min_samples)
        if arr.shape[1] < 3:
            raise ValueError(
                f"O-information needs at least 3 variables; 'X' has {arr.shape[1]} column(s) "
                "(one variable per column)."
            )
        arrays = [arr[:, [j]] for j in range(arr.shape[1])]
    else:
        if len(variables) < 3:
            raise ValueError(f"O-information needs at least 3 variables; got a list of {len(variables)}.")
        arrays = [as_samples_array(v, f"variable {i}") for i, v in enumerate(variables)]
        n = check_same_length(arrays, [f"variable {i}" for i in range(len(arrays))])
        if n < min_samples:
            raise ValueError(f"the variables have {n} samples; at least {min_samples} are needed.")
    n, total = arrays[0].shape[0], sum(a.shape[1] for a in arrays)
    if n < total + 2:
        raise ValueError(f"{total} coordinates need at least {total + 2} samples; got {n}.")
    return arrays


def check_nonsingular(cov: np.ndarray, dims: Sequence[int]) -> None:
    """Raise ``ValueError`` naming the smallest singular block (a variable, the system without one, or the
    whole system) of a copula covariance (D, D)."""
    blocks = variable_blocks(dims)
    k = len(blocks)
    candidates = [(f"variable {i}", b) for i, b in enumerate(blocks)]
    candidates += [
        (f"the system without variable {i}", np.concatenate([blocks[j] for j in range(k) if j != i]))
        for i in range(k)
    ]
    candidates.append(("the system", np.concatenate(blocks)))
    for what, index in candidates:
        if np.isnan(half_logdet(cov[np.ix_(index, index)])):
            raise ValueError(
                f"the copula covariance of {what} is singular: some coordinates are (nearly) linear "
                "combinations of others; drop redundant columns."
            )


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
        or a singular copula covariance (naming the block).
    """
    arrays = check_variables(variables)
    dims = [a.shape[1] for a in arrays]
    n = arrays[0].shape[0]
    cov = sample_covariance(rank_to_normal(np.hstack(arrays)))
    check_nonsingular(cov, dims)
    terms = gaussian_terms(cov, dims, n_samples=n if bias_correct else None)
    return InfoTerms(
        **{key: float(terms[key]) for key in ("tc", "dtc", "o_info", "s_info")},
        tc_minus=terms["tc_minus"],
        mi_one_rest=terms["mi_one_rest"],
    )


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
    return gc_group_terms_from_cov(copula_covariance(arr), groups, n, bias_correct=bias_correct)


def gc_group_terms_from_cov(
    cov: np.ndarray, groups: np.ndarray, n_samples: int, *, bias_correct: bool = True
) -> dict[str, np.ndarray]:
    """``gc_group_terms`` from a precomputed copula covariance (n_regions, n_regions) of ``n_samples`` rows.

    Lets a caller that streams many chunks of groups over the same data rank-normalise it only once.
    """
    size = groups.shape[1]
    sub = cov[groups[:, :, None], groups[:, None, :]]
    terms = gaussian_terms(sub, [1] * size, n_samples=n_samples if bias_correct else None)
    nan = np.full(len(groups), np.nan)
    out = {key: terms[key] for key in ("o_info", "tc", "dtc", "s_info")}
    out.update({f"{key}_se": nan.copy() for key in ("o_info", "tc", "dtc", "s_info")})
    return out
