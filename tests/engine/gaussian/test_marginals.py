"""Marginal transforms: rank-to-normal / rank-to-Student-t quantiles and whitening within a variable."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.stats import kstest

from fmmi_neuro.engine.gaussian.marginals import rank_to_normal, rank_to_student_t, whiten, whitening_matrix


def test_rank_to_normal_is_monotone_and_gaussian(rng):
    x = rng.standard_cauchy(size=(2000, 3))
    g = rank_to_normal(np.arcsinh(x) ** 3)
    assert g.shape == x.shape and g.dtype == np.float64
    for j in range(3):
        assert np.all(np.diff(g[np.argsort(x[:, j]), j]) > 0)
        assert kstest(g[:, j], "norm").pvalue > 0.01
    np.testing.assert_allclose(rank_to_normal(x), rank_to_normal(x**3 + 5 * x + 1))


def test_rank_to_normal_is_the_normal_quantile_of_rank_over_n_plus_one():
    x = np.array([3.0, 1.0, 2.0, 10.0])
    expected = stats.norm.ppf(np.array([3, 1, 2, 4]) / 5)
    np.testing.assert_allclose(rank_to_normal(x), expected, rtol=1e-12)
    np.testing.assert_allclose(rank_to_normal(np.array([3.0, 1.0, 2.0])), [0.674, -0.674, 0.0], atol=5e-4)


def test_rank_to_normal_ties_and_1d():
    g = rank_to_normal(np.array([1.0, 2.0, 2.0, 3.0]))
    assert g.shape == (4,)
    assert g[1] == g[2] == 0.0
    with pytest.raises(ValueError, match="shape"):
        rank_to_normal(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="no samples"):
        rank_to_normal(np.zeros((0, 2)))


def test_rank_to_student_t_quantiles_and_none_is_normal(rng):
    x = rng.normal(size=(500, 2))
    np.testing.assert_array_equal(rank_to_student_t(x, None), rank_to_normal(x))
    z = rank_to_student_t(np.array([3.0, 1.0, 2.0]), 3.0)
    np.testing.assert_allclose(z, stats.t.ppf([0.75, 0.25, 0.5], 3.0), rtol=1e-10)
    heavy = rank_to_student_t(x, 2.5)
    assert np.all(np.argsort(heavy, axis=0) == np.argsort(x, axis=0))
    assert np.abs(heavy).max() > np.abs(rank_to_normal(x)).max()  # heavier tails, same ranks


def test_whitening(rng):
    a = rng.normal(size=(3, 3))
    x = rng.normal(size=(5000, 3)) @ a.T + 4.0
    white = whiten(x)
    np.testing.assert_allclose(white.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(np.cov(white, rowvar=False, bias=True), np.eye(3), atol=1e-10)
    cov = np.cov(x, rowvar=False)
    w = whitening_matrix(cov)
    np.testing.assert_allclose(w, w.T)
    np.testing.assert_allclose(w @ cov @ w, np.eye(3), atol=1e-10)
    np.testing.assert_allclose(whitening_matrix(np.array([[4.0]])), [[0.5]])
    with pytest.raises(ValueError, match="singular"):
        whitening_matrix(np.ones((2, 2)))
