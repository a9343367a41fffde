"""How the divergence of a field is estimated: exactly for a few moving coordinates, Hutchinson above.

Both return ``sum_{c in moving} d f_c / d z_c`` per row for a field ``f: (..., D) -> (..., D)`` that acts
on each row independently (no batch statistics). ``exact_divergence``: one forward-mode Jacobian-vector
product per moving coordinate (``torch.func.jvp``), about one forward pass each and no graph (the MLP
residual carries its own derivatives forward instead: ``field.MultiTimeField.residual_divergence``).
``hutchinson_divergence``: ``eps' J eps`` with Rademacher probes ``eps`` on the moving coordinates,
unbiased, with variance ``2 sum_{i != j} J_ij^2`` per probe (zero for a diagonal Jacobian); the estimator
uses it above ``exact_max_dim`` moving coordinates.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.func import jvp

Field = Callable[[torch.Tensor], torch.Tensor]


def rademacher(
    shape: tuple[int, ...], *, generator: torch.Generator | None = None, dtype=torch.float32, device=None
):
    """Random signs (+1/-1 with probability 1/2), shape ``shape``."""
    bits = torch.randint(0, 2, shape, generator=generator, device=device)
    return (2 * bits - 1).to(dtype)


def _check(f: Field, z: torch.Tensor, moving: torch.Tensor | None) -> torch.Tensor:
    if moving is None:
        return torch.ones(z.shape[-1], dtype=torch.bool, device=z.device)
    if moving.shape != (z.shape[-1],):
        raise ValueError(f"'moving' must have shape ({z.shape[-1]},); got {tuple(moving.shape)}.")
    return moving.to(device=z.device, dtype=torch.bool)


def exact_divergence(f: Field, z: torch.Tensor, moving: torch.Tensor | None = None) -> torch.Tensor:
    """``sum_{c in moving} d f_c / d z_c`` per row; z (..., D), moving (D,) bool (default all) -> (...)."""
    moving = _check(f, z, moving)
    z = z.detach()
    total = torch.zeros(z.shape[:-1], dtype=z.dtype, device=z.device)
    for c in torch.nonzero(moving).flatten().tolist():
        tangent = torch.zeros_like(z)
        tangent[..., c] = 1.0
        _, column = jvp(f, (z,), (tangent,))
        total = total + column[..., c]
    return total


def hutchinson_divergence(
    f: Field,
    z: torch.Tensor,
    moving: torch.Tensor | None = None,
    *,
    n_probes: int = 1,
    generator: torch.Generator | None = None,
    probes: torch.Tensor | None = None,
) -> torch.Tensor:
    """Hutchinson estimate ``mean_p eps_p' J eps_p`` over the moving coordinates, per row.

    Parameters
    ----------
    f : callable, (..., D) -> (..., D)
    z : Tensor, shape (..., D)
    moving : Tensor of bool, shape (D,), optional
    n_probes : int
        Rademacher probes drawn from ``generator`` when ``probes`` is not given.
    probes : Tensor, shape (n_probes, ..., D), optional
        Probes to use (e.g. shared by many groups); only their moving coordinates are used.

    Returns
    -------
    Tensor, shape (...)
    """
    moving = _check(f, z, moving)
    z = z.detach()
    if probes is None:
        if n_probes < 1:
            raise ValueError(f"'n_probes' must be >= 1; got {n_probes!r}.")
        probes = rademacher((n_probes, *z.shape), generator=generator, dtype=z.dtype, device=z.device)
    total = torch.zeros(z.shape[:-1], dtype=z.dtype, device=z.device)
    for eps in probes * moving.to(z.dtype):
        _, product = jvp(f, (z,), (eps,))
        total = total + (eps * product).sum(-1)
    return total / probes.shape[0]
