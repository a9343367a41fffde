"""information(): trained multi-time FMMI on small systems with known truth, invariances and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fmmi_neuro.engine.closed_form import information_truth
from fmmi_neuro.engine.information import InfoResult, information

FAST = {"max_steps": 200, "min_steps": 100, "n_draws": 2, "width": 32}
"""A small training budget that keeps each fit to a few seconds on a 2-core CPU."""

REDUNDANT = np.full((3, 3), 0.6) + 0.4 * np.eye(3)
SYNERGISTIC = np.array([[1.0, 0.0, 0.6], [0.0, 1.0, 0.6], [0.6, 0.6, 1.0]])


def _sample(rng, cov, n, nu=None):
    g = rng.multivariate_normal(np.zeros(len(cov)), cov, size=n)
    return g if nu is None else g / np.sqrt(rng.chisquare(nu, size=n) / nu)[:, None]


@pytest.mark.parametrize("cov", [REDUNDANT, SYNERGISTIC], ids=["redundant", "synergistic"])
def test_trained_estimate_has_the_right_sign_and_value(rng, cov):
    truth = information_truth(cov, [1, 1, 1])
    x = _sample(rng, cov, 1500)
    result = information(x, seed=0, device="cpu", **FAST)
    assert np.sign(result.o_info) == np.sign(truth.o_info)
    for key in ("o_info", "tc", "dtc", "s_info"):
        value, se = getattr(result, key), getattr(result, f"{key}_se")
        assert 0 < se < 0.2
        assert abs(value - getattr(truth, key)) < 4 * se, key
    assert result.o_info == pytest.approx(result.tc - result.dtc)
    assert result.s_info == pytest.approx(result.tc + result.dtc)
    np.testing.assert_allclose(result.tc_minus, truth.tc_minus, atol=4 * result.tc_se)
    np.testing.assert_allclose(result.mi_one_rest, truth.mi_one_rest, atol=4 * result.s_info_se)


def test_multivariate_variables_and_bits(rng):
    dims = [2, 1, 2]
    a = rng.normal(size=(5, 5))
    cov = a @ a.T / 5 + 0.5 * np.eye(5)
    truth = information_truth(cov, dims)
    x = _sample(rng, cov, 2000)
    variables = [x[:, :2], x[:, 2], x[:, 3:]]
    nats = information(variables, seed=1, device="cpu", **FAST)
    assert nats.dims == (2, 1, 2)
    assert abs(nats.o_info - truth.o_info) < 4 * nats.o_info_se
    bits = nats.to("bits")
    assert bits.unit == "bits"
    assert bits.o_info == pytest.approx(nats.o_info / math.log(2))
    assert bits.to("nats").tc == pytest.approx(nats.tc)


def test_invariant_under_per_variable_invertible_maps(rng):
    x = _sample(rng, REDUNDANT, 800, nu=4)
    base = information(x, seed=2, device="cpu", **FAST)
    mapped = np.column_stack([np.exp(x[:, 0]), x[:, 1] ** 3, np.arcsinh(5 * x[:, 2])])
    same = information(mapped, seed=2, device="cpu", **FAST)
    assert same.o_info == pytest.approx(base.o_info, abs=1e-9)
    mixing = np.array([[1.0, 0.5], [-0.3, 2.0]])
    pair = _sample(rng, np.eye(4) * 0.5 + 0.5, 800)
    original = information([pair[:, :2], pair[:, 2], pair[:, 3]], seed=3, device="cpu", **FAST)
    linear = information([pair[:, :2] @ mixing, pair[:, 2], pair[:, 3]], seed=3, device="cpu", **FAST)
    tolerance = 4 * math.hypot(original.o_info_se, linear.o_info_se)
    assert abs(linear.o_info - original.o_info) < tolerance


def test_gaussian_copula_estimator_matches_the_closed_form(rng):
    truth = information_truth(SYNERGISTIC, [1, 1, 1])
    result = information(_sample(rng, SYNERGISTIC, 5000), estimator="gaussian_copula")
    assert result.estimator == "gaussian_copula"
    assert abs(result.o_info - truth.o_info) < 4 * result.o_info_se
    assert "synergy-dominated" in repr(result) and "Omega = TC - DTC" in repr(result)


def test_deterministic_for_a_seed(rng):
    x = _sample(rng, REDUNDANT, 400)
    first = information(x, seed=5, device="cpu", max_steps=60, min_steps=60, eval_every=30)
    second = information(x, seed=5, device="cpu", max_steps=60, min_steps=60, eval_every=30)
    assert first.o_info == second.o_info and first.tc_se == second.tc_se
    assert isinstance(first, InfoResult) and first.settings["seed"] == 5


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda x: x[:, :2], "at least 3 variables"),
        (lambda x: [x[:, 0], x[:, 1]], "at least 3 variables"),
        (lambda x: [x[:, 0], x[:-1, 1], x[:, 2]], "same number of samples"),
        (lambda x: np.where(np.arange(x.shape[0])[:, None] == 7, np.nan, x), "NaN"),
        (lambda x: [x[:, 0], np.ones(x.shape[0]), x[:, 2]], "variable 1.*constant"),
        (lambda x: x[:50], "at least 100"),
    ],
    ids=["two-columns", "two-arrays", "lengths", "nan", "constant", "too-few"],
)
def test_bad_input_raises_a_clear_error(rng, make, message):
    x = rng.normal(size=(300, 3))
    with pytest.raises(ValueError, match=message):
        information(make(x), estimator="gaussian_copula")


def test_bad_options_raise(rng):
    x = rng.normal(size=(300, 3))
    with pytest.raises(ValueError, match="estimator"):
        information(x, estimator="knn")
    with pytest.raises(ValueError, match="unit"):
        information(x, unit="bans")
    with pytest.raises(ValueError, match="unknown training option"):
        information(x, steps=10)


@pytest.mark.slow
@pytest.mark.parametrize("cov", [REDUNDANT, SYNERGISTIC], ids=["redundant", "synergistic"])
def test_student_t_beats_gaussian_copula_at_n_10000(rng, cov):
    truth = information_truth(cov, [1, 1, 1], nu=3)
    x = _sample(rng, cov, 10000, nu=3)
    fmmi = information(x, seed=0, device="cpu")
    copula = information(x, estimator="gaussian_copula")
    assert np.sign(fmmi.o_info) == np.sign(truth.o_info)
    assert abs(fmmi.o_info - truth.o_info) <= max(0.05, 0.1 * abs(truth.o_info))
    assert abs(fmmi.tc - truth.tc) < abs(copula.tc - truth.tc)


@pytest.mark.slow
def test_multidimensional_student_t_at_n_1200_beats_gaussian_copula():
    """Five 3-dimensional Student-t variables at an fMRI-sized sample (the radial residual's case)."""
    from fmmi_neuro import simulate

    system = simulate.mixed(1200, n_vars=5, dim=3, nu=3, seed=0)
    truth = system.truth.o_info
    fmmi = information(system.samples, seed=0, device="cpu")
    copula = information(system.samples, estimator="gaussian_copula")
    assert np.sign(fmmi.o_info) == np.sign(truth)
    assert abs(fmmi.o_info - truth) <= max(0.1, 0.2 * abs(truth))
    assert abs(fmmi.o_info - truth) < abs(copula.o_info - truth)


@pytest.mark.slow
def test_heavy_tailed_sum_of_ten_variables_at_n_1200_uses_student_t_coordinates():
    """X_10 = X_1 + ... + X_9 + noise, all Student-t (nu = 3): curved in rank-normal coordinates, where gc
    is off by over 5 nats; Student-t copula coordinates straighten it."""
    from fmmi_neuro import simulate

    system = simulate.synergistic(1200, n_vars=10, dim=1, nu=3, seed=0)
    truth = system.truth.o_info
    fmmi = information(system.samples, seed=0, device="cpu")
    copula = information(system.samples, estimator="gaussian_copula")
    assert fmmi.settings["copula_dof"] == 3.0
    assert np.sign(fmmi.o_info) == np.sign(truth)
    assert abs(fmmi.o_info - truth) <= max(0.1, 0.2 * abs(truth))
    assert abs(fmmi.o_info - truth) < abs(copula.o_info - truth)
