"""Contiguous cross-fitting folds, validation carving and the batch-means standard error."""

from __future__ import annotations

import numpy as np
import pytest

from fmmi_neuro.engine.blocks import batch_means_stderr, contiguous_folds, split_validation


@pytest.mark.parametrize(("n", "k", "gap"), [(10, 2, 0), (101, 3, 0), (50, 5, 2)])
def test_folds_partition_and_respect_gap(n, k, gap):
    folds = contiguous_folds(n, k, gap=gap)
    assert len(folds) == k
    np.testing.assert_array_equal(np.concatenate([f.test for f in folds]), np.arange(n))
    for f in folds:
        assert np.all(np.diff(f.test) == 1)
        assert np.intersect1d(f.train, f.test).size == 0
        dist = np.abs(f.train[:, None] - f.test[None, :]).min()
        assert dist == gap + 1
        assert f.train.size == n - f.test.size - sum(
            1
            for i in range(n)
            if 0 < min(abs(i - f.test[0]), abs(i - f.test[-1])) <= gap and not (f.test[0] <= i <= f.test[-1])
        )


def test_fold_bad_arguments():
    with pytest.raises(ValueError, match="n_folds"):
        contiguous_folds(10, 1)
    with pytest.raises(ValueError, match="exceeds"):
        contiguous_folds(3, 4)
    with pytest.raises(ValueError, match="gap"):
        contiguous_folds(4, 2, gap=5)


def test_split_validation_is_contiguous_tail():
    train = np.r_[0:40, 60:100]
    fit, val = split_validation(train, 0.1, gap=2)
    np.testing.assert_array_equal(val, np.arange(92, 100))
    np.testing.assert_array_equal(fit, np.r_[0:40, 60:90])
    with pytest.raises(ValueError, match="fraction"):
        split_validation(train, 1.5)


def test_batch_means_matches_iid_stderr(rng):
    x = rng.normal(size=(40_000, 2)) * np.array([1.0, 3.0])
    se = batch_means_stderr(x)
    np.testing.assert_allclose(se, np.array([1.0, 3.0]) / np.sqrt(40_000), rtol=0.15)


def test_batch_means_captures_autocorrelation(rng):
    # AR(1) with phi = 0.8: var of the mean ~ sigma^2 / n * (1 + phi) / (1 - phi) = 9 * iid variance
    n, phi = 40_000, 0.8
    noise = rng.normal(size=n)
    x = np.empty(n)
    x[0] = noise[0] / np.sqrt(1 - phi**2)
    for i in range(1, n):
        x[i] = phi * x[i - 1] + noise[i]
    sd = 1 / np.sqrt(1 - phi**2)
    truth = sd / np.sqrt(n) * np.sqrt((1 + phi) / (1 - phi))
    se = batch_means_stderr(x)
    assert abs(se / truth - 1) < 0.25
    assert se > 2 * x.std() / np.sqrt(n)


def test_batch_means_bad_input():
    with pytest.raises(ValueError, match="at least 2"):
        batch_means_stderr(np.ones(1))
