"""Student-t copula (``gaussian.student_t``): rank-to-t quantiles, the choice of the degrees of freedom,
the Student-t scatter and the influence (standard errors) of the Gaussian part computed from it."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from fmmi_neuro import simulate
from fmmi_neuro.engine.blocks import batch_means_stderr
from fmmi_neuro.engine.gaussian.closed_form import redundant_covariance, synergistic_covariance
from fmmi_neuro.engine.gaussian.marginals import rank_to_normal, rank_to_student_t
from fmmi_neuro.engine.gaussian.student_t import (
    AUTO_MIN_OMEGA_SHIFT,
    AUTO_MIN_TC_GAIN,
    check_copula,
    copula_loglik,
    gaussian_part_shift,
    influence_rows,
    resolve_dof,
    scatter,
    select_dof,
    term_influence,
)
from fmmi_neuro.engine.gaussian.terms import gaussian_term_influence, gaussian_terms


def _system(n, nu, transform=None, seed=0):
    cov, dims = redundant_covariance(4, 1, noise=0.6)
    return np.hstack(simulate.sample_system(cov, dims, n, nu=nu, transform=transform, seed=seed).samples)


def test_rank_to_student_t_undoes_a_monotone_map_of_t_data(rng):
    x = stats.t.rvs(4, size=(20000, 2), random_state=rng)
    z = rank_to_student_t(np.exp(x), 4.0)
    np.testing.assert_array_equal(rank_to_student_t(x, None), rank_to_normal(x))
    # the quantile of a rank has sampling sd sqrt(F (1 - F) / n) / f(x) (delta method on the empirical cdf)
    cdf = stats.t.cdf(x, 4)
    sd = np.sqrt(cdf * (1 - cdf) / len(x)) / stats.t.pdf(x, 4)
    assert np.max(np.abs(z - x) / sd) < 6
    assert np.corrcoef(z[:, 0], x[:, 0])[0, 1] > 0.995


def test_select_dof_keeps_gaussian_data_gaussian_and_finds_heavy_tails():
    assert select_dof(_system(2000, None)) is None
    assert select_dof(_system(2000, None, transform="mixed")) is None
    picked = select_dof(_system(2000, 3))
    assert picked is not None and 3 <= picked <= 5
    assert select_dof(_system(2000, 3, transform="mixed")) == picked  # ranks only


def test_copula_loglik_prefers_the_true_tail():
    """The pseudo-likelihood that ``select_dof`` maximises: higher for t_3 coordinates on t_3 data, higher
    for the Gaussian copula on Gaussian data."""
    heavy, light = _system(3000, 3, seed=4), _system(3000, None, seed=4)
    gain_heavy = copula_loglik(rank_to_student_t(heavy, 3.0), 3.0) - copula_loglik(
        rank_to_normal(heavy), None
    )
    gain_light = copula_loglik(rank_to_student_t(light, 3.0), 3.0) - copula_loglik(
        rank_to_normal(light), None
    )
    assert gain_heavy > 0.01 > 0 > gain_light


def test_auto_takes_student_t_coordinates_only_where_they_move_the_gaussian_part():
    """A heavy-tailed sum of 9 variables: Student-t coordinates move the Gaussian part's Omega by about
    4.5 nats (gc is 5 nats off); a shared source of 4: by about 0.05 nats."""
    cov, dims = synergistic_covariance(10, 1)
    summed = np.hstack(simulate.sample_system(cov, dims, 2000, nu=3, seed=0).samples)
    shared = _system(2000, 3)
    shift, gain = gaussian_part_shift(summed, dims, 3.0)
    assert shift > 4 * AUTO_MIN_OMEGA_SHIFT and gain > 2 * AUTO_MIN_TC_GAIN
    shift, gain = gaussian_part_shift(shared, [1, 1, 1, 1], 3.0)
    assert shift < 0.5 * AUTO_MIN_OMEGA_SHIFT and 0 < gain < AUTO_MIN_TC_GAIN
    assert resolve_dof("auto", summed, dims) == select_dof(summed) == 3.0
    assert resolve_dof("auto", shared, [1, 1, 1, 1]) is None
    assert resolve_dof("gaussian", summed, dims) is None
    assert resolve_dof(6, shared, [1, 1, 1, 1]) == 6.0
    assert resolve_dof("auto", summed[:20], dims) is None  # 2 samples per coordinate: no scatter fit


def test_check_copula_values():
    assert check_copula("auto") == "auto" and check_copula("gaussian") == "gaussian"
    assert check_copula(3) == 3.0 and isinstance(check_copula(3), float)
    for bad in ("t", 2, 1.5, float("nan"), float("inf"), True, None, [3.0]):
        with pytest.raises(ValueError, match="copula"):
            check_copula(bad)


def test_scatter_is_the_covariance_or_the_student_t_maximum_likelihood():
    n, nu = 20000, 4.0
    cov, dims = redundant_covariance(3, 1, noise=0.6)
    x = np.hstack(simulate.sample_system(cov, dims, n, nu=nu, seed=1).samples)
    np.testing.assert_allclose(scatter(x, None), np.cov(x, rowvar=False))
    fitted = scatter(x, nu)
    # covariance-scaled: nu / (nu - 2) times the scale matrix; entrywise sd about 2 / sqrt(n)
    np.testing.assert_allclose(fitted, cov * nu / (nu - 2), atol=8 * 2 / np.sqrt(n))
    batched = scatter(np.stack([x[:500], x[500:1000]]), nu)
    np.testing.assert_allclose(batched[1], scatter(x[500:1000], nu))


def test_influence_has_zero_mean_and_reduces_to_the_gaussian_one():
    x = _system(800, 3, seed=2)
    centred = x - x.mean(axis=0)
    dims = [1, 1, 1, 1]
    gaussian = term_influence(centred, scatter(x, None), dims, None)
    expected = gaussian_term_influence(centred, scatter(x, None), dims)
    assert set(gaussian) == set(expected)
    for key in expected:
        np.testing.assert_array_equal(gaussian[key], expected[key])
    cov = scatter(x, 3.0)
    influence = term_influence(centred, cov, dims, 3.0)
    for key, value in influence.items():
        assert np.abs(value.mean(axis=0)).max() < 1e-5, key
    rows, factor = influence_rows(centred, cov, 3.0)
    np.testing.assert_allclose(rows.T @ rows / len(rows), cov, rtol=1e-5, atol=1e-6)
    assert factor == pytest.approx((3 + 4 + 2) / (3 + 4))
    same, one = influence_rows(centred, cov, None)
    assert same is centred and one == 1.0


def test_influence_standard_error_matches_the_spread_over_samples():
    """The Student-t scatter's standard error of TC against its spread over 120 independent samples."""
    dims = [1, 1, 1, 1]
    values, errors, batch_errors = [], [], []
    for seed in range(120):
        z = rank_to_student_t(_system(600, 3, seed=100 + seed), 3.0)
        centred = z - z.mean(axis=0)
        cov = scatter(z, 3.0)
        values.append(gaussian_terms(cov, dims)["tc"])
        influence = term_influence(centred, cov, dims, 3.0)["tc"]
        errors.append(influence.std() / np.sqrt(len(influence)))
        batch_errors.append(batch_means_stderr(influence))
    # the spread of a standard deviation over 120 samples is about 6.5 %
    assert np.std(values) == pytest.approx(np.mean(errors), rel=0.25)
    assert np.std(values) == pytest.approx(np.mean(batch_errors), rel=0.3)
