"""The optimal multi-time velocity of a Gaussian system, in closed form (torch).

Zero-mean variables with joint covariance ``Sigma`` (D, D), ``Dm`` its block diagonal (each variable's own
covariance) and ``T = diag(tau)`` on coordinates: the path density is Gaussian with covariance
``S_tau = (I - T) Dm (I - T) + T Sigma T`` and the optimal velocity is

    u(z, tau) = (Sigma T - Dm (I - T)) S_tau^{-1} z.

Its divergence along a path is constant in z: ``tr(diag(tau') (Sigma T - Dm (I - T)) S_tau^{-1})``, so its
integral (``path_integral``, by Gauss-Legendre quadrature) is the closed-form entropy change: ``-TC`` on a
diagonal path and ``-I(X_i; X_-i)`` on a one-moving path. The estimator's field is this velocity plus a
learned residual (``field``), so an untrained field gives the Gaussian (copula) answer exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from fmmi_neuro.engine.fmmi.paths import Path


def field_matrices(
    tau_c: torch.Tensor, sigma: torch.Tensor, dblock: torch.Tensor
) -> tuple[torch.Tensor, ...]:
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


def block_diagonal(sigma: torch.Tensor, owner: torch.Tensor) -> torch.Tensor:
    """Keep the blocks of ``sigma`` (..., D, D) that belong to one variable each (``owner`` (D,))."""
    same = owner[:, None] == owner[None, :]
    return torch.where(same, sigma, torch.zeros_like(sigma))


def gaussian_velocity(z: torch.Tensor, tau_c: torch.Tensor, sigma: torch.Tensor, owner: torch.Tensor):
    """``(Sigma T - Dm (I - T)) S_tau^{-1} z``; z, tau_c (..., D), sigma (D, D) or (..., D, D) -> (..., D)."""
    a, s_tau = field_matrices(tau_c, sigma, block_diagonal(sigma, owner))
    return (a @ torch.linalg.solve(s_tau, z[..., None]))[..., 0]


def path_trace(cov: np.ndarray, dims: Sequence[int], path: Path, s: np.ndarray) -> np.ndarray:
    """``tr(diag(tau') (Sigma T - Dm (I - T)) S_tau^{-1})`` at path positions ``s`` (m,), float64 -> (m,)."""
    owner = torch.as_tensor(np.repeat(np.arange(len(dims)), dims))
    sigma = torch.as_tensor(cov, dtype=torch.float64)
    tau_c = path.times(torch.as_tensor(s, dtype=torch.float64))[:, owner]
    a, s_tau = field_matrices(tau_c, sigma, block_diagonal(sigma, owner))
    diag = torch.diagonal(a @ torch.linalg.inv(s_tau), dim1=-2, dim2=-1)
    rate = torch.as_tensor(path.moving, dtype=torch.float64)[owner]
    return (diag * rate).sum(-1).numpy()


def path_integral(cov: np.ndarray, dims: Sequence[int], path: Path, n_nodes: int = 48) -> float:
    """Entropy change along ``path`` for a Gaussian system (Gauss-Legendre quadrature of ``path_trace``),
    nats.

    Equals ``-TC`` on the diagonal and ``-I(X_i; X_-i)`` on a one-moving path (the tests check both against
    ``gaussian.terms``).
    """
    nodes, weights = np.polynomial.legendre.leggauss(n_nodes)
    return float(0.5 * weights @ path_trace(cov, dims, path, 0.5 * (nodes + 1.0)))
