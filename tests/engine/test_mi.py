"""``estimate_mi``: the two-variable multi-time estimator (conditional: the last variable moves; joint: the
diagonal). Input checks, the result object, the exact Gaussian-copula answer of an untrained field,
determinism and invariances; accuracy after real training in the ``slow`` tests at the end."""

from __future__ import annotations

import math

import numpy as np
import pytest

import fmmi_neuro
from fmmi_neuro.engine.blocks import batch_means_stderr
from fmmi_neuro.engine.gaussian.closed_form import gaussian_mi, student_t_mi
from fmmi_neuro.engine.gaussian.copula import copula_transform, sample_covariance
from fmmi_neuro.engine.gaussian.terms import gaussian_term_influence, gaussian_terms
from fmmi_neuro.engine.mi import MIN_SAMPLES, MIResult, estimate_mi

FAST = {"max_steps": 30, "min_steps": 30, "eval_every": 10, "width": 16, "batch_size": 256, "n_draws": 1}
FAST["gaussianize"] = False  # multivariate x, y: the closed-form part is then the Gaussian copula's
GAUSSIAN_ONLY = {
    "max_steps": 0,
    "min_steps": 0,
    "gaussianize": False,
    "width": 16,
    "batch_size": 64,
    "n_draws": 1,
}
"""No training: the field is the untrained one, u = u_Gauss."""
VARIANTS = ["conditional", "joint"]


def _pair(rng, n=400, d=1, rho=0.6):
    x = rng.normal(size=(n, d))
    return x, rho * x + math.sqrt(1 - rho**2) * rng.normal(size=(n, d))


def test_public_names():
    assert fmmi_neuro.estimate_mi is estimate_mi
    assert fmmi_neuro.MIResult is MIResult


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda x, y: (np.where(np.arange(x.size).reshape(x.shape) == 7, np.nan, x), y), "NaN or infinite"),
        (lambda x, y: (x, np.where(np.arange(y.size).reshape(y.shape) == 3, np.inf, y)), "'y' contains NaN"),
        (lambda x, y: (x[:-1], y), "same number of samples"),
        (lambda x, y: (x[: MIN_SAMPLES - 1], y[: MIN_SAMPLES - 1]), f"at least {MIN_SAMPLES}"),
        (lambda x, y: (np.c_[x, np.ones(len(x))], y), "constant column 1"),
        (lambda x, y: (x.reshape(len(x), 1, 1), y), "must be 1-D"),
        (lambda x, y: (x, np.zeros((len(y), 0))), "no columns"),
        (lambda x, y: (np.array(["a"] * len(x)), y), "numeric"),
    ],
)
def test_bad_inputs_raise_value_error(rng, change, message):
    x, y = _pair(rng)
    bad_x, bad_y = change(x, y)
    with pytest.raises(ValueError, match=message):
        estimate_mi(bad_x, bad_y, device="cpu", **FAST)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"variant": "marginal"}, "'variant' must be one of"),
        ({"device": "gpu"}, "'device' must be"),
        ({"unit": "bans"}, "'unit' must be one of"),
        ({"seed": -1}, "'seed'"),
        ({"n_folds": 1}, "n_folds"),
        ({"max_steps": 0}, "max_steps"),
        ({"val_fraction": 0.9}, "val_fraction"),
    ],
)
def test_bad_options_raise_value_error(rng, kwargs, message):
    x, y = _pair(rng)
    with pytest.raises(ValueError, match=message):
        estimate_mi(x, y, **{"device": "cpu", **FAST, **kwargs})


def test_unknown_option_is_a_type_error(rng):
    x, y = _pair(rng)
    with pytest.raises(TypeError, match="learning_rate"):
        estimate_mi(x, y, learning_rate=1e-3, device="cpu", **FAST)
    with pytest.raises(TypeError, match="gaussian"):  # the plain-network switch is gone
        estimate_mi(x, y, gaussian=False, device="cpu", **FAST)


def test_result_fields_units_and_repr(rng):
    x, y = _pair(rng, n=300)
    res = estimate_mi(x, y, device="cpu", **FAST)
    assert res.unit == "nats" and res.variant == "conditional" and res.device == "cpu"
    assert res.n_eval == 300 and 0 < res.n_train < 150
    assert np.isfinite(res.value) and res.stderr > 0 and res.seconds > 0
    assert res.steps == 60  # both folds ran their 30 steps
    assert np.isfinite(res.gaussian_part)
    assert res.settings["seed"] == 0 and len(res.settings["best_step"]) == 2
    assert res.settings["max_steps"] == 30 and res.settings["copula_dof"] is None
    text = repr(res)
    assert (
        text.startswith("MIResult(") and "nats" in text and "conditional" in text and "gaussian_part" in text
    )
    bits = res.to_bits()
    assert bits.unit == "bits" and bits.value == pytest.approx(res.value / math.log(2), rel=1e-12)
    assert bits.stderr == pytest.approx(res.stderr / math.log(2), rel=1e-12)
    assert bits.gaussian_part == pytest.approx(res.gaussian_part / math.log(2), rel=1e-12)
    assert bits.to("nats").value == pytest.approx(res.value, rel=1e-12) and res.to("nats") is res
    direct = estimate_mi(x, y, unit="bits", device="cpu", **FAST)
    assert direct.value == pytest.approx(bits.value, rel=1e-12)


@pytest.mark.parametrize("variant", VARIANTS)
def test_untrained_field_gives_the_bias_corrected_gaussian_copula_mi(rng, variant):
    """No kept training: the value is the closed-form MI of the copula scatter (n - 1 divisor, bias
    corrected), the same for both variants and both orders, with the influence-function stderr."""
    x, y = _pair(rng, n=300, d=2)
    res = estimate_mi(x, y, variant=variant, device="cpu", copula="gaussian", **GAUSSIAN_ONLY)
    z = copula_transform([x, y])
    cov = sample_covariance(z)
    mi = gaussian_terms(cov, [2, 2], n_samples=300)["tc"]
    assert res.value == pytest.approx(float(mi), abs=1e-10) and res.gaussian_part == res.value
    influence = gaussian_term_influence(z - z.mean(axis=0), cov, [2, 2])["tc"]
    assert res.stderr == pytest.approx(float(batch_means_stderr(influence)), rel=1e-9)
    swapped = estimate_mi(y, x, variant=variant, device="cpu", copula="gaussian", **GAUSSIAN_ONLY)
    assert swapped.value == pytest.approx(res.value, abs=1e-10)  # I(X; Y) = I(Y; X)
    assert res.settings["best_step"] == [0, 0]


@pytest.mark.parametrize("variant", VARIANTS)
def test_deterministic_for_a_seed(rng, variant):
    x, y = _pair(rng, n=300, d=2)
    a = estimate_mi(x, y, variant=variant, seed=3, device="cpu", **FAST)
    b = estimate_mi(x, y, variant=variant, seed=3, device="cpu", **FAST)
    c = estimate_mi(x, y, variant=variant, seed=4, device="cpu", **FAST)
    assert a.value == b.value and a.stderr == b.stderr
    assert a.gaussian_part == c.gaussian_part  # the closed-form part does not depend on the seed
    if any(a.settings["best_step"]) or any(c.settings["best_step"]):
        assert c.value != a.value
    else:
        assert c.value == a.value


def test_invariant_under_monotone_transforms(rng):
    # rank-to-normal makes strictly increasing maps of each coordinate invisible: identical estimates
    x, y = _pair(rng, n=300, d=2)
    a = estimate_mi(x, y, seed=1, device="cpu", **FAST)
    b = estimate_mi(np.exp(x), np.arcsinh(5 * y) + y**3, seed=1, device="cpu", **FAST)
    assert a.value == b.value and a.stderr == b.stderr


def test_one_dimensional_inputs_are_columns(rng):
    x, y = _pair(rng, n=300)
    a = estimate_mi(x[:, 0], y[:, 0], seed=2, device="cpu", **FAST)
    b = estimate_mi(x, y, seed=2, device="cpu", **FAST)
    assert a.value == b.value


# ------------------------------------------------------------------------ accuracy (slow, judged later)
#
# Tolerances: ``k * stderr`` (the reported batch-means standard error) plus a stated bias bound. The bias
# bound covers what the standard error does not: the finite-sample bias of the Gaussian-copula part (of
# order d_x d_y / n) and the error of a network fitted on a few thousand samples.

K = 4.0
SMALL = {"device": "cpu", "width": 64, "max_steps": 400}


def _gaussian(rng, n, d, mi):
    rho = math.sqrt(1 - math.exp(-2 * mi / d))
    x = rng.normal(size=(n, d))
    return x, rho * x + math.sqrt(1 - rho**2) * rng.normal(size=(n, d))


def _student(rng, n, d, nu, rho=0.0):
    cov = np.block([[np.eye(d), rho * np.eye(d)], [rho * np.eye(d), np.eye(d)]])
    z = rng.multivariate_normal(np.zeros(2 * d), cov, size=n) / np.sqrt(rng.chisquare(nu, size=(n, 1)) / nu)
    return z[:, :d], z[:, d:], student_t_mi(cov, d, nu)


def _bias_bound(n, dx, dy, network=0.0):
    return 0.02 + dx * dy / n + network


@pytest.mark.slow
@pytest.mark.parametrize("mi", [0.0, 0.5, 2.0])
@pytest.mark.parametrize("variant", VARIANTS)
def test_gaussian_mi(rng, mi, variant):
    n, d = 2000, 2
    x, y = _gaussian(rng, n, d, mi) if mi > 0 else (rng.normal(size=(n, d)), rng.normal(size=(n, d)))
    res = estimate_mi(x, y, variant=variant, seed=0, **SMALL)
    assert abs(res.value - mi) < K * res.stderr + _bias_bound(n, d, d)


@pytest.mark.slow
def test_student_t_pair(rng):
    # identity scale: all dependence is in the tails, so the network must learn it (Gaussian part ~ 0)
    n = 3000
    x, y, truth = _student(rng, n, 1, nu=1.0)
    res = estimate_mi(x, y, seed=0, **{**SMALL, "max_steps": 1000})
    assert abs(res.gaussian_part) < 0.05
    assert abs(res.value - truth) < K * res.stderr + _bias_bound(n, 1, 1, network=0.07)


@pytest.mark.slow
def test_independence_is_near_zero(rng):
    n = 2000
    x, y = rng.standard_t(3, size=(n, 3)), rng.standard_t(3, size=(n, 2))
    res = estimate_mi(x, y, seed=1, **SMALL)
    assert abs(res.value) < K * res.stderr + _bias_bound(n, 3, 2)


@pytest.mark.slow
def test_joint_variant_is_symmetric(rng):
    n = 2000
    cov = np.array([[1, 0.5, 0.3], [0.5, 1, 0.2], [0.3, 0.2, 1]])
    z = rng.multivariate_normal(np.zeros(3), cov, size=n)
    x, y = np.sinh(z[:, :1]), z[:, 1:] ** 3
    xy = estimate_mi(x, y, variant="joint", seed=0, **SMALL)
    yx = estimate_mi(y, x, variant="joint", seed=0, **SMALL)
    truth = gaussian_mi(cov, 1)
    assert abs(xy.value - yx.value) < K * math.hypot(xy.stderr, yx.stderr) + 0.02
    assert abs(xy.value - truth) < K * xy.stderr + _bias_bound(n, 1, 2)


@pytest.mark.slow
def test_hutchinson_agrees_with_exact_in_the_estimator(rng):
    # was: on Gaussian data with the plain network; the Gaussian-aware field often keeps the Gaussian start
    # there (nothing to correct), so heavy tails give the residual something to learn
    n = 1500
    x, y, _ = _student(rng, n, 3, nu=3.0, rho=0.5)
    kw = {"seed": 0, **SMALL, "max_steps": 300}
    exact = estimate_mi(x, y, **kw)
    hutch = estimate_mi(x, y, exact_max_dim=1, **kw)  # 3 moving coordinates > 1: Hutchinson's estimator
    assert hutch.steps == exact.steps
    assert abs(hutch.value - exact.value) < K * math.hypot(hutch.stderr, exact.stderr)
    if any(exact.settings["best_step"]):
        assert hutch.value != exact.value
    else:
        assert hutch.value == exact.value == exact.gaussian_part


@pytest.mark.slow
def test_student_t_5x5_at_n_10000_within_ten_percent(rng):
    # the acceptance scale: |error| <= max(0.1, 10 %) with the default settings
    x, y, truth = _student(rng, 10_000, 5, nu=2.0)
    res = estimate_mi(x, y, device="cpu", seed=0)
    assert abs(res.value - truth) < max(0.1, 0.1 * truth)


@pytest.mark.slow
@pytest.mark.parametrize("mi", [1.0, 10.0])
def test_gaussian_5x5_at_n_10000_within_five_percent(rng, mi):
    x, y = _gaussian(rng, 10_000, 5, mi)
    res = estimate_mi(x, y, device="cpu", seed=0)
    assert abs(res.value - mi) < max(0.05, 0.05 * mi)


def test_training_moves_the_estimate_towards_the_truth(rng):
    """Cauchy-like pair (nu = 1, identity scale): the Gaussian part is ~0; the trained field must add most
    of the 0.224 nats, so it differs from the untrained one (``max_steps=0``) and is closer to the truth."""
    x, y, truth = _student(rng, 3000, 1, nu=1.0)
    options = {"seed": 0, "device": "cpu", "width": 64, "batch_size": 512, "eval_every": 50}
    untrained = estimate_mi(x, y, max_steps=0, **options)
    trained = estimate_mi(x, y, max_steps=1500, min_steps=300, **options)
    assert trained.value != untrained.value and untrained.value == untrained.gaussian_part
    assert abs(trained.value - truth) < abs(untrained.value - truth) - 0.05


@pytest.mark.slow
@pytest.mark.parametrize(
    "task",
    [
        "1v1-additive-0.75",
        pytest.param(
            "1v1-AI",
            marks=pytest.mark.xfail(
                reason="known miss: 0.64-0.67 of 0.78 nats at n = 10,000 (benchmarks/RESULTS.md)", strict=True
            ),
        ),
        "spiral-multinormal-sparse-3-3-2-2.0",
        "asinh-student-identity-5-5-2",
    ],
)
def test_bmi_families_at_n_10000(task):
    """bmi task families (Czyz et al. 2023) with their closed-form or quadrature truth: within
    max(0.1, 10 %) at n = 10,000 with the default settings (``benchmarks/RESULTS.md``, MI accuracy)."""
    from fmmi_neuro import simulate

    sample = simulate.MI_TASKS[task](10_000, seed=0)
    res = estimate_mi(sample.x, sample.y, seed=0, device="cpu")
    assert abs(res.value - sample.mi) <= max(0.1, 0.1 * sample.mi), (task, res.value, sample.mi)
