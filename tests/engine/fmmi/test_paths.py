"""Multi-time paths (``fmmi.paths``): the straight paths in time space, the points on them, the
derangements that make source rows independent and the mixture of training paths."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fmmi_neuro.engine.fmmi.paths import Path, PathMixture, cyclic_derangement, interpolate


def test_diagonal_path_moves_every_member_from_zero():
    path = Path.diagonal(3)
    np.testing.assert_array_equal(path.base, [0, 0, 0])
    np.testing.assert_array_equal(path.moving, [True, True, True])
    s = torch.tensor([0.0, 0.25, 1.0], dtype=torch.float64)
    times = path.times(s)
    assert times.dtype == torch.float64 and times.shape == (3, 3)
    torch.testing.assert_close(times, s[:, None].expand(3, 3))


def test_one_moving_path_holds_the_others_at_one():
    path = Path.one_moving(4, 2)
    np.testing.assert_array_equal(path.base, [1, 1, 0, 1])
    np.testing.assert_array_equal(path.moving, [False, False, True, False])
    s = torch.rand(5, 7, generator=torch.Generator().manual_seed(0))
    times = path.times(s)
    assert times.shape == (5, 7, 4)
    torch.testing.assert_close(times[..., 2], s)
    assert bool((times[..., [0, 1, 3]] == 1).all())


def test_interpolate_goes_from_source_to_joint():
    gen = torch.Generator().manual_seed(1)
    joint, source = torch.randn(6, 3, 2, generator=gen), torch.randn(6, 3, 2, generator=gen)
    z, target = interpolate(joint, source, torch.zeros(6, 3))
    torch.testing.assert_close(z, source)
    torch.testing.assert_close(target, joint - source)
    z, _ = interpolate(joint, source, torch.ones(6, 3))
    torch.testing.assert_close(z, joint)
    tau = torch.tensor([0.0, 0.5, 1.0]).expand(6, 3)
    z, _ = interpolate(joint, source, tau)
    torch.testing.assert_close(z[:, 1], 0.5 * (joint[:, 1] + source[:, 1]))  # each member on its own time


@pytest.mark.parametrize("n", [2, 3, 50])
def test_cyclic_derangement_is_one_cycle_without_fixed_points(n):
    perm = cyclic_derangement(n, torch.Generator().manual_seed(n))
    assert sorted(perm.tolist()) == list(range(n))
    assert bool((perm != torch.arange(n)).all())
    seen, i = set(), 0
    for _ in range(n):
        seen.add(i)
        i = int(perm[i])
    assert len(seen) == n and i == 0
    again = cyclic_derangement(n, torch.Generator().manual_seed(n))
    assert torch.equal(perm, again)


def _draw(mixture, n_rows=40, batch=20_000, seed=0):
    return mixture.draw(n_rows, batch, torch.Generator().manual_seed(seed), torch.device("cpu"))


def test_mixture_rows_sources_and_members():
    rows = _draw(PathMixture(6, 3, 0.3, 0.35, 0.35))
    assert rows.rows.shape == (20_000,) and rows.sources.shape == (20_000, 3)
    assert rows.rows.min() >= 0 and rows.rows.max() < 40
    assert rows.sources.min() >= 0 and rows.sources.max() < 40
    assert bool((rows.sources != rows.rows[:, None]).all())  # a source is never the joint row
    members = rows.members
    assert bool((members[:, 1:] > members[:, :-1]).all())  # sorted, distinct
    assert members.min() >= 0 and members.max() < 6
    frequency = torch.bincount(members.flatten(), minlength=6).double() / 20_000
    torch.testing.assert_close(frequency, torch.full((6,), 0.5, dtype=torch.float64), atol=0.02, rtol=0)
    whole = _draw(PathMixture(3, 3, 0.3, 0.35, 0.35), batch=10)
    assert torch.equal(whole.members, torch.arange(3).expand(10, 3))


def test_mixture_paths_have_the_stated_probabilities_and_shapes():
    p_diagonal, p_leave_out = 0.2, 0.5
    rows = _draw(PathMixture(4, 4, p_diagonal, p_leave_out, 1 - p_diagonal - p_leave_out))
    tau, moving, active = rows.tau, rows.moving, rows.active
    assert float(tau.min()) >= 0 and float(tau.max()) <= 1
    n_moving = moving.sum(1)
    diagonal = (n_moving == 4) & active.all(1)
    leave_out = (n_moving == 3) & (~active).sum(1).eq(1)
    one_moving = (n_moving == 1) & active.all(1)
    assert bool((diagonal | leave_out | one_moving).all())
    for share, p in (
        (diagonal, p_diagonal),
        (leave_out, p_leave_out),
        (one_moving, 1 - p_diagonal - p_leave_out),
    ):
        assert abs(float(share.double().mean()) - p) < 4 * np.sqrt(p * (1 - p) / 20_000)
    # diagonal: one time for all; leave-out: the inactive member sits at 0 and does not move
    assert bool((tau[diagonal] == tau[diagonal][:, :1]).all())
    out = leave_out[:, None] & ~active
    assert bool((tau[out] == 0).all()) and bool((moving[out] == 0).all())
    moved = leave_out[:, None] & active
    assert bool((moving[moved] == 1).all())
    # one-moving: the others sit at 1
    still = one_moving[:, None] & (moving == 0)
    assert bool((tau[still] == 1).all())


def test_moving_member_is_the_only_one_that_moves():
    rows = _draw(PathMixture(2, 2, 0.0, 0.0, 1.0, moving_member=1), batch=500)
    assert bool((rows.moving[:, 1] == 1).all()) and bool((rows.moving[:, 0] == 0).all())
    assert bool((rows.tau[:, 0] == 1).all()) and bool(rows.active.all())


def test_draw_is_deterministic_for_a_generator():
    mixture = PathMixture(5, 3, 0.3, 0.35, 0.35)
    a, b, c = (
        _draw(mixture, seed=3, batch=64),
        _draw(mixture, seed=3, batch=64),
        _draw(mixture, seed=4, batch=64),
    )
    for name in ("rows", "sources", "members", "tau", "moving", "active"):
        assert torch.equal(getattr(a, name), getattr(b, name)), name
    assert not torch.equal(a.tau, c.tau)
