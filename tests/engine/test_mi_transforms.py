"""Rank-to-normal transform, whitening and device resolution."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import kstest

from fmmi_neuro.engine._device import resolve_device
from fmmi_neuro.engine.transforms import rank_to_normal, whiten, whitening_matrix


def test_rank_to_normal_is_monotone_and_gaussian(rng):
    x = rng.standard_cauchy(size=(2000, 3))
    g = rank_to_normal(np.arcsinh(x) ** 3)
    assert g.shape == x.shape
    for j in range(3):
        assert np.all(np.diff(g[np.argsort(x[:, j]), j]) > 0)
        assert kstest(g[:, j], "norm").pvalue > 0.01
    np.testing.assert_allclose(rank_to_normal(x), rank_to_normal(x**3 + 5 * x + 1))


def test_rank_to_normal_ties_and_1d():
    g = rank_to_normal(np.array([1.0, 2.0, 2.0, 3.0]))
    assert g.shape == (4,)
    assert g[1] == g[2] == 0.0
    with pytest.raises(ValueError, match="shape"):
        rank_to_normal(np.zeros((2, 2, 2)))


def test_whitening(rng):
    a = rng.normal(size=(3, 3))
    x = rng.normal(size=(5000, 3)) @ a.T
    np.testing.assert_allclose(np.cov(whiten(x), rowvar=False, bias=True), np.eye(3), atol=1e-10)
    w = whitening_matrix(np.cov(x, rowvar=False))
    np.testing.assert_allclose(w, w.T)
    with pytest.raises(ValueError, match="singular"):
        whitening_matrix(np.ones((2, 2)))


def test_resolve_device():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="'gpu'"):
        resolve_device("gpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA requested but not available"):
            resolve_device("cuda:0")
