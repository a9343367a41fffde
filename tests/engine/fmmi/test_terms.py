"""From path terms to TC, DTC, Omega and S (``fmmi.terms``): the two exact Omega identities, how they are
weighted, and the standard errors of the per-sample contributions."""

from __future__ import annotations

import numpy as np
import pytest

from fmmi_neuro.engine.blocks import batch_means_stderr
from fmmi_neuro.engine.fmmi.terms import (
    AUTO_SECOND_IDENTITY_MAX_VARS,
    PathTerms,
    identity_weights,
    omega_terms,
    stderr,
)
from fmmi_neuro.engine.gaussian.closed_form import random_covariance
from fmmi_neuro.engine.gaussian.terms import gaussian_term_influence, gaussian_terms


def _gaussian_path_terms(rng, k, n=400, groups=2, corrections=("tc", "tc_minus")):
    """PathTerms of ``groups`` Gaussian systems of k scalar variables with zero network corrections."""
    covs = np.stack([random_covariance([1] * k, seed=g) for g in range(groups)])
    x = np.stack([rng.standard_normal((n, k)) @ np.linalg.cholesky(c).T for c in covs])
    centred = x - x.mean(axis=1, keepdims=True)
    sample = np.einsum("gni,gnj->gij", centred, centred) / (n - 1)
    gauss = gaussian_terms(sample, [1] * k, n_samples=n)
    influence = gaussian_term_influence(centred, sample, [1] * k)
    shapes = {"tc": (groups, n), "tc_minus": (groups, n, k), "mi_one_rest": (groups, n, k)}
    correction = {key: np.zeros(shapes[key]) for key in corrections}
    return PathTerms(gauss, influence, correction)


@pytest.mark.parametrize("k", [3, 4, 6])
def test_the_two_omega_identities_agree_on_closed_forms(k):
    terms = gaussian_terms(random_covariance([1] * k, coupling=1.5, seed=k), [1] * k)
    first = 2 * terms["tc"] - terms["mi_one_rest"].sum()
    second = (2 - k) * terms["tc"] + terms["tc_minus"].sum()
    assert first == pytest.approx(second, abs=1e-12)
    assert second == pytest.approx(float(terms["o_info"]), abs=1e-12)


def test_value_and_series_add_gaussian_part_and_correction(rng):
    terms = _gaussian_path_terms(rng, 3)
    terms.correction["tc"] += rng.normal(size=terms.correction["tc"].shape) + 0.25
    np.testing.assert_allclose(terms.value("tc"), terms.gauss["tc"] + terms.correction["tc"].mean(axis=1))
    np.testing.assert_allclose(terms.series("tc"), terms.influence["tc"] + terms.correction["tc"])


def test_without_corrections_the_terms_are_the_gaussian_parts(rng):
    terms = _gaussian_path_terms(rng, 3)
    out = omega_terms(terms)
    for key in ("o_info", "tc", "dtc", "s_info"):
        np.testing.assert_allclose(out[key], terms.gauss[key], atol=1e-12, err_msg=key)
    np.testing.assert_allclose(out["tc_minus"], terms.gauss["tc_minus"], atol=1e-12)
    np.testing.assert_allclose(out["mi_one_rest"], terms.gauss["mi_one_rest"], atol=1e-12)  # I_i = TC - TC_-i
    np.testing.assert_array_equal(out["identity_weight"], [1.0, 1.0])
    np.testing.assert_allclose(out["s_info"], out["tc"] + out["dtc"])
    for key in ("o_info", "tc", "dtc", "s_info"):
        np.testing.assert_allclose(out[f"{key}_se"], stderr(terms.influence[key]), rtol=1e-10, err_msg=key)


def test_corrections_move_the_terms_as_the_identities_say(rng):
    """k = 3: Omega = -TC + sum_i TC_-i; a correction c to TC and d_i to TC_-i move Omega by -c + sum d_i."""
    terms = _gaussian_path_terms(rng, 3)
    base = omega_terms(terms)
    terms.correction["tc"] += 0.1
    terms.correction["tc_minus"] += np.array([0.01, 0.02, 0.03])
    out = omega_terms(terms)
    np.testing.assert_allclose(out["tc"], base["tc"] + 0.1)
    np.testing.assert_allclose(out["o_info"], base["o_info"] - 0.1 + 0.06)
    np.testing.assert_allclose(out["dtc"], out["tc"] - out["o_info"])
    np.testing.assert_allclose(out["s_info"], 2 * out["tc"] - out["o_info"])
    np.testing.assert_allclose(out["mi_one_rest"], out["tc"][:, None] - out["tc_minus"])


def test_up_to_four_variables_omega_ignores_one_moving_paths(rng):
    terms = _gaussian_path_terms(
        rng, AUTO_SECOND_IDENTITY_MAX_VARS, corrections=("tc", "tc_minus", "mi_one_rest")
    )
    base = omega_terms(terms)
    terms.correction["mi_one_rest"] += 0.5
    out = omega_terms(terms)
    np.testing.assert_allclose(out["o_info"], base["o_info"])
    np.testing.assert_array_equal(out["identity_weight"], 1.0)
    np.testing.assert_allclose(out["mi_one_rest"], terms.gauss["mi_one_rest"] + 0.5)


def test_five_variables_weight_the_identities_by_their_variances(rng):
    terms = _gaussian_path_terms(rng, 5, corrections=("tc", "tc_minus", "mi_one_rest"))
    exact = omega_terms(terms)
    np.testing.assert_allclose(exact["o_info"], terms.gauss["o_info"], atol=1e-10)  # both identities agree
    # noisy one-moving corrections with mean zero: the weight moves towards the diagonal identity
    terms.correction["mi_one_rest"] += rng.normal(size=terms.correction["mi_one_rest"].shape)
    noisy = omega_terms(terms)
    k = 5
    first = 2 * terms.series("tc") - terms.series("mi_one_rest").sum(-1)
    second = (2 - k) * terms.series("tc") + terms.series("tc_minus").sum(-1)
    np.testing.assert_allclose(noisy["identity_weight"], identity_weights(first, second))
    assert np.all(noisy["identity_weight"] > 0.95)
    w = noisy["identity_weight"]
    first_value = 2 * terms.value("tc") - terms.value("mi_one_rest").sum(-1)
    second_value = (2 - k) * terms.value("tc") + terms.value("tc_minus").sum(-1)
    np.testing.assert_allclose(noisy["o_info"], (1 - w) * first_value + w * second_value)
    np.testing.assert_allclose(noisy["o_info_se"], stderr((1 - w[:, None]) * first + w[:, None] * second))


def _series(rng, n, noise_first, noise_second):
    common = rng.normal(size=(1, n)) * 0.01
    return common + rng.normal(size=(1, n)) * noise_first, common + rng.normal(size=(1, n)) * noise_second


@pytest.mark.parametrize(
    ("noise_first", "noise_second", "low", "high"), [(0.05, 1.0, 0.0, 0.05), (1.0, 0.05, 0.95, 1.0)]
)
def test_identity_weights_favour_the_quieter_identity(rng, noise_first, noise_second, low, high):
    weight = identity_weights(*_series(rng, 4000, noise_first, noise_second))
    assert weight.shape == (1,)
    assert low <= weight[0] <= high


def test_identity_weights_equal_noise_is_half_and_identical_series_are_half(rng):
    weight = identity_weights(*_series(rng, 20000, 1.0, 1.0))
    assert weight[0] == pytest.approx(0.5, abs=0.1)
    same = rng.normal(size=(3, 500))
    np.testing.assert_array_equal(identity_weights(same, same), 0.5)


def test_identity_weights_are_clipped_to_the_unit_interval(rng):
    """Strongly correlated identities with unequal noise: the unconstrained minimum lies outside [0, 1]."""
    base = rng.normal(size=(1, 4000))
    weight = identity_weights(base, 1.5 * base + 0.01 * rng.normal(size=(1, 4000)))
    assert weight[0] == 0.0


def test_stderr_is_batch_means_per_group(rng):
    series = rng.normal(size=(3, 900))
    se = stderr(series)
    assert se.shape == (3,)
    for g in range(3):
        assert se[g] == pytest.approx(batch_means_stderr(series[g]), rel=1e-12)
