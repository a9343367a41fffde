"""MI tasks: truths checked by independent routes (closed forms, full-density Monte Carlo), samplers by
their law, maps by their inverses."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import ndtri
from scipy.stats import multivariate_normal, multivariate_t, norm

from fmmi_neuro import simulate
from fmmi_neuro.simulate import mi_tasks, quadrature


def _gaussian_mi(cov, dim_x):
    """1/2 (log det S_xx + log det S_yy - log det S), written out here."""
    logdet = lambda a: np.linalg.slogdet(a)[1]  # noqa: E731
    return 0.5 * (logdet(cov[:dim_x, :dim_x]) + logdet(cov[dim_x:, dim_x:]) - logdet(cov))


def _student_mi(dim_x, dim_y, nu):
    """h(X) + h(Y) - h(X, Y) of the identity-scale Student-t, entropies from scipy."""
    h = lambda d: multivariate_t(shape=np.eye(d), df=nu).entropy()  # noqa: E731
    return h(dim_x) + h(dim_y) - h(dim_x + dim_y)


def _dense(d):
    return 0.5 * np.eye(2 * d) + 0.5


def _sparse(d):
    cov = np.eye(2 * d)
    cov[0, d] = cov[d, 0] = cov[1, d + 1] = cov[d + 1, 1] = 0.8
    return cov


CLOSED_FORM = {
    "1v1-normal-0.75": -0.5 * np.log(1 - 0.75**2),
    "1v1-additive-0.75": 1 / 3,
    "1v1-additive-0.1": 0.1 - np.log(0.2),
    "multinormal-dense-2-2-0.5": _gaussian_mi(_dense(2), 2),
    "multinormal-dense-5-5-0.5": _gaussian_mi(_dense(5), 5),
    "multinormal-dense-50-50-0.5": _gaussian_mi(_dense(50), 50),
    "multinormal-sparse-25-25-2-2.0": -np.log(1 - 0.8**2),
    "spiral-multinormal-sparse-5-5-2-2.0": -np.log(1 - 0.8**2),
    "student-identity-1-1-1": _student_mi(1, 1, 1),
    "asinh-student-identity-2-2-1": _student_mi(2, 2, 1),
    "student-identity-5-5-2": _student_mi(5, 5, 2),
    "asinh-student-identity-3-3-2": _student_mi(3, 3, 2),
}


@pytest.mark.parametrize("name", sorted(CLOSED_FORM))
def test_closed_form_truths(name):
    assert simulate.MI_TASKS[name].mi == pytest.approx(CLOSED_FORM[name], abs=1e-10)


def test_registry_shapes_seeds_and_descriptions():
    assert len(simulate.MI_TASKS) >= 30
    for name, task in simulate.MI_TASKS.items():
        data = task(50, seed=3)
        assert data.name == task.name == name and data.mi == task.mi
        assert data.x.shape == (50, task.dim_x) and data.y.shape == (50, task.dim_y)
        assert np.isfinite(data.x).all() and np.isfinite(data.y).all() and np.isfinite(task.mi)
        assert task.description and task.truth_method
        again = simulate.mi_task(name, 50, seed=np.random.default_rng(3))
        np.testing.assert_array_equal(again.x, data.x)
        assert not np.array_equal(task(50, seed=4).y, data.y)


def test_published_truths():
    """Our generators reproduce the true MI of four bmi tasks (Czyz et al. 2023, rounded to 0.01)."""
    expected = {
        "1v1-additive-0.75": 0.33,
        "1v1-AI": 0.78,
        "mult-sparse-w-inliers-25-25-2-2.0-0.2": 0.63,
        "spiral-multinormal-sparse-5-5-2-2.0": 1.02,
    }
    for name, value in expected.items():
        assert simulate.MI_TASKS[name].mi == pytest.approx(value, abs=0.01)


def test_sparse_sampler_has_the_stated_correlations():
    data = simulate.mi_task("multinormal-sparse-5-5-2-2.0", 20_000, seed=1)
    corr = np.corrcoef(np.hstack([data.x, data.y]).T)
    expected = _sparse(5)
    assert np.abs(corr - expected).max() < 5 / np.sqrt(20_000) * 2


@pytest.mark.parametrize(
    ("mapped", "base", "inverse"),
    [
        ("spiral-multinormal-sparse-25-25-2-2.0", "multinormal-sparse-25-25-2-2.0", None),
        ("asinh-student-identity-5-5-2", "student-identity-5-5-2", (np.sinh, np.sinh)),
        ("normal_cdf-multinormal-sparse-5-5-2-2.0", "multinormal-sparse-5-5-2-2.0", (ndtri, ndtri)),
        (
            "half_cube-multinormal-sparse-5-5-2-2.0",
            "multinormal-sparse-5-5-2-2.0",
            (lambda z: np.sign(z) * np.abs(z) ** (2 / 3),) * 2,
        ),
    ],
)
def test_maps_are_inverted_back_to_the_base_task(mapped, base, inverse):
    """Same seed, same base draw: undoing the map recovers the base task's samples (truth unchanged)."""
    a, b = simulate.mi_task(mapped, 300, seed=5), simulate.mi_task(base, 300, seed=5)
    if inverse is None:
        d = a.x.shape[1]
        inverse = (
            lambda x: simulate.spiral(x, speed=1 / d, planes=[(0, 1)], inverse=True),
            lambda y: simulate.spiral(y, speed=1 / d, planes=[(1, 2)], inverse=True),
        )
        assert not np.allclose(a.x, b.x)
    np.testing.assert_allclose(inverse[0](a.x), b.x, atol=1e-9)
    np.testing.assert_allclose(inverse[1](a.y), b.y, atol=1e-9)
    assert a.mi == b.mi


def test_monotone_1d_maps_keep_the_ranks():
    base = simulate.mi_task("1v1-normal-0.75", 500, seed=2)
    for name in ("wiggly-1v1-normal-0.75", "half_cube-1v1-normal-0.75", "normal_cdf-1v1-normal-0.75"):
        data = simulate.mi_task(name, 500, seed=2)
        assert np.array_equal(np.argsort(data.x[:, 0]), np.argsort(base.x[:, 0]))
        assert np.array_equal(np.argsort(data.y[:, 0]), np.argsort(base.y[:, 0]))
        assert data.mi == base.mi


def test_swissroll_is_an_injective_embedding_of_the_uniform_margin():
    data = simulate.mi_task("swissroll_x-normal_cdf-1v1-normal-0.75", 500, seed=7)
    t = np.hypot(*data.x.T) * 21  # the roll's radius is its parameter t = 1.5 pi (1 + 2 u)
    u = (t / (1.5 * np.pi) - 1) / 2
    base = simulate.mi_task("normal_cdf-1v1-normal-0.75", 500, seed=7)
    np.testing.assert_allclose(u, base.x[:, 0], atol=1e-9)


def _mc(log_ratio, tol_floor=2e-3):
    """Monte Carlo mean of the log density ratio and the tolerance (5 standard errors + floor)."""
    return log_ratio.mean(), 5 * log_ratio.std() / np.sqrt(log_ratio.size) + tol_floor


def _mixture_logpdf(points, weights, means, covs):
    return np.logaddexp.reduce(
        [
            np.log(w) + multivariate_normal(m, c).logpdf(points)
            for w, m, c in zip(weights, means, covs, strict=True)
        ],
        axis=0,
    )


def test_ai_truth_matches_monte_carlo_on_its_samples():
    """bmi's 'AI' mixture parameters written again here; the log ratio averaged over our samples."""
    c = np.sqrt(0.04 * 0.2) * 0.95
    weights = np.full(6, 1 / 6)
    means = np.array([[1, 0], [1, 1], [1, -1], [-0.8, -0.2], [-1.2, 0], [-0.4, 0]])
    covs = [
        np.diag([0.01, 0.2]),
        np.diag([0.05, 0.001]),
        np.diag([0.05, 0.001]),
        np.diag([0.03, 0.001]),
        np.array([[0.04, c], [c, 0.2]]),
        np.array([[0.04, -c], [-c, 0.2]]),
    ]
    data = simulate.mi_task("1v1-AI", 100_000, seed=0)
    joint = _mixture_logpdf(np.hstack([data.x, data.y]), weights, means, covs)
    px = _mixture_logpdf(data.x, weights, means[:, :1], [s[:1, :1] for s in covs])
    py = _mixture_logpdf(data.y, weights, means[:, 1:], [s[1:, 1:] for s in covs])
    estimate, tol = _mc(joint - px - py)
    assert estimate == pytest.approx(data.mi, abs=tol)


def test_x_truth_matches_monte_carlo():
    data = simulate.mi_task("1v1-X-0.9", 100_000, seed=1)
    z = np.hstack([data.x, data.y])
    joint = np.logaddexp(
        *[np.log(0.5) + multivariate_normal([0, 0], [[1, s], [s, 1]]).logpdf(z) for s in (0.9, -0.9)]
    )
    estimate, tol = _mc(joint - norm.logpdf(z).sum(axis=1))
    assert estimate == pytest.approx(data.mi, abs=tol)


def test_galaxy_truth_matches_a_3d_monte_carlo():
    """Undo the spiral, then average the full 3-D mixture log ratio (not the 2-D reduction)."""
    data = simulate.mi_task("2v1-galaxy-0.5-3.0", 100_000, seed=2)
    x = simulate.spiral(data.x, speed=0.5, planes=[(0, 1)], inverse=True)
    mu = 1.5 * np.ones(3)
    joint = np.logaddexp(
        *[
            np.log(0.5) + multivariate_normal(s * mu, np.eye(3)).logpdf(np.hstack([x, data.y]))
            for s in (1, -1)
        ]
    )
    px = np.logaddexp(*[np.log(0.5) + multivariate_normal(s * mu[:2], np.eye(2)).logpdf(x) for s in (1, -1)])
    py = np.logaddexp(*[np.log(0.5) + norm(s * 1.5).logpdf(data.y[:, 0]) for s in (1, -1)])
    estimate, tol = _mc(joint - px - py)
    assert estimate == pytest.approx(data.mi, abs=tol)


def test_waves_truth_matches_a_3d_monte_carlo():
    data = simulate.mi_task("2v1-waves-12-5.0-3.0", 100_000, seed=3)
    x1 = data.x[:, 1] / 0.5
    x0 = (data.x[:, 0] + 0.8) / 0.1 - 5.0 * np.sin(3.0 * x1)
    points = np.stack([x0, x1, data.y[:, 0]], axis=1)
    k = np.arange(12)
    means = np.stack([1.5 * k, 0 * k, 1.5 * (k % 4)], axis=1)
    covs = [np.diag([0.1, 1.0, 0.1])] * 12
    weights = np.full(12, 1 / 12)
    joint = _mixture_logpdf(points, weights, means, covs)
    px = _mixture_logpdf(points[:, :2], weights, means[:, :2], [c[:2, :2] for c in covs])
    py = _mixture_logpdf(points[:, 2:], weights, means[:, 2:], [c[2:, 2:] for c in covs])
    estimate, tol = _mc(joint - px - py)
    assert estimate == pytest.approx(data.mi, abs=tol)


def test_concentric_truth_matches_the_full_density():
    """I(X; Y) from the full (X, Y) mixture density, not the radial I(X; K) reduction."""
    data = simulate.mi_task("3v1-concentric_gaussians-5", 100_000, seed=4)
    ks = np.arange(1, 6)
    sq = (data.x**2).sum(axis=1)
    log_x = np.stack([-0.5 * sq / k**2 - 3 * np.log(k) - 1.5 * np.log(2 * np.pi) for k in ks])
    log_y = np.stack([norm(k, 0.01).logpdf(data.y[:, 0]) for k in ks])
    joint = np.logaddexp.reduce(log_x + log_y, axis=0) - np.log(5)
    px = np.logaddexp.reduce(log_x, axis=0) - np.log(5)
    py = np.logaddexp.reduce(log_y, axis=0) - np.log(5)
    estimate, tol = _mc(joint - px - py)
    assert estimate == pytest.approx(data.mi, abs=tol)


def test_inliers_truth_matches_the_full_density():
    data = simulate.mi_task("mult-sparse-w-inliers-5-5-2-2.0-0.2", 100_000, seed=5)
    cov = _sparse(5)
    z = np.hstack([data.x, data.y])
    log_prod = norm.logpdf(z).sum(axis=1)
    ratio = np.logaddexp(
        np.log(0.8) + multivariate_normal(np.zeros(10), cov).logpdf(z), np.log(0.2) + log_prod
    )
    estimate, tol = _mc(ratio - log_prod)
    assert estimate == pytest.approx(data.mi, abs=tol)
    assert simulate.MI_TASKS["mult-sparse-w-inliers-25-25-2-2.0-0.2"].mi == pytest.approx(data.mi, abs=1e-12)


def test_additive_noise_truth_matches_monte_carlo():
    eps = 0.75
    data = simulate.mi_task("1v1-additive-0.75", 100_000, seed=6)
    x, y = data.x[:, 0], data.y[:, 0]
    assert np.all(np.abs(y - x) <= eps)
    p_y = (np.minimum(y + eps, 1) - np.maximum(y - eps, 0)) / (2 * eps)  # P(X in [y - eps, y + eps]) / 2eps
    estimate, tol = _mc(np.log(1 / (2 * eps)) - np.log(p_y))
    assert estimate == pytest.approx(data.mi, abs=tol)


def test_quadrature_limits_and_arguments():
    assert quadrature.inlier_mi(2, 0.8, 1e-12) == pytest.approx(-np.log(1 - 0.64), abs=1e-9)
    single = quadrature.mixture_mi_2d([1.0], [[0.0, 0.0]], [[[1.0, 0.6], [0.6, 1.0]]])
    assert single == pytest.approx(-0.5 * np.log(1 - 0.36), abs=1e-9)
    assert quadrature.concentric_mi(4, 1) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="inlier_fraction"):
        quadrature.inlier_mi(2, 0.8, 1.5)


def test_bad_task_arguments():
    with pytest.raises(ValueError, match="name"):
        simulate.mi_task("1v1-nope", 10)
    with pytest.raises(ValueError, match="n_samples"):
        simulate.MI_TASKS["1v1-AI"](0)
    with pytest.raises(ValueError, match="dim_x"):
        simulate.closed_form_mi(np.eye(2), 0)


def test_task_name_parameters_match_bmi_ids():
    """Names are bmi's ids (f-strings of the parameters as bmi writes them)."""
    for name in ("2v1-waves-12-5.0-3.0", "2v1-galaxy-0.5-3.0", "1v1-X-0.9", "5v1-concentric_gaussians-5"):
        assert name in simulate.MI_TASKS
    assert mi_tasks.MI_TASKS is simulate.MI_TASKS
