"""Divergence of hand-written fields (``fmmi.divergence``): linear fields with a known trace, nonlinear
fields against the autograd Jacobian, moving-coordinate masks, Hutchinson's estimator and shared probes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.func import jacrev, vmap

from fmmi_neuro.engine.fmmi.divergence import exact_divergence, hutchinson_divergence, rademacher


def _linear_field(dim: int, seed: int):
    gen = torch.Generator().manual_seed(seed)
    a = torch.randn(dim, dim, generator=gen, dtype=torch.float64)
    return a, (lambda z: z @ a.T)


def _mixing_field(dim: int, seed: int):
    """A nonlinear field that mixes coordinates: f(z) = tanh(z W) * (1 + z^2 V) + sin(z)."""
    gen = torch.Generator().manual_seed(seed)
    w = torch.randn(dim, dim, generator=gen, dtype=torch.float64)
    v = torch.randn(dim, dim, generator=gen, dtype=torch.float64) / dim
    return lambda z: torch.tanh(z @ w) * (1 + (z * z) @ v) + torch.sin(z)


def _jacobian(f, z):
    """Autograd Jacobians per row: (..., D) -> (..., D, D)."""
    flat = z.reshape(-1, z.shape[-1])
    return vmap(jacrev(lambda u: f(u[None])[0]))(flat).reshape(*z.shape, z.shape[-1])


@pytest.mark.parametrize("dim", [1, 3, 7])
def test_exact_divergence_of_linear_field_is_its_trace(dim):
    a, f = _linear_field(dim, seed=dim)
    z = torch.randn(11, dim, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    div = exact_divergence(f, z)
    assert div.shape == (11,) and div.dtype == torch.float64
    torch.testing.assert_close(div, torch.full((11,), float(torch.trace(a)), dtype=torch.float64))


def test_exact_divergence_of_nonlinear_field():
    # f(z) = sin(z) * z[:, ::-1]: d f_i / d z_i = cos(z_i) z_{D-1-i} (+ sin(z_i) where i is the middle one)
    z = torch.randn(9, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)

    def f(u):
        return torch.sin(u) * u.flip(-1)

    expected = (torch.cos(z) * z.flip(1)).sum(1) + torch.sin(z[:, 1])
    torch.testing.assert_close(exact_divergence(f, z), expected)


@pytest.mark.parametrize("dim", [2, 5, 9])
def test_exact_divergence_equals_the_autograd_jacobian_trace(dim):
    f = _mixing_field(dim, seed=10 + dim)
    z = torch.randn(4, 6, dim, generator=torch.Generator().manual_seed(dim), dtype=torch.float64)
    jac = _jacobian(f, z)
    torch.testing.assert_close(exact_divergence(f, z), torch.diagonal(jac, dim1=-2, dim2=-1).sum(-1))


def test_moving_mask_sums_only_the_moving_coordinates():
    f = _mixing_field(6, seed=3)
    z = torch.randn(20, 6, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    diag = torch.diagonal(_jacobian(f, z), dim1=-2, dim2=-1)
    moving = torch.tensor([True, False, True, True, False, False])
    torch.testing.assert_close(exact_divergence(f, z, moving), diag[:, moving].sum(-1))
    assert bool((exact_divergence(f, z, torch.zeros(6, dtype=torch.bool)) == 0).all())


def test_hutchinson_is_exact_for_diagonal_jacobian():
    z = torch.randn(20, 4, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    scale = torch.tensor([1.0, -2.0, 3.0, 0.5], dtype=torch.float64)
    div = hutchinson_divergence(lambda u: u * scale, z, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(div, torch.full((20,), float(scale.sum()), dtype=torch.float64))


def test_hutchinson_agrees_with_exact_within_monte_carlo_error():
    dim, n = 6, 4000
    a, f = _linear_field(dim, seed=5)
    z = torch.randn(n, dim, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    est = hutchinson_divergence(f, z, generator=torch.Generator().manual_seed(6))
    off = a - torch.diag(torch.diag(a))
    # variance of eps' A eps for Rademacher eps: sum_{i != j} (A_ij^2 + A_ij A_ji)
    var = float((off**2).sum() + (off * off.T).sum())
    se = np.sqrt(var / n)
    assert abs(float(est.mean()) - float(torch.trace(a))) < 4 * se
    assert abs(float(est.var()) - var) < 0.2 * var


def test_hutchinson_is_unbiased_for_a_nonlinear_field_with_a_mask():
    """At one point, the mean over 20,000 probes (one probe per copy of the point) is the masked trace."""
    dim, n = 5, 20_000
    f = _mixing_field(dim, seed=8)
    point = torch.randn(dim, generator=torch.Generator().manual_seed(9), dtype=torch.float64)
    z = point.expand(n, dim).clone()
    moving = torch.tensor([True, True, False, True, True])
    jac = _jacobian(f, point[None])[0]
    block = jac[moving][:, moving]
    off = block - torch.diag(torch.diag(block))
    var = float((off**2).sum() + (off * off.T).sum())
    est = hutchinson_divergence(f, z, moving, generator=torch.Generator().manual_seed(10))
    assert abs(float(est.mean()) - float(torch.diagonal(block).sum())) < 4 * np.sqrt(var / n)
    assert abs(float(est.var()) - var) < 0.1 * var  # only the moving block enters the variance


def test_shared_probes_are_used_as_given():
    dim = 4
    f = _mixing_field(dim, seed=11)
    z = torch.randn(3, 7, dim, generator=torch.Generator().manual_seed(12), dtype=torch.float64)
    probes = rademacher((5, 3, 7, dim), generator=torch.Generator().manual_seed(13), dtype=torch.float64)
    moving = torch.tensor([True, False, True, True])
    jac = _jacobian(f, z)
    masked = probes * moving.double()
    expected = torch.einsum("pcni,cnij,pcnj->cn", masked, jac, masked) / 5
    torch.testing.assert_close(hutchinson_divergence(f, z, moving, probes=probes), expected)
    # the same probes give the same numbers whatever the generator
    again = hutchinson_divergence(f, z, moving, probes=probes, generator=torch.Generator().manual_seed(99))
    torch.testing.assert_close(again, expected)


def test_hutchinson_is_deterministic_for_a_generator():
    a, f = _linear_field(5, seed=7)
    z = torch.randn(8, 5, generator=torch.Generator().manual_seed(8), dtype=torch.float64)
    h1 = hutchinson_divergence(f, z, n_probes=3, generator=torch.Generator().manual_seed(9))
    h2 = hutchinson_divergence(f, z, n_probes=3, generator=torch.Generator().manual_seed(9))
    torch.testing.assert_close(h1, h2)
    assert not torch.allclose(h1, torch.full((8,), float(torch.trace(a)), dtype=torch.float64))


def test_divergence_works_without_grad_and_keeps_float32():
    """The estimator evaluates frozen fields under no gradient: forward-mode derivatives still work there."""
    weight = torch.tensor([[1.0, 2.0], [3.0, 4.0]])

    def f(u):
        return torch.tanh(u @ weight.T)

    z = torch.randn(5, 2, generator=torch.Generator().manual_seed(10))
    with torch.no_grad():
        div = exact_divergence(f, z)
        hutch = hutchinson_divergence(f, z, n_probes=2, generator=torch.Generator().manual_seed(1))
    assert div.dtype == torch.float32 and div.shape == (5,) and not div.requires_grad
    expected = ((1 - torch.tanh(z @ weight.T) ** 2) * torch.diagonal(weight)).sum(-1)
    torch.testing.assert_close(div, expected)
    assert hutch.shape == (5,) and bool(torch.isfinite(hutch).all())


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="'moving' must have shape"):
        exact_divergence(lambda u: u, torch.zeros(3, 2), torch.ones(3, dtype=torch.bool))
    with pytest.raises(ValueError, match="n_probes"):
        hutchinson_divergence(lambda u: u, torch.zeros(3, 2), n_probes=0)


def test_rademacher_values():
    eps = rademacher((1000,), generator=torch.Generator().manual_seed(0))
    assert set(eps.unique().tolist()) == {-1.0, 1.0}
    assert abs(float(eps.mean())) < 4 / np.sqrt(1000)
    assert rademacher((2, 3), dtype=torch.float64).dtype == torch.float64
