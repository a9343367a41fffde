"""Closed-form Gaussian / Student-t information terms: identities, limits, the one assembly of the terms
from entropies (``assemble_terms``) and a Monte-Carlo check of the entropies."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from fmmi_neuro.engine.gaussian.closed_form import (
    InfoTerms,
    assemble_terms,
    gaussian_entropy,
    gaussian_mi,
    information_truth,
    latent_covariance,
    mixed_covariance,
    random_covariance,
    redundant_covariance,
    student_t_entropy,
    student_t_mi,
    synergistic_covariance,
    terms_from_entropies,
    variable_blocks,
)

SYSTEMS = [
    ("redundant", redundant_covariance(3, 1)),
    ("synergistic", synergistic_covariance(4, 2)),
    ("mixed", mixed_covariance(5, 1)),
    ("random", (random_covariance([1, 2, 3, 1], seed=3), [1, 2, 3, 1])),
]


def _entropy(cov, nu):
    return gaussian_entropy(cov) if nu is None else student_t_entropy(cov, nu)


def test_gaussian_mi_of_a_correlated_pair():
    rho = 0.6
    cov = np.array([[1.0, rho], [rho, 1.0]])
    assert gaussian_mi(cov, 1) == pytest.approx(-0.5 * np.log(1 - rho**2), rel=1e-12)


def test_tc_of_scalar_gaussians_is_minus_half_log_det_of_the_correlation():
    cov = random_covariance([1] * 5, seed=1)
    assert information_truth(cov, [1] * 5).tc == pytest.approx(-0.5 * np.linalg.slogdet(cov)[1], rel=1e-12)


@pytest.mark.parametrize("nu", [None, 3.0])
@pytest.mark.parametrize(("name", "system"), SYSTEMS, ids=[s[0] for s in SYSTEMS])
def test_dtc_is_joint_entropy_minus_conditional_entropies(name, system, nu):
    cov, dims = system
    blocks = variable_blocks(dims)
    joint = _entropy(cov, nu)
    conditional = 0.0
    for i in range(len(dims)):
        rest = np.concatenate([b for j, b in enumerate(blocks) if j != i])
        conditional += joint - _entropy(cov[np.ix_(rest, rest)], nu)
    truth = information_truth(cov, dims, nu)
    assert truth.dtc == pytest.approx(joint - conditional, abs=1e-10)
    assert truth.o_info == pytest.approx(truth.tc - truth.dtc, abs=1e-12)


@pytest.mark.parametrize("nu", [None, 4.0])
@pytest.mark.parametrize(("name", "system"), SYSTEMS, ids=[s[0] for s in SYSTEMS])
def test_s_information_is_tc_plus_dtc_and_sum_of_one_vs_rest_mi(name, system, nu):
    cov, dims = system
    truth = information_truth(cov, dims, nu)
    assert truth.s_info == pytest.approx(truth.tc + truth.dtc, abs=1e-12)
    assert truth.s_info == pytest.approx(truth.mi_one_rest.sum(), abs=1e-10)


def test_student_t_tends_to_gaussian_as_nu_grows():
    cov, dims = mixed_covariance(4, 2)
    gauss = information_truth(cov, dims)
    for nu, tol in [(1e4, 1e-2), (1e6, 1e-4)]:
        t = information_truth(cov, dims, nu)
        assert abs(t.o_info - gauss.o_info) < tol
        assert abs(t.tc - gauss.tc) < tol
        assert student_t_entropy(cov, nu) == pytest.approx(gaussian_entropy(cov), abs=tol)
    assert student_t_mi(cov, 2, 1e6) == pytest.approx(gaussian_mi(cov, 2), abs=1e-4)


def test_student_t_mi_with_diagonal_scale_matches_monte_carlo(rng):
    """Multivariate t coordinates with diagonal scale are uncorrelated yet dependent (shared chi-square)."""
    nu, n = 2.0, 200_000
    joint = stats.multivariate_t(np.zeros(2), np.eye(2), df=nu)
    x = joint.rvs(size=n, random_state=rng)
    pointwise = joint.logpdf(x) - stats.t(df=nu).logpdf(x[:, 0]) - stats.t(df=nu).logpdf(x[:, 1])
    stderr = pointwise.std(ddof=1) / np.sqrt(n)
    assert abs(pointwise.mean() - student_t_mi(np.eye(2), 1, nu)) < 4 * stderr
    assert gaussian_mi(np.eye(2), 1) == pytest.approx(0.0, abs=1e-14)


@pytest.mark.parametrize("nu", [None, 3.0])
def test_entropy_matches_monte_carlo(rng, nu):
    cov = random_covariance([3], seed=7) * 2.0
    n = 200_000
    if nu is None:
        x = rng.multivariate_normal(np.zeros(3), cov, size=n)
        logpdf = stats.multivariate_normal(np.zeros(3), cov).logpdf(x)
    else:
        dist = stats.multivariate_t(np.zeros(3), cov, df=nu)
        x = dist.rvs(size=n, random_state=rng)
        logpdf = dist.logpdf(x)
    estimate = -logpdf.mean()
    stderr = logpdf.std(ddof=1) / np.sqrt(n)
    assert abs(estimate - _entropy(cov, nu)) < 4 * stderr


def test_planted_signs_of_the_constructors():
    for n_vars in (3, 4, 6):
        for dim in (1, 3):
            assert information_truth(*redundant_covariance(n_vars, dim)).o_info > 0
            assert information_truth(*synergistic_covariance(n_vars, dim)).o_info < 0
    assert information_truth(*mixed_covariance(3, redundancy=1.0)).o_info > 0
    assert information_truth(*mixed_covariance(3, redundancy=0.0)).o_info < 0


def test_mixed_moves_from_synergy_to_redundancy():
    omegas = [information_truth(*mixed_covariance(4, redundancy=r)).o_info for r in np.linspace(0, 1, 6)]
    assert np.all(np.diff(omegas) > 0)


def test_mixed_with_full_redundancy_is_the_shared_source_system():
    cov_m, dims_m = mixed_covariance(4, 2, redundancy=1.0, noise=0.3)
    cov_r, dims_r = redundant_covariance(4, 2, noise=0.3)
    np.testing.assert_allclose(cov_m, cov_r, atol=1e-14)
    assert dims_m == dims_r


def test_synergistic_covariance_is_the_sum_model():
    cov, dims = synergistic_covariance(3, 1, noise=0.1)
    np.testing.assert_allclose(cov, [[1, 0, 1], [0, 1, 1], [1, 1, 2.1]], atol=1e-14)
    assert dims == [1, 1, 1]


def test_d_dimensional_copies_scale_every_term_by_d():
    one = information_truth(*mixed_covariance(4, 1))
    three = information_truth(*mixed_covariance(4, 3))
    for name in ("tc", "dtc", "o_info", "s_info"):
        assert getattr(three, name) == pytest.approx(3 * getattr(one, name), rel=1e-10)
    np.testing.assert_allclose(three.tc_minus, 3 * one.tc_minus, rtol=1e-10)


def test_omega_does_not_depend_on_variable_order():
    cov, dims = random_covariance([1, 2, 1, 3], seed=5), [1, 2, 1, 3]
    order = [2, 0, 3, 1]
    blocks = variable_blocks(dims)
    index = np.concatenate([blocks[i] for i in order])
    permuted = information_truth(cov[np.ix_(index, index)], [dims[i] for i in order])
    original = information_truth(cov, dims)
    assert permuted.o_info == pytest.approx(original.o_info, abs=1e-10)
    np.testing.assert_allclose(permuted.mi_one_rest, original.mi_one_rest[order], atol=1e-10)


def test_independent_system_has_zero_information():
    truth = information_truth(np.eye(6), [2, 2, 2])
    for name in ("tc", "dtc", "o_info", "s_info"):
        assert getattr(truth, name) == pytest.approx(0.0, abs=1e-12)


def test_latent_covariance_is_kronecker_of_loadings():
    loadings = np.array([[1.0, 0.5], [0.0, 2.0]])
    cov, dims = latent_covariance(loadings, 2)
    np.testing.assert_allclose(cov, np.kron(loadings @ loadings.T, np.eye(2)))
    assert dims == [2, 2]


def test_random_covariance_is_a_seeded_correlation_matrix():
    a = random_covariance([2, 3], seed=11)
    np.testing.assert_allclose(np.diag(a), 1.0)
    assert np.linalg.eigvalsh(a).min() > 0
    np.testing.assert_array_equal(a, random_covariance([2, 3], seed=11))
    assert not np.allclose(a, random_covariance([2, 3], seed=12))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: synergistic_covariance(2), "n_vars"),
        (lambda: redundant_covariance(3, 0), "dim"),
        (lambda: redundant_covariance(3, noise=0.0), "noise"),
        (lambda: mixed_covariance(3, redundancy=1.5), "redundancy"),
        (lambda: information_truth(np.eye(3), [1, 1]), "dims"),
        (lambda: information_truth(-np.eye(3), [1, 1, 1]), "positive definite"),
        (lambda: information_truth(np.eye(1), [1]), "at least 2 variables"),
        (lambda: random_covariance([1, 0]), "dims"),
    ],
)
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_variable_blocks_are_contiguous():
    blocks = variable_blocks([2, 1, 3])
    assert [b.tolist() for b in blocks] == [[0, 1], [2], [3, 4, 5]]


def test_assemble_terms_identities():
    """TC = 1, I(X_i; X_-i) = (0.7, 0.6, 0.5), TC(X_-i) = TC - I: S = 1.8, DTC = 0.8, Omega = 0.2."""
    mi = np.array([0.7, 0.6, 0.5])
    marginal, joint = np.zeros(3), np.array(-1.0)  # TC = sum h_i - h = 1
    rest = mi - 1.0  # TC(X_-i) = -h(X_-i) = 1 - I_i
    terms = assemble_terms(marginal, joint, rest)
    assert terms["tc"] == pytest.approx(1.0)
    np.testing.assert_allclose(terms["mi_one_rest"], mi)
    np.testing.assert_allclose(terms["tc_minus"], 1.0 - mi)
    assert terms["s_info"] == pytest.approx(1.8)
    assert terms["dtc"] == pytest.approx(0.8)
    assert terms["o_info"] == pytest.approx(0.2)
    shifted = assemble_terms(marginal, joint, rest - 0.1)  # every TC(X_-i) + 0.1: Omega + 3 * 0.1
    assert shifted["o_info"] == pytest.approx(0.2 + 0.3)


def test_assemble_terms_broadcasts_over_leading_axes(rng):
    marginal = rng.normal(size=(4, 5, 3))
    joint = rng.normal(size=(4, 5))
    rest = rng.normal(size=(4, 5, 3))
    batched = assemble_terms(marginal, joint, rest)
    assert batched["tc"].shape == (4, 5) and batched["tc_minus"].shape == (4, 5, 3)
    for a in range(4):
        for b in range(5):
            one = terms_from_entropies(marginal[a, b], float(joint[a, b]), rest[a, b])
            assert isinstance(one, InfoTerms)
            for key in ("tc", "dtc", "o_info", "s_info"):
                assert batched[key][a, b] == pytest.approx(getattr(one, key), abs=1e-12)
            np.testing.assert_allclose(batched["mi_one_rest"][a, b], one.mi_one_rest, atol=1e-12)


@pytest.mark.parametrize(("name", "system"), SYSTEMS, ids=[s[0] for s in SYSTEMS])
def test_truth_is_the_assembly_of_subset_entropies(name, system):
    cov, dims = system
    blocks = variable_blocks(dims)
    marginal = np.array([gaussian_entropy(cov[np.ix_(b, b)]) for b in blocks])
    rest = []
    for i in range(len(dims)):
        index = np.concatenate([b for j, b in enumerate(blocks) if j != i])
        rest.append(gaussian_entropy(cov[np.ix_(index, index)]))
    expected = terms_from_entropies(marginal, gaussian_entropy(cov), np.array(rest))
    truth = information_truth(cov, dims)
    assert truth.o_info == pytest.approx(expected.o_info, abs=1e-12)
    np.testing.assert_allclose(truth.tc_minus, expected.tc_minus, atol=1e-12)
