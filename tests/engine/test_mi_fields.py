"""Closed-form Gaussian velocity fields: they transport, and the estimator's divergence machinery
recovers the closed-form MI from them before any network is trained."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fmmi_neuro.engine.blocks import batch_means_stderr
from fmmi_neuro.engine.closed_form import gaussian_mi
from fmmi_neuro.engine.divergence import exact_divergence
from fmmi_neuro.engine.gaussian_fields import GaussianConditionalField, GaussianJointField, gaussian_influence
from fmmi_neuro.engine.mi import flow_contributions
from fmmi_neuro.engine.training import TrainingSettings


def _random_cov(dx: int, dy: int, strength: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(dx + dy, dx + dy))
    cov = strength * a @ a.T + np.eye(dx + dy)
    d = np.sqrt(np.diag(cov))
    return cov / np.outer(d, d) * np.outer(np.arange(1, dx + dy + 1), np.arange(1, dx + dy + 1)) ** 0.5


def _samples(cov: np.ndarray, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.multivariate_normal(np.zeros(cov.shape[0]), cov, size=n)


@pytest.mark.parametrize(("dx", "dy", "strength"), [(1, 1, 1.0), (2, 3, 0.5), (3, 2, 2.0)])
@pytest.mark.parametrize("variant", ["conditional", "joint"])
def test_analytic_field_recovers_closed_form_mi(dx, dy, strength, variant):
    cov = _random_cov(dx, dy, strength, seed=dx * 10 + dy)
    truth = gaussian_mi(cov, dx)
    cls = GaussianConditionalField if variant == "conditional" else GaussianJointField
    field = cls(cov, dx, dtype=torch.float64)
    assert field.mi == pytest.approx(truth, rel=1e-10)
    z = torch.as_tensor(_samples(cov, 3000, seed=1))
    settings = TrainingSettings(n_draws=8)
    contrib = flow_contributions(
        field,
        z[:, :dx],
        z[:, dx:],
        variant=variant,
        settings=settings,
        generator=torch.Generator().manual_seed(0),
    ).numpy()
    se = batch_means_stderr(contrib)
    # the divergence of a linear field is constant in z: only the stratified t draws add Monte-Carlo error
    assert abs(contrib.mean() - truth) < 4 * se + 1e-6
    assert se < 0.02 * max(truth, 0.1)


@pytest.mark.parametrize("variant", ["conditional", "joint"])
def test_autograd_divergence_matches_analytic_trace(variant):
    cov = _random_cov(2, 2, 1.0, seed=3)
    cls = GaussianConditionalField if variant == "conditional" else GaussianJointField
    field = cls(cov, 2, dtype=torch.float64)
    z = torch.as_tensor(_samples(cov, 50, seed=2))
    t = torch.rand(50, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    if variant == "conditional":
        div = exact_divergence(lambda u: field(u, t, z[:, :2]), z[:, 2:])
    else:
        div = exact_divergence(lambda u: field(u, t), z)
    torch.testing.assert_close(div, field.divergence(t))


def test_conditional_field_transports_marginal_to_conditional():
    # integrate dy/dt = u(y, t | x) from y0 ~ p(y) with x fixed: y1 must follow N(B x, S_c)
    cov = np.array([[1.0, 0.3, 0.5], [0.3, 1.5, -0.4], [0.5, -0.4, 2.0]])
    field = GaussianConditionalField(cov, 1, dtype=torch.float64)
    n = 5_000
    rng = np.random.default_rng(5)
    y = torch.as_tensor(rng.multivariate_normal(np.zeros(2), cov[1:, 1:], size=n))
    x = torch.full((n, 1), 1.3, dtype=torch.float64)
    steps = 40
    for k in range(steps):
        t0 = torch.full((n,), k / steps, dtype=torch.float64)
        th = t0 + 0.5 / steps
        k1 = field(y, t0, x)
        k2 = field(y + 0.5 / steps * k1, th, x)
        k3 = field(y + 0.5 / steps * k2, th, x)
        k4 = field(y + k3 / steps, t0 + 1 / steps, x)
        y = y + (k1 + 2 * k2 + 2 * k3 + k4) / (6 * steps)
    b = cov[1:, :1] @ np.linalg.inv(cov[:1, :1])
    s_c = cov[1:, 1:] - b @ cov[:1, 1:]
    out = y.numpy()
    se_mean = np.sqrt(np.diag(s_c) / n)
    np.testing.assert_array_less(np.abs(out.mean(0) - (b @ [1.3])), 5 * se_mean)
    se_cov = np.sqrt((np.outer(np.diag(s_c), np.diag(s_c)) + s_c**2) / n)
    np.testing.assert_array_less(np.abs(np.cov(out, rowvar=False) - s_c), 5 * se_cov)


def test_joint_field_transports_product_to_joint():
    cov = np.array([[1.0, 0.7], [0.7, 2.0]])
    field = GaussianJointField(cov, 1, dtype=torch.float64)
    rng = np.random.default_rng(6)
    n = 5_000
    z = torch.as_tensor(rng.normal(size=(n, 2)) * np.sqrt(np.diag(cov)))
    steps = 100
    for k in range(steps):
        t = torch.full((n,), (k + 0.5) / steps, dtype=torch.float64)
        z = z + field(z + 0.5 / steps * field(z, t - 0.5 / steps), t) / steps
    se_cov = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / n)
    np.testing.assert_array_less(np.abs(np.cov(z.numpy(), rowvar=False) - cov), 5 * se_cov)


def test_influence_function_is_derivative_of_gaussian_mi():
    cov = _random_cov(2, 1, 1.0, seed=7)
    z = _samples(cov, 1, seed=3)
    eps = 1e-6
    bumped = (1 - eps) * cov + eps * np.outer(z[0], z[0])
    numeric = (gaussian_mi(bumped, 2) - gaussian_mi(cov, 2)) / eps
    assert gaussian_influence(z, cov, 2)[0] == pytest.approx(numeric, rel=1e-4, abs=1e-6)


def test_field_bad_covariance():
    with pytest.raises(ValueError, match="positive definite"):
        GaussianConditionalField(np.array([[1.0, 2.0], [2.0, 1.0]]), 1)
    with pytest.raises(ValueError, match="dim_x"):
        GaussianJointField(np.eye(2), 2)
