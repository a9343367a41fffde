"""The peer estimators of benchmarks/peers.py, vetted against closed forms and scikit-learn."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from fmmi_neuro import simulate

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "peers.py"
_SPEC = importlib.util.spec_from_file_location("benchmark_peers", _PATH)
peers = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(peers)


def _shuffled(y, seed=1):
    return y[np.random.default_rng(seed).permutation(len(y))]


def test_ksg_equals_scikit_learn_in_one_dimension():
    """sklearn's mutual_info_regression is the same algorithm (k-th neighbour radius, strict counts)."""
    feature_selection = pytest.importorskip("sklearn.feature_selection")
    data = simulate.mi_task("wiggly-1v1-normal-0.75", 2000, seed=0)
    ours = peers.ksg(data.x, data.y, seed=0)
    theirs = feature_selection.mutual_info_regression(data.x, data.y[:, 0], n_neighbors=10, random_state=0)[0]
    assert ours == pytest.approx(theirs, abs=1e-6)


def test_ksg_against_gaussian_truth_and_independence():
    data = simulate.mi_task("multinormal-dense-3-3-0.5", 3000, seed=0)
    assert peers.ksg(data.x, data.y, seed=0) == pytest.approx(data.mi, abs=0.05)
    assert abs(peers.ksg(data.x, _shuffled(data.y), seed=0)) < 0.03
    with pytest.raises(ValueError, match="k = 10"):
        peers.ksg(data.x[:10], data.y[:10], seed=0)


def test_cca_is_the_determinant_formula_and_consistent():
    data = simulate.mi_task("multinormal-dense-5-5-0.5", 20_000, seed=1)
    cov = np.cov(np.hstack([data.x, data.y]).T)
    logdet = lambda a: np.linalg.slogdet(a)[1]  # noqa: E731
    direct = 0.5 * (logdet(cov[:5, :5]) + logdet(cov[5:, 5:]) - logdet(cov))
    estimate = peers.cca(data.x, data.y, seed=0)
    assert estimate == pytest.approx(direct, abs=1e-10)
    assert estimate == pytest.approx(data.mi, abs=0.02)


def test_gaussian_copula_ignores_monotone_maps():
    data = simulate.mi_task("multinormal-sparse-3-3-2-2.0", 2000, seed=2)
    plain = peers.gaussian_copula(data.x, data.y, seed=0)
    assert peers.gaussian_copula(np.exp(data.x), data.y**3, seed=0) == pytest.approx(plain, abs=1e-12)
    assert plain == pytest.approx(data.mi, abs=0.05)
    assert peers.cca(np.exp(data.x), data.y**3, seed=0) < plain - 0.1


def test_infonce_small_budget():
    data = simulate.mi_task("multinormal-sparse-3-3-2-2.0", 1000, seed=0)
    dependent = peers.infonce(data.x, data.y, seed=0, steps=150, batch_size=128)
    independent = peers.infonce(data.x, _shuffled(data.y), seed=0, steps=150, batch_size=128)
    assert 0.6 < dependent <= math.log(500)
    assert independent < 0.05
    with pytest.raises(ValueError, match="batch"):
        peers.infonce(data.x[:300], data.y[:300], seed=0, steps=1)


def test_exact_divergence_of_known_fields():
    gen = torch.Generator().manual_seed(0)
    y, t, x = torch.randn(7, 4, generator=gen), torch.rand(7, generator=gen), torch.randn(7, 3, generator=gen)
    a = torch.randn(4, 4, generator=gen)

    def field(y, t, x):
        return y @ a.T * t[:, None] + torch.sin(y) * x.sum(1, keepdim=True)

    expected = torch.trace(a) * t + torch.cos(y).sum(1) * x.sum(1)
    torch.testing.assert_close(peers.exact_divergence(field, y, t, x), expected)


def test_reference_fmmi_small_budget_on_a_gaussian():
    data = simulate.mi_task("1v1-normal-0.75", 2000, seed=0)
    estimate = peers.reference_fmmi(data.x, data.y, seed=1, steps=300, width=64)
    assert estimate == pytest.approx(data.mi, abs=0.1)
    small = {"steps": 20, "width": 16, "batch_size": 64}
    first = peers.reference_fmmi(data.x, data.y, seed=2, **small)
    assert peers.reference_fmmi(data.x, data.y, seed=2, **small) == first
