"""The velocity seam: ``forward(z, t, cond)`` networks for flow matching.

``VelocityMLP`` is an MLP on ``[z, cond, time features]`` (SiLU activations; time features
``t, sin(pi k t), cos(pi k t)`` for k = 1..n_freq with the frequencies in a registered buffer).
Conditional variant: z = y and cond = x. Joint variant: z = (x, y) and no cond.

``GaussianAwareVelocity`` writes ``v = u_Gauss(z, t | cond) + r_theta(z, t, cond)`` with the closed-form
Gaussian field of ``gaussian_fields`` and a residual MLP whose last layer starts at zero, so training
starts at the Gaussian-copula answer and the network only learns the non-Gaussian correction.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from fmmi_neuro.engine.gaussian_fields import GaussianConditionalField, GaussianJointField


class TimeEmbedding(nn.Module):
    """Time features ``[t, sin(pi k t), cos(pi k t)]``, k = 1..n_freq: (batch,) -> (batch, 1 + 2 n_freq)."""

    def __init__(self, n_freq: int = 4):
        super().__init__()
        self.register_buffer("freqs", math.pi * torch.arange(1, n_freq + 1, dtype=torch.float32))

    @property
    def dim(self) -> int:
        return 1 + 2 * self.freqs.numel()

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        t = t.reshape(-1, 1)
        angles = t * self.freqs
        return torch.cat([t, torch.sin(angles), torch.cos(angles)], dim=1)


class VelocityMLP(nn.Module):
    """MLP velocity field ``v(z, t, cond)``.

    Parameters
    ----------
    dim : int
        Dimension of the moving variable z (and of the output).
    cond_dim : int
        Dimension of the conditioning variable (0 for none).
    width, depth : int
        Hidden units per layer and number of hidden layers.
    n_freq : int
        Time frequencies of the embedding.
    zero_init : bool
        Start the last layer at zero (the field starts at v = 0).

    Examples
    --------
    >>> net = VelocityMLP(2, cond_dim=3, width=16, depth=2)
    >>> net(torch.zeros(5, 2), torch.rand(5), torch.zeros(5, 3)).shape
    torch.Size([5, 2])
    """

    def __init__(
        self,
        dim: int,
        cond_dim: int = 0,
        *,
        width: int = 128,
        depth: int = 3,
        n_freq: int = 4,
        zero_init: bool = False,
    ):
        super().__init__()
        self.embed = TimeEmbedding(n_freq)
        layers: list[nn.Module] = []
        in_dim = dim + cond_dim + self.embed.dim
        for _ in range(depth):
            layers += [nn.Linear(in_dim, width), nn.SiLU()]
            in_dim = width
        last = nn.Linear(in_dim, dim)
        if zero_init:
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)
        self.net = nn.Sequential(*layers, last)
        self.cond_dim = cond_dim

    def forward(self, z: torch.Tensor, t: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """Velocity (batch, dim) for z (batch, dim), t (batch,), cond (batch, cond_dim) or None."""
        parts = [z] if cond is None or self.cond_dim == 0 else [z, cond]
        return self.net(torch.cat([*parts, self.embed(t)], dim=1))


class GaussianAwareVelocity(nn.Module):
    """``v = u_Gauss + r_theta``: closed-form Gaussian field plus a zero-initialised residual MLP.

    Parameters
    ----------
    gaussian : GaussianConditionalField or GaussianJointField
        Built from the training fold's covariance (fixed, no parameters).
    residual : VelocityMLP
        Learns the non-Gaussian correction; its divergence is what the estimator integrates on top of
        the Gaussian part's closed-form MI.
    """

    def __init__(self, gaussian: GaussianConditionalField | GaussianJointField, residual: VelocityMLP):
        super().__init__()
        self.gaussian = gaussian
        self.residual = residual

    def forward(self, z: torch.Tensor, t: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        return self.gaussian(z, t, cond) + self.residual(z, t, cond)
