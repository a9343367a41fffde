"""estimate_mi: input checks, result object, determinism and invariances (fast)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import fmmi_neuro
from fmmi_neuro.engine.mi import MIN_SAMPLES, MIResult, estimate_mi

FAST = {"max_steps": 60, "width": 32, "n_draws": 2, "val_repeats": 2, "device": "cpu"}


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
        estimate_mi(bad_x, bad_y, **FAST)


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
        estimate_mi(x, y, **{**FAST, **kwargs})


def test_unknown_training_setting_is_type_error(rng):
    x, y = _pair(rng)
    with pytest.raises(TypeError, match="learning_rate"):
        estimate_mi(x, y, learning_rate=1e-3, **FAST)


def test_result_fields_units_and_repr(rng):
    x, y = _pair(rng, n=300)
    res = estimate_mi(x, y, **FAST)
    assert res.unit == "nats" and res.variant == "conditional" and res.device == "cpu"
    assert res.n_eval == 300 and 0 < res.n_train < 150
    assert np.isfinite(res.value) and res.stderr > 0 and res.steps > 0 and res.seconds > 0
    assert res.gaussian_part is not None
    assert "nats" in repr(res) and "conditional" in repr(res)
    bits = res.to_bits()
    assert bits.unit == "bits" and bits.value == pytest.approx(res.value / math.log(2))
    assert bits.to("nats").value == pytest.approx(res.value)
    direct = estimate_mi(x, y, unit="bits", **FAST)
    assert direct.value == pytest.approx(bits.value, rel=1e-6)
    plain = estimate_mi(x, y, gaussian=False, **FAST)
    assert plain.gaussian_part is None and plain.settings["gaussian"] is False


@pytest.mark.parametrize("variant", ["conditional", "joint"])
def test_deterministic_for_a_seed(rng, variant):
    x, y = _pair(rng, n=300, d=2)
    a = estimate_mi(x, y, variant=variant, seed=3, gaussian=False, **FAST)
    b = estimate_mi(x, y, variant=variant, seed=3, gaussian=False, **FAST)
    c = estimate_mi(x, y, variant=variant, seed=4, gaussian=False, **FAST)
    assert a.value == b.value and a.stderr == b.stderr
    assert c.value != a.value


def test_invariant_under_monotone_transforms(rng):
    # rank-to-normal makes strictly increasing maps of each coordinate invisible: identical estimates
    x, y = _pair(rng, n=300, d=2)
    a = estimate_mi(x, y, seed=1, **FAST)
    b = estimate_mi(np.exp(x), np.arcsinh(5 * y) + y**3, seed=1, **FAST)
    assert a.value == pytest.approx(b.value, abs=1e-6)


def test_one_dimensional_inputs_are_columns(rng):
    x, y = _pair(rng, n=300)
    a = estimate_mi(x[:, 0], y[:, 0], seed=2, **FAST)
    b = estimate_mi(x, y, seed=2, **FAST)
    assert a.value == b.value
