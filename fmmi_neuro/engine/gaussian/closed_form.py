"""Closed-form information quantities (in nats) for Gaussian and multivariate Student-t systems.

These are the ground truth that every estimator is tested against. A system is described by a joint
covariance (Gaussian) or scale matrix (Student-t) ``cov`` of shape (D, D) and the dimensions of its
variables ``dims`` (a sequence of ints summing to D; variable i owns a contiguous block of coordinates).

O-information sign convention: Omega = TC - DTC; Omega > 0 is redundancy-dominated, Omega < 0
synergy-dominated (Rosas et al. 2019).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln, psi


def _check_system(cov: np.ndarray, dims: Sequence[int]) -> np.ndarray:
    cov = np.asarray(cov, dtype=np.float64)
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1]:
        raise ValueError(f"'cov' must be a square (D, D) matrix; got shape {cov.shape}.")
    if sum(dims) != cov.shape[0] or min(dims) < 1:
        raise ValueError(f"'dims' {list(dims)} must be positive and sum to D = {cov.shape[0]}.")
    if not np.allclose(cov, cov.T):
        raise ValueError("'cov' must be symmetric.")
    if np.linalg.eigvalsh(cov).min() <= 0:
        raise ValueError("'cov' must be positive definite.")
    return cov


def _logdet(a: np.ndarray) -> float:
    sign, value = np.linalg.slogdet(a)
    return float(value)


def gaussian_entropy(cov: np.ndarray) -> float:
    """Differential entropy of N(mu, cov) in nats; cov shape (d, d)."""
    cov = np.atleast_2d(np.asarray(cov, dtype=np.float64))
    d = cov.shape[0]
    return 0.5 * (d * np.log(2 * np.pi * np.e) + _logdet(cov))


def student_t_entropy(scale: np.ndarray, nu: float) -> float:
    """Differential entropy of a multivariate Student-t with ``nu`` degrees of freedom, in nats.

    h = 1/2 log det(scale) + log[(nu pi)^(d/2) Gamma(nu/2) / Gamma((nu+d)/2)]
        + (nu+d)/2 [psi((nu+d)/2) - psi(nu/2)]
    """
    scale = np.atleast_2d(np.asarray(scale, dtype=np.float64))
    d = scale.shape[0]
    a = (nu + d) / 2
    return float(
        0.5 * _logdet(scale)
        + 0.5 * d * np.log(nu * np.pi)
        + gammaln(nu / 2)
        - gammaln(a)
        + a * (psi(a) - psi(nu / 2))
    )


def _entropy(cov: np.ndarray, nu: float | None) -> float:
    return gaussian_entropy(cov) if nu is None else student_t_entropy(cov, nu)


def mutual_information(cov: np.ndarray, dim_x: int, nu: float | None = None) -> float:
    """I(X; Y) in nats for (X, Y) jointly Gaussian (``nu=None``) or multivariate Student-t.

    Parameters
    ----------
    cov : ndarray, shape (d_x + d_y, d_x + d_y)
        Joint covariance (Gaussian) or scale matrix (Student-t); X is the first ``dim_x`` coordinates.
    dim_x : int
        Dimension of X.
    nu : float, optional
        Degrees of freedom of the Student-t; ``None`` for the Gaussian.
    """
    cov = _check_system(cov, [dim_x, cov.shape[0] - dim_x])
    ix, iy = variable_blocks([dim_x, cov.shape[0] - dim_x])
    return _entropy(cov[np.ix_(ix, ix)], nu) + _entropy(cov[np.ix_(iy, iy)], nu) - _entropy(cov, nu)


def gaussian_mi(cov: np.ndarray, dim_x: int) -> float:
    """I(X; Y) = 1/2 log(det S_xx det S_yy / det S) in nats for jointly Gaussian (X, Y)."""
    return mutual_information(cov, dim_x)


def student_t_mi(scale: np.ndarray, dim_x: int, nu: float) -> float:
    """I(X; Y) in nats for (X, Y) jointly multivariate Student-t with ``nu`` degrees of freedom."""
    return mutual_information(scale, dim_x, nu)


@dataclass(frozen=True)
class InfoTerms:
    """Information quantities of one system (the closed form here; estimators reuse the shape), in nats.

    Attributes
    ----------
    tc, dtc, o_info, s_info : float
        Total correlation, dual total correlation, O-information (TC - DTC; > 0 redundancy,
        < 0 synergy) and S-information (TC + DTC).
    tc_minus : ndarray, shape (n_vars,)
        TC of the system without variable i.
    mi_one_rest : ndarray, shape (n_vars,)
        I(X_i; X_-i).
    """

    tc: float
    dtc: float
    o_info: float
    s_info: float
    tc_minus: np.ndarray
    mi_one_rest: np.ndarray


def information_truth(cov: np.ndarray, dims: Sequence[int], nu: float | None = None) -> InfoTerms:
    """TC, DTC, O-information and S-information of a Gaussian or Student-t system, in nats.

    Uses TC = sum_i h(X_i) - h(X), Omega = (2 - n) TC(X) + sum_i TC(X_-i) and DTC = TC - Omega, which
    equals h(X) - sum_i h(X_i | X_-i).

    Parameters
    ----------
    cov : ndarray, shape (D, D)
        Joint covariance (Gaussian) or scale matrix (Student-t with ``nu`` degrees of freedom).
    dims : sequence of int, length n_vars >= 2
        Dimension of each variable (contiguous blocks of coordinates).
    nu : float, optional
        Degrees of freedom; ``None`` for the Gaussian.
    """
    dims = [int(d) for d in dims]
    cov = _check_system(cov, dims)
    blocks = variable_blocks(dims)
    n = len(dims)
    if n < 2:
        raise ValueError(f"a system needs at least 2 variables; got {n}.")
    marginal = np.array([_entropy(cov[np.ix_(b, b)], nu) for b in blocks])
    joint = _entropy(cov, nu)
    without = [np.concatenate(blocks[:i] + blocks[i + 1 :]) for i in range(n)]
    rest = np.array([_entropy(cov[np.ix_(r, r)], nu) for r in without])
    return terms_from_entropies(marginal, joint, rest)


def assemble_terms(marginal: np.ndarray, joint: np.ndarray, rest: np.ndarray) -> dict[str, np.ndarray]:
    """TC, DTC, O-information, S-information and per-variable pieces from entropies, in nats.

    The one assembly of the terms from entropies in the package (closed forms, the Gaussian copula and the
    Gaussian part of FMMI all use it). Any leading shape broadcasts (many systems at once):
    ``TC = sum_i h(X_i) - h(X)``, ``TC(X_-i) = sum_{j != i} h(X_j) - h(X_-i)``,
    ``I(X_i; X_-i) = h(X_i) + h(X_-i) - h(X)``, ``Omega = (2 - k) TC + sum_i TC(X_-i)``,
    ``DTC = TC - Omega``, ``S = TC + DTC``.

    Parameters
    ----------
    marginal : ndarray, shape (..., k)
        h(X_i) of each variable.
    joint : ndarray, shape (...)
        h(X) of the whole system.
    rest : ndarray, shape (..., k)
        h(X_-i), the entropy of the system without variable i.

    Returns
    -------
    dict with ``tc``, ``dtc``, ``o_info`` (TC - DTC; > 0 redundancy, < 0 synergy), ``s_info`` (shape (...))
    and ``tc_minus``, ``mi_one_rest`` (shape (..., k)).
    """
    marginal = np.asarray(marginal, dtype=np.float64)
    rest = np.asarray(rest, dtype=np.float64)
    joint = np.asarray(joint, dtype=np.float64)
    k = marginal.shape[-1]
    total = marginal.sum(axis=-1)
    tc = total - joint
    tc_minus = (total[..., None] - marginal) - rest
    o_info = (2 - k) * tc + tc_minus.sum(axis=-1)
    dtc = tc - o_info
    return {
        "tc": tc,
        "dtc": dtc,
        "o_info": o_info,
        "s_info": tc + dtc,
        "tc_minus": tc_minus,
        "mi_one_rest": marginal + rest - joint[..., None],
    }


def terms_from_entropies(marginal: np.ndarray, joint: float, rest: np.ndarray) -> InfoTerms:
    """``InfoTerms`` of one system from its entropies (see ``assemble_terms``), in nats."""
    terms = assemble_terms(marginal, joint, rest)
    scalars = {key: float(terms[key]) for key in ("tc", "dtc", "o_info", "s_info")}
    return InfoTerms(**scalars, tc_minus=terms["tc_minus"], mi_one_rest=terms["mi_one_rest"])


def variable_blocks(dims: Sequence[int]) -> list[np.ndarray]:
    """Coordinate indices of each variable (contiguous blocks), shape (d_i,) each."""
    edges = np.cumsum([0, *dims])
    return [np.arange(edges[i], edges[i + 1]) for i in range(len(dims))]


def _check_structure(n_vars: int, dim: int, min_vars: int = 2) -> tuple[int, int]:
    if isinstance(n_vars, bool) or not isinstance(n_vars, (int, np.integer)) or n_vars < min_vars:
        raise ValueError(f"'n_vars' must be an integer >= {min_vars}; got {n_vars!r}.")
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
        raise ValueError(f"'dim' must be an integer >= 1; got {dim!r}.")
    return int(n_vars), int(dim)


def _check_nonnegative(value: float, name: str, *, positive: bool = False) -> float:
    value = float(value)
    if not np.isfinite(value) or value < 0 or (positive and value == 0):
        kind = "> 0" if positive else ">= 0"
        raise ValueError(f"'{name}' must be a finite number {kind}; got {value!r}.")
    return value


def latent_covariance(loadings: np.ndarray, dim: int) -> tuple[np.ndarray, list[int]]:
    """Covariance of X = A L with independent standard-normal latents, each block d-dimensional.

    Parameters
    ----------
    loadings : ndarray, shape (n_vars, n_latents)
        ``loadings[i, j]`` multiplies latent j (a ``dim``-dimensional standard normal) in variable i.
    dim : int
        Dimension of every variable and latent; the system is ``dim`` independent copies of the scalar one.

    Returns
    -------
    cov : ndarray, shape (n_vars * dim, n_vars * dim)
        ``(A A^T) kron I_dim``; variable i owns coordinates ``i*dim .. (i+1)*dim - 1``.
    dims : list of int
        ``[dim] * n_vars``.
    """
    a = np.asarray(loadings, dtype=np.float64)
    return np.kron(a @ a.T, np.eye(dim)), [dim] * a.shape[0]


def redundant_covariance(
    n_vars: int = 3, dim: int = 1, *, noise: float = 0.25
) -> tuple[np.ndarray, list[int]]:
    """Shared-source system X_i = S + sqrt(noise) E_i (S, E_i independent standard normals, dim-dimensional).

    Every variable carries the same source, so Omega > 0 (redundancy-dominated; Omega = TC - DTC).

    Returns
    -------
    cov : ndarray, shape (n_vars * dim, n_vars * dim)
    dims : list of int
    """
    n_vars, dim = _check_structure(n_vars, dim)
    noise = _check_nonnegative(noise, "noise", positive=True)
    loadings = np.hstack([np.ones((n_vars, 1)), np.sqrt(noise) * np.eye(n_vars)])
    return latent_covariance(loadings, dim)


def synergistic_covariance(
    n_vars: int = 3, dim: int = 1, *, noise: float = 0.1
) -> tuple[np.ndarray, list[int]]:
    """Sum system: X_1..X_{n-1} independent standard normals, X_n = sum_i X_i + sqrt(noise) E.

    The drivers are independent and only jointly predict X_n, so Omega < 0 (synergy-dominated;
    Omega = TC - DTC) for small noise.

    Returns
    -------
    cov : ndarray, shape (n_vars * dim, n_vars * dim)
    dims : list of int
    """
    n_vars, dim = _check_structure(n_vars, dim, min_vars=3)
    noise = _check_nonnegative(noise, "noise", positive=True)
    loadings = np.zeros((n_vars, n_vars))
    loadings[: n_vars - 1, : n_vars - 1] = np.eye(n_vars - 1)
    loadings[n_vars - 1, : n_vars - 1] = 1.0
    loadings[n_vars - 1, n_vars - 1] = np.sqrt(noise)
    return latent_covariance(loadings, dim)


def mixed_covariance(
    n_vars: int = 3, dim: int = 1, *, redundancy: float = 0.5, noise: float = 0.25
) -> tuple[np.ndarray, list[int]]:
    """A system between the two: a shared source plus a sum (synergistic) structure.

    With independent standard normals S, Z_1..Z_{n-1}, E_1..E_n (each dim-dimensional) and r = redundancy,
    X_i = sqrt(r) S + sqrt(1 - r) Z_i + sqrt(noise) E_i for i < n and
    X_n = sqrt(r) S + sqrt(1 - r) (Z_1 + ... + Z_{n-1}) / sqrt(n - 1) + sqrt(noise) E_n.
    ``redundancy=1`` is a shared-source (redundant, Omega > 0) system, ``redundancy=0`` a noisy sum
    (synergistic, Omega < 0); values between mix both, and Omega = TC - DTC tells which dominates.

    Returns
    -------
    cov : ndarray, shape (n_vars * dim, n_vars * dim)
    dims : list of int
    """
    n_vars, dim = _check_structure(n_vars, dim, min_vars=3)
    r = _check_nonnegative(redundancy, "redundancy")
    if r > 1:
        raise ValueError(f"'redundancy' must lie in [0, 1]; got {redundancy!r}.")
    noise = _check_nonnegative(noise, "noise", positive=True)
    drivers = n_vars - 1
    private = np.zeros((n_vars, drivers))
    private[:drivers] = np.eye(drivers)
    private[drivers] = 1.0 / np.sqrt(drivers)
    loadings = np.hstack(
        [np.full((n_vars, 1), np.sqrt(r)), np.sqrt(1 - r) * private, np.sqrt(noise) * np.eye(n_vars)]
    )
    return latent_covariance(loadings, dim)


def random_covariance(
    dims: Sequence[int], *, coupling: float = 1.0, seed: int | np.random.Generator = 0
) -> np.ndarray:
    """A random positive-definite covariance with unit diagonal for variables of the given dimensions.

    Parameters
    ----------
    dims : sequence of int
        Dimension of each variable (contiguous blocks).
    coupling : float
        Scale of the random loadings; 0 gives independence, larger values stronger dependence.
    seed : int or numpy Generator

    Returns
    -------
    cov : ndarray, shape (sum(dims), sum(dims))
        A correlation matrix ``C = D^-1/2 (I + coupling^2 W W^T / D) D^-1/2`` with Gaussian ``W``.
    """
    dims = [int(d) for d in dims]
    if not dims or min(dims) < 1:
        raise ValueError(f"'dims' must be a non-empty list of positive integers; got {dims}.")
    coupling = _check_nonnegative(coupling, "coupling")
    rng = np.random.default_rng(seed)
    total = sum(dims)
    w = rng.standard_normal((total, total))
    cov = np.eye(total) + coupling**2 * (w @ w.T) / total
    scale = 1.0 / np.sqrt(np.diag(cov))
    return cov * scale[:, None] * scale[None, :]
