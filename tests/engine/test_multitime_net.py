"""The multi-time field's inputs and the weighting of the two O-information identities."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fmmi_neuro.engine import multitime as mt
from fmmi_neuro.engine.multitime_estimate import identity_weights
from fmmi_neuro.engine.multitime_net import MultiTimeField


def _field(dims, seed=0, **options):
    generator = torch.Generator().manual_seed(seed)
    d_total = sum(dims)
    a = torch.randn(d_total, d_total, generator=generator)
    sigma = (a @ a.T / d_total + torch.eye(d_total))[None]
    field = MultiTimeField(sigma, dims, width=16, depth=2, n_frequencies=2, generator=generator, **options)
    with torch.no_grad():  # a non-zero last layer, so the residual is not trivially 0
        field.residual.weights[-1].normal_(generator=generator)
    return field


@pytest.mark.parametrize("options", [{}, {"mask_idle": True, "mahalanobis": True}])
def test_untrained_field_is_the_gaussian_velocity(options):
    dims = [1, 2, 1]
    field = _field(dims, **options)
    with torch.no_grad():
        field.residual.weights[-1].zero_()
    z, tau = torch.randn(1, 50, 4), torch.rand(1, 50, 3)
    owner = torch.as_tensor(mt.coordinate_index(dims))
    expected = mt.gaussian_velocity(z, tau[..., owner], field.sigma[:, None], field.dblock[:, None])
    assert torch.allclose(field(z, tau), expected, atol=1e-5)


@pytest.mark.parametrize("mahalanobis", [False, True])
def test_masked_residual_ignores_variables_at_time_zero(mahalanobis):
    """A variable at time 0 is an independent shuffle: changing it must not change the residual."""
    dims = [1, 2, 1]
    field = _field(dims, mask_idle=True, mahalanobis=mahalanobis)
    z = torch.randn(1, 64, 4)
    tau = torch.rand(1, 64, 3) * 0.9 + 0.05
    tau[..., 1] = 0.0  # variable 1 (coordinates 1-2) sits at its shuffled start
    moved = z.clone()
    moved[..., 1:3] = torch.randn(1, 64, 2)
    with torch.no_grad():
        same = field.residual_field(z, tau)
        after = field.residual_field(moved, tau)
        assert torch.allclose(same, after, atol=1e-6)
        tau[..., 1] = 0.5  # once it moves, it matters
        assert not torch.allclose(field.residual_field(z, tau), field.residual_field(moved, tau))


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


def test_bad_omega_weighting_raises():
    from fmmi_neuro.engine.multitime_net import make_settings

    with pytest.raises(ValueError, match="omega_weighting"):
        make_settings(omega_weighting="median")
