"""FMMI options (``fmmi.settings``): every option validated in one place, every problem named at once,
unknown names a ``TypeError``; the same checks reach every entry point before any training; the rules
behind the ``None`` / ``"auto"`` values."""

from __future__ import annotations

import time

import numpy as np
import pytest

from fmmi_neuro.engine.fmmi import FMMISettings, MultiTimeFMMI
from fmmi_neuro.engine.fmmi.settings import (
    AUTO_RADIAL_MAX_TAIL_DOF,
    AUTO_RADIAL_ROWS_PER_COORDINATE,
    MANY_GROUPS_BUDGET,
    MI_BUDGET,
    ONE_SYSTEM_BUDGET,
    resolve_budget,
    resolve_residual,
)
from fmmi_neuro.engine.information import information
from fmmi_neuro.engine.mi import estimate_mi
from fmmi_neuro.scoring.score import score_groups

POSITIVE = [
    "width",
    "depth",
    "batch_size",
    "ema_window",
    "eval_every",
    "patience",
    "max_val_rows",
]
OPTIONAL = ["max_steps", "min_steps", "n_draws"]
BAD_VALUES = (
    [(name, value) for name in POSITIVE for value in (0, -1, True, 2.5, "8", None)]
    + [(name, value) for name in OPTIONAL for value in (-3, True, 1.5, "10")]
    + [("n_draws", 0)]
    + [("exact_max_dim", value) for value in (-1, True, 2.5, "8", None)]
    + [("n_frequencies", value) for value in (-1, True, 1.5, None)]
    + [("n_folds", value) for value in (1, 0, True, 2.0)]
    + [("lr", value) for value in (0, -1e-3, True, "0.1", float("nan"), None)]
    + [("weight_decay", value) for value in (-0.1, float("nan"), True, "x")]
    + [("val_fraction", value) for value in (0, 0.5, 0.7, -0.1, True, float("nan"))]
    + [
        (name, value)
        for name in ("p_diagonal", "p_leave_out")
        for value in (-0.1, 1.1, True, float("nan"), "0.3")
    ]
    + [("residual", value) for value in ("radial+mlp", "MLP", None, 1)]
    + [("copula", value) for value in ("t", 2, 1.5, True, None, float("inf"))]
)


def test_defaults_are_valid_and_options_round_trip():
    settings = FMMISettings()
    options = settings.options()
    assert FMMISettings(**options) == settings
    assert FMMISettings.from_options(width=8, copula=4) == FMMISettings(width=8, copula=4)
    assert settings.as_dict() == options


def test_good_edge_values_are_accepted():
    FMMISettings(n_frequencies=0, weight_decay=0.0, p_diagonal=0.0, p_leave_out=1.0, max_steps=1, min_steps=1)
    FMMISettings(p_diagonal=0.5, p_leave_out=0.5, val_fraction=0.01, copula=2.5, residual="radial", n_folds=5)


@pytest.mark.parametrize(("name", "value"), BAD_VALUES, ids=[f"{n}={v!r}" for n, v in BAD_VALUES])
def test_bad_value_is_a_value_error_naming_the_option(name, value):
    with pytest.raises(ValueError, match=f"'{name}'"):
        FMMISettings(**{name: value})


def test_probabilities_must_sum_to_at_most_one():
    with pytest.raises(ValueError, match=r"'p_diagonal' \+ 'p_leave_out' must be at most 1"):
        FMMISettings(p_diagonal=0.7, p_leave_out=0.4)


def test_min_steps_may_not_exceed_max_steps():
    with pytest.raises(ValueError, match=r"'min_steps' \(50\) must not exceed 'max_steps' \(10\)"):
        FMMISettings(max_steps=10, min_steps=50)


def test_every_problem_is_listed_in_one_error():
    with pytest.raises(ValueError) as info:
        FMMISettings(width=0, lr=-1.0, residual="x", copula="t", n_folds=1, max_steps=5, min_steps=9)
    message = str(info.value)
    assert message.startswith("invalid FMMI option(s)")
    for name in ("width", "lr", "residual", "copula", "n_folds", "min_steps"):
        assert f"'{name}'" in message, name


def test_validate_rechecks_after_a_change():
    settings = FMMISettings()
    settings.width = 0
    with pytest.raises(ValueError, match="'width'"):
        settings.validate()


def test_probability_sum_is_listed_with_other_problems():
    with pytest.raises(ValueError, match=r"'p_diagonal' \+ 'p_leave_out'"):
        FMMISettings(width=0, p_diagonal=0.8, p_leave_out=0.8)


@pytest.mark.parametrize(("max_steps", "min_steps"), [("10", 5), (10, "5")])
def test_string_step_counts_are_value_errors(max_steps, min_steps):
    with pytest.raises(ValueError, match="steps"):
        FMMISettings(max_steps=max_steps, min_steps=min_steps)


@pytest.mark.parametrize("name", ["lr", "weight_decay"])
def test_infinite_rates_are_rejected(name):
    with pytest.raises(ValueError, match=f"'{name}'"):
        FMMISettings(**{name: float("inf")})


def test_numpy_integers_are_accepted_like_elsewhere():
    FMMISettings(width=np.int64(16), max_steps=np.int32(10))


def test_unknown_option_is_a_type_error_listing_the_known_ones():
    with pytest.raises(TypeError, match=r"unknown FMMI option\(s\) \['learning_rate', 'steps'\]") as info:
        FMMISettings.from_options(steps=10, learning_rate=1e-3, width=8)
    assert "max_steps" in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"paths": "one_moving"}, "paths"),
        ({"seed": -1}, "seed"),
        ({"seed": True}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"group_size": 1}, "group_size"),
        ({"group_size": True}, "group_size"),
        ({"group_size": 2.5}, "group_size"),
        ({"device": "gpu"}, "device"),
        ({"width": 0}, "width"),
    ],
)
def test_estimator_checks_its_own_options(kwargs, name):
    with pytest.raises(ValueError, match=f"'{name}'"):
        MultiTimeFMMI(**kwargs)


def test_estimator_unknown_option_is_a_type_error():
    with pytest.raises(TypeError, match="steps"):
        MultiTimeFMMI(steps=10)


def test_estimator_accepts_every_setting_and_shows_it():
    est = MultiTimeFMMI(width=8, copula=3.0, group_size=3, paths="diagonal", seed=4, device="cpu")
    assert isinstance(est, FMMISettings)
    assert est.options() == FMMISettings(width=8, copula=3.0).options()
    text = repr(est)
    assert text.startswith("MultiTimeFMMI(") and "width=8" in text and "group_size=3" in text


# Every entry point validates the options before it looks at the data or trains: the data below (50 rows)
# would fail later (at least 100 samples are needed), so an option error proves the order.
ENTRY_POINTS = {
    "information": lambda x, **kw: information(x, device="cpu", **kw),
    "estimate_mi": lambda x, **kw: estimate_mi(x[:, :1], x[:, 1:], device="cpu", **kw),
    "MultiTimeFMMI": lambda x, **kw: MultiTimeFMMI(device="cpu", **kw).fit(x),
    "score_groups": lambda x, **kw: score_groups(x, estimator="fmmi", device="cpu", **kw),
}


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
@pytest.mark.parametrize(
    ("kwargs", "error", "names"),
    [
        ({"width": 0, "p_leave_out": 2.0}, ValueError, ("width", "p_leave_out")),
        ({"max_steps": 5, "min_steps": 6, "copula": "t"}, ValueError, ("min_steps", "copula")),
        ({"residual": "radial+mlp"}, ValueError, ("residual",)),
        ({"learning_rate": 1e-3}, TypeError, ("learning_rate",)),
    ],
    ids=["range", "steps-copula", "residual", "unknown"],
)
def test_entry_points_check_options_before_data_and_training(rng, entry, kwargs, error, names):
    x = rng.normal(size=(50, 4))
    start = time.perf_counter()
    with pytest.raises(error) as info:
        ENTRY_POINTS[entry](x, **kwargs)
    assert time.perf_counter() - start < 2.0
    for name in names:
        assert name in str(info.value), name


def test_gaussian_copula_entry_points_refuse_fmmi_options(rng):
    x = rng.normal(size=(200, 4))
    with pytest.raises(TypeError, match="width"):
        information(x, estimator="gaussian_copula", width=8)
    with pytest.raises(TypeError, match="width"):
        score_groups(x, estimator="gaussian_copula", width=8)


def test_bad_device_or_seed_is_refused_before_training(rng):
    x = rng.normal(size=(200, 3))
    start = time.perf_counter()
    with pytest.raises(ValueError, match="'device'"):
        information(x, device="gpu", max_steps=10_000)
    with pytest.raises(ValueError, match="'seed'"):
        information(x, seed=-1, max_steps=10_000)
    with pytest.raises(ValueError, match="'device'"):
        estimate_mi(x[:, 0], x[:, 1], device="tpu", max_steps=10_000)
    with pytest.raises(ValueError, match="'device'"):
        score_groups(x, estimator="fmmi", device="gpu", max_steps=10_000)
    assert time.perf_counter() - start < 2.0


def test_resolve_budget_fills_only_what_the_user_left_out():
    assert resolve_budget(FMMISettings(), one_system=True) == ONE_SYSTEM_BUDGET
    assert resolve_budget(FMMISettings(), one_system=False) == MANY_GROUPS_BUDGET
    assert resolve_budget(FMMISettings(), one_system=True, mutual_information=True) == MI_BUDGET
    budget = resolve_budget(FMMISettings(max_steps=50, n_draws=3), one_system=True)
    assert budget == {"max_steps": 50, "min_steps": 50, "n_draws": 3}  # min_steps never above max_steps
    budget = resolve_budget(FMMISettings(min_steps=7), one_system=False)
    assert budget == {**MANY_GROUPS_BUDGET, "min_steps": 7}


def test_auto_residual_is_radial_in_student_t_coordinates_or_with_few_rows_per_coordinate():
    rows = AUTO_RADIAL_ROWS_PER_COORDINATE
    assert resolve_residual("auto", 10 * rows, 10, None, student_t=False) == "mlp"
    assert resolve_residual("auto", 10 * rows, 10, 3.0, student_t=False) == "mlp"
    assert resolve_residual("auto", 10 * rows, 10, AUTO_RADIAL_MAX_TAIL_DOF, student_t=False) == "radial"
    assert resolve_residual("auto", 10 * rows - 1, 10, None, student_t=False) == "radial"
    assert resolve_residual("auto", 10 * rows, 10, None, student_t=True) == "radial"
    assert resolve_residual("mlp", 1, 10, 2.5, student_t=True) == "mlp"
    assert resolve_residual("radial", 10**9, 1, None, student_t=False) == "radial"
