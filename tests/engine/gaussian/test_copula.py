"""Gaussian-copula information (``gaussian.copula``): agreement with the closed form, the known
small-sample attenuation, invariances, the vectorised group kernel and input checks."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest

from fmmi_neuro.engine.gaussian.closed_form import (
    information_truth,
    mixed_covariance,
    random_covariance,
    redundant_covariance,
    synergistic_covariance,
)
from fmmi_neuro.engine.gaussian.copula import (
    GROUP_TERM_KEYS,
    check_nonsingular,
    check_variables,
    copula_covariance,
    copula_transform,
    gaussian_copula_information,
    gc_group_terms,
    gc_group_terms_from_cov,
    sample_covariance,
)
from fmmi_neuro.engine.gaussian.marginals import rank_to_normal
from fmmi_neuro.engine.gaussian.terms import gaussian_terms

KEYS = ("o_info", "tc", "dtc", "s_info")
SYSTEMS = {
    "redundant": redundant_covariance(3, 1),
    "synergistic": synergistic_covariance(3, 1, noise=1.0),
    "mixed-4": mixed_covariance(4, 1),
    "random-1-2-1": (random_covariance([1, 2, 1], seed=2), [1, 2, 1]),
    "redundant-2d": redundant_covariance(3, 2),
}


def _check_unbiased(estimates, truth):
    """Mean of replicate estimates within 4 standard errors of the truth, for every term."""
    for term in KEYS:
        values = np.array([getattr(e, term) for e in estimates])
        stderr = values.std(ddof=1) / np.sqrt(len(values))
        assert abs(values.mean() - getattr(truth, term)) < 4 * stderr + 1e-12, term
    mi = np.array([e.mi_one_rest for e in estimates])
    stderr = mi.std(0, ddof=1) / np.sqrt(len(mi))
    assert np.all(np.abs(mi.mean(0) - truth.mi_one_rest) < 4 * stderr + 1e-12)


@pytest.mark.parametrize("name", list(SYSTEMS))
def test_equals_closed_form_on_gaussian_data(rng, sample, name):
    """Copula estimates, 30 replicates of n = 3000, systems with moderate dependence."""
    cov, dims = SYSTEMS[name]
    estimates = [gaussian_copula_information(sample(rng, cov, 3000, dims)) for _ in range(30)]
    _check_unbiased(estimates, information_truth(cov, dims))


def test_is_the_bias_corrected_gaussian_terms_of_the_rank_normal_covariance(rng, sample):
    dims = [1, 2, 1]
    x = sample(rng, random_covariance(dims, seed=3), 300, dims)
    terms = gaussian_terms(sample_covariance(rank_to_normal(np.hstack(x))), dims, n_samples=300)
    one = gaussian_copula_information(x)
    for key in KEYS:
        assert getattr(one, key) == pytest.approx(float(terms[key]), abs=1e-12)
    np.testing.assert_allclose(one.tc_minus, terms["tc_minus"], atol=1e-12)
    raw = gaussian_copula_information(x, bias_correct=False)
    assert raw.tc == pytest.approx(
        float(gaussian_terms(sample_covariance(rank_to_normal(np.hstack(x))), dims)["tc"])
    )


def test_copula_attenuation_of_strong_dependence_shrinks_with_n(rng, sample):
    """Known limit: normal scores pull Omega of a strongly synergistic triplet towards 0 by O(1/n)."""
    cov, dims = synergistic_covariance(3, 1, noise=0.1)
    truth = information_truth(cov, dims).o_info
    bias = {}
    for n in (300, 3000):
        values = np.array([gaussian_copula_information(sample(rng, cov, n, dims)).o_info for _ in range(40)])
        bias[n] = values.mean() - truth
        assert bias[n] > 0 and truth + bias[n] < 0
    assert bias[3000] < bias[300] / 3


def test_bias_correction_reduces_small_sample_error_for_weak_dependence(rng, sample):
    cov, dims = random_covariance([1] * 5, seed=1), [1] * 5
    truth = information_truth(cov, dims)
    samples = [sample(rng, cov, 40, dims) for _ in range(300)]
    corrected = np.mean([gaussian_copula_information(s).tc for s in samples])
    raw = np.mean([gaussian_copula_information(s, bias_correct=False).tc for s in samples])
    assert abs(corrected - truth.tc) < abs(raw - truth.tc) / 5


def test_planted_redundant_and_synergistic_triplets(rng, sample):
    n = 1200
    cov_r, dims_r = redundant_covariance(3, 1)
    cov_s, dims_s = synergistic_covariance(3, 1)
    redundant = gaussian_copula_information(sample(rng, cov_r, n, dims_r))
    synergistic = gaussian_copula_information(sample(rng, cov_s, n, dims_s))
    assert redundant.o_info > 0
    assert synergistic.o_info < 0


def test_invariant_to_monotone_maps_of_each_coordinate(rng, sample):
    cov, dims = mixed_covariance(3, 2)
    x = sample(rng, cov, 800, dims)
    mapped = [np.exp(x[0]), np.sinh(x[1]) * 3 + 1, x[2] ** 3]
    a = gaussian_copula_information(x)
    b = gaussian_copula_information(mapped)
    for term in KEYS:
        assert getattr(b, term) == pytest.approx(getattr(a, term), abs=1e-12)


def test_invariant_to_the_order_of_variables(rng, sample):
    dims = [1, 2, 1, 3]
    x = sample(rng, random_covariance(dims, seed=8), 500, dims)
    order = [2, 0, 3, 1]
    a = gaussian_copula_information(x)
    b = gaussian_copula_information([x[i] for i in order])
    assert b.o_info == pytest.approx(a.o_info, abs=1e-12)
    np.testing.assert_allclose(b.mi_one_rest, a.mi_one_rest[order], atol=1e-12)


def test_array_input_is_one_variable_per_column(rng, sample):
    x = sample(rng, synergistic_covariance(4, 1)[0], 500)
    a = gaussian_copula_information(x)
    b = gaussian_copula_information([x[:, j] for j in range(4)])
    assert a.o_info == pytest.approx(b.o_info, abs=1e-14)


@pytest.mark.parametrize("size", [3, 4, 5])
@pytest.mark.parametrize("bias_correct", [True, False])
def test_vectorised_kernel_equals_per_group(rng, sample, size, bias_correct):
    cov = random_covariance([1] * 7, coupling=1.5, seed=9)
    data = sample(rng, cov, 400)
    groups = np.array(list(combinations(range(7), size)))
    groups = groups[rng.permutation(len(groups))]
    groups = np.array([rng.permutation(g) for g in groups])
    terms = gc_group_terms(data, groups, bias_correct=bias_correct)
    assert set(terms) == set(GROUP_TERM_KEYS)
    for k, g in enumerate(groups):
        one = gaussian_copula_information(data[:, g], bias_correct=bias_correct)
        for term in KEYS:
            assert terms[term][k] == pytest.approx(getattr(one, term), abs=1e-9)
    assert np.isnan(terms["o_info_se"]).all()


@pytest.mark.parametrize("size", [3, 4, 6])
def test_group_terms_from_a_covariance_equal_the_one_system_closed_form(size):
    """On an exact covariance (no sampling): each group's terms are ``information_truth`` of its block."""
    cov = random_covariance([1] * 8, coupling=2.0, seed=size)
    groups = np.array(list(combinations(range(8), size)))[::3]
    terms = gc_group_terms_from_cov(cov, groups, n_samples=1000, bias_correct=False)
    corrected = gc_group_terms_from_cov(cov, groups, n_samples=1000)
    for k, g in enumerate(groups):
        truth = information_truth(cov[np.ix_(g, g)], [1] * size)
        one = gaussian_terms(cov[np.ix_(g, g)], [1] * size, n_samples=1000)
        for term in KEYS:
            assert terms[term][k] == pytest.approx(getattr(truth, term), abs=1e-10)
            assert corrected[term][k] == pytest.approx(float(one[term]), abs=1e-10)


def test_copula_covariance_is_the_covariance_of_normal_scores(rng):
    data = rng.standard_cauchy(size=(300, 4))
    np.testing.assert_allclose(
        copula_covariance(data), np.cov(rank_to_normal(data), rowvar=False), atol=1e-12
    )


def test_sample_covariance_is_numpys_and_broadcasts(rng):
    x = rng.normal(size=(3, 50, 4))
    both = sample_covariance(x)
    for g in range(3):
        np.testing.assert_allclose(both[g], np.cov(x[g], rowvar=False), atol=1e-12)


def test_copula_transform_whitens_each_variable(rng, sample):
    dims = [2, 1, 3]
    x = sample(rng, random_covariance(dims, seed=1), 400, dims)
    z = copula_transform([np.exp(v) for v in x])
    assert z.shape == (400, 6)
    cov = np.cov(z, rowvar=False, bias=True)
    for b in (slice(0, 2), slice(2, 3), slice(3, 6)):
        np.testing.assert_allclose(cov[b, b], np.eye(b.stop - b.start), atol=1e-10)


def test_check_variables_returns_float_columns(rng):
    x = rng.normal(size=(50, 3))
    arrays = check_variables(x)
    assert [a.shape for a in arrays] == [(50, 1)] * 3
    arrays = check_variables([x[:, :2], x[:, 2], x[:, 0] ** 2])
    assert [a.shape for a in arrays] == [(50, 2), (50, 1), (50, 1)]
    with pytest.raises(ValueError, match="at least 60"):
        check_variables(x, min_samples=60)


@pytest.mark.parametrize(
    ("variables", "match"),
    [
        ([np.arange(10.0), np.arange(10.0) ** 2], "at least 3 variables"),
        ([np.ones((50, 1)) * np.arange(50)[:, None], np.zeros(50), np.arange(50.0)], "constant"),
        ([np.arange(50.0), np.arange(40.0), np.arange(50.0)], "same number of samples"),
        ([np.r_[np.nan, np.arange(49.0)], np.arange(50.0), np.arange(50.0) ** 2], "NaN"),
        ([np.arange(4.0), np.arange(4.0) ** 2, np.arange(4.0) ** 3], "samples"),
        (np.arange(20.0).reshape(10, 2), "at least 3 variables"),
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
    with pytest.raises(ValueError, match="at least 5 samples"):
        gc_group_terms(data[:4], np.array([[0, 1, 2]]))


def test_duplicated_column_is_reported_as_singular(rng):
    x = rng.standard_normal((200, 2))
    with pytest.raises(ValueError, match="singular"):
        gaussian_copula_information([x[:, 0], x[:, 1], x[:, 0]])


def test_singular_group_gets_nan_in_the_group_kernel(rng):
    x = rng.standard_normal((200, 4))
    x[:, 3] = x[:, 0]
    terms = gc_group_terms(x, np.array([[0, 1, 3], [0, 1, 2]]))
    assert np.isnan(terms["o_info"][0]) and np.isfinite(terms["o_info"][1])


def test_check_nonsingular_names_the_singular_block(rng):
    x = rng.standard_normal((300, 4))
    cov = np.cov(np.column_stack([x[:, 0], x[:, 0], x[:, 1], x[:, 2]]), rowvar=False)
    with pytest.raises(ValueError, match="of variable 0 is singular"):
        check_nonsingular(cov, [2, 1, 1])
    cov = np.cov(np.column_stack([x[:, 0], x[:, 0], x[:, 1]]), rowvar=False)
    with pytest.raises(ValueError, match="the system without variable 2 is singular"):
        check_nonsingular(cov, [1, 1, 1])
    cov = np.cov(np.column_stack([x[:, 0], x[:, 1], x[:, 0] + x[:, 1]]), rowvar=False)
    with pytest.raises(ValueError, match="the system is singular"):
        check_nonsingular(cov, [1, 1, 1])
    check_nonsingular(np.cov(x, rowvar=False), [1, 1, 2])
