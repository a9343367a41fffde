"""Divergence of hand-written fields: linear fields with known trace, Hutchinson vs exact."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fmmi_neuro.engine.divergence import divergence, exact_divergence, hutchinson_divergence, rademacher


def _linear_field(dim: int, seed: int):
    gen = torch.Generator().manual_seed(seed)
    a = torch.randn(dim, dim, generator=gen, dtype=torch.float64)
    return a, (lambda z: z @ a.T)


@pytest.mark.parametrize("dim", [1, 3, 7])
def test_exact_divergence_of_linear_field_is_its_trace(dim):
    a, f = _linear_field(dim, seed=dim)
    z = torch.randn(11, dim, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    div = exact_divergence(f, z)
    assert div.shape == (11,)
    torch.testing.assert_close(div, torch.full((11,), float(torch.trace(a)), dtype=torch.float64))


def test_exact_divergence_of_nonlinear_field():
    # f(z) = sin(z) * z[:, ::-1]: d f_i / d z_i = cos(z_i) z_{D-1-i} (+ sin(z_i) where i is the middle one)
    z = torch.randn(9, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)

    def f(u):
        return torch.sin(u) * u.flip(1)

    expected = (torch.cos(z) * z.flip(1)).sum(1) + torch.sin(z[:, 1])
    torch.testing.assert_close(exact_divergence(f, z), expected)


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
    # variance of eps^T A eps for Rademacher eps: sum_{i != j} (A_ij^2 + A_ij A_ji)
    var = float((off**2).sum() + (off * off.T).sum())
    se = np.sqrt(var / n)
    assert abs(float(est.mean()) - float(torch.trace(a))) < 4 * se
    assert abs(float(est.var()) - var) < 0.2 * var


def test_divergence_dispatch_and_generator_determinism():
    a, f = _linear_field(5, seed=7)
    z = torch.randn(8, 5, generator=torch.Generator().manual_seed(8), dtype=torch.float64)
    exact = divergence(f, z, exact_max_dim=5)
    torch.testing.assert_close(exact, torch.full((8,), float(torch.trace(a)), dtype=torch.float64))
    h1 = divergence(f, z, exact_max_dim=0, n_probes=3, generator=torch.Generator().manual_seed(9))
    h2 = divergence(f, z, exact_max_dim=0, n_probes=3, generator=torch.Generator().manual_seed(9))
    torch.testing.assert_close(h1, h2)
    assert not torch.allclose(h1, exact)


def test_enable_grad_keeps_graph_to_parameters():
    weight = torch.nn.Parameter(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))

    def f(u):
        return torch.tanh(u @ weight.T)

    z = torch.randn(5, 2, generator=torch.Generator().manual_seed(10))
    assert not exact_divergence(f, z).requires_grad
    div = exact_divergence(f, z, enable_grad=True)
    div.sum().backward()
    assert weight.grad is not None and torch.isfinite(weight.grad).all()
    weight.grad = None
    hutchinson_divergence(f, z, generator=torch.Generator().manual_seed(1), enable_grad=True).sum().backward()
    assert weight.grad is not None


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match="shape"):
        exact_divergence(lambda u: u, torch.zeros(3))
    with pytest.raises(ValueError, match="must return shape"):
        exact_divergence(lambda u: u[:, :1], torch.zeros(3, 2))
    with pytest.raises(ValueError, match="n_probes"):
        hutchinson_divergence(lambda u: u, torch.zeros(3, 2), n_probes=0)


def test_rademacher_values():
    eps = rademacher((1000,), generator=torch.Generator().manual_seed(0))
    assert set(eps.unique().tolist()) == {-1.0, 1.0}
