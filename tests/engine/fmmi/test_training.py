"""Flow-matching training (``fmmi.training``): the loss, the training points and the bookkeeping of early
stopping. Smoke tests only (shapes, finiteness, what is reported and kept); no claim about accuracy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fmmi_neuro.engine.fmmi.field import MultiTimeField
from fmmi_neuro.engine.fmmi.paths import PathMixture
from fmmi_neuro.engine.fmmi.training import (
    TrainingReport,
    flow_matching_loss,
    path_points,
    train_field,
)

SMALL = {"batch_size": 128, "lr": 3e-3, "weight_decay": 1e-2, "ema_window": 5, "max_val_rows": 2048}


def _setup(residual="mlp", n_variables=4, size=3, n=300, seed=0):
    rng = np.random.default_rng(seed)
    cov = np.full((n_variables, n_variables), 0.5) + 0.5 * np.eye(n_variables)
    x = rng.multivariate_normal(np.zeros(n_variables), cov, size=n)
    x = (x - x.mean(0)) / x.std(0)
    x_t = torch.as_tensor(x[:, :, None], dtype=torch.float32)  # (n, R, d = 1)
    sigma = torch.as_tensor(np.cov(x[:200], rowvar=False), dtype=torch.float32)
    gen = torch.Generator().manual_seed(seed)
    field = MultiTimeField(
        sigma, [1] * n_variables, residual=residual, width=16, depth=2, n_frequencies=2, generator=gen
    )
    mixture = PathMixture(n_variables, size, 0.3, 0.35, 0.35)
    return field, x_t[:200], x_t[200:], mixture


def _train(field, x_fit, x_val, mixture, seed=0, **kw):
    options = {**SMALL, "max_steps": 30, "min_steps": 30, "eval_every": 10, "patience": 4, **kw}
    return train_field(field, x_fit, x_val, mixture, generator=torch.Generator().manual_seed(seed), **options)


def test_training_points_of_one_system_form_one_group_of_rows():
    field, x, _, _ = _setup(n_variables=3)
    rows = PathMixture(3, 3, 0.3, 0.35, 0.35).draw(
        200, 64, torch.Generator().manual_seed(0), torch.device("cpu")
    )
    points, (layout, index) = path_points(field, x, rows)
    assert points.z.shape == points.target.shape == points.moving.shape == (1, 64, 3)
    assert points.tau.shape == points.active.shape == (1, 64, 3) and points.members.tolist() == [[0, 1, 2]]
    joint, source = x[rows.rows, :, 0], x[rows.sources, torch.arange(3), 0]
    torch.testing.assert_close(points.target[0], joint - source)
    torch.testing.assert_close(points.z[0], (1 - rows.tau) * source + rows.tau * joint)


def test_training_points_of_random_groups_are_one_group_per_row():
    field, x, _, mixture = _setup(n_variables=5)
    rows = mixture.draw(200, 64, torch.Generator().manual_seed(0), torch.device("cpu"))
    points, (layout, index) = path_points(field, x, rows)
    assert points.z.shape == (64, 1, 3) and points.members.shape == (64, 3)
    torch.testing.assert_close(index, rows.members)  # scalar variables: coordinate = variable


def test_loss_is_the_masked_mean_squared_error():
    field, x, _, mixture = _setup()
    with torch.no_grad():
        field.net.b_out.normal_(generator=torch.Generator().manual_seed(2))
    rows = mixture.draw(200, 256, torch.Generator().manual_seed(1), torch.device("cpu"))
    points, geometry = path_points(field, x, rows)
    layout, index = geometry
    inputs = field.inputs(points.tau, points.active, points.members, layout, index)
    velocity = field.gaussian(points.z, inputs) + field.residual_field(points.z, inputs, layout)
    per_row = ((velocity - points.target) ** 2 * points.moving).sum(-1) / points.moving.sum(-1)
    loss = flow_matching_loss(field, points, geometry)
    torch.testing.assert_close(loss, per_row.mean())
    assert loss.requires_grad


@pytest.mark.parametrize("residual", ["mlp", "radial"])
def test_report_and_kept_weights(residual):
    field, x_fit, x_val, mixture = _setup(residual)
    seen = []
    report = _train(field, x_fit, x_val, mixture, on_validation=lambda step, loss: seen.append((step, loss)))
    assert isinstance(report, TrainingReport)
    assert report.n_fit == 200 and report.steps == 30
    steps = [s for s, _ in report.history]
    assert steps == [0, 10, 20, 30]
    assert report.history[0] == (0, report.val_loss_gauss)
    assert seen == report.history[1:]  # the callback sees every validation after the start
    assert all(np.isfinite(loss) for _, loss in report.history)
    losses = dict(report.history)
    assert report.best_step in losses and report.val_loss == losses[report.best_step]
    assert report.val_loss == min(losses.values()) <= report.val_loss_gauss
    assert not any(p.grad is None for p in field.net.parameters())  # it did take optimiser steps


def test_the_last_step_is_validated():
    """A budget that is not a multiple of ``eval_every`` still validates its final weights."""
    field, x_fit, x_val, mixture = _setup()
    report = _train(field, x_fit, x_val, mixture, max_steps=15, min_steps=15, eval_every=10)
    assert [step for step, _ in report.history] == [0, 10, 15]


def test_zero_steps_keep_the_gaussian_field():
    """``max_steps=0``: no optimiser step, the untrained (Gaussian) weights: the residual is 0."""
    field, x_fit, x_val, mixture = _setup()
    report = _train(field, x_fit, x_val, mixture, max_steps=0, min_steps=0, eval_every=100)
    assert report.steps == 0 and report.best_step == 0 and report.history == [(0, report.val_loss_gauss)]
    assert report.val_loss == report.val_loss_gauss
    assert bool((field.net.w_out == 0).all()) and bool((field.net.b_out == 0).all())


def test_early_stopping_waits_for_min_steps_and_patience():
    """A learning rate that ruins the fit: no validation improves, so training stops at the first validation
    at or after min_steps with `patience` stale validations, and the start (step 0) is kept."""
    field, x_fit, x_val, mixture = _setup()
    report = _train(
        field, x_fit, x_val, mixture, lr=30.0, max_steps=200, min_steps=20, eval_every=5, patience=2
    )
    if report.best_step == 0:
        assert bool((field.net.w_out == 0).all())
    best = [s for s, _ in report.history].index(report.best_step)
    stale = len(report.history) - 1 - best
    assert report.steps < 200
    assert report.steps >= 20 and stale >= 2
    assert report.steps == max(20, report.best_step + 2 * 5)


def test_training_of_one_system_is_deterministic_for_a_generator():
    a_field, x_fit, x_val, mixture = _setup(n_variables=3)
    b_field, *_ = _setup(n_variables=3)
    a = _train(a_field, x_fit, x_val, mixture, seed=3, max_steps=20, min_steps=20)
    b = _train(b_field, x_fit, x_val, mixture, seed=3, max_steps=20, min_steps=20)
    assert a == b
    for p, q in zip(a_field.net.parameters(), b_field.net.parameters(), strict=True):
        assert torch.equal(p, q)


def test_training_of_random_groups_is_reproducible_to_float_rounding():
    """Random groups per row: the same generator gives the same batches; the weights agree to rounding
    (see ``test_field.py::test_variable_mlp_gradients_are_bitwise_reproducible`` for why not bitwise)."""
    a_field, x_fit, x_val, mixture = _setup(n_variables=5)
    b_field, *_ = _setup(n_variables=5)
    a = _train(a_field, x_fit, x_val, mixture, seed=3, max_steps=20, min_steps=20)
    b = _train(b_field, x_fit, x_val, mixture, seed=3, max_steps=20, min_steps=20)
    assert (a.steps, a.best_step) == (b.steps, b.best_step)
    np.testing.assert_allclose([v for _, v in a.history], [v for _, v in b.history], rtol=1e-5)
    for p, q in zip(a_field.net.parameters(), b_field.net.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-6)
