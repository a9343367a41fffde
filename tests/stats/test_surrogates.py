"""Surrogates keep what they claim (values, autocorrelation, spectra) and break what they claim."""

from __future__ import annotations

import numpy as np
import pytest
from _cohorts import ar1
from scipy import stats as sps

from fmmi_neuro.stats.surrogates import (
    moving_block_indices,
    phase_randomized_surrogate,
    surrogates,
    time_shift_surrogate,
)


def _circular_acf(x: np.ndarray, lags: int) -> np.ndarray:
    x = x - x.mean(axis=0)
    return np.array([(x * np.roll(x, k, axis=0)).sum(axis=0) for k in range(lags + 1)]) / (x**2).sum(axis=0)


def _correlated_pair(rng: np.random.Generator, n: int, rho: float = 0.8) -> np.ndarray:
    x = ar1(rng, n, 2)
    x[:, 1] = rho * x[:, 0] + np.sqrt(1 - rho**2) * x[:, 1]
    return x


def test_time_shift_keeps_values_and_autocorrelation(rng):
    x = _correlated_pair(rng, 500)
    s = time_shift_surrogate(x, seed=1)
    np.testing.assert_array_equal(np.sort(s, axis=0), np.sort(x, axis=0))
    np.testing.assert_allclose(_circular_acf(s, 10), _circular_acf(x, 10), atol=1e-12)


def test_time_shift_breaks_cross_correlation(rng):
    n, phi, n_sur = 500, 0.6, 200
    x = _correlated_pair(rng, n)
    r = np.array([np.corrcoef(s.T)[0, 1] for s in surrogates(x, n_sur, method="time_shift", seed=2)])
    # Bartlett: sd of the correlation of two independent AR(1) series ~ sqrt((1 + phi^2) / ((1 - phi^2) n)).
    # All surrogates read the same cross-correlation function at other lags, so their mean is one
    # realisation (bounded by 3 sd, not 3 sd / sqrt(n_sur)).
    sd = np.sqrt((1 + phi**2) / ((1 - phi**2) * n))
    assert abs(r.mean()) < 3 * sd
    assert 0.5 * sd < r.std() < 2 * sd
    assert np.abs(r).max() < 6 * sd < 0.8


def test_phase_keeps_spectra_and_linear_correlation(rng):
    x = _correlated_pair(rng, 501)
    s = phase_randomized_surrogate(x, seed=3)
    fx, fs = np.fft.rfft(x, axis=0), np.fft.rfft(s, axis=0)
    np.testing.assert_allclose(np.abs(fs), np.abs(fx), rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(fs[:, 0] * fs[:, 1].conj(), fx[:, 0] * fx[:, 1].conj(), rtol=1e-8, atol=1e-6)
    np.testing.assert_allclose(np.corrcoef(s.T), np.corrcoef(x.T), atol=1e-10)
    np.testing.assert_allclose(_circular_acf(s, 10), _circular_acf(x, 10), atol=1e-10)
    assert not np.allclose(s, x)


def test_phase_breaks_what_is_beyond_linear(rng):
    n = 1000
    g = ar1(rng, n, 1)[:, 0]
    x = np.column_stack([g, g**2])  # uncorrelated, but perfectly dependent; marginal of g**2 skewed
    corr_sq = [np.corrcoef(s[:, 0] ** 2, s[:, 1])[0, 1] for s in surrogates(x, 50, method="phase", seed=4)]
    assert np.corrcoef(x[:, 0] ** 2, x[:, 1])[0, 1] > 0.99
    assert np.mean(corr_sq) < 0.5
    skew = [sps.skew(s[:, 1]) for s in surrogates(x, 50, method="phase", seed=5)]
    assert sps.skew(x[:, 1]) > 2 and np.mean(skew) < 1


def test_surrogates_are_seeded():
    x = ar1(np.random.default_rng(0), 100, 3)
    for method in ("time_shift", "phase"):
        a = list(surrogates(x, 3, method=method, seed=7))
        b = list(surrogates(x, 3, method=method, seed=7))
        c = list(surrogates(x, 3, method=method, seed=8))
        np.testing.assert_array_equal(a[2], b[2])
        assert not np.array_equal(a[2], c[2])


def test_moving_block_indices_are_contiguous_blocks():
    n, block = 103, 10
    idx = moving_block_indices(n, block_length=block, seed=0)
    assert idx.shape == (n,) and idx.min() >= 0 and idx.max() < n
    steps = (np.diff(idx) % n).reshape(-1)
    within = np.ones(n - 1, dtype=bool)
    within[block - 1 :: block] = False
    assert np.all(steps[within] == 1)


def test_surrogate_bad_input():
    with pytest.raises(ValueError, match="method"):
        list(surrogates(np.ones((10, 3)), 2, method="shuffle"))
    with pytest.raises(ValueError, match="min_shift"):
        time_shift_surrogate(np.random.default_rng(0).standard_normal((10, 3)), min_shift=4)
    with pytest.raises(ValueError, match="NaN"):
        phase_randomized_surrogate(np.full((10, 3), np.nan))
    with pytest.raises(ValueError, match="block_length"):
        moving_block_indices(10, block_length=20)


def test_aaft_keeps_values_and_roughly_the_linear_structure(rng):
    from fmmi_neuro.stats.surrogates import aaft_surrogate

    x = _correlated_pair(rng, 1000)
    x = np.column_stack([np.exp(x[:, 0]), x[:, 1] ** 3])  # non-Gaussian marginals, monotone dependence
    s = aaft_surrogate(x, seed=6)
    np.testing.assert_array_equal(np.sort(s, axis=0), np.sort(x, axis=0))
    rho = sps.spearmanr(x[:, 0], x[:, 1]).statistic
    rho_s = [sps.spearmanr(*aaft_surrogate(x, seed=k).T).statistic for k in range(20)]
    assert abs(np.mean(rho_s) - rho) < 0.1
    lag1 = [sps.spearmanr(c[:-1], c[1:]).statistic for c in (x[:, 0], s[:, 0])]
    assert abs(lag1[0] - lag1[1]) < 0.1
    g = ar1(rng, 1000, 1)[:, 0]
    y = np.column_stack([g, g**2])
    corr_sq = [np.corrcoef(t[:, 0] ** 2, t[:, 1])[0, 1] for t in surrogates(y, 20, method="aaft", seed=7)]
    assert np.mean(corr_sq) < 0.5
