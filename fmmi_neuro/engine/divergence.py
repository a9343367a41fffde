"""Divergence of a vector field ``f: (batch, D) -> (batch, D)`` acting row by row.

``exact_divergence`` sums the diagonal of the Jacobian with D vector-Jacobian products (one per
coordinate, all through a single graph); ``hutchinson_divergence`` uses Rademacher probes
``eps`` and the unbiased estimate ``eps^T J eps``; ``divergence`` picks exact for ``D <= exact_max_dim``.
The field must act on each row independently (no batch statistics), as velocity networks do; any
conditioning (time, the other variable) is closed over by the callable.

A graph for the result is built only with ``enable_grad=True`` (e.g. to train through the divergence);
otherwise the returned tensor is detached.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

Field = Callable[[torch.Tensor], torch.Tensor]

EXACT_MAX_DIM = 16


def _prepare(z: torch.Tensor) -> torch.Tensor:
    if z.ndim != 2:
        raise ValueError(f"'z' must have shape (batch, D); got {tuple(z.shape)}.")
    return z.detach().requires_grad_(True)


def _field_output(f: Field, z: torch.Tensor) -> torch.Tensor:
    out = f(z)
    if out.shape != z.shape:
        raise ValueError(f"the field must return shape {tuple(z.shape)}; got {tuple(out.shape)}.")
    return out


def exact_divergence(f: Field, z: torch.Tensor, *, enable_grad: bool = False) -> torch.Tensor:
    """Exact divergence ``tr(df/dz)`` per row.

    Parameters
    ----------
    f : callable, (batch, D) -> (batch, D)
    z : Tensor, shape (batch, D)
    enable_grad : bool
        Keep the graph so the result can be differentiated (w.r.t. the field's parameters).

    Returns
    -------
    Tensor, shape (batch,)
    """
    with torch.enable_grad():
        z = _prepare(z)
        out = _field_output(f, z)
        div = torch.zeros(z.shape[0], dtype=out.dtype, device=out.device)
        dim = z.shape[1]
        for i in range(dim):
            (grad,) = torch.autograd.grad(
                out[:, i].sum(), z, create_graph=enable_grad, retain_graph=enable_grad or i < dim - 1
            )
            div = div + grad[:, i]
    return div if enable_grad else div.detach()


def rademacher(
    shape: tuple[int, ...],
    *,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Random signs (+1/-1 with probability 1/2), shape ``shape``."""
    bits = torch.randint(0, 2, shape, generator=generator, device=device)
    return (2 * bits - 1).to(dtype)


def hutchinson_divergence(
    f: Field,
    z: torch.Tensor,
    *,
    n_probes: int = 1,
    generator: torch.Generator | None = None,
    enable_grad: bool = False,
) -> torch.Tensor:
    """Hutchinson estimate ``mean_k eps_k^T (df/dz) eps_k`` with Rademacher probes, per row.

    Unbiased for the divergence; its variance per probe is ``2 * sum_{i != j} J_ij^2`` (zero for a
    diagonal Jacobian).

    Parameters
    ----------
    f : callable, (batch, D) -> (batch, D)
    z : Tensor, shape (batch, D)
    n_probes : int
        Independent probes averaged per row.
    generator : torch.Generator, optional
        Source of the probes (on ``z``'s device).
    enable_grad : bool
        Keep the graph so the result can be differentiated.

    Returns
    -------
    Tensor, shape (batch,)
    """
    if n_probes < 1:
        raise ValueError(f"'n_probes' must be >= 1; got {n_probes!r}.")
    with torch.enable_grad():
        z = _prepare(z)
        out = _field_output(f, z)
        div = torch.zeros(z.shape[0], dtype=out.dtype, device=out.device)
        for k in range(n_probes):
            eps = rademacher(tuple(z.shape), generator=generator, dtype=z.dtype, device=z.device)
            (vjp,) = torch.autograd.grad(
                out,
                z,
                grad_outputs=eps,
                create_graph=enable_grad,
                retain_graph=enable_grad or k < n_probes - 1,
            )
            div = div + (vjp * eps).sum(dim=1)
        div = div / n_probes
    return div if enable_grad else div.detach()


def divergence(
    f: Field,
    z: torch.Tensor,
    *,
    exact_max_dim: int = EXACT_MAX_DIM,
    n_probes: int = 1,
    generator: torch.Generator | None = None,
    enable_grad: bool = False,
) -> torch.Tensor:
    """Divergence per row: exact when ``D <= exact_max_dim``, Hutchinson (Rademacher) above.

    Parameters
    ----------
    f : callable, (batch, D) -> (batch, D)
        Row-wise vector field.
    z : Tensor, shape (batch, D)
    exact_max_dim : int
        Largest dimension computed exactly (D backward passes); 0 forces Hutchinson.
    n_probes : int
        Probes per row for Hutchinson.
    generator : torch.Generator, optional
        Source of the probes.
    enable_grad : bool
        Keep the graph so the result can be differentiated.

    Returns
    -------
    Tensor, shape (batch,)
    """
    if z.ndim == 2 and z.shape[1] <= exact_max_dim:
        return exact_divergence(f, z, enable_grad=enable_grad)
    return hutchinson_divergence(f, z, n_probes=n_probes, generator=generator, enable_grad=enable_grad)
