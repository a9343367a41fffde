"""The closed-form multi-time Gaussian velocity (``fmmi.gaussian_field``): it is the conditional mean of
the flow-matching target, it transports, it reproduces DESIGN's two-variable (conditional and joint)
formulas, and its divergence integrates to the closed-form terms of ``gaussian.terms``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fmmi_neuro.engine.fmmi.gaussian_field import (
    block_diagonal,
    field_matrices,
    gaussian_velocity,
    path_integral,
    path_trace,
)
from fmmi_neuro.engine.fmmi.paths import Path
from fmmi_neuro.engine.gaussian.closed_form import gaussian_mi, information_truth, variable_blocks
from fmmi_neuro.engine.gaussian.terms import gaussian_terms

DIMS = [[1, 1, 1], [1, 2, 2], [2, 1, 1, 3], [3, 3]]


def _system(seed: int, dims: list[int]) -> np.ndarray:
    rng = np.random.default_rng(seed)
    d = sum(dims)
    a = rng.normal(size=(d, d))
    return a @ a.T / d + 0.5 * np.eye(d)


def _owner(dims):
    return torch.as_tensor(np.repeat(np.arange(len(dims)), dims))


def _half_logdet_s(cov, dims, path, s):
    """1/2 log det S_tau(s) with S_tau = (I - T) Dm (I - T) + T Sigma T."""
    owner = _owner(dims)
    sigma = torch.as_tensor(cov)
    tau_c = path.times(torch.as_tensor(s, dtype=torch.float64))[..., owner]
    _, s_tau = field_matrices(tau_c, sigma, block_diagonal(sigma, owner))
    return 0.5 * torch.linalg.slogdet(s_tau)[1].numpy()


@pytest.mark.parametrize("dims", DIMS, ids=["-".join(map(str, d)) for d in DIMS])
def test_path_integrals_are_the_closed_form_terms(dims):
    cov = _system(sum(dims), dims)
    terms = gaussian_terms(cov, dims)
    k = len(dims)
    assert path_integral(cov, dims, Path.diagonal(k)) == pytest.approx(-float(terms["tc"]), abs=1e-9)
    for i in range(k):
        mi = path_integral(cov, dims, Path.one_moving(k, i))
        assert mi == pytest.approx(-terms["mi_one_rest"][i], abs=1e-9)
    if k > 2:
        blocks = variable_blocks(dims)
        for i in range(k):
            rest = np.concatenate([b for j, b in enumerate(blocks) if j != i])
            sub_dims = [d for j, d in enumerate(dims) if j != i]
            tc = path_integral(cov[np.ix_(rest, rest)], sub_dims, Path.diagonal(k - 1))
            assert tc == pytest.approx(-terms["tc_minus"][i], abs=1e-9)


def test_path_integrals_give_omega_by_both_identities():
    dims = [1, 2, 1, 1]
    cov = _system(3, dims)
    truth = information_truth(cov, dims)
    k = len(dims)
    tc = -path_integral(cov, dims, Path.diagonal(k))
    mi = np.array([-path_integral(cov, dims, Path.one_moving(k, i)) for i in range(k)])
    assert 2 * tc - mi.sum() == pytest.approx(truth.o_info, abs=1e-8)  # Omega = 2 TC - sum_i I(X_i; X_-i)


@pytest.mark.parametrize(
    "path",
    [Path.diagonal(3), Path.one_moving(3, 1), Path(np.array([0.0, 0.3, 0.0]), np.array([True, False, True]))],
    ids=["diagonal", "one-moving", "partial"],
)
def test_path_trace_is_the_derivative_of_half_log_det_s_tau(path):
    dims = [1, 2, 1]
    cov = _system(5, dims)
    s = np.linspace(0.05, 0.95, 7)
    h = 1e-6
    numeric = (_half_logdet_s(cov, dims, path, s + h) - _half_logdet_s(cov, dims, path, s - h)) / (2 * h)
    np.testing.assert_allclose(path_trace(cov, dims, path, s), numeric, rtol=1e-6, atol=1e-7)


def test_velocity_is_the_conditional_mean_of_the_target(rng):
    """Least squares of x_joint - x_source on z at fixed per-variable times recovers A S_tau^-1."""
    dims, n = [1, 2, 1], 200_000
    cov = _system(7, dims)
    owner = _owner(dims)
    tau = torch.tensor([0.3, 0.7, 0.5], dtype=torch.float64)
    tau_c = tau[owner].numpy()
    chol = np.linalg.cholesky(cov)
    joint = rng.standard_normal((n, 4)) @ chol.T
    source = np.empty_like(joint)
    for block in variable_blocks(dims):  # an independent draw per variable: the product of marginals
        source[:, block] = (rng.standard_normal((n, 4)) @ chol.T)[:, block]
    z = (1 - tau_c) * source + tau_c * joint
    coef, *_ = np.linalg.lstsq(z, joint - source, rcond=None)
    sigma = torch.as_tensor(cov)
    velocity = gaussian_velocity(
        torch.eye(4, dtype=torch.float64), torch.as_tensor(tau_c).expand(4, 4), sigma, owner
    )
    np.testing.assert_allclose(coef, velocity.numpy(), atol=0.02)


def test_two_variable_conditional_velocity_is_designs_formula(rng):
    """X at time 1, Y moving: u_y = Bx + (t Sc - (1-t) Syy) S_t^-1 (y - t B x), S_t = (1-t)^2 Syy + t^2 Sc."""
    dims = [2, 3]
    cov = _system(11, dims)
    sxx, sxy, syy = cov[:2, :2], cov[:2, 2:], cov[2:, 2:]
    b = sxy.T @ np.linalg.inv(sxx)
    sc = syy - b @ sxy
    z = rng.normal(size=(9, 5))
    for t in (0.1, 0.5, 0.9):
        tau_c = torch.as_tensor(Path.one_moving(2, 1).times(torch.tensor(t, dtype=torch.float64)))[
            _owner(dims)
        ]
        u = gaussian_velocity(
            torch.as_tensor(z), tau_c.expand(9, 5), torch.as_tensor(cov), _owner(dims)
        ).numpy()
        x, y = z[:, :2], z[:, 2:]
        s_t = (1 - t) ** 2 * syy + t**2 * sc
        expected = x @ b.T + (y - t * x @ b.T) @ np.linalg.solve(s_t, (t * sc - (1 - t) * syy).T)
        np.testing.assert_allclose(u[:, 2:], expected, rtol=1e-10, atol=1e-10)
    conditional = path_integral(cov, dims, Path.one_moving(2, 1))
    assert -conditional == pytest.approx(gaussian_mi(cov, 2), abs=1e-10)


def test_two_variable_joint_velocity_is_designs_formula(rng):
    """Both moving: u = (t Sigma - (1-t) D) S_t^-1 z with S_t = (1-t)^2 D + t^2 Sigma; its -integral is I."""
    dims = [1, 2]
    cov = _system(13, dims)
    d = block_diagonal(torch.as_tensor(cov), _owner(dims)).numpy()
    z = rng.normal(size=(6, 3))
    for t in (0.2, 0.6, 0.95):
        u = gaussian_velocity(
            torch.as_tensor(z), torch.full((6, 3), t, dtype=torch.float64), torch.as_tensor(cov), _owner(dims)
        ).numpy()
        s_t = (1 - t) ** 2 * d + t**2 * cov
        expected = z @ np.linalg.solve(s_t, (t * cov - (1 - t) * d).T)
        np.testing.assert_allclose(u, expected, rtol=1e-10, atol=1e-10)
    assert -path_integral(cov, dims, Path.diagonal(2)) == pytest.approx(gaussian_mi(cov, 1), abs=1e-10)


def test_conditional_field_transports_marginal_to_conditional():
    """Integrate dy/ds = u_y(x, y, tau = (1, s)) from y0 ~ p(y) with x fixed: y1 must follow N(B x, Sc)."""
    cov = np.array([[1.0, 0.3, 0.5], [0.3, 1.5, -0.4], [0.5, -0.4, 2.0]])
    dims, n, steps = [1, 2], 5_000, 40
    owner = _owner(dims)
    sigma = torch.as_tensor(cov)
    rng = np.random.default_rng(5)
    y = torch.as_tensor(rng.multivariate_normal(np.zeros(2), cov[1:, 1:], size=n))
    x = torch.full((n, 1), 1.3, dtype=torch.float64)
    path = Path.one_moving(2, 1)

    def field(y, s):
        # the field is linear in z: its matrix from the velocities of the unit vectors, then z @ matrix
        tau_c = path.times(torch.tensor(s, dtype=torch.float64))[owner].expand(3, 3)
        matrix = gaussian_velocity(torch.eye(3, dtype=torch.float64), tau_c, sigma, owner)
        return (torch.cat([x, y], dim=1) @ matrix)[:, 1:]

    h = 1 / steps
    for k in range(steps):
        s0 = k * h
        k1 = field(y, s0)
        k2 = field(y + 0.5 * h * k1, s0 + 0.5 * h)
        k3 = field(y + 0.5 * h * k2, s0 + 0.5 * h)
        k4 = field(y + h * k3, s0 + h)
        y = y + h * (k1 + 2 * k2 + 2 * k3 + k4) / 6
    b = cov[1:, :1] @ np.linalg.inv(cov[:1, :1])
    s_c = cov[1:, 1:] - b @ cov[:1, 1:]
    out = y.numpy()
    se_mean = np.sqrt(np.diag(s_c) / n)
    np.testing.assert_array_less(np.abs(out.mean(0) - (b @ [1.3])), 5 * se_mean)
    se_cov = np.sqrt((np.outer(np.diag(s_c), np.diag(s_c)) + s_c**2) / n)
    np.testing.assert_array_less(np.abs(np.cov(out, rowvar=False) - s_c), 5 * se_cov)


def test_joint_field_transports_product_to_joint():
    cov = np.array([[1.0, 0.7], [0.7, 2.0]])
    dims, n, steps = [1, 1], 5_000, 100
    owner = _owner(dims)
    rng = np.random.default_rng(6)
    z = torch.as_tensor(rng.normal(size=(n, 2)) * np.sqrt(np.diag(cov)))

    def field(z, s):
        eye = torch.eye(2, dtype=torch.float64)
        return z @ gaussian_velocity(
            eye, torch.full((2, 2), s, dtype=torch.float64), torch.as_tensor(cov), owner
        )

    for k in range(steps):
        s = (k + 0.5) / steps
        z = z + field(z + 0.5 / steps * field(z, s - 0.5 / steps), s) / steps
    se_cov = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / n)
    np.testing.assert_array_less(np.abs(np.cov(z.numpy(), rowvar=False) - cov), 5 * se_cov)


def test_field_matrices_broadcast_and_block_diagonal():
    dims = [2, 1]
    owner = _owner(dims)
    sigma = torch.as_tensor(_system(2, dims))
    d = block_diagonal(sigma, owner)
    assert d[0, 2] == 0 and d[1, 2] == 0 and d[0, 1] == sigma[0, 1] and d[2, 2] == sigma[2, 2]
    tau_c = torch.rand(4, 5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    a, s_tau = field_matrices(tau_c, sigma, d)
    assert a.shape == s_tau.shape == (4, 5, 3, 3)
    t = torch.diag(tau_c[1, 2])
    eye = torch.eye(3, dtype=torch.float64)
    torch.testing.assert_close(a[1, 2], sigma @ t - d @ (eye - t))
    torch.testing.assert_close(s_tau[1, 2], (eye - t) @ d @ (eye - t) + t @ sigma @ t)
    # at tau = 0 the path density is the product of marginals, at tau = 1 the joint
    _, s0 = field_matrices(torch.zeros(3, dtype=torch.float64), sigma, d)
    _, s1 = field_matrices(torch.ones(3, dtype=torch.float64), sigma, d)
    torch.testing.assert_close(s0, d)
    torch.testing.assert_close(s1, sigma)
