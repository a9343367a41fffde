"""Multi-time maths before any training: the closed-form Gaussian field must give the closed-form terms."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fmmi_neuro.engine import multitime as mt
from fmmi_neuro.engine.closed_form import information_truth


def _system(rng: np.random.Generator, dims: list[int]) -> np.ndarray:
    d = sum(dims)
    a = rng.normal(size=(d, d))
    return a @ a.T / d + 0.5 * np.eye(d)


@pytest.mark.parametrize("dims", [[1, 1, 1], [1, 2, 2], [2, 1, 1, 3]])
def test_quadrature_of_the_gaussian_trace_is_the_closed_form(rng, dims):
    cov = _system(rng, dims)
    truth = information_truth(cov, dims)
    terms = mt.gaussian_terms_by_quadrature(cov, dims)
    for key in ("tc", "dtc", "o_info", "s_info"):
        assert terms[key] == pytest.approx(getattr(truth, key), abs=1e-9)
    np.testing.assert_allclose(terms["tc_minus"], truth.tc_minus, atol=1e-9)


def test_subset_paths_give_subset_total_correlation(rng):
    dims = [1, 2, 1, 1]
    cov = _system(rng, dims)
    subset = [0, 2, 3]
    index = np.array([0, 3, 4])
    expected = information_truth(cov[np.ix_(index, index)], [1, 1, 1]).tc
    assert -mt.gaussian_path_integral(cov, dims, mt.diagonal_path(4, subset)) == pytest.approx(
        expected, abs=1e-9
    )
    mi = -mt.gaussian_path_integral(cov, dims, mt.one_moving_path(4, 2, subset))
    sub = information_truth(cov[np.ix_(index, index)], [1, 1, 1])
    assert mi == pytest.approx(sub.mi_one_rest[1], abs=1e-9)


def test_closed_form_path_terms_match_truth_and_paths(rng):
    dims = [1, 2, 2]
    cov = _system(rng, dims)
    truth = information_truth(cov, dims)
    values = mt.gaussian_path_terms(cov, dims)
    assert values[0] == pytest.approx(truth.tc, abs=1e-10)
    np.testing.assert_allclose(values[1:4], truth.mi_one_rest, atol=1e-10)
    np.testing.assert_allclose(values[4:], truth.tc_minus, atol=1e-10)
    paths = [mt.diagonal_path(3, [0, 2])]
    quad = -mt.gaussian_path_integral(cov, dims, paths[0])
    assert mt.gaussian_path_terms(cov, dims, paths)[0] == pytest.approx(quad, abs=1e-9)


def test_analytic_field_through_the_monte_carlo_estimator(rng):
    """Path sampling with per-variable shuffles, A's divergence and Monte-Carlo over s recover the truth."""
    dims = [1, 2, 2]
    cov = _system(rng, dims)
    truth = information_truth(cov, dims)
    n = 3000
    x = torch.as_tensor(rng.multivariate_normal(np.zeros(5), cov, size=n), dtype=torch.float64)
    sigma = torch.as_tensor(cov)
    dblock = torch.as_tensor(mt.block_diagonal(cov, dims))
    owner = torch.as_tensor(mt.coordinate_index(dims))

    def field(z, tau):
        return mt.gaussian_velocity(z, tau[..., owner], sigma, dblock)

    generator = torch.Generator().manual_seed(3)
    values = []
    for path in mt.term_paths(3):
        div = mt.path_divergence(field, x, dims, path, n_draws=2, generator=generator).numpy()
        values.append((-div.mean(), div.std() / np.sqrt(n)))
    expected = [truth.tc, *truth.mi_one_rest, *truth.tc_minus]
    for (value, se), target in zip(values, expected, strict=True):
        assert abs(value - target) < 4 * se + 1e-6
    terms = mt.split_path_terms(np.array([v for v, _ in values]))
    # Omega = 0.5 TC - 0.5 sum I + 0.5 sum TC_-i for k = 3; the draws of different paths are independent
    omega_se = 0.5 * np.sqrt(sum(se**2 for _, se in values))
    assert abs(terms["o_info"] - truth.o_info) < 4 * omega_se


def test_divergence_of_moving_coordinates_only(rng):
    """On a one-moving path only the moving coordinates enter the divergence (exact vs Hutchinson)."""
    dims = [2, 1, 1]
    cov = _system(rng, dims)
    x = torch.as_tensor(rng.multivariate_normal(np.zeros(4), cov, size=400), dtype=torch.float64)
    weight = torch.as_tensor(rng.normal(size=(4, 4)))

    def field(z, tau):
        return torch.tanh(z @ weight) * (1 + tau.sum(-1, keepdim=True))

    path = mt.one_moving_path(3, 0)
    exact = mt.path_divergence(field, x, dims, path, n_draws=1, generator=torch.Generator().manual_seed(0))
    probe = mt.path_divergence(
        field,
        x,
        dims,
        path,
        n_draws=1,
        generator=torch.Generator().manual_seed(0),
        exact_max_dim=0,
        n_probes=64,
    )
    assert exact.shape == (400,)
    assert (exact - probe).abs().mean() < 0.25 * exact.abs().mean() + 1e-3


def test_assemble_terms_identities():
    tc, mi = 1.0, np.array([0.7, 0.6, 0.5])
    terms = mt.assemble_terms(np.array(tc), mi, tc - mi)
    assert terms["s_info"] == pytest.approx(1.8)
    assert terms["dtc"] == pytest.approx(0.8)
    assert terms["o_info"] == pytest.approx(0.2)
    shifted = mt.assemble_terms(np.array(tc), mi, tc - mi + 0.1)
    assert shifted["o_info"] == pytest.approx(0.2 + 0.5 * 0.3)


def test_derangement_has_no_fixed_point():
    perm = mt.cyclic_derangement(50, torch.Generator().manual_seed(1))
    assert sorted(perm.tolist()) == list(range(50))
    assert (perm != torch.arange(50)).all()


def test_bad_subset_raises():
    with pytest.raises(ValueError, match="not in the subset"):
        mt.one_moving_path(4, 3, [0, 1, 2])
