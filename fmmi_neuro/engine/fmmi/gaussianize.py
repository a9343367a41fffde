"""Learned per-variable Gaussianizing maps for multivariate variables (a copula beyond coordinates).

Rank-to-normal marginals undo any monotone map of each *coordinate*; a smooth invertible map that mixes the
coordinates of one multivariate variable (a spiral of a 5-dimensional block, say) survives them, and the
Gaussian part of every term then misses most of the dependence. Information terms are unchanged by any
invertible map within a variable, so ``gaussianize`` learns one per variable, ``u_i = f_i(x_i)``, by maximum
likelihood of the model ``u ~ N(0, Sigma)``: it maximises

    mean_t sum_i log |det df_i/dx_i (x_ti)| - 1/2 log det cov(u)

(``Sigma`` profiled out). When the data are a per-variable diffeomorphism of a Gaussian, the maps recover
the Gaussian coordinates and the closed-form Gaussian part is the truth; whatever is left is the
network's correction. Each ``f_i`` is a stack of affine coupling layers (RealNVP, Dinh et al. 2017) with
fixed random rotations in between, starting at the identity (zero output layers). Training is full-batch
Adam with early stopping on the held-out likelihood of a contiguous validation block (``Sigma`` from the
training rows), so data the maps cannot make more Gaussian keep the identity. Scalar variables are left
alone (their rank-to-normal map is already the only Gaussianizing map).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from fmmi_neuro.engine.blocks import split_validation

N_LAYERS = 8
HIDDEN = 64
GAUSSIANIZE_MIN_DOF = 5.0
"""The maps are tried only where the data's tails are light: ``select_dof`` finds the Gaussian copula or a
Student-t with at least this many degrees of freedom. Heavy-tailed, elliptical dependence is what the
radial residual learns, and maps fitted to it cost accuracy (``benchmarks/RESULTS.md``: t3-mix-5x3 at
n = 1,200 gave Omega 1.17 with the maps, 1.55 without, truth 1.59); within-variable spirals of Gaussian
data select 10-30 degrees of freedom, Student-t systems with nu <= 3 select 2.5-3."""
SCALE_BOUND = 2.0
"""Each coupling layer scales a coordinate by at most ``exp(SCALE_BOUND)`` (``tanh``-bounded log-scale)."""


class CouplingFlow(nn.Module):
    """Invertible map of one d-dimensional variable (d >= 2): ``N_LAYERS`` affine coupling layers with
    alternating halves and fixed random rotations in between; the identity at initialisation."""

    def __init__(self, dim: int, generator: torch.Generator):
        super().__init__()
        self.dim = dim
        half = dim // 2
        masks, rotations = [], []
        for layer in range(N_LAYERS):
            mask = torch.zeros(dim)
            mask[:half] = 1.0
            masks.append(mask if layer % 2 == 0 else 1.0 - mask)
            q, r = torch.linalg.qr(torch.randn(dim, dim, generator=generator, dtype=torch.float64))
            rotations.append((q * torch.sign(torch.diagonal(r))).float())
        self.register_buffer("masks", torch.stack(masks))
        self.register_buffer("rotations", torch.stack(rotations))
        self.nets = nn.ModuleList(
            nn.Sequential(
                _linear(dim, HIDDEN, generator),
                nn.SiLU(),
                _linear(HIDDEN, HIDDEN, generator),
                nn.SiLU(),
                _linear(HIDDEN, 2 * dim, generator, zero=True),
            )
            for _ in range(N_LAYERS)
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (n, d) -> u (n, d) and log |det du/dx| (n,)."""
        logdet = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
        for mask, rotation, net in zip(self.masks, self.rotations, self.nets, strict=True):
            x = x @ rotation
            kept = x * mask
            scale, shift = net(kept).chunk(2, dim=-1)
            scale = SCALE_BOUND * torch.tanh(scale / SCALE_BOUND) * (1.0 - mask)
            x = kept + (1.0 - mask) * (x * torch.exp(scale) + shift)
            logdet = logdet + scale.sum(-1)
        return x, logdet


def _linear(n_in: int, n_out: int, generator: torch.Generator, zero: bool = False) -> nn.Linear:
    """A linear layer drawn from ``generator`` (PyTorch's ranges ``U(+-1/sqrt(n_in))``), or all zeros."""
    layer = nn.Linear(n_in, n_out)
    with torch.no_grad():
        for p in (layer.weight, layer.bias):
            if zero:
                p.zero_()
            else:
                p.copy_((torch.rand(p.shape, generator=generator) * 2 - 1) / math.sqrt(n_in))
    return layer


@dataclass
class GaussianizeReport:
    """What ``gaussianize`` did.

    Attributes
    ----------
    variables : list of int
        The multivariate variables that got a map.
    best_step : int
        Step whose maps were kept (0: the identity, nothing was gained).
    gain : float
        Held-out log-likelihood gain per sample over the identity, nats.
    steps : int
    """

    variables: list[int]
    best_step: int
    gain: float
    steps: int


def gaussianize(
    x: np.ndarray,
    dims: Sequence[int],
    *,
    seed: int = 0,
    max_steps: int = 1500,
    patience: int = 6,
    eval_every: int = 25,
    lr: float = 3e-3,
    val_fraction: float = 0.15,
) -> tuple[np.ndarray, GaussianizeReport]:
    """Map each multivariate variable of ``x`` so that the joint is as Gaussian as possible.

    Parameters
    ----------
    x : ndarray, shape (n_samples, sum(dims))
        Rank-transformed, per-variable whitened samples, rows in time order.
    dims : sequence of int
        Dimension of each variable (contiguous blocks of columns).
    seed : int
    max_steps, patience, eval_every, lr, val_fraction
        Full-batch Adam steps at most; stop after ``patience`` validations without improvement of the
        held-out log-likelihood (validation block: the last ``val_fraction`` of the rows).

    Returns
    -------
    u : ndarray, shape (n_samples, sum(dims))
        The mapped samples (scalar variables unchanged).
    report : GaussianizeReport
    """
    starts = np.concatenate([[0], np.cumsum(dims)])
    variables = [i for i, d in enumerate(dims) if d >= 2]
    if not variables:
        return x, GaussianizeReport([], 0, 0.0, 0)
    generator = torch.Generator().manual_seed(int(seed))
    flows = nn.ModuleList([CouplingFlow(dims[i], generator) for i in variables])
    rows = np.arange(x.shape[0])
    fit, val = split_validation(rows, val_fraction)
    columns = [slice(starts[i], starts[i + 1]) for i in range(len(dims))]
    scalars = [i for i in range(len(dims)) if i not in variables]

    def blocks(index: np.ndarray, which: list[int]) -> list[torch.Tensor]:
        return [torch.as_tensor(x[index, columns[i]], dtype=torch.float32) for i in which]

    fit_blocks, val_blocks = blocks(fit, variables), blocks(val, variables)
    fixed_fit, fixed_val = blocks(fit, scalars), blocks(val, scalars)

    def loglik(train: bool) -> torch.Tensor:
        objective_fit, u_fit = _log_likelihood(flows, fit_blocks, fixed_fit)
        if train:
            return objective_fit
        with torch.no_grad():
            cov = torch.cov(u_fit.T, correction=0)
            return _log_likelihood(flows, val_blocks, fixed_val, cov, u_fit.mean(dim=0))[0]

    with torch.no_grad():
        base = float(loglik(train=False))
    best, best_step, stale, step = base, 0, 0, 0
    best_state = [p.detach().clone() for p in flows.parameters()]
    optimiser = torch.optim.Adam(flows.parameters(), lr=lr)
    for step in range(1, max_steps + 1):
        loss = -loglik(train=True)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        if step % eval_every == 0:
            current = float(loglik(train=False))
            if current > best:
                best, best_step, stale = current, step, 0
                best_state = [p.detach().clone() for p in flows.parameters()]
            else:
                stale += 1
                if stale >= patience:
                    break
    with torch.no_grad():
        for p, b in zip(flows.parameters(), best_state, strict=True):
            p.copy_(b)
        out = x.copy()
        for flow, i in zip(flows, variables, strict=True):
            u, _ = flow(torch.as_tensor(x[:, columns[i]], dtype=torch.float32))
            out[:, columns[i]] = u.double().numpy()
    return out, GaussianizeReport(variables, best_step, best - base, step)


def _log_likelihood(
    flows: nn.ModuleList,
    blocks: list[torch.Tensor],
    fixed: list[torch.Tensor],
    cov: torch.Tensor | None = None,
    mean: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean log-likelihood per sample of the Gaussian model (up to constants) and the mapped rows.

    ``blocks`` are the multivariate variables (mapped by ``flows``), ``fixed`` the scalar ones. Without
    ``cov`` the covariance is the rows' own (profiled; the quadratic term is then a constant).
    """
    parts, logdet = [], 0.0
    for flow, block in zip(flows, blocks, strict=True):
        u, ld = flow(block)
        parts.append(u)
        logdet = logdet + ld
    u = torch.cat(parts + list(fixed), dim=1)
    centre = u.mean(dim=0) if mean is None else mean
    centred = u - centre
    if cov is None:
        sample_cov = centred.T @ centred / u.shape[0]
        return logdet.mean() - 0.5 * torch.linalg.slogdet(sample_cov)[1], u
    solved = torch.linalg.solve(cov, centred.T).T
    return (logdet - 0.5 * (centred * solved).sum(-1)).mean() - 0.5 * torch.linalg.slogdet(cov)[1], u
