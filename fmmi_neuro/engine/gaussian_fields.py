"""Closed-form optimal flow-matching velocity fields for Gaussian data, as torch modules.

With zero-mean data and the linear path ``z_t = (1 - t) z_0 + t z_1`` (``z_0`` independent of ``z_1``):

- conditional (acts on y given x): ``y_0 ~ p(y)``, ``y_1 | x ~ N(B x, S_c)`` with ``B = S_yx S_xx^-1``,
  ``S_c = S_yy - B S_xy``; ``S_t = (1-t)^2 S_yy + t^2 S_c`` and
  ``u(y, t | x) = B x + (t S_c - (1-t) S_yy) S_t^-1 (y - t B x)``.
- joint (acts on z = (x, y)): ``z_0 ~ N(0, D)``, ``D = blockdiag(S_xx, S_yy)``, ``z_1 ~ N(0, S)``;
  ``S_t = (1-t)^2 D + t^2 S`` and ``u(z, t) = (t S - (1-t) D) S_t^-1 z``.

Both are evaluated in the basis that whitens the source and diagonalises the target: with eigenvalues
``lam`` of the whitened target covariance (``I - B~ B~^T`` or the whitened joint), the matrix above is
``P diag(a(t)) Q`` with ``a_k(t) = (t lam_k - (1-t)) / ((1-t)^2 + t^2 lam_k)`` and ``Q P = I``. The divergence
is therefore ``sum_k a_k(t)`` (constant in z) and ``-int_0^1 div dt = -1/2 sum_k log lam_k = I(X; Y)``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def _check_cov(cov: np.ndarray, dim_x: int) -> np.ndarray:
    cov = np.asarray(cov, dtype=np.float64)
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1]:
        raise ValueError(f"'cov' must be a square (D, D) matrix; got shape {cov.shape}.")
    if not 1 <= dim_x < cov.shape[0]:
        raise ValueError(f"'dim_x' must be in [1, {cov.shape[0] - 1}]; got {dim_x!r}.")
    cov = 0.5 * (cov + cov.T)
    if np.linalg.eigvalsh(cov).min() <= 0:
        raise ValueError("'cov' must be positive definite.")
    return cov


def _time_factors(t: torch.Tensor, lam: torch.Tensor) -> torch.Tensor:
    """``a_k(t)``, shape (batch, K), for times t of shape (batch,) or (batch, 1)."""
    t = t.reshape(-1, 1)
    s = 1 - t
    return (t * lam - s) / (s * s + t * t * lam)


class _LinearGaussianField(nn.Module):
    """``u = c + P [a(t) * (Q (z - t c))]`` with ``c = B x`` (conditional) or 0 (joint)."""

    def __init__(self, p: np.ndarray, q: np.ndarray, lam: np.ndarray, b: np.ndarray | None, dtype):
        super().__init__()
        self.register_buffer("p", torch.as_tensor(p, dtype=dtype))
        self.register_buffer("q", torch.as_tensor(q, dtype=dtype))
        self.register_buffer("lam", torch.as_tensor(lam, dtype=dtype))
        self.register_buffer("b", None if b is None else torch.as_tensor(b, dtype=dtype))
        self.mi = float(-0.5 * np.log(lam).sum())

    def divergence(self, t: torch.Tensor) -> torch.Tensor:
        """Divergence (constant in z) at times t, shape (batch,)."""
        return _time_factors(t, self.lam).sum(dim=1)

    def _velocity(self, z: torch.Tensor, t: torch.Tensor, shift: torch.Tensor | None) -> torch.Tensor:
        a = _time_factors(t, self.lam)
        if shift is None:
            return (a * (z @ self.q.T)) @ self.p.T
        return shift + (a * ((z - t.reshape(-1, 1) * shift) @ self.q.T)) @ self.p.T


class GaussianConditionalField(_LinearGaussianField):
    """Optimal conditional velocity ``u(y, t | x)`` for jointly Gaussian (X, Y).

    Parameters
    ----------
    cov : ndarray, shape (d_x + d_y, d_x + d_y)
        Joint covariance; X is the first ``dim_x`` coordinates. Data are assumed centred.
    dim_x : int
    dtype : torch.dtype

    Attributes
    ----------
    mi : float
        ``I(X; Y)`` in nats, equal to ``-int_0^1 div_y u dt``.

    Examples
    --------
    >>> field = GaussianConditionalField(np.array([[1.0, 0.6], [0.6, 1.0]]), 1)
    >>> round(field.mi, 6)  # -1/2 log(1 - 0.6^2)
    0.223144
    """

    def __init__(self, cov: np.ndarray, dim_x: int, dtype: torch.dtype = torch.float32):
        cov = _check_cov(cov, dim_x)
        sxx, syy, syx = cov[:dim_x, :dim_x], cov[dim_x:, dim_x:], cov[dim_x:, :dim_x]
        lx, ly = np.linalg.cholesky(sxx), np.linalg.cholesky(syy)
        ly_inv = np.linalg.inv(ly)
        b_white = ly_inv @ syx @ np.linalg.inv(lx).T
        lam, u = np.linalg.eigh(np.eye(syy.shape[0]) - b_white @ b_white.T)
        super().__init__(ly @ u, u.T @ ly_inv, lam, syx @ np.linalg.inv(sxx), dtype)

    def forward(self, y: torch.Tensor, t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Velocity, shape (batch, d_y), for y (batch, d_y), t (batch,) and x (batch, d_x)."""
        return self._velocity(y, t, x @ self.b.T)


class GaussianJointField(_LinearGaussianField):
    """Optimal joint velocity ``u(z, t)`` on z = (x, y) for jointly Gaussian (X, Y), independent coupling.

    Parameters
    ----------
    cov : ndarray, shape (d_x + d_y, d_x + d_y)
        Joint covariance; X is the first ``dim_x`` coordinates. Data are assumed centred.
    dim_x : int
    dtype : torch.dtype

    Attributes
    ----------
    mi : float
        ``I(X; Y)`` in nats, equal to ``-int_0^1 div_z u dt``.
    """

    def __init__(self, cov: np.ndarray, dim_x: int, dtype: torch.dtype = torch.float32):
        cov = _check_cov(cov, dim_x)
        l_block = np.zeros_like(cov)
        l_block[:dim_x, :dim_x] = np.linalg.cholesky(cov[:dim_x, :dim_x])
        l_block[dim_x:, dim_x:] = np.linalg.cholesky(cov[dim_x:, dim_x:])
        l_inv = np.linalg.inv(l_block)
        lam, v = np.linalg.eigh(l_inv @ cov @ l_inv.T)
        super().__init__(l_block @ v, v.T @ l_inv, lam, None, dtype)

    def forward(self, z: torch.Tensor, t: torch.Tensor, x: torch.Tensor | None = None) -> torch.Tensor:
        """Velocity, shape (batch, D), for z (batch, D) and t (batch,); ``x`` is ignored."""
        return self._velocity(z, t, None)


def gaussian_influence(z: np.ndarray, cov: np.ndarray, dim_x: int) -> np.ndarray:
    """Per-sample influence of ``I_G = 1/2 log(det S_xx det S_yy / det S)`` at centred samples z.

    ``psi(z) = 1/2 (z_x' S_xx^-1 z_x - d_x) + 1/2 (z_y' S_yy^-1 z_y - d_y) - 1/2 (z' S^-1 z - D)``, shape
    (n,): the first-order change of ``I_G`` when sample z is added. Its mean over the samples ``cov`` was
    computed from is zero; over other samples it is the one-step correction of ``I_G`` towards them.
    """
    cov = _check_cov(cov, dim_x)
    z = np.asarray(z, dtype=np.float64)
    zx, zy = z[:, :dim_x], z[:, dim_x:]

    def quad(a: np.ndarray, s: np.ndarray) -> np.ndarray:
        return np.einsum("ij,ij->i", a, np.linalg.solve(s, a.T).T) - s.shape[0]

    return 0.5 * (quad(zx, cov[:dim_x, :dim_x]) + quad(zy, cov[dim_x:, dim_x:]) - quad(z, cov))
