"""Where the multi-time estimator looks: paths in time space and the points on them.

Each member j of a group gets its own time ``tau_j`` in [0, 1]. A point on the multi-time path is
``z_j = (1 - tau_j) x_j[pi_j] + tau_j x_j`` with an independent source row ``pi_j`` per member: at
``tau_j = 0`` member j is independent of everything, at ``tau_j = 1`` it is in its joint position. Along a
straight path ``tau(s) = base + s * moving`` the entropy changes by
``h(end) - h(start) = int_0^1 E[sum_{c moving} du_c/dz_c] ds`` for the velocity field ``u`` of the
multi-time flow (``gaussian_field``, ``field``).

The paths of a group S:

- ``diagonal``: all members move together from 0: entropy change ``-TC(X_S)``;
- ``one_moving(i)``: member i moves while the rest of S sits at 1: ``-I(X_i; X_{S-i})``;
- the leave-one-out term ``TC(X_{S-i})`` is the diagonal of the smaller group S - i.

Members outside a path (the left-out member of a leave-one-out diagonal) are *inactive*: the field ignores
them, since an independently shuffled variable carries no information about the others.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

PATH_KINDS = ("diagonal", "one_moving")


@dataclass(frozen=True)
class Path:
    """A straight path ``tau(s) = base + s * moving`` over the k members of a group.

    Attributes
    ----------
    base : ndarray, shape (k,)
        Times at s = 0 (0 = independent, 1 = joint).
    moving : ndarray of bool, shape (k,)
        Members whose time goes from 0 to 1.
    """

    base: np.ndarray
    moving: np.ndarray

    @classmethod
    def diagonal(cls, k: int) -> Path:
        """All k members move together (entropy change ``-TC``)."""
        return cls(np.zeros(k), np.ones(k, dtype=bool))

    @classmethod
    def one_moving(cls, k: int, i: int) -> Path:
        """Member i moves with the others at 1 (entropy change ``-I(X_i; X_-i)``)."""
        base = np.ones(k)
        base[i] = 0.0
        moving = np.zeros(k, dtype=bool)
        moving[i] = True
        return cls(base, moving)

    def times(self, s: torch.Tensor) -> torch.Tensor:
        """Member times at path positions ``s`` (shape (...)) -> shape (..., k)."""
        base = torch.as_tensor(self.base, dtype=s.dtype, device=s.device)
        moving = torch.as_tensor(self.moving, dtype=s.dtype, device=s.device)
        return base + s[..., None] * moving


def interpolate(x_joint: torch.Tensor, x_source: torch.Tensor, tau: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Points ``z = (1 - tau) x_source + tau x_joint`` and flow-matching targets ``x_joint - x_source``.

    x_joint, x_source (..., k, d); tau (..., k) -> z, target (..., k, d).
    """
    t = tau[..., None]
    return (1.0 - t) * x_source + t * x_joint, x_joint - x_source


def cyclic_derangement(
    n: int, generator: torch.Generator, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """A random permutation of ``range(n)`` with no fixed point (one n-cycle), shape (n,), long."""
    order = torch.randperm(n, generator=generator, device=device)
    partner = torch.empty_like(order)
    partner[order] = torch.roll(order, -1)
    return partner


@dataclass
class TrainingRows:
    """A batch of training points: which rows, which group members, which times.

    Attributes
    ----------
    rows : Tensor of long, shape (B,)
        Joint-position row of each point.
    sources : Tensor of long, shape (B, k)
        Independent source row of each member (never the joint row).
    members : Tensor of long, shape (B, k)
        Variable index of each member (a random group of k variables per row).
    tau, moving, active : Tensor, shape (B, k)
        Member times, the moving members (float 0/1) and the active members (bool; a left-out member of
        a leave-one-out diagonal is inactive).
    """

    rows: torch.Tensor
    sources: torch.Tensor
    members: torch.Tensor
    tau: torch.Tensor
    moving: torch.Tensor
    active: torch.Tensor


@dataclass(frozen=True)
class PathMixture:
    """The distribution of training points over groups and paths.

    Attributes
    ----------
    n_variables : int
        Variables a group is drawn from (uniformly among the k-subsets; all of them when k == n_variables).
    size : int
        Group size k.
    p_diagonal, p_leave_out, p_one_moving : float
        Probabilities of a diagonal, a leave-one-out diagonal and a one-moving path (sum to 1).
    moving_member : int or None
        Restricts one-moving paths to this member (``estimate_mi``'s conditional variant moves the last).
    """

    n_variables: int
    size: int
    p_diagonal: float
    p_leave_out: float
    p_one_moving: float
    moving_member: int | None = None

    def draw(self, n_rows: int, batch: int, generator: torch.Generator, device: torch.device) -> TrainingRows:
        """``batch`` training points over ``n_rows`` samples."""
        k = self.size
        rows = torch.randint(0, n_rows, (batch,), generator=generator, device=device)
        sources = torch.randint(0, n_rows - 1, (batch, k), generator=generator, device=device)
        sources = sources + (sources >= rows[:, None]).long()
        if self.n_variables == k:
            members = torch.arange(k, device=device).expand(batch, k)
        else:
            scores = torch.rand(batch, self.n_variables, generator=generator, device=device)
            members = scores.argsort(dim=1)[:, :k].sort(dim=1).values
        s = torch.rand(batch, 1, generator=generator, device=device)
        kind = torch.rand(batch, 1, generator=generator, device=device)
        if self.moving_member is None:
            chosen = torch.randint(0, k, (batch,), generator=generator, device=device)
        else:
            chosen = torch.full((batch,), self.moving_member, device=device)
        one_hot = torch.nn.functional.one_hot(chosen, k).to(s.dtype)
        diagonal = kind < self.p_diagonal
        leave_out = (kind >= self.p_diagonal) & (kind < self.p_diagonal + self.p_leave_out)
        ones = torch.ones_like(one_hot)
        moving = torch.where(diagonal, ones, torch.where(leave_out, 1.0 - one_hot, one_hot))
        tau = torch.where(diagonal | leave_out, s * moving, 1.0 - one_hot + s * one_hot)
        active = ~(leave_out & one_hot.bool())
        return TrainingRows(rows, sources, members, tau, moving, active)
