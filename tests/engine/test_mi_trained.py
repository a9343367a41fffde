"""Trained estimates against closed-form truth on small problems.

Tolerances: ``k * stderr`` (the reported batch-means standard error) plus a stated bias bound. The
bias bound covers what the standard error does not: the finite-sample bias of the Gaussian-copula part
(of order d_x d_y / n) and the error of a network fitted on a few thousand samples.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from fmmi_neuro.engine.closed_form import gaussian_mi, student_t_mi
from fmmi_neuro.engine.mi import estimate_mi

K = 4.0
SMALL = {"device": "cpu", "width": 64, "max_steps": 400}


def _gaussian(rng, n, d, mi):
    rho = math.sqrt(1 - math.exp(-2 * mi / d))
    x = rng.normal(size=(n, d))
    return x, rho * x + math.sqrt(1 - rho**2) * rng.normal(size=(n, d))


def _student(rng, n, d, nu, rho=0.0):
    cov = np.block([[np.eye(d), rho * np.eye(d)], [rho * np.eye(d), np.eye(d)]])
    z = rng.multivariate_normal(np.zeros(2 * d), cov, size=n) / np.sqrt(rng.chisquare(nu, size=(n, 1)) / nu)
    return z[:, :d], z[:, d:], student_t_mi(cov, d, nu)


def _bias_bound(n, dx, dy, network=0.0):
    return 0.02 + dx * dy / n + network


@pytest.mark.parametrize("mi", [0.0, 0.5, 2.0])
@pytest.mark.parametrize("variant", ["conditional", "joint"])
def test_gaussian_mi(rng, mi, variant):
    n, d = 2000, 2
    x, y = _gaussian(rng, n, d, mi) if mi > 0 else (rng.normal(size=(n, d)), rng.normal(size=(n, d)))
    res = estimate_mi(x, y, variant=variant, seed=0, **SMALL)
    assert abs(res.value - mi) < K * res.stderr + _bias_bound(n, d, d)


def test_plain_network_gaussian(rng):
    # no Gaussian part: the network learns the whole field; allow 0.1 nats of network error at n = 3000
    n = 3000
    x, y = _gaussian(rng, n, 1, 0.5)
    res = estimate_mi(x, y, gaussian=False, seed=0, **{**SMALL, "max_steps": 600})
    assert abs(res.value - 0.5) < K * res.stderr + _bias_bound(n, 1, 1, network=0.1)


def test_student_t_pair(rng):
    # identity scale: all dependence is in the tails, so the network must learn it (Gaussian part ~ 0)
    n = 3000
    x, y, truth = _student(rng, n, 1, nu=1.0)
    res = estimate_mi(x, y, seed=0, **{**SMALL, "max_steps": 1000})
    assert abs(res.gaussian_part) < 0.05
    assert abs(res.value - truth) < K * res.stderr + _bias_bound(n, 1, 1, network=0.07)


def test_independence_is_near_zero(rng):
    n = 2000
    x, y = rng.standard_t(3, size=(n, 3)), rng.standard_t(3, size=(n, 2))
    for gaussian in (True, False):
        res = estimate_mi(x, y, seed=1, gaussian=gaussian, **SMALL)
        assert abs(res.value) < K * res.stderr + _bias_bound(n, 3, 2, network=0.0 if gaussian else 0.1)


def test_joint_variant_is_symmetric(rng):
    n = 2000
    z = rng.multivariate_normal(np.zeros(3), [[1, 0.5, 0.3], [0.5, 1, 0.2], [0.3, 0.2, 1]], size=n)
    x, y = np.sinh(z[:, :1]), z[:, 1:] ** 3
    xy = estimate_mi(x, y, variant="joint", seed=0, **SMALL)
    yx = estimate_mi(y, x, variant="joint", seed=0, **SMALL)
    truth = gaussian_mi(np.array([[1, 0.5, 0.3], [0.5, 1, 0.2], [0.3, 0.2, 1]]), 1)
    assert abs(xy.value - yx.value) < K * math.hypot(xy.stderr, yx.stderr) + 0.02
    assert abs(xy.value - truth) < K * xy.stderr + _bias_bound(n, 1, 2)


def test_hutchinson_agrees_with_exact_in_the_estimator(rng):
    n = 1500
    x, y = _gaussian(rng, n, 3, 1.0)
    kw = {"gaussian": False, "seed": 0, **SMALL, "max_steps": 300}
    exact = estimate_mi(x, y, **kw)
    hutch = estimate_mi(x, y, exact_max_dim=0, n_probes=2, **kw)
    assert hutch.steps == exact.steps
    assert abs(hutch.value - exact.value) < K * math.hypot(hutch.stderr, exact.stderr)
    assert hutch.value != exact.value


@pytest.mark.slow
def test_student_t_5x5_at_n_10000_within_ten_percent(rng):
    # the acceptance scale: |error| <= max(0.1, 10 %) with the default settings
    x, y, truth = _student(rng, 10_000, 5, nu=2.0)
    res = estimate_mi(x, y, device="cpu", seed=0)
    assert abs(res.value - truth) < max(0.1, 0.1 * truth)


@pytest.mark.slow
@pytest.mark.parametrize("mi", [1.0, 10.0])
def test_gaussian_5x5_at_n_10000_within_five_percent(rng, mi):
    x, y = _gaussian(rng, 10_000, 5, mi)
    res = estimate_mi(x, y, device="cpu", seed=0)
    assert abs(res.value - mi) < max(0.05, 0.05 * mi)
