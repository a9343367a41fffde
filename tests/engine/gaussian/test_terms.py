"""Gaussian TC, DTC, Omega and S of a covariance (``gaussian.terms``): closed forms, the small-sample bias
correction, singular blocks and the per-sample influence functions behind the standard errors.

Identities are checked in float64 against ``closed_form.information_truth`` (entropies computed one
system at a time with ``slogdet``), so every vectorised shortcut here has an independent reference.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import psi

from fmmi_neuro.engine.blocks import batch_means_stderr
from fmmi_neuro.engine.gaussian.closed_form import (
    gaussian_entropy,
    information_truth,
    mixed_covariance,
    random_covariance,
    synergistic_covariance,
)
from fmmi_neuro.engine.gaussian.terms import (
    SINGULAR_TOLERANCE,
    entropy_bias,
    gaussian_term_influence,
    gaussian_terms,
    half_logdet,
)

KEYS = ("tc", "dtc", "o_info", "s_info")
DIMS = [[1, 1, 1], [1, 2, 3, 1], [2, 2, 2], [3, 1], [1, 1, 1, 1, 1]]


def _spd(rng, batch, m):
    a = rng.normal(size=(*batch, m, m))
    return a @ np.swapaxes(a, -1, -2) / m + 0.3 * np.eye(m)


# ------------------------------------------------------------------------------------------------ logdet


@pytest.mark.parametrize("m", [1, 2, 3, 4, 5])
def test_half_logdet_matches_slogdet(rng, m):
    a = _spd(rng, (7, 3), m) * rng.uniform(0.01, 100, size=(7, 3, 1, 1))
    sign, logdet = np.linalg.slogdet(a)
    assert np.all(sign > 0)
    np.testing.assert_allclose(half_logdet(a), 0.5 * logdet, rtol=1e-10, atol=1e-12)
    assert half_logdet(a).shape == (7, 3)
    assert half_logdet(a[0, 0]).shape == ()


@pytest.mark.parametrize("m", [2, 3, 4, 5])
def test_half_logdet_is_nan_for_duplicated_or_dependent_columns(rng, m):
    x = rng.normal(size=(200, m))
    x[:, -1] = x[:, 0]  # a duplicated column
    dup = np.cov(x, rowvar=False)
    y = rng.normal(size=(200, m))
    y[:, -1] = y[:, :-1].sum(axis=1)  # a linear combination of the others
    combo = np.cov(y, rowvar=False)
    values = half_logdet(np.stack([dup, combo, np.zeros((m, m)), _spd(rng, (), m)]))
    assert np.isnan(values[:3]).all()
    assert np.isfinite(values[3])


def test_many_strongly_dependent_coordinates_are_not_singular(rng):
    """Ten coordinates that are near-sums of twenty others (noise 5 %): every Cholesky pivot is well above
    the tolerance although the determinant is far below it, so the entropy is finite and exact."""
    x = rng.normal(size=(2000, 20))
    cov = np.cov(np.hstack([x, x[:, :10] + x[:, 10:] + 0.05 * rng.normal(size=(2000, 10))]), rowvar=False)
    sign, logdet = np.linalg.slogdet(cov)
    assert sign > 0 and logdet - np.log(np.diag(cov)).sum() < np.log(SINGULAR_TOLERANCE)
    assert half_logdet(cov) == pytest.approx(0.5 * logdet, rel=1e-10)


def test_half_logdet_singularity_is_relative_to_the_scale(rng):
    """Tiny but well-conditioned covariances are not singular; an indefinite matrix is."""
    a = _spd(rng, (), 3)
    assert half_logdet(1e-12 * a) == pytest.approx(half_logdet(a) + 1.5 * np.log(1e-12), rel=1e-10)
    assert np.isnan(half_logdet(np.array([[1.0, 2.0], [2.0, 1.0]])))
    assert np.isnan(half_logdet(np.array([[-1.0]])))


# ------------------------------------------------------------------------------------------ entropy bias


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


def test_entropy_bias_needs_more_samples_than_dimensions():
    assert entropy_bias(4, 3) < 0
    with pytest.raises(ValueError, match="more than 3 samples"):
        entropy_bias(3, 3)


# ----------------------------------------------------------------------------------------- term values


@pytest.mark.parametrize("dims", DIMS, ids=["-".join(map(str, d)) for d in DIMS])
def test_gaussian_terms_equal_the_closed_form(dims):
    for seed in range(3):
        cov = random_covariance(dims, coupling=1.5, seed=seed) * np.linspace(0.5, 3.0, sum(dims))
        cov = 0.5 * (cov + cov.T)
        truth = information_truth(cov, dims)
        terms = gaussian_terms(cov, dims)
        for key in KEYS:
            assert terms[key] == pytest.approx(getattr(truth, key), abs=1e-10), key
        np.testing.assert_allclose(terms["tc_minus"], truth.tc_minus, atol=1e-10)
        np.testing.assert_allclose(terms["mi_one_rest"], truth.mi_one_rest, atol=1e-10)


def test_gaussian_terms_broadcast_over_systems(rng):
    dims = [1, 2, 1]
    covs = _spd(rng, (3, 4), 4)
    terms = gaussian_terms(covs, dims)
    assert terms["o_info"].shape == (3, 4) and terms["mi_one_rest"].shape == (3, 4, 3)
    for a in range(3):
        for b in range(4):
            truth = information_truth(covs[a, b], dims)
            assert terms["o_info"][a, b] == pytest.approx(truth.o_info, abs=1e-10)
            np.testing.assert_allclose(terms["tc_minus"][a, b], truth.tc_minus, atol=1e-10)


def test_bias_correction_subtracts_the_entropy_bias_of_every_subset(rng):
    dims, n = [2, 1, 1], 50
    cov = _spd(rng, (), 4)
    raw, corrected = gaussian_terms(cov, dims), gaussian_terms(cov, dims, n_samples=n)
    b = {d: entropy_bias(n, d) for d in (1, 2, 3, 4)}
    # TC = sum h_i - h: the corrections of the marginals (2, 1, 1 coordinates) and of the joint (4)
    assert corrected["tc"] - raw["tc"] == pytest.approx(-(b[2] + 2 * b[1]) + b[4], abs=1e-12)
    # I(X_0; X_-0) = h_0 + h_-0 - h
    assert corrected["mi_one_rest"][0] - raw["mi_one_rest"][0] == pytest.approx(
        -b[2] - b[2] + b[4], abs=1e-12
    )


@pytest.mark.parametrize("n", [50, 400])
def test_corrected_terms_of_the_sample_covariance_are_unbiased(rng, n):
    """Without a rank step the Wishart correction is exact at any n, even for a near-singular system."""
    cov, dims = synergistic_covariance(3, 1, noise=0.1)
    reps = 400
    x = rng.standard_normal((reps, n, 3)) @ np.linalg.cholesky(cov).T
    centred = x - x.mean(axis=1, keepdims=True)
    sample_cov = np.einsum("rni,rnj->rij", centred, centred) / (n - 1)
    terms = gaussian_terms(sample_cov, dims, n_samples=n)  # all replicates in one vectorised call
    truth = information_truth(cov, dims)
    for key in KEYS:
        stderr = terms[key].std(ddof=1) / np.sqrt(reps)
        assert abs(terms[key].mean() - getattr(truth, key)) < 4 * stderr, key
    stderr = terms["mi_one_rest"].std(0, ddof=1) / np.sqrt(reps)
    assert np.all(np.abs(terms["mi_one_rest"].mean(0) - truth.mi_one_rest) < 4 * stderr)


def test_singular_blocks_give_nan_only_where_they_are_used(rng):
    """X_1 = X_0: the joint and the system without X_2 are singular; the pairs with X_2 are not."""
    x = rng.normal(size=(300, 3))
    x[:, 1] = x[:, 0]
    terms = gaussian_terms(np.cov(x, rowvar=False), [1, 1, 1])
    assert np.isnan(terms["tc"]) and np.isnan(terms["o_info"])
    assert np.isnan(terms["tc_minus"][2])
    assert np.isfinite(terms["tc_minus"][:2]).all()


# ----------------------------------------------------------------------------------------- influence


def test_influence_has_zero_mean_at_the_plug_in_covariance(rng):
    dims = [1, 2, 1]
    x = rng.normal(size=(500, 4)) @ rng.normal(size=(4, 4))
    centred = x - x.mean(axis=0)
    influence = gaussian_term_influence(centred, centred.T @ centred / len(x), dims)
    assert set(influence) == set(KEYS) | {"tc_minus", "mi_one_rest"}
    assert influence["tc"].shape == (500,) and influence["tc_minus"].shape == (500, 3)
    for key, value in influence.items():
        np.testing.assert_allclose(value.mean(axis=0), 0.0, atol=1e-10, err_msg=key)


def test_influence_is_the_derivative_of_each_term(rng):
    """d/d eps of term((1 - eps) Sigma + eps x x') at eps = 0 is the influence at x."""
    dims = [2, 1, 1]
    cov = _spd(rng, (), 4)
    x = rng.normal(size=(3, 4)) * 1.5
    influence = gaussian_term_influence(x, cov, dims)
    eps = 1e-6
    for j in range(3):
        bumped = (1 - eps) * cov + eps * np.outer(x[j], x[j])
        plus, base = gaussian_terms(bumped, dims), gaussian_terms(cov, dims)
        for key in ("tc", "o_info", "dtc", "mi_one_rest", "tc_minus"):
            numeric = (plus[key] - base[key]) / eps
            np.testing.assert_allclose(influence[key][j], numeric, rtol=1e-4, atol=1e-5, err_msg=key)


def test_influence_broadcasts_over_groups(rng):
    dims = [1, 1, 1]
    x = rng.normal(size=(2, 100, 3))
    covs = np.einsum("gni,gnj->gij", x, x) / 100
    both = gaussian_term_influence(x, covs, dims)
    for g in range(2):
        one = gaussian_term_influence(x[g], covs[g], dims)
        np.testing.assert_allclose(both["o_info"][g], one["o_info"], atol=1e-12)


def test_influence_standard_error_matches_the_spread_over_samples(rng):
    """Batch-means standard errors of TC, Omega, DTC and S against their spread over 200 samples of n = 500.

    Omega of a dependent (mixed) system, where the first-order influence is not degenerate; at
    independence every term's influence is identically zero and the standard error says nothing.
    """
    cov, dims = mixed_covariance(3, 1, redundancy=0.4)
    values = {key: [] for key in KEYS}
    errors = {key: [] for key in KEYS}
    for _ in range(200):
        x = rng.standard_normal((500, 3)) @ np.linalg.cholesky(cov).T
        centred = x - x.mean(axis=0)
        sample_cov = centred.T @ centred / (len(x) - 1)
        terms = gaussian_terms(sample_cov, dims, n_samples=len(x))
        influence = gaussian_term_influence(centred, sample_cov, dims)
        for key in KEYS:
            values[key].append(terms[key])
            errors[key].append(batch_means_stderr(influence[key]))
    for key in KEYS:
        # the sd of 200 values scatters by about 5 %; batch means with ~22 batches add about 15 %
        assert np.std(values[key]) == pytest.approx(np.mean(errors[key]), rel=0.25), key


def test_influence_vanishes_at_independence(rng):
    """At independence every term is a second-order functional: the first-order influence is ~0, so
    influence-function standard errors collapse there (the O(1/n) fluctuations are not first order)."""
    x = rng.normal(size=(2000, 3))
    centred = x - x.mean(axis=0)
    influence = gaussian_term_influence(centred, np.eye(3), [1, 1, 1])
    for key in KEYS:
        np.testing.assert_allclose(influence[key], 0.0, atol=1e-12)
