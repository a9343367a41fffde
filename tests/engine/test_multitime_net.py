"""The multi-time field's residual parts, their choice and staged training, and the weighting of the two
O-information identities."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fmmi_neuro.engine import multitime as mt
from fmmi_neuro.engine.multitime_estimate import identity_weights, omega_weight
from fmmi_neuro.engine.multitime_net import (
    AUTO_RADIAL_ROWS_PER_COORDINATE,
    MultiTimeField,
    group_time_sampler,
    make_settings,
    resolve_residual,
    train_field,
)

RESIDUAL_OPTIONS = [
    {},
    {"mask_idle": True, "mahalanobis": True},
    {"residual": "radial"},
    {"residual": "radial+mlp", "mask_idle": True, "mahalanobis": True},
]


def _field(dims, seed=0, **options):
    generator = torch.Generator().manual_seed(seed)
    d_total = sum(dims)
    a = torch.randn(d_total, d_total, generator=generator)
    sigma = (a @ a.T / d_total + torch.eye(d_total))[None]
    field = MultiTimeField(sigma, dims, width=16, depth=2, n_frequencies=2, generator=generator, **options)
    with torch.no_grad():  # non-zero last layers, so the residual is not trivially 0
        for part in field.parts.values():
            part.weights[-1].normal_(generator=generator)
    return field


@pytest.mark.parametrize("options", RESIDUAL_OPTIONS)
def test_untrained_field_is_the_gaussian_velocity(options):
    dims = [1, 2, 1]
    field = _field(dims, **options)
    with torch.no_grad():
        for part in field.parts.values():
            part.weights[-1].zero_()
    z, tau = torch.randn(1, 50, 4), torch.rand(1, 50, 3)
    owner = torch.as_tensor(mt.coordinate_index(dims))
    expected = mt.gaussian_velocity(z, tau[..., owner], field.sigma[:, None], field.dblock[:, None])
    assert torch.allclose(field(z, tau), expected, atol=1e-5)


@pytest.mark.parametrize(
    "options",
    [{"mask_idle": True}, {"mask_idle": True, "mahalanobis": True}, {"residual": "radial"}],
)
def test_masked_residual_ignores_variables_at_time_zero(options):
    """A variable at time 0 is an independent shuffle: changing it must not change the residual of the
    other variables."""
    dims = [1, 2, 1]
    field = _field(dims, **options)
    z = torch.randn(1, 64, 4)
    tau = torch.rand(1, 64, 3) * 0.9 + 0.05
    tau[..., 1] = 0.0  # variable 1 (coordinates 1-2) sits at its shuffled start
    moved = z.clone()
    moved[..., 1:3] = torch.randn(1, 64, 2)
    others = [0, 3]
    with torch.no_grad():
        same = field.residual_field(z, tau)[..., others]
        after = field.residual_field(moved, tau)[..., others]
        assert torch.allclose(same, after, atol=1e-6)
        tau[..., 1] = 0.5  # once it moves, it matters
        assert not torch.allclose(
            field.residual_field(z, tau)[..., others], field.residual_field(moved, tau)[..., others]
        )


def test_radial_residual_is_odd_in_z():
    """Its coefficients see only sign-invariant statistics, so r(-z) = -r(z), like a scale mixture's field."""
    field = _field([2, 1, 3], residual="radial")
    z, tau = torch.randn(1, 40, 6), torch.rand(1, 40, 3)
    with torch.no_grad():
        assert torch.allclose(field.residual_field(-z, tau), -field.residual_field(z, tau), atol=1e-5)


def test_staged_training_keeps_each_stage_only_where_it_helps(rng):
    """radial+mlp: the MLP stage starts from the radial fit and keeps its best validation loss."""
    dims = [1, 1, 1]
    cov = np.array([[1.0, 0.5, 0.5], [0.5, 1.0, 0.5], [0.5, 0.5, 1.0]])
    x = rng.multivariate_normal(np.zeros(3), cov, size=400) / np.sqrt(rng.chisquare(3, size=(400, 1)) / 3)
    x = torch.as_tensor(((x - x.mean(0)) / x.std(0))[None], dtype=torch.float32)
    settings = make_settings(
        residual="radial+mlp", max_steps=60, min_steps=20, eval_every=10, batch_size=256, width=16
    )
    sigma = torch.as_tensor(np.cov(x[0, :300].numpy(), rowvar=False)[None], dtype=torch.float32)
    generator = torch.Generator().manual_seed(0)
    field = MultiTimeField.from_settings(sigma, dims, settings, generator, n_fit=300)
    sampler = group_time_sampler(3, settings.p_diagonal, torch.device("cpu"), settings.p_leave_out)
    report = train_field(field, x[:, :300], x[:, 300:], sampler, settings, generator)
    assert field.enabled == ["radial", "mlp"]
    assert len(report["stage_best_steps"]) == 2
    radial_loss, final_loss = report["stage_val_losses"]
    assert final_loss[0] <= radial_loss[0] <= report["val_loss_gauss"][0]
    assert report["val_loss"][0] == final_loss[0]
    assert not any(p.requires_grad for p in field.parts["radial"].parameters())


def _series(rng, n, noise_first, noise_second, k=3):
    """Per-sample path terms whose two Omega identities carry the given extra noise."""
    values = np.zeros((1, n, 2 * k + 1))
    values[..., 0] = 1.0 + rng.normal(size=(1, n)) * 0.01
    values[..., 1 : 1 + k] = 0.5 + rng.normal(size=(1, n, k)) * noise_first / np.sqrt(k)
    values[..., 1 + k :] = 0.5 + rng.normal(size=(1, n, k)) * noise_second / np.sqrt(k)
    return values


@pytest.mark.parametrize(
    ("noise_first", "noise_second", "low", "high"), [(0.05, 1.0, 0.0, 0.05), (1.0, 0.05, 0.95, 1.0)]
)
def test_identity_weights_favour_the_quieter_identity(rng, noise_first, noise_second, low, high):
    weight = identity_weights(_series(rng, 4000, noise_first, noise_second))
    assert weight.shape == (1,)
    assert low <= weight[0] <= high


def test_identity_weights_equal_noise_is_half_and_exact_terms_ignore_the_weight(rng):
    weight = identity_weights(_series(rng, 20000, 1.0, 1.0))
    assert weight[0] == pytest.approx(0.5, abs=0.1)
    tc, mi = 1.0, np.array([0.7, 0.6, 0.5])
    for w in (0.0, 0.3, 1.0):
        assert mt.assemble_terms(np.array(tc), mi, tc - mi, w)["o_info"] == pytest.approx(0.2)


def test_auto_omega_weighting_uses_the_second_identity_up_to_four_variables(rng):
    """k <= 4: the second identity alone (no one-moving term); k >= 5: the minimum-variance weight."""
    for k in (3, 4):
        series = _series(rng, 2000, 1.0, 1.0, k=k)
        np.testing.assert_array_equal(omega_weight(series, "auto"), [1.0])
        np.testing.assert_array_equal(omega_weight(series, "mean"), [0.5])
    series = _series(rng, 2000, 0.05, 1.0, k=5)
    np.testing.assert_array_equal(omega_weight(series, "auto"), identity_weights(series))
    assert omega_weight(series, "auto")[0] < 0.1


def test_auto_residual_is_radial_in_student_t_coordinates_or_with_few_rows_per_coordinate():
    rows = AUTO_RADIAL_ROWS_PER_COORDINATE
    assert resolve_residual("auto", 10 * rows, 10) == "mlp"
    assert resolve_residual("auto", 10 * rows - 1, 10) == "radial"
    assert resolve_residual("auto", 10 * rows, 10, student_t=True) == "radial"
    assert resolve_residual("mlp", 1, 10, student_t=True) == "mlp"


@pytest.mark.parametrize(
    ("name", "value"), [("omega_weighting", "median"), ("residual", "radial+gauss"), ("copula", "t")]
)
def test_bad_option_raises(name, value):
    with pytest.raises(ValueError, match=name):
        make_settings(**{name: value})
