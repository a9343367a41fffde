"""Multi-time flow matching: one time per variable, paths in time space, and the Gaussian closed form.

Each of k variables X_i (d_i coordinates, D = sum d_i in all) gets its own time tau_i in [0, 1]. A point
on the multi-time path is ``z_i = (1 - tau_i) x_i[pi_i] + tau_i x_i`` with an independent shuffle
``pi_i`` per variable: at ``tau_i = 0`` variable i is independent of everything, at ``tau_i = 1`` it is
in its joint position. A velocity field ``u(z, tau)`` of shape (D,) gives ``dz_i / dtau_i``; along a
path ``s -> tau(s)`` the velocity is ``diag(tau'(s)) u`` and the entropy changes by
``h(end) - h(start) = int_0^1 E[sum_c tau'_c(s) du_c/dz_c] ds``.

Paths used here (``Path(base, moving)``, ``tau(s) = base + s * moving``):

- diagonal on a subset S (others at 0): entropy change ``-TC(X_S)``;
- one variable i moving with the rest of S at 1 (others at 0): entropy change ``-I(X_i; X_{S-i})``.

- the diagonal of S without variable i (i at 0): entropy change ``-TC(X_{S-i})``.

Omega = 2 TC - sum_i I(X_i; X_-i) = (2 - k) TC + sum_i TC(X_-i) (Omega > 0 redundancy-dominated,
Omega < 0 synergy-dominated); ``assemble_terms`` takes a weighted mean of the two, DTC = TC - Omega,
S = TC + DTC.

Gaussian closed form (zero-mean, joint covariance ``Sigma``, block-diagonal ``Dm`` of the variables'
own covariances, ``T = diag(tau)`` on coordinates): ``S_tau = (I - T) Dm (I - T) + T Sigma T`` and
``u(z, tau) = (Sigma T - Dm (I - T)) S_tau^{-1} z``; its divergence along a path is the constant
``tr(diag(tau') (Sigma T - Dm (I - T)) S_tau^{-1})``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from fmmi_neuro.engine.divergence import divergence

Field = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Path:
    """A straight path in multi-time space, ``tau(s) = base + s * moving`` for s in [0, 1].

    Attributes
    ----------
    base : ndarray, shape (k,)
        Times at s = 0 (0 = shuffled/independent, 1 = joint).
    moving : ndarray of bool, shape (k,)
        Variables whose time goes from 0 to 1 along the path.
    """

    base: np.ndarray
    moving: np.ndarray

    def times(self, s: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
        """Per-variable times at path positions ``s`` (shape (...)) -> shape (..., k)."""
        if isinstance(s, torch.Tensor):
            base = torch.as_tensor(self.base, dtype=s.dtype, device=s.device)
            moving = torch.as_tensor(self.moving, dtype=s.dtype, device=s.device)
            return base + s[..., None] * moving
        return self.base + np.asarray(s)[..., None] * self.moving.astype(np.float64)


def diagonal_path(n_vars: int, subset: Sequence[int] | None = None) -> Path:
    """All variables of ``subset`` (default: all) move together from 0 to 1; others stay at 0.

    The entropy change along it is ``-TC(X_subset)``.
    """
    moving = np.zeros(n_vars, dtype=bool)
    moving[list(range(n_vars)) if subset is None else list(subset)] = True
    return Path(base=np.zeros(n_vars), moving=moving)


def one_moving_path(n_vars: int, i: int, subset: Sequence[int] | None = None) -> Path:
    """Variable ``i`` moves from 0 to 1 while the rest of ``subset`` (default: all) sits at 1.

    The entropy change along it is ``-I(X_i; X_{subset - i})``.
    """
    members = list(range(n_vars)) if subset is None else list(subset)
    if i not in members:
        raise ValueError(f"variable {i} is not in the subset {members}.")
    base = np.zeros(n_vars)
    base[members] = 1.0
    base[i] = 0.0
    moving = np.zeros(n_vars, dtype=bool)
    moving[i] = True
    return Path(base=base, moving=moving)


def leave_out_path(n_vars: int, i: int, subset: Sequence[int] | None = None) -> Path:
    """The diagonal of ``subset`` (default: all) without variable ``i`` (kept at 0): ``-TC(X_{S-i})``."""
    members = list(range(n_vars)) if subset is None else list(subset)
    if i not in members:
        raise ValueError(f"variable {i} is not in the subset {members}.")
    return diagonal_path(n_vars, [j for j in members if j != i])


def term_paths(n_vars: int, subset: Sequence[int] | None = None) -> list[Path]:
    """The 2k + 1 paths one group of k members needs, in this order: the diagonal (TC), one-moving for
    each member (I(X_i; X_{S-i})), and the leave-one-out diagonals (TC(X_{S-i}))."""
    members = list(range(n_vars)) if subset is None else list(subset)
    return (
        [diagonal_path(n_vars, members)]
        + [one_moving_path(n_vars, i, members) for i in members]
        + [leave_out_path(n_vars, i, members) for i in members]
    )


def coordinate_index(dims: Sequence[int]) -> np.ndarray:
    """Variable index of each coordinate, shape (D,)."""
    return np.repeat(np.arange(len(dims)), dims)


def assemble_terms(
    tc: np.ndarray, mi_one_rest: np.ndarray, tc_minus: np.ndarray, weight: float | np.ndarray = 0.5
) -> dict[str, np.ndarray]:
    """TC, DTC, Omega and S from the three kinds of path terms (any leading shape; last axis = k).

    Two exact identities give Omega: ``2 TC - sum_i I(X_i; X_-i)`` and ``(2 - k) TC + sum_i TC(X_-i)``.
    Estimates of the three kinds of terms err differently, so Omega is ``(1 - weight)`` times the first
    plus ``weight`` times the second (``multitime_estimate.omega_weight`` chooses it); then
    ``DTC = TC - Omega`` and ``S = TC + DTC``. For exact terms both identities agree and
    this is the closed form whatever the weight.

    Parameters
    ----------
    tc : ndarray, shape (...)
        Total correlation, nats.
    mi_one_rest : ndarray, shape (..., k)
        I(X_i; X_-i), nats.
    tc_minus : ndarray, shape (..., k)
        TC(X_-i), nats.
    weight : float or ndarray broadcastable to shape (...)
        Weight of the second identity, in [0, 1].

    Returns
    -------
    dict with ``tc``, ``dtc``, ``o_info`` (TC - DTC; > 0 redundancy, < 0 synergy), ``s_info``,
    ``mi_one_rest`` and ``tc_minus``.
    """
    tc = np.asarray(tc, dtype=np.float64)
    mi = np.asarray(mi_one_rest, dtype=np.float64)
    minus = np.asarray(tc_minus, dtype=np.float64)
    k = mi.shape[-1]
    o_info = (1 - weight) * (2 * tc - mi.sum(axis=-1)) + weight * ((2 - k) * tc + minus.sum(axis=-1))
    dtc = tc - o_info
    return {
        "tc": tc,
        "dtc": dtc,
        "o_info": o_info,
        "s_info": tc + dtc,
        "mi_one_rest": mi,
        "tc_minus": minus,
    }


def split_path_terms(values: np.ndarray, weight: float | np.ndarray = 0.5) -> dict[str, np.ndarray]:
    """Assemble terms from values ordered as ``term_paths`` (shape (..., 2k + 1)); ``weight`` as in
    ``assemble_terms``."""
    k = (values.shape[-1] - 1) // 2
    return assemble_terms(values[..., 0], values[..., 1 : 1 + k], values[..., 1 + k :], weight)


def block_diagonal(cov: np.ndarray, dims: Sequence[int]) -> np.ndarray:
    """Keep only the diagonal blocks of ``cov`` (D, D) that belong to one variable each."""
    owner = coordinate_index(dims)
    return np.where(owner[:, None] == owner[None, :], cov, 0.0)


def gaussian_field_matrices(
    tau_c: torch.Tensor, sigma: torch.Tensor, dblock: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """``A = Sigma T - Dm (I - T)`` and ``S_tau`` for per-coordinate times.

    Parameters
    ----------
    tau_c : Tensor, shape (..., D)
        Time of each coordinate (its variable's time).
    sigma, dblock : Tensor, shape (..., D, D)
        Joint covariance and its block diagonal (broadcast against ``tau_c``'s leading shape).

    Returns
    -------
    a, s_tau : Tensor, shape (..., D, D)
    """
    t_row = tau_c[..., None, :]
    one_minus = 1.0 - tau_c
    a = sigma * t_row - dblock * one_minus[..., None, :]
    s_tau = one_minus[..., :, None] * dblock * one_minus[..., None, :] + tau_c[..., :, None] * sigma * t_row
    return a, s_tau


def gaussian_velocity(
    z: torch.Tensor, tau_c: torch.Tensor, sigma: torch.Tensor, dblock: torch.Tensor
) -> torch.Tensor:
    """Optimal multi-time velocity for a Gaussian system, ``(Sigma T - Dm (I-T)) S_tau^{-1} z``.

    Parameters
    ----------
    z : Tensor, shape (..., D)
    tau_c : Tensor, shape (..., D)
        Per-coordinate times.
    sigma, dblock : Tensor, shape (D, D) or broadcastable (..., D, D)

    Returns
    -------
    Tensor, shape (..., D)
    """
    a, s_tau = gaussian_field_matrices(tau_c, sigma, dblock)
    return (a @ torch.linalg.solve(s_tau, z[..., None]))[..., 0]


def gaussian_path_trace(cov: np.ndarray, dims: Sequence[int], path: Path, s: np.ndarray) -> np.ndarray:
    """``tr(diag(tau') (Sigma T - Dm (I - T)) S_tau^{-1})`` at path positions ``s`` (shape (m,)), float64."""
    owner = coordinate_index(dims)
    sigma = torch.as_tensor(cov, dtype=torch.float64)
    dblock = torch.as_tensor(block_diagonal(cov, dims), dtype=torch.float64)
    tau_c = torch.as_tensor(path.times(np.asarray(s, dtype=np.float64))[:, owner])
    a, s_tau = gaussian_field_matrices(tau_c, sigma, dblock)
    m = a @ torch.linalg.inv(s_tau)
    diag = torch.diagonal(m, dim1=-2, dim2=-1)
    rate = torch.as_tensor(path.moving[owner], dtype=torch.float64)
    return (diag * rate).sum(-1).numpy()


def gaussian_path_integral(cov: np.ndarray, dims: Sequence[int], path: Path, n_nodes: int = 48) -> float:
    """Entropy change along ``path`` for a Gaussian system, by Gauss-Legendre quadrature of the trace, nats.

    Deterministic; equals ``-TC(X_S)`` on a diagonal path and ``-I(X_i; X_{S-i})`` on a one-moving path.
    """
    nodes, weights = np.polynomial.legendre.leggauss(n_nodes)
    s = 0.5 * (nodes + 1.0)
    return float(0.5 * weights @ gaussian_path_trace(cov, dims, path, s))


def gaussian_terms_by_quadrature(
    cov: np.ndarray, dims: Sequence[int], n_nodes: int = 48
) -> dict[str, np.ndarray]:
    """TC, DTC, Omega, S (and per-variable pieces) of a Gaussian system from the multi-time paths, nats."""
    deltas = [gaussian_path_integral(cov, dims, p, n_nodes) for p in term_paths(len(dims))]
    return split_path_terms(-np.array(deltas))


def cyclic_derangement(
    n: int, generator: torch.Generator, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """A random permutation of ``range(n)`` with no fixed point (one n-cycle), shape (n,), long."""
    order = torch.randperm(n, generator=generator, device=device)
    partner = torch.empty_like(order)
    partner[order] = torch.roll(order, -1)
    return partner


def shuffled_sources(
    x: torch.Tensor, owner: torch.Tensor, n_vars: int, generator: torch.Generator
) -> torch.Tensor:
    """``x`` with each variable's rows shuffled by its own derangement, shape (..., n, D) as ``x``."""
    n = x.shape[-2]
    perms = torch.stack([cyclic_derangement(n, generator, x.device) for _ in range(n_vars)])
    return torch.gather(x, -2, perms[owner].T.expand_as(x))


def path_divergence(
    field: Field,
    x: torch.Tensor,
    dims: Sequence[int],
    path: Path,
    *,
    n_draws: int = 4,
    generator: torch.Generator,
    exact_max_dim: int = 16,
    n_probes: int = 1,
) -> torch.Tensor:
    """Per-sample Monte-Carlo divergence along a path, averaged over ``n_draws`` draws of (s, shuffle, probe).

    The mean over samples estimates ``h(end) - h(start)`` (nats). For each draw, s is stratified
    (draw r of n_draws falls in ``[r/n_draws, (r+1)/n_draws)``) and every variable gets a fresh
    derangement of the rows of ``x`` as its source.

    Parameters
    ----------
    field : callable ``(z (..., B, D), tau (..., B, k)) -> (..., B, D)``
        Multi-time velocity field, acting row by row (a leading axis indexes independent models).
    x : Tensor, shape (..., n, D)
        Samples in their joint position (one held-out block); leading axes (e.g. groups) are kept.
    dims : sequence of int, length k
        Dimension of each variable.
    path : Path
    n_draws : int
        Draws per sample.
    generator : torch.Generator
        Source of s, shuffles and probes (on ``x``'s device).
    exact_max_dim : int
        Exact divergence when the number of moving coordinates is at most this; Hutchinson above.
    n_probes : int
        Rademacher probes per draw for Hutchinson.

    Returns
    -------
    Tensor, shape (..., n)
        Mean divergence over the draws, per sample.
    """
    k = len(dims)
    owner = torch.as_tensor(coordinate_index(dims), device=x.device)
    moving = torch.as_tensor(path.moving, device=x.device)[owner]
    lead = x.shape[:-1]
    total = torch.zeros(lead, dtype=x.dtype, device=x.device)
    for r in range(n_draws):
        s = (r + torch.rand(lead, generator=generator, device=x.device, dtype=x.dtype)) / n_draws
        tau = path.times(s)
        tau_c = tau[..., owner]
        fixed = ((1.0 - tau_c) * shuffled_sources(x, owner, k, generator) + tau_c * x).detach()

        def restricted(
            z_moving: torch.Tensor, fixed: torch.Tensor = fixed, tau: torch.Tensor = tau
        ) -> torch.Tensor:
            full = fixed.clone()
            full[..., moving] = z_moving.reshape(*lead, -1)
            return field(full, tau)[..., moving].reshape(z_moving.shape)

        div = divergence(
            restricted,
            fixed[..., moving].reshape(-1, int(moving.sum())),
            exact_max_dim=exact_max_dim,
            n_probes=n_probes,
            generator=generator,
        )
        total = total + div.reshape(lead)
    return total / n_draws


def _path_sets(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Variables in joint position (time 1) at the start and at the end of a path."""
    start = path.base >= 1.0
    return start, start | path.moving


def _config_entropies(
    per_set: Callable[[np.ndarray], np.ndarray], dims: Sequence[int], path: Path
) -> np.ndarray:
    """``-(h(end) - h(start))`` where a configuration's entropy is ``h(X_J) + sum_{i not in J} h(X_i)``."""
    owner = coordinate_index(dims)
    k = len(dims)
    singles = [per_set(np.flatnonzero(owner == i)) for i in range(k)]

    def config(joint: np.ndarray) -> np.ndarray:
        h = sum(singles[i] for i in range(k) if not joint[i])
        if joint.any():
            h = h + per_set(np.flatnonzero(joint[owner]))
        return h

    start, end = _path_sets(path)
    return -(config(end) - config(start))


def gaussian_path_terms(
    cov: np.ndarray, dims: Sequence[int], paths: Sequence[Path] | None = None, n_samples: int | None = None
) -> np.ndarray:
    """Closed-form Gaussian value of each path's term (minus its entropy change), in nats.

    Parameters
    ----------
    cov : ndarray, shape (..., D, D)
        Covariance(s); with ``n_samples`` given, a sample covariance with the ``n - 1`` divisor whose
        entropies get the small-sample bias correction of Ince et al. (2017).
    dims : sequence of int, length k
    paths : sequence of Path, optional
        Default ``term_paths(k)``: TC, then I(X_i; X_-i) for each i.
    n_samples : int, optional
        Sample size behind ``cov`` (turns on the bias correction).

    Returns
    -------
    ndarray, shape (..., n_paths)
    """
    from fmmi_neuro.engine.gaussian_copula import entropy_bias

    cov = np.asarray(cov, dtype=np.float64)
    paths = term_paths(len(dims)) if paths is None else paths

    def half_logdet(index: np.ndarray) -> np.ndarray:
        sign, value = np.linalg.slogdet(cov[..., index[:, None], index[None, :]])
        h = np.where(sign > 0, 0.5 * value, np.nan)
        return h - entropy_bias(n_samples, index.size) if n_samples is not None else h

    return np.stack([_config_entropies(half_logdet, dims, p) for p in paths], axis=-1)


def gaussian_path_influence(
    x: np.ndarray, cov: np.ndarray, dims: Sequence[int], paths: Sequence[Path] | None = None
) -> np.ndarray:
    """Per-sample influence of each path's Gaussian term (first-order, zero mean), for standard errors.

    The influence of ``1/2 log det Sigma_SS`` at a centred sample x is ``(x_S' Sigma_SS^-1 x_S - d_S) / 2``.

    Parameters
    ----------
    x : ndarray, shape (..., n, D)
        Centred samples.
    cov : ndarray, shape (..., D, D)
    dims : sequence of int, length k
    paths : sequence of Path, optional
        Default ``term_paths(k)``.

    Returns
    -------
    ndarray, shape (..., n, n_paths), nats.
    """
    paths = term_paths(len(dims)) if paths is None else paths

    def quad(index: np.ndarray) -> np.ndarray:
        sub = cov[..., index[:, None], index[None, :]]
        xs = x[..., index]
        sol = np.einsum("...ij,...nj->...ni", np.linalg.inv(sub), xs)
        return 0.5 * ((xs * sol).sum(-1) - index.size)

    return np.stack([_config_entropies(quad, dims, p) for p in paths], axis=-1)
