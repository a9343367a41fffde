"""Student-t copula: which tail the marginal transform assumes, and the scatter the Gaussian part uses.

The multi-time engine splits every term into a closed-form Gaussian part (from a scatter matrix of the
transformed data) and a learned correction. Rank-to-normal marginals make that Gaussian part the
Gaussian-copula value. Heavy-tailed dependence (a multivariate Student-t, or any per-variable monotone
map of one) is not linear in rank-normal coordinates. A near-deterministic sum of Student-t variables
becomes a thin curved manifold there, and the network has to learn several nats of Omega.

In rank-to-Student-t coordinates with the right degrees of freedom nu, such data are elliptical again: a
per-variable monotone map of a multivariate t is undone exactly. Its covariance-scaled maximum-likelihood
scatter gives the Gaussian part, and what is left is the shared-scale (radial) dependence.

- ``select_dof`` picks nu from ``COPULA_DOFS``, or the Gaussian copula, by the copula pseudo-likelihood
  of the rank-transformed data. It keeps the Gaussian copula unless the Student-t one gains more than
  BIC's penalty of one parameter, so Gaussian data keep the Gaussian-copula engine.
- ``resolve_dof`` (``copula="auto"``) uses that nu only where Student-t coordinates move the Gaussian part
  a lot (``gaussian_part_shift``, ``AUTO_MIN_OMEGA_SHIFT``), i.e. where rank-normal coordinates would leave
  the network much to learn. Where the heavy-tailed part is mostly a shared scale (redundant and mixed
  Student-t systems) the rank-normal coordinates' MLP residual learned it better than any residual in
  Student-t coordinates (heavy-tailed inputs and targets). In Student-t coordinates the multi-time field
  uses the radial residual (``fmmi.field``).
- ``scatter`` is the sample covariance for the Gaussian copula, and otherwise the Student-t
  maximum-likelihood scatter (EM, fixed nu) times nu / (nu - 2).
- ``term_influence`` (``influence_rows``) is the per-sample influence of that Gaussian part, for the
  standard errors.

Every map is monotone per coordinate, so TC, DTC, Omega and S are unchanged (the scatter only moves the
split between the Gaussian part and the correction); measured in ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats
from scipy.special import gammaln

from fmmi_neuro.engine.gaussian.copula import sample_covariance
from fmmi_neuro.engine.gaussian.marginals import rank_to_student_t
from fmmi_neuro.engine.gaussian.terms import gaussian_term_influence, gaussian_terms

COPULA_DOFS = (2.5, 3.0, 4.0, 5.0, 7.0, 10.0, 15.0, 30.0)
"""Degrees of freedom ``select_dof`` tries (at most 2 the transformed data would have no finite variance;
Student-t data with 2 degrees of freedom select 2.5)."""
AUTO_MIN_OMEGA_SHIFT = 0.6
AUTO_MIN_TC_GAIN = 0.1
"""``copula="auto"`` uses Student-t coordinates only where they move the Gaussian part's Omega by at least
``AUTO_MIN_OMEGA_SHIFT`` nats and raise its TC by at least ``AUTO_MIN_TC_GAIN`` of the Gaussian-copula TC
(``gaussian_part_shift``).

The shift is Omega the rank-normal network would have to learn and Student-t coordinates give in closed
form. The rank-normal network learns 85-95 % of a non-Gaussian part; in Student-t coordinates the radial
residual adds up to 0.1 nats of spurious correction on scalar 3-variable systems and learns less of a
shared scale (``benchmarks/RESULTS.md``). So the switch pays beyond about half a nat. Measured on our
benchmark systems (4 seeds at n = 1,200 and 10,000): sums of Student-t variables that failed in
rank-normal coordinates shift by 1.0-5.7 nats (TC +16-71 %); systems the rank-normal engine handles shift
by at most 0.34. On real fMRI (HCP, 3-94 regions) the TC gain is at most 2 %."""
COPULAS = ("auto", "gaussian")
"""``copula`` option values besides a number of degrees of freedom (> 2)."""
_EM_MAX_ITER = 500
_EM_TOL = 1e-7


def check_copula(copula: str | float) -> str | float:
    """Validate the ``copula`` option: ``"auto"``, ``"gaussian"`` or degrees of freedom > 2."""
    if isinstance(copula, str):
        if copula not in COPULAS:
            raise ValueError(f"'copula' must be one of {COPULAS} or degrees of freedom > 2; got {copula!r}.")
        return copula
    number = isinstance(copula, (int, float)) and not isinstance(copula, bool)
    if not number or not np.isfinite(copula) or copula <= 2:
        raise ValueError(f"'copula' degrees of freedom must be a finite number > 2; got {copula!r}.")
    return float(copula)


def resolve_dof(
    copula: str | float, x: np.ndarray, dims: Sequence[int], tail_dof: float | None | str = "select"
) -> float | None:
    """Degrees of freedom of the marginal transform; ``None`` is the Gaussian copula.

    Parameters
    ----------
    copula : {"auto", "gaussian"} or float
        ``"auto"``: the ``select_dof`` choice, kept only if Student-t coordinates move the Gaussian part's
        Omega by ``AUTO_MIN_OMEGA_SHIFT`` and its TC by ``AUTO_MIN_TC_GAIN`` (``gaussian_part_shift``);
        otherwise, and with fewer than two samples per coordinate, the Gaussian copula.
    x : ndarray, shape (n_samples, sum(dims))
        Raw samples, variables side by side.
    dims : sequence of int
        Dimension of each variable.
    tail_dof : float or None, optional
        ``select_dof(x)`` when the caller has it already (it is the costly step); ``"select"`` computes it.
    """
    copula = check_copula(copula)
    if copula == "gaussian":
        return None
    if copula != "auto":
        return copula
    if x.shape[0] <= 2 * x.shape[1]:  # too few samples to fit a scatter per candidate
        return None
    dof = select_dof(x) if tail_dof == "select" else tail_dof
    if dof is None:
        return None
    omega_shift, tc_gain = gaussian_part_shift(x, dims, dof)
    return dof if omega_shift >= AUTO_MIN_OMEGA_SHIFT and tc_gain >= AUTO_MIN_TC_GAIN else None


def gaussian_part_shift(x: np.ndarray, dims: Sequence[int], dof: float) -> tuple[float, float]:
    """How Student-t coordinates change the Gaussian part: ``(|Omega_t - Omega_g|, TC_t / TC_g - 1)``.

    ``_t`` (nats) is the Gaussian closed form at ``scatter`` after ``rank_to_student_t`` with ``dof``;
    ``_g`` at the sample covariance after rank-to-normal (the Gaussian copula, whose TC is a lower bound on
    the true TC). All are invariant to invertible linear maps within a variable. The TC ratio is 0 when
    ``TC_g`` is not positive.
    """
    gauss, student = (gaussian_terms(scatter(rank_to_student_t(x, nu), nu), dims) for nu in (None, dof))
    tc_gain = float(student["tc"] / gauss["tc"] - 1.0) if gauss["tc"] > 0 else 0.0
    return float(abs(student["o_info"] - gauss["o_info"])), tc_gain


def select_dof(x: np.ndarray, dofs: tuple[float, ...] = COPULA_DOFS) -> float | None:
    """Gaussian copula (``None``) or the Student-t degrees of freedom with the highest pseudo-likelihood.

    Parameters
    ----------
    x : ndarray, shape (n_samples, n_features)
        Raw samples (only their ranks are used).
    dofs : tuple of float
        Candidate degrees of freedom, each > 2.

    Returns
    -------
    float or None
        The best ``dof`` if ``n * (loglik_t - loglik_gauss) > log(n) / 2`` (BIC, one extra parameter),
        else ``None``.
    """
    arr = np.asarray(x, dtype=np.float64)
    n = arr.shape[0]
    gaussian = copula_loglik(rank_to_student_t(arr, None), None)
    gains = [copula_loglik(rank_to_student_t(arr, dof), dof) - gaussian for dof in dofs]
    best = int(np.argmax(gains))
    return float(dofs[best]) if n * gains[best] > 0.5 * np.log(n) else None


def copula_loglik(z: np.ndarray, dof: float | None) -> float:
    """Mean per-sample log density of the Gaussian (``dof=None``) or Student-t copula, nats.

    ``z`` (n, D) holds the rank-transformed samples (standard normal or unit-scale t_dof quantiles); the
    copula's correlation is the maximum-likelihood one (``scatter`` normalised to unit diagonal).
    """
    n, d = z.shape
    cov = scatter(z, dof)
    scale = np.sqrt(np.diag(cov))
    corr = cov / np.outer(scale, scale)
    sign, logdet = np.linalg.slogdet(corr)
    if sign <= 0:
        raise ValueError("the copula correlation is singular: a coordinate is a function of the others.")
    centred = z - z.mean(axis=0)
    q = np.einsum("ni,ni->n", centred, np.linalg.solve(corr, centred.T).T)
    if dof is None:
        joint = -0.5 * (q + logdet + d * np.log(2 * np.pi))
        marginal = stats.norm.logpdf(z).sum(axis=1)
    else:
        joint = (
            gammaln((dof + d) / 2)
            - gammaln(dof / 2)
            - 0.5 * d * np.log(dof * np.pi)
            - 0.5 * logdet
            - 0.5 * (dof + d) * np.log1p(q / dof)
        )
        marginal = stats.t.logpdf(z, dof).sum(axis=1)
    return float(np.mean(joint - marginal))


def scatter(x: np.ndarray, dof: float | None) -> np.ndarray:
    """Covariance-scaled scatter of samples; x (..., n, D) -> (..., D, D).

    ``dof=None``: the sample covariance (``n - 1`` divisor). Otherwise the maximum-likelihood scatter of a
    multivariate Student-t with ``dof`` degrees of freedom about the sample mean (EM iterations of
    ``S = mean(w x x')``, ``w = (dof + D) / (dof + x' S^-1 x)``), times ``dof / (dof - 2)`` so that it
    estimates the covariance of Student-t data. Unlike the sample covariance, it is not dominated by the
    few largest samples of heavy-tailed data.
    """
    arr = np.asarray(x, dtype=np.float64)
    centred = arr - arr.mean(axis=-2, keepdims=True)
    n = centred.shape[-2]
    cov = sample_covariance(centred)
    if dof is None:
        return cov
    for _ in range(_EM_MAX_ITER):
        weights = _weights(centred, cov, dof)
        new = np.einsum("...n,...ni,...nj->...ij", weights, centred, centred) / n
        change = np.abs(new - cov).max() / np.abs(new).max()
        cov = new
        if change < _EM_TOL:
            break
    return cov * (dof / (dof - 2))


def term_influence(centred: np.ndarray, cov: np.ndarray, dims: Sequence[int], dof: float | None) -> dict:
    """Per-sample influence of the Gaussian terms computed from ``scatter`` (``terms.gaussian_terms`` keys).

    ``centred`` (..., n, D) are the samples ``cov`` = ``scatter(centred, dof)`` came from. ``dof=None``:
    ``terms.gaussian_term_influence``; otherwise the same formula on ``influence_rows``.
    """
    rows, factor = influence_rows(centred, cov, dof)
    return {key: value * factor for key, value in gaussian_term_influence(rows, cov, dims).items()}


def influence_rows(centred: np.ndarray, cov: np.ndarray, dof: float | None) -> tuple[np.ndarray, float]:
    """Rows whose outer products average to ``cov`` = ``scatter(centred, dof)``, and the influence factor.

    ``dof=None``: ``(centred, 1)``. Otherwise ``sqrt(c w) x`` (EM weights ``w`` at the converged scatter,
    ``c = dof / (dof - 2)``) and ``(dof + D + 2) / (dof + D)``: linearising the EM fixed point at a
    Student-t, the shape part of its estimating equation has slope ``(dof + D) / (dof + D + 2)``. (The scale
    part does not enter: every path term is invariant to the scale of the scatter.) The influence of a
    Gaussian part is ``factor * terms.gaussian_term_influence(rows, cov, ...)``; sub-blocks of ``cov`` take
    the same columns of ``rows``.
    """
    if dof is None:
        return centred, 1.0
    d = centred.shape[-1]
    inflation = dof / (dof - 2)
    weights = _weights(centred, cov / inflation, dof) * inflation
    return centred * np.sqrt(weights)[..., None], (dof + d + 2) / (dof + d)


def _weights(centred: np.ndarray, cov: np.ndarray, dof: float) -> np.ndarray:
    """EM weights ``(dof + D) / (dof + x' S^-1 x)``; centred (..., n, D), cov (..., D, D) -> (..., n)."""
    d = centred.shape[-1]
    solved = np.linalg.solve(cov, np.swapaxes(centred, -1, -2))
    q = np.einsum("...ni,...in->...n", centred, solved)
    return (dof + d) / (dof + q)
