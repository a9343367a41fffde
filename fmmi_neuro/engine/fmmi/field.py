"""The velocity field: the closed-form Gaussian velocity plus a learned residual, ``u = u_Gauss + r_theta``.

``u_Gauss`` (``gaussian_field``) is the optimal field of a Gaussian with the training fold's covariance, so
an untrained field (``r_theta = 0``: the residual's output layer starts at zero) gives the Gaussian-copula
answer exactly, and the network only learns the non-Gaussian correction. Because the divergence of
``u_Gauss`` is constant in z, the estimator integrates it in closed form and only the residual's
divergence is estimated by Monte Carlo.

The field acts on one group of variables at a time (a batch of groups with the same member dimensions):
``z`` holds the group's coordinates, ``tau`` its members' times, ``active`` which members take part (a
left-out member of a leave-one-out path is inactive, and ignored), and ``members`` which variables the
members are. Both residuals use per-variable weights (``VariableMLP``): a member's features enter the
first layer through the weights of *its* variable and its output leaves through them, so one network serves
every group of an atlas, the field is unchanged when the members are listed in another order, and an
inactive member contributes exactly nothing.

- ``"mlp"`` residual: an MLP over each active member's ``[z_j, z_j ** 2, time features]`` and the
  Mahalanobis statistic ``log(1 + z' S_tau^{-1} z)`` (the statistic elliptical dependence acts through; the
  squares pick up heteroscedastic dependence in a few hundred steps).

In groups of at most ``LEFT_OUT_FLAG_MAX_VARS`` variables both also see whether the points lie on a
leave-one-out diagonal (``FieldInputs.left_out``). A left-out member contributes nothing, so the field of
a leave-one-out diagonal of S is that of the smaller group S - i, evaluated there once for every group
sharing it; the flag lets the network learn the two kinds of path apart. That helps where the groups are
small and the smaller groups differ from the whole (a weak-synergy Student-t triplet at n = 10,000:
Omega -0.06 without the flag, -0.11 to -0.15 with it, truth -0.17), and hurts where they resemble it
(redundant Student-t systems of 5 and 10 variables: 1.64 -> 1.44 and 5.35 -> 4.19 at n = 10,000, truths
1.61 and 5.34), where pooling the paths lets each leave-one-out term borrow from the others
(``benchmarks/RESULTS.md``).
- ``"radial"`` residual: ``r_j = alpha_j z_j + beta_j (S_tau^{-1} z)_j + gamma_j (u_Gauss)_j`` with
  per-member coefficients from a small network of rotation-invariant statistics only, so it cannot
  memorise sample points and learns elliptical (shared-scale) dependence from a few hundred samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from fmmi_neuro.engine.fmmi.divergence import exact_divergence
from fmmi_neuro.engine.fmmi.gaussian_field import block_diagonal, field_matrices

LEFT_OUT_FLAG_MAX_VARS = 4
"""Groups of at most this many variables get the leave-one-out flag among the network's inputs (see the
module notes: measured on 3-variable systems, where it helped, and 5- and 10-variable ones, where it hurt)."""
RADIAL_WIDTH = 64
"""Hidden width of the radial residual's coefficient network (2 hidden layers)."""


@dataclass
class GroupLayout:
    """Where the coordinates of a group's members sit in a flat vector.

    Attributes
    ----------
    owner : Tensor of long, shape (D_S,)
        Member (slot) of each coordinate.
    slot_dims : Tensor, shape (k,)
        Dimension of each member.
    padded : Tensor of long, shape (D_S,)
        Position of each coordinate in the member-major padded layout (k, d_max).
    d_max : int
    """

    owner: torch.Tensor
    slot_dims: torch.Tensor
    padded: torch.Tensor
    d_max: int

    @classmethod
    def from_dims(cls, dims: list[int], d_max: int, device: torch.device) -> GroupLayout:
        owner = torch.repeat_interleave(torch.arange(len(dims)), torch.as_tensor(dims))
        offset = torch.cat([torch.arange(d) for d in dims])
        return cls(
            owner=owner.to(device),
            slot_dims=torch.as_tensor(dims, dtype=torch.float32, device=device),
            padded=(owner * d_max + offset).to(device),
            d_max=d_max,
        )

    def to_members(self, flat: torch.Tensor) -> torch.Tensor:
        """(..., D_S) -> (..., k, d_max), zero-padded."""
        k = self.slot_dims.numel()
        out = flat.new_zeros((*flat.shape[:-1], k * self.d_max))
        out[..., self.padded] = flat
        return out.reshape(*flat.shape[:-1], k, self.d_max)

    def to_flat(self, members: torch.Tensor) -> torch.Tensor:
        """(..., k, d_max) -> (..., D_S)."""
        return members.flatten(-2)[..., self.padded]


class VariableMLP(nn.Module):
    """An MLP over the members of a group with per-variable first-layer and output weights.

    ``h = silu(sum_j f_j W_in[v_j] + g W_global + b)``, then ``depth - 1`` shared hidden layers, then
    ``out_j = h W_out[v_j] + b_out[v_j]`` for member j, variable v_j. The output weights start at zero.

    Parameters
    ----------
    n_variables : int
        Variables the members are drawn from (R).
    member_features, global_features, member_outputs : int
        Features per member (F), features of the whole group (G) and outputs per member (O).
    width, depth : int
    generator : torch.Generator
        Initialisation randomness (PyTorch's default ranges ``U(+-1/sqrt(fan_in))``).
    """

    def __init__(
        self,
        n_variables: int,
        member_features: int,
        global_features: int,
        member_outputs: int,
        width: int,
        depth: int,
        generator: torch.Generator,
    ):
        super().__init__()

        def uniform(shape: tuple[int, ...], fan_in: int) -> nn.Parameter:
            bound = 1.0 / math.sqrt(fan_in)
            return nn.Parameter((torch.rand(shape, generator=generator) * 2 - 1) * bound)

        fan_in = member_features + global_features
        self.w_in = uniform((n_variables, member_features, width), fan_in)
        self.w_global = uniform((global_features, width), fan_in)
        self.b_in = uniform((width,), fan_in)
        self.hidden = nn.ParameterList()
        for _ in range(depth - 1):
            self.hidden.append(uniform((width, width), width))
            self.hidden.append(uniform((width,), width))
        self.w_out = nn.Parameter(torch.zeros(n_variables, width, member_outputs))
        self.b_out = nn.Parameter(torch.zeros(n_variables, member_outputs))

    def forward(self, features: torch.Tensor, global_features: torch.Tensor, members: torch.Tensor):
        """features (C, N, k, F), global_features (C, N, G), members (C, k) -> (C, N, k, O).

        Per-variable weights are selected with ``index_select``, whose gradient is summed in a fixed order
        (plain indexing accumulates in a thread-dependent order, which broke bitwise reproducibility).
        """
        flat = members.reshape(-1)
        w_in = torch.index_select(self.w_in, 0, flat).view(*members.shape, *self.w_in.shape[1:])
        h = torch.einsum("cnkf,ckfw->cnw", features, w_in)
        h = nn.functional.silu(h + global_features @ self.w_global + self.b_in)
        for i in range(0, len(self.hidden), 2):
            h = nn.functional.silu(h @ self.hidden[i] + self.hidden[i + 1])
        w_out = torch.index_select(self.w_out, 0, flat).view(*members.shape, *self.w_out.shape[1:])
        b_out = torch.index_select(self.b_out, 0, flat).view(*members.shape, -1)
        return torch.einsum("cnw,ckwo->cnko", h, w_out) + b_out[:, None]


@dataclass
class FieldInputs:
    """Everything the field needs besides ``z`` for one batch of points, computed once per batch.

    ``a`` and ``precision`` (``S_tau^{-1}``) do not depend on z, so a divergence (a derivative in z) can
    reuse them. Shapes: ``tau``/``active`` (C, N, k); ``a``/``precision`` (C, N, D_S, D_S); ``members``
    (C, k); ``coord_active`` (C, N, D_S); ``left_out`` (C, N, 1), 1 on a leave-one-out diagonal.
    """

    tau: torch.Tensor
    active: torch.Tensor
    members: torch.Tensor
    a: torch.Tensor
    precision: torch.Tensor
    coord_active: torch.Tensor
    left_out: torch.Tensor


class MultiTimeField(nn.Module):
    """``u = u_Gauss + r_theta`` over groups of variables (see the module notes).

    Parameters
    ----------
    sigma : Tensor, shape (D, D)
        Joint covariance of all variables' (transformed) coordinates on the training fold.
    dims : list of int, length R
        Dimension of each variable.
    residual : {"mlp", "radial"}
    width, depth, n_frequencies : int
        Residual MLP size and time-embedding frequencies.
    generator : torch.Generator
        Initialisation randomness.
    left_out_flag : bool
        Whether the network sees the leave-one-out flag (``LEFT_OUT_FLAG_MAX_VARS``).
    """

    def __init__(
        self,
        sigma: torch.Tensor,
        dims: list[int],
        *,
        residual: str,
        width: int,
        depth: int,
        n_frequencies: int,
        generator: torch.Generator,
        left_out_flag: bool = True,
    ):
        super().__init__()
        self.dims = list(dims)
        self.residual = residual
        self.left_out_flag = left_out_flag
        self.d_max = max(dims)
        starts = [0, *torch.cumsum(torch.as_tensor(dims), 0).tolist()]
        self.register_buffer("sigma", sigma)
        self.register_buffer("coord_start", torch.as_tensor(starts[:-1]))
        self.register_buffer("frequencies", math.pi * torch.arange(1, n_frequencies + 1, dtype=sigma.dtype))
        n_time = 1 + 2 * n_frequencies
        n_global = 2 if left_out_flag else 1
        if residual == "mlp":
            self.net = VariableMLP(
                len(dims), 2 * self.d_max + n_time, n_global, self.d_max, width, depth, generator
            )
        else:
            self.net = VariableMLP(len(dims), 2 + n_time, n_global, 3, RADIAL_WIDTH, 2, generator)

    def layout(self, members: torch.Tensor) -> tuple[GroupLayout, torch.Tensor]:
        """Layout of groups with member variables ``members`` (C, k) and the index of their coordinates in the
        full coordinate vector, shape (C, D_S). Every group must have the same member dimensions."""
        dims = [self.dims[int(v)] for v in members[0]]
        sizes = torch.as_tensor(self.dims, device=members.device)[members]
        if not bool((sizes == sizes[:1]).all()):
            raise ValueError("groups evaluated together must have the same member dimensions.")
        layout = GroupLayout.from_dims(dims, self.d_max, members.device)
        offset = torch.cat([torch.arange(d, device=members.device) for d in dims])
        index = self.coord_start[members][:, layout.owner] + offset
        return layout, index

    def inputs(
        self,
        tau: torch.Tensor,
        active: torch.Tensor,
        members: torch.Tensor,
        layout: GroupLayout,
        index: torch.Tensor,
        left_out: bool | None = None,
    ) -> FieldInputs:
        """``FieldInputs`` for times ``tau`` and ``active`` (C, N, k) of groups ``members`` (C, k).

        ``left_out``: whether the points lie on a leave-one-out diagonal; default where a member is
        inactive. (``score`` evaluates the leave-one-out terms on the smaller groups and says so.)
        """
        sigma = self.sigma[index[:, :, None], index[:, None, :]][:, None]
        tau_c = tau[..., layout.owner]
        a, s_tau = field_matrices(tau_c, sigma, block_diagonal(sigma, layout.owner))
        coord_active = active[..., layout.owner].to(tau.dtype)
        if left_out is None:
            flag = (~active).any(-1, keepdim=True).to(tau.dtype)
        else:
            flag = torch.full((*tau.shape[:-1], 1), float(left_out), dtype=tau.dtype, device=tau.device)
        return FieldInputs(tau, active, members, a, torch.linalg.inv(s_tau), coord_active, flag)

    def _context(self, norm: torch.Tensor, inputs: FieldInputs) -> torch.Tensor:
        """Global features of every member: the Mahalanobis statistic (and the leave-one-out flag)."""
        return torch.cat([norm, inputs.left_out], dim=-1) if self.left_out_flag else norm

    def embed(self, tau: torch.Tensor) -> torch.Tensor:
        """Time features ``[tau, sin(f tau), cos(f tau)]``; (..., k) -> (..., k, 1 + 2F)."""
        angles = tau[..., None] * self.frequencies
        return torch.cat([tau[..., None], torch.sin(angles), torch.cos(angles)], dim=-1)

    def gaussian(self, z: torch.Tensor, inputs: FieldInputs) -> torch.Tensor:
        """``u_Gauss`` at z (C, N, D_S) -> (C, N, D_S) (inactive members' coordinates masked to zero)."""
        w = (inputs.precision @ (z * inputs.coord_active)[..., None])[..., 0]
        return (inputs.a @ w[..., None])[..., 0]

    def residual_field(self, z: torch.Tensor, inputs: FieldInputs, layout: GroupLayout) -> torch.Tensor:
        """``r_theta`` at z (C, N, D_S) -> (C, N, D_S); zero on inactive members."""
        z = z * inputs.coord_active
        w = (inputs.precision @ z[..., None])[..., 0]
        norm = torch.log1p((z * w).sum(-1, keepdim=True).clamp(min=0.0))
        active = inputs.active.to(z.dtype)[..., None]
        time = self.embed(inputs.tau)
        zm = layout.to_members(z)
        context = self._context(norm, inputs)
        if self.residual == "mlp":
            features = torch.cat([zm, zm * zm, time], dim=-1) * active
            return layout.to_flat(self.net(features, context, inputs.members) * active)
        wm = layout.to_members(w)
        spread = torch.log1p((zm * zm).sum(-1, keepdim=True) / layout.slot_dims[:, None])
        alignment = (zm * wm).sum(-1, keepdim=True)
        alignment = alignment / (1.0 + alignment.abs())
        coef = (
            self.net(torch.cat([spread, alignment, time], dim=-1) * active, context, inputs.members) * active
        )
        alpha, beta, gamma = (coef[..., j : j + 1][..., layout.owner, 0] for j in range(3))
        gauss = (inputs.a @ w[..., None])[..., 0]
        return (alpha * z + beta * w + gamma * gauss) * inputs.coord_active

    def residual_divergence(
        self, z: torch.Tensor, inputs: FieldInputs, layout: GroupLayout, moving: torch.Tensor
    ) -> torch.Tensor:
        """Exact ``sum_{c in moving} d r_c / d z_c`` at z (C, N, D_S) -> (C, N).

        For the MLP residual the derivatives are carried forward by hand with the network: one forward
        pass plus one hidden-layer product per moving coordinate, all coordinates batched (about half the
        work of a Jacobian-vector product per coordinate, without its overhead). The radial residual
        uses ``divergence.exact_divergence``.
        """
        if self.residual != "mlp":

            def residual(q: torch.Tensor) -> torch.Tensor:
                return self.residual_field(q, inputs, layout)

            return exact_divergence(residual, z, moving)
        net = self.net
        z = z * inputs.coord_active
        w = (inputs.precision @ z[..., None])[..., 0]
        quad = (z * w).sum(-1, keepdim=True)
        norm = torch.log1p(quad.clamp(min=0.0))
        d_norm = torch.where(quad > 0, 2.0 * w / (1.0 + quad), torch.zeros_like(w))
        active = inputs.active.to(z.dtype)
        zm = layout.to_members(z)
        features = torch.cat([zm, zm * zm, self.embed(inputs.tau)], dim=-1) * active[..., None]
        flat = inputs.members.reshape(-1)
        w_in = torch.index_select(net.w_in, 0, flat).view(*inputs.members.shape, *net.w_in.shape[1:])
        w_out = torch.index_select(net.w_out, 0, flat).view(*inputs.members.shape, *net.w_out.shape[1:])
        context = self._context(norm, inputs)
        pre = torch.einsum("cnkf,ckfw->cnw", features, w_in) + context @ net.w_global + net.b_in
        coords = torch.nonzero(moving).flatten()
        member, position = layout.owner[coords], layout.padded[coords] % layout.d_max
        gate = active[..., member].permute(2, 0, 1)[..., None]  # (m, C, N, 1)
        value = z[..., coords].permute(2, 0, 1)[..., None]
        d_pre = (
            gate
            * (
                w_in[:, member, position].transpose(0, 1)[:, :, None]
                + 2.0 * value * w_in[:, member, layout.d_max + position].transpose(0, 1)[:, :, None]
            )
            + d_norm[..., coords].permute(2, 0, 1)[..., None] * net.w_global[0]
        )
        sig = torch.sigmoid(pre)
        hidden, d_hidden = pre * sig, sig * (1.0 + pre * (1.0 - sig)) * d_pre
        for i in range(0, len(net.hidden), 2):
            pre = hidden @ net.hidden[i] + net.hidden[i + 1]
            sig = torch.sigmoid(pre)
            hidden, d_hidden = pre * sig, sig * (1.0 + pre * (1.0 - sig)) * (d_hidden @ net.hidden[i])
        out_weights = w_out[:, member, :, position][:, :, None]  # (m, C, 1, W): advanced indices first
        return ((d_hidden * out_weights).sum(-1) * gate[..., 0]).sum(0)
