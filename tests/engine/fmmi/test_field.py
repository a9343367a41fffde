"""The velocity field ``u = u_Gauss + r_theta`` (``fmmi.field``): an untrained field is the closed-form
Gaussian velocity, the residual ignores inactive members, does not depend on the order in which members
are listed, a left-out member is the same as a smaller group, and gradients reach every parameter."""

from __future__ import annotations

import os

import pytest
import torch

from fmmi_neuro.engine.fmmi.divergence import exact_divergence
from fmmi_neuro.engine.fmmi.field import GroupLayout, MultiTimeField, VariableMLP
from fmmi_neuro.engine.fmmi.gaussian_field import gaussian_velocity

DIMS = [1, 2, 1, 2]
"""Four variables; groups (0, 1, 2) and (2, 3, 0) both have member dimensions (1, 2, 1)."""
RESIDUALS = ["mlp", "radial"]


def _field(residual: str, seed: int = 0, trained: bool = True, left_out_flag: bool = True) -> MultiTimeField:
    gen = torch.Generator().manual_seed(seed)
    d = sum(DIMS)
    a = torch.randn(d, d, generator=gen)
    sigma = a @ a.T / d + torch.eye(d)
    field = MultiTimeField(
        sigma,
        DIMS,
        residual=residual,
        width=16,
        depth=2,
        n_frequencies=2,
        generator=gen,
        left_out_flag=left_out_flag,
    )
    if trained:  # non-zero output weights, so the residual is not trivially 0
        with torch.no_grad():
            field.net.w_out.normal_(generator=gen)
            field.net.b_out.normal_(generator=gen)
    return field


def _batch(field, members, n=32, seed=1, active=None, tau=None, left_out=None):
    gen = torch.Generator().manual_seed(seed)
    members = torch.as_tensor(members)
    c, k = members.shape
    layout, index = field.layout(members)
    tau = torch.rand(c, n, k, generator=gen) if tau is None else tau
    active = torch.ones(c, n, k, dtype=torch.bool) if active is None else active
    inputs = field.inputs(tau, active, members, layout, index, left_out)
    z = torch.randn(c, n, index.shape[1], generator=gen)
    return z, inputs, layout, index


def test_layout_places_each_members_coordinates():
    field = _field("mlp", trained=False)
    layout, index = field.layout(torch.tensor([[0, 1, 2], [2, 3, 0]]))
    assert index.tolist() == [[0, 1, 2, 3], [3, 4, 5, 0]]
    assert layout.owner.tolist() == [0, 1, 1, 2] and layout.d_max == 2
    flat = torch.randn(5, 4)
    members = layout.to_members(flat)
    assert (
        members.shape == (5, 3, 2)
        and bool((members[:, 0, 1] == 0).all())
        and bool((members[:, 2, 1] == 0).all())
    )
    torch.testing.assert_close(layout.to_flat(members), flat)
    assert GroupLayout.from_dims([2, 2], 2, torch.device("cpu")).padded.tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("residual", RESIDUALS)
def test_untrained_field_is_the_gaussian_velocity(residual):
    field = _field(residual, trained=False)
    members = [[0, 1, 2], [2, 3, 0]]
    z, inputs, layout, index = _batch(field, members)
    assert bool((field.residual_field(z, inputs, layout) == 0).all())
    for c in range(2):
        sigma = field.sigma[index[c][:, None], index[c][None, :]]
        expected = gaussian_velocity(z[c], inputs.tau[c][..., layout.owner], sigma, layout.owner)
        torch.testing.assert_close(field.gaussian(z, inputs)[c], expected, atol=1e-5, rtol=1e-4)


def test_variable_mlp_output_starts_at_zero_and_uses_each_variables_weights():
    gen = torch.Generator().manual_seed(0)
    net = VariableMLP(4, 3, 1, 2, width=8, depth=3, generator=gen)
    features, glob = torch.randn(2, 5, 3, 3, generator=gen), torch.randn(2, 5, 1, generator=gen)
    members = torch.tensor([[0, 1, 2], [3, 1, 0]])
    out = net(features, glob, members)
    assert out.shape == (2, 5, 3, 2) and bool((out == 0).all())
    with torch.no_grad():
        net.b_out[3] = torch.tensor([1.0, -2.0])
    out = net(features, glob, members)
    torch.testing.assert_close(out[1, :, 0], torch.tensor([1.0, -2.0]).expand(5, 2))  # variable 3 in slot 0
    assert bool((out[0] == 0).all()) and bool((out[1, :, 1:] == 0).all())


@pytest.mark.parametrize("residual", RESIDUALS)
def test_residual_ignores_inactive_members(residual):
    """An inactive member (a left-out variable) changes nothing and gets no residual velocity."""
    field = _field(residual)
    active = torch.ones(1, 32, 3, dtype=torch.bool)
    active[..., 1] = False
    tau = torch.rand(1, 32, 3, generator=torch.Generator().manual_seed(3))
    tau[..., 1] = 0.0
    z, inputs, layout, _ = _batch(field, [[0, 1, 2]], active=active, tau=tau)
    moved = z.clone()
    moved[..., 1:3] = torch.randn(1, 32, 2, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        before, after = field.residual_field(z, inputs, layout), field.residual_field(moved, inputs, layout)
    torch.testing.assert_close(before[..., [0, 3]], after[..., [0, 3]])
    assert bool((before[..., 1:3] == 0).all())
    assert before[..., [0, 3]].abs().max() > 1e-3


@pytest.mark.parametrize("residual", RESIDUALS)
def test_a_left_out_member_is_the_smaller_group(residual):
    """Group (0, 1, 2) with member 1 inactive at time 0 gives the field of group (0, 2) evaluated as a
    leave-one-out diagonal (``left_out=True``), Gaussian part too; as a group of its own it differs."""
    field = _field(residual)
    gen = torch.Generator().manual_seed(5)
    tau = torch.rand(1, 32, 3, generator=gen)
    tau[..., 1] = 0.0
    active = torch.ones(1, 32, 3, dtype=torch.bool)
    active[..., 1] = False
    z, inputs, layout, _ = _batch(field, [[0, 1, 2]], active=active, tau=tau)
    _, inputs_small, layout_small, _ = _batch(field, [[0, 2]], tau=tau[..., [0, 2]], left_out=True)
    _, inputs_alone, _, _ = _batch(field, [[0, 2]], tau=tau[..., [0, 2]])
    z_small = z[..., [0, 3]]  # the coordinates of members 0 and 2
    with torch.no_grad():
        big = field.residual_field(z, inputs, layout)[..., [0, 3]]
        small = field.residual_field(z_small, inputs_small, layout_small)
        torch.testing.assert_close(big, small, atol=1e-5, rtol=1e-4)
        alone = field.residual_field(z_small, inputs_alone, layout_small)
        assert not torch.allclose(alone, small, atol=1e-4)
        gauss_big = field.gaussian(z, inputs)[..., [0, 3]]
        torch.testing.assert_close(gauss_big, field.gaussian(z_small, inputs_small), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("residual", RESIDUALS)
def test_without_the_flag_a_left_out_member_is_the_plain_smaller_group(residual):
    """Fields of larger groups (``left_out_flag=False``) pool the leave-one-out diagonals with the smaller
    groups' own diagonals: the same field either way."""
    field = _field(residual, left_out_flag=False)
    tau = torch.rand(1, 32, 2, generator=torch.Generator().manual_seed(5))
    z, flagged, layout, _ = _batch(field, [[0, 2]], tau=tau, left_out=True)
    _, plain, _, _ = _batch(field, [[0, 2]], tau=tau)
    with torch.no_grad():
        torch.testing.assert_close(
            field.residual_field(z, flagged, layout), field.residual_field(z, plain, layout)
        )


@pytest.mark.parametrize("residual", RESIDUALS)
def test_field_does_not_depend_on_the_order_of_members(residual):
    field = _field(residual)
    z, inputs, layout, _ = _batch(field, [[0, 1, 2]])
    order = [2, 0, 1]
    _, inputs_perm, layout_perm, _ = _batch(field, [order], tau=inputs.tau[..., order])
    z_perm = layout_perm.to_flat(layout.to_members(z)[..., order, :])
    with torch.no_grad():
        out = layout.to_members(field.residual_field(z, inputs, layout) + field.gaussian(z, inputs))
        out_perm = field.residual_field(z_perm, inputs_perm, layout_perm) + field.gaussian(
            z_perm, inputs_perm
        )
    torch.testing.assert_close(layout_perm.to_members(out_perm), out[..., order, :], atol=1e-5, rtol=1e-4)


def test_radial_residual_is_odd_in_z():
    """Its coefficients see only sign-invariant statistics, so r(-z) = -r(z), like a scale mixture's field."""
    field = _field("radial")
    z, inputs, layout, _ = _batch(field, [[0, 1, 2], [2, 3, 0]])
    with torch.no_grad():
        torch.testing.assert_close(
            field.residual_field(-z, inputs, layout), -field.residual_field(z, inputs, layout)
        )


@pytest.mark.parametrize("residual", RESIDUALS)
def test_gradients_reach_every_parameter(residual):
    field = _field(residual)
    z, inputs, layout, _ = _batch(field, [[0, 1, 2], [2, 3, 0]])
    z2, inputs2, layout2, _ = _batch(field, [[1, 2, 3]], seed=2)
    loss = (
        field.residual_field(z, inputs, layout).pow(2).mean()
        + field.residual_field(z2, inputs2, layout2).pow(2).mean()
    )
    loss.backward()
    for name, p in field.net.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name
    assert not field.sigma.requires_grad


def test_embedding_and_buffers_follow_the_field():
    field = _field("mlp", trained=False)
    tau = torch.rand(3, 4)
    emb = field.embed(tau)
    assert emb.shape == (3, 4, 5)
    torch.testing.assert_close(emb[..., 0], tau)
    torch.testing.assert_close(emb[..., 1], torch.sin(torch.pi * tau))
    names = {name for name, _ in field.named_buffers()}
    assert {"sigma", "coord_start", "frequencies"} <= names
    double = _field("mlp", trained=False).double()
    assert double.sigma.dtype == torch.float64 and double.frequencies.dtype == torch.float64


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="only multi-threaded CPU reductions reorder sums")
def test_variable_mlp_gradients_are_bitwise_reproducible():
    previous = torch.get_num_threads()
    torch.set_num_threads(2)  # the default on a multi-core machine (the engine tests otherwise use one)
    try:
        gen = torch.Generator().manual_seed(0)
        net = VariableMLP(4, 5, 1, 3, width=16, depth=2, generator=gen)
        with torch.no_grad():
            net.w_out.normal_(generator=gen)
        members = torch.randint(0, 4, (1024, 3), generator=gen)
        features, glob = torch.randn(1024, 1, 3, 5, generator=gen), torch.randn(1024, 1, 1, generator=gen)
        grads = []
        for _ in range(10):
            net.zero_grad()
            net(features, glob, members).sin().sum().backward()
            grads.append([p.grad.clone() for p in net.parameters()])
    finally:
        torch.set_num_threads(previous)
    for other in grads[1:]:
        for g, h in zip(grads[0], other, strict=True):
            assert torch.equal(g, h)


@pytest.mark.parametrize(
    ("dims", "members"),
    [
        ([1] * 6, [[0, 2, 5], [1, 3, 4]]),
        ([1, 2, 2], [[0, 1, 2]]),
        ([1] * 6, [[0, 2], [1, 3]]),
        ([3, 1, 2], [[0, 1, 2]]),
    ],
)
def test_mlp_divergence_carried_forward_by_hand_equals_the_jacobian_trace(dims, members):
    """``residual_divergence`` (forward-mode by hand) against exact Jacobian-vector products."""
    sigma = torch.eye(sum(dims)) + 0.3
    field = MultiTimeField(
        sigma,
        dims,
        residual="mlp",
        width=16,
        depth=3,
        n_frequencies=3,
        generator=torch.Generator().manual_seed(1),
    )
    gen = torch.Generator().manual_seed(2)
    with torch.no_grad():
        field.net.w_out.copy_(torch.randn(field.net.w_out.shape, generator=gen))
        field.net.b_out.copy_(torch.randn(field.net.b_out.shape, generator=gen))
    group = torch.tensor(members)
    layout, index = field.layout(group)
    shape = (len(members), 40, len(members[0]))
    inputs = field.inputs(
        torch.rand(shape, generator=gen), torch.ones(shape, dtype=torch.bool), group, layout, index
    )
    z = torch.randn(len(members), 40, index.shape[1], generator=gen)
    for moving in (torch.ones(index.shape[1], dtype=torch.bool), torch.arange(index.shape[1]) == 0):
        expected = exact_divergence(lambda q: field.residual_field(q, inputs, layout), z, moving)
        with torch.no_grad():
            got = field.residual_divergence(z, inputs, layout, moving)
        torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
