"""Which pairs and times are sampled: derangements, the linear path and stratified times.

Product-of-marginals samples come from shuffling within a batch with a derangement (no sample is paired
with itself). The path is linear, ``z_t = (1 - t) z_0 + t z_1``, with regression target ``z_1 - z_0``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class PathBatch:
    """Points on the linear path and their flow-matching targets.

    Attributes
    ----------
    z_t : Tensor, shape (batch, D)
        Points on the path.
    t : Tensor, shape (batch,)
        Times in [0, 1].
    target : Tensor, shape (batch, D)
        Conditional velocity ``z_1 - z_0``.
    cond : Tensor or None, shape (batch, d_x)
        Conditioning variable (x) for the conditional variant; None for the joint variant.
    """

    z_t: torch.Tensor
    t: torch.Tensor
    target: torch.Tensor
    cond: torch.Tensor | None


def derangement(n: int, *, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
    """Random permutation of ``range(n)`` without fixed points (n >= 2), shape (n,).

    Drawn as a random n-cycle: a random ordering, each element mapped to a successor a random
    non-zero shift away.
    """
    if n < 2:
        raise ValueError(f"a derangement needs at least 2 elements; got {n}.")
    order = torch.randperm(n, generator=generator, device=device)
    shift = int(torch.randint(1, n, (1,), generator=generator, device=device))
    perm = torch.empty_like(order)
    perm[order] = order.roll(-shift)
    return perm


def stratified_times(
    n: int, n_draws: int, *, generator: torch.Generator | None = None, device=None, dtype=torch.float32
) -> torch.Tensor:
    """Times ``(j + u_ij) / n_draws`` for j = 0..n_draws-1, u uniform, shape (n, n_draws)."""
    u = torch.rand(n, n_draws, generator=generator, device=device, dtype=dtype)
    return (torch.arange(n_draws, device=device, dtype=dtype) + u) / n_draws


def linear_path(z0: torch.Tensor, z1: torch.Tensor, t: torch.Tensor, cond: torch.Tensor | None) -> PathBatch:
    """Points ``(1 - t) z0 + t z1`` with target ``z1 - z0``; z0, z1 (batch, D), t (batch,)."""
    tt = t.reshape(-1, 1)
    return PathBatch(z_t=(1 - tt) * z0 + tt * z1, t=t, target=z1 - z0, cond=cond)


def sample_path(
    x: torch.Tensor,
    y: torch.Tensor,
    variant: str,
    t: torch.Tensor,
    *,
    generator: torch.Generator | None = None,
) -> PathBatch:
    """Path points for a batch of paired samples.

    Parameters
    ----------
    x : Tensor, shape (batch, d_x)
    y : Tensor, shape (batch, d_y)
    variant : {"conditional", "joint"}
        Conditional: y moves from ``y[pi]`` to ``y`` given x. Joint: ``(x[pi_1], y[pi_2])`` moves to
        ``(x, y)`` (two independent derangements).
    t : Tensor, shape (batch,)
    generator : torch.Generator, optional

    Returns
    -------
    PathBatch
    """
    n = x.shape[0]
    if variant == "conditional":
        y0 = y[derangement(n, generator=generator, device=y.device)]
        return linear_path(y0, y, t, x)
    x0 = x[derangement(n, generator=generator, device=x.device)]
    y0 = y[derangement(n, generator=generator, device=y.device)]
    return linear_path(torch.cat([x0, y0], dim=1), torch.cat([x, y], dim=1), t, None)
