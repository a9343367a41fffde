"""Gaussian-copula information: bias correction, agreement with the closed form, invariances, kernels."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
from scipy.special import psi

from fmmi_neuro.engine.closed_form import (
    gaussian_entropy,
    information_truth,
    mixed_covariance,
    random_covariance,
    redundant_covariance,
    synergistic_covariance,
)
from fmmi_neuro.engine.gaussian_copula import (
    GROUP_TERM_KEYS,
    entropy_bias,
    gaussian_copula_information,
    gc_group_terms,
    information_from_covariance,
)


def _sample(rng, cov, dims, n):
    x = rng.standard_normal((n, cov.shape[0])) @ np.linalg.cholesky(cov).T
    edges = np.cumsum([0, *dims])
    return [x[:, edges[i] : edges[i + 1]] for i in range(len(dims))]


def test_entropy_bias_matches_monte_carlo_of_the_plug_in_entropy(rng):
    """E[h(S)] - h(Sigma) for the n-1 sample covariance equals the Wishart expectation we subtract."""
    n, d, reps = 12, 3, 20_000
    cov = random_covariance([d], seed=4)
    x = rng.standard_normal((reps, n, d)) @ np.linalg.cholesky(cov).T
    centred = x - x.mean(axis=1, keepdims=True)
    sample_cov = np.einsum("rni,rnj->rij", centred, centred) / (n - 1)
    plug_in = 0.5 * (d * np.log(2 * np.pi * np.e) + np.linalg.slogdet(sample_cov)[1])
    excess = plug_in - gaussian_entropy(cov)
    stderr = excess.std(ddof=1) / np.sqrt(reps)
    assert abs(excess.mean() - entropy_bias(n, d)) < 4 * stderr
    assert entropy_bias(n, 1) == pytest.approx(0.5 * (np.log(2 / (n - 1)) + psi((n - 1) / 2)))


SYSTEMS = {
    "redundant": redundant_covariance(3, 1),
    "synergistic": synergistic_covariance(3, 1, noise=1.0),
    "mixed-4": mixed_covariance(4, 1),
    "random-1-2-1": (random_covariance([1, 2, 1], seed=2), [1, 2, 1]),
    "redundant-2d": redundant_covariance(3, 2),
}


def _check_unbiased(estimates, truth):
    """Mean of replicate estimates within 4 standard errors of the mean of the truth, for every term."""
    for term in ("o_info", "tc", "dtc", "s_info"):
        values = np.array([getattr(e, term) for e in estimates])
        stderr = values.std(ddof=1) / np.sqrt(len(values))
        assert abs(values.mean() - getattr(truth, term)) < 4 * stderr + 1e-12, term
    mi = np.array([e.mi_one_rest for e in estimates])
    stderr = mi.std(0, ddof=1) / np.sqrt(len(mi))
    assert np.all(np.abs(mi.mean(0) - truth.mi_one_rest) < 4 * stderr + 1e-12)


@pytest.mark.parametrize("name", list(SYSTEMS))
def test_equals_closed_form_on_gaussian_data(rng, name):
    """Copula estimates, 30 replicates of n = 3000, systems with moderate dependence."""
    cov, dims = SYSTEMS[name]
    estimates = [gaussian_copula_information(_sample(rng, cov, dims, 3000)) for _ in range(30)]
    _check_unbiased(estimates, information_truth(cov, dims))


@pytest.mark.parametrize("n", [50, 400])
def test_corrected_gaussian_terms_from_the_sample_covariance_are_unbiased(rng, n):
    """Without the rank step the Wishart correction is exact at any n, even for a near-singular system."""
    cov, dims = synergistic_covariance(3, 1, noise=0.1)
    estimates = []
    for _ in range(400):
        x = np.hstack(_sample(rng, cov, dims, n))
        estimates.append(information_from_covariance(np.cov(x, rowvar=False), dims, n))
    _check_unbiased(estimates, information_truth(cov, dims))


def test_copula_attenuation_of_strong_dependence_shrinks_with_n(rng):
    """Known limit: normal scores pull Omega of a strongly synergistic triplet towards 0 by O(1/n)."""
    cov, dims = synergistic_covariance(3, 1, noise=0.1)
    truth = information_truth(cov, dims).o_info
    bias = {}
    for n in (300, 3000):
        values = np.array([gaussian_copula_information(_sample(rng, cov, dims, n)).o_info for _ in range(40)])
        bias[n] = values.mean() - truth
        assert bias[n] > 0 and truth + bias[n] < 0
    assert bias[3000] < bias[300] / 3


def test_bias_correction_reduces_small_sample_error_for_weak_dependence(rng):
    cov, dims = random_covariance([1] * 5, seed=1), [1] * 5
    truth = information_truth(cov, dims)
    samples = [_sample(rng, cov, dims, 40) for _ in range(300)]
    corrected = np.mean([gaussian_copula_information(s).tc for s in samples])
    raw = np.mean([gaussian_copula_information(s, bias_correct=False).tc for s in samples])
    assert abs(corrected - truth.tc) < abs(raw - truth.tc) / 5


def test_planted_redundant_and_synergistic_triplets(rng):
    n = 1200
    redundant = gaussian_copula_information(_sample(rng, *redundant_covariance(3, 1), n))
    synergistic = gaussian_copula_information(_sample(rng, *synergistic_covariance(3, 1), n))
    assert redundant.o_info > 0
    assert synergistic.o_info < 0


def test_invariant_to_monotone_maps_of_each_coordinate(rng):
    x = _sample(rng, *mixed_covariance(3, 2), 800)
    mapped = [np.exp(x[0]), np.sinh(x[1]) * 3 + 1, x[2] ** 3]
    a = gaussian_copula_information(x)
    b = gaussian_copula_information(mapped)
    for term in ("tc", "dtc", "o_info", "s_info"):
        assert getattr(b, term) == pytest.approx(getattr(a, term), abs=1e-12)


def test_array_input_is_one_variable_per_column(rng):
    x = np.hstack(_sample(rng, *synergistic_covariance(4, 1), 500))
    a = gaussian_copula_information(x)
    b = gaussian_copula_information([x[:, j] for j in range(4)])
    assert a.o_info == pytest.approx(b.o_info, abs=1e-14)


@pytest.mark.parametrize("size", [3, 4, 5])
@pytest.mark.parametrize("bias_correct", [True, False])
def test_vectorised_kernel_equals_per_group(rng, size, bias_correct):
    cov = random_covariance([1] * 7, coupling=1.5, seed=9)
    data = np.hstack(_sample(rng, cov, [1] * 7, 400))
    groups = np.array(list(combinations(range(7), size)))
    groups = groups[rng.permutation(len(groups))]
    groups = np.array([rng.permutation(g) for g in groups])
    terms = gc_group_terms(data, groups, bias_correct=bias_correct)
    assert set(terms) == set(GROUP_TERM_KEYS)
    for k, g in enumerate(groups):
        one = gaussian_copula_information(data[:, g], bias_correct=bias_correct)
        for term in ("o_info", "tc", "dtc", "s_info"):
            assert terms[term][k] == pytest.approx(getattr(one, term), abs=1e-9)
    assert np.isnan(terms["o_info_se"]).all()


def test_group_kernel_is_invariant_to_member_order(rng):
    data = np.hstack(_sample(rng, *mixed_covariance(4, 1), 600))
    terms = gc_group_terms(data, np.array([[0, 1, 3], [3, 0, 1], [1, 3, 0]]))
    np.testing.assert_allclose(terms["o_info"], terms["o_info"][0], atol=1e-12)


@pytest.mark.parametrize(
    ("variables", "match"),
    [
        ([np.arange(10.0), np.arange(10.0) ** 2], "at least 3 variables"),
        ([np.ones((50, 1)) * np.arange(50)[:, None], np.zeros(50), np.arange(50.0)], "constant"),
        ([np.arange(50.0), np.arange(40.0), np.arange(50.0)], "same number of samples"),
        ([np.r_[np.nan, np.arange(49.0)], np.arange(50.0), np.arange(50.0) ** 2], "NaN"),
        ([np.arange(4.0), np.arange(4.0) ** 2, np.arange(4.0) ** 3], "samples"),
    ],
)
def test_bad_variables_raise(variables, match):
    with pytest.raises(ValueError, match=match):
        gaussian_copula_information(variables)


def test_bad_groups_raise(rng):
    data = rng.standard_normal((100, 5))
    with pytest.raises(ValueError, match="outside"):
        gc_group_terms(data, np.array([[0, 1, 5]]))
    with pytest.raises(ValueError, match="at least 3"):
        gc_group_terms(data, np.array([[0, 1]]))
    with pytest.raises(ValueError, match="int array"):
        gc_group_terms(data, np.array([[0.0, 1.0, 2.0]]))


def test_duplicated_column_is_reported_as_singular(rng):
    x = rng.standard_normal((200, 2))
    with pytest.raises(ValueError, match="singular"):
        gaussian_copula_information([x[:, 0], x[:, 1], x[:, 0]])
