"""Multi-time velocity networks (G independent models evaluated together) and their flow-matching training.

The field is Gaussian-aware: ``u(z, tau) = u_Gauss(z, tau) + r_theta(z, tau)``, where ``u_Gauss`` is the
closed-form multi-time velocity of a Gaussian with the training fold's covariance (see ``multitime``) and
``r_theta`` is an MLP whose last layer starts at zero, so an untrained model is exactly the Gaussian
(copula) answer. G models with the same architecture (one per group of variables) live in stacked weight
tensors of shape (G, in, out) and run through ``torch.baddbmm``; G = 1 is the single-group case. The
residual sees ``[z, z**2, time features of every variable]``; the squares let it pick up heteroscedastic
(tail) dependence in a few hundred steps, where plain ``[z, time]`` sat on a plateau for over 1,000 steps
in our runs. Two options (``TrainSettings``, off by default, measured in ``benchmarks/RESULTS.md``):

- ``mask_idle``: a variable at time 0 is an independent shuffle, so the optimal residual ignores it; its
  inputs are zeroed. Without the mask the leave-one-out diagonals TC(X_-i) learned about half of their
  non-Gaussian part while TC learned 95 % (Student-t, 5 variables);
- ``mahalanobis``: the input gains ``log(1 + z' S_tau^{-1} z)`` (``S_tau`` the Gaussian field's covariance
  at the current times, whose solve it shares), the statistic elliptical (Student-t) dependence acts
  through; the log keeps it well scaled.

Together with ``omega_weighting="min_variance"`` they cut the error on 5-10-variable Student-t systems
several-fold, but they under-learn the one-moving terms I(X_i; X_-i) on some synergistic systems, where
the default is better; hence opt-in.

Training regresses ``u`` onto ``x - x_src`` (per coordinate, on the coordinates that move along the
sampled path) at ``z = (1 - tau) x_src + tau x`` where every variable's source row is drawn independently.
Validation and early stopping use an exponential moving average of the weights; per model, the averaged
parameters with the lowest held-out flow-matching loss on a validation block of the training fold are kept.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from fmmi_neuro._validation import check_in
from fmmi_neuro.engine.multitime import coordinate_index, gaussian_field_matrices

OMEGA_WEIGHTINGS = ("mean", "min_variance")

# (batch_size, generator) -> (tau (B, k), moving (B, k) float mask)
TimeSampler = Callable[[int, torch.Generator], tuple[torch.Tensor, torch.Tensor]]


@dataclass(frozen=True)
class TrainSettings:
    """Knobs of multi-time training (every one overridable through ``**training``).

    Attributes
    ----------
    max_steps : int
        Upper bound on optimiser steps (early stopping may end sooner). The non-Gaussian correction is
        learned slowly (flow-matching targets are noisy), so the default budget is generous; the kept
        parameters are those with the best validation loss, which may be the Gaussian start.
    batch_size : int
        Rows per step (per model).
    width, depth : int
        Hidden width and number of hidden layers of the residual MLP.
    lr, weight_decay : float
        AdamW learning rate (cosine-decayed over ``max_steps``) and weight decay.
    min_steps, eval_every, patience : int
        Validate every ``eval_every`` steps; after ``min_steps``, stop when no model improved for
        ``patience`` validations.
    ema_window : int
        Validation, early stopping and the estimate use an exponential moving average of the weights
        over about this many steps.
    max_val_rows : int
        Validation path points (16 draws per validation sample, at most this many).
    val_fraction : float
        Share of each training fold held out (contiguously, at its end) for early stopping.
    n_frequencies : int
        Sine/cosine frequencies per variable in the time embedding.
    p_diagonal, p_leave_out : float
        Probabilities that a training row lies on the diagonal path or on a leave-one-out diagonal
        (one variable at 0); otherwise one variable moves with the rest at 1.
    n_folds : int
        Contiguous cross-fitting folds (each sample is evaluated by a model that did not see it).
    n_draws : int
        Monte-Carlo draws of (s, shuffles, probe) per held-out sample and path.
    exact_max_dim : int
        Exact divergence up to this many moving coordinates, Hutchinson above.
    mask_idle : bool
        Zero the residual's inputs from variables at time 0 (see the module notes).
    mahalanobis : bool
        Add ``log(1 + z' S_tau^{-1} z)`` to the residual's inputs.
    omega_weighting : {"mean", "min_variance"}
        How Omega combines its two identities (``multitime_estimate.identity_weights``).
    """

    max_steps: int = 4000
    min_steps: int = 2000
    batch_size: int = 1024
    width: int = 128
    depth: int = 2
    lr: float = 3e-3
    weight_decay: float = 1e-2
    ema_window: int = 50
    eval_every: int = 100
    patience: int = 4
    max_val_rows: int = 16384
    val_fraction: float = 0.15
    n_frequencies: int = 3
    p_diagonal: float = 0.3
    p_leave_out: float = 0.35
    n_folds: int = 2
    n_draws: int = 4
    exact_max_dim: int = 16
    mask_idle: bool = False
    mahalanobis: bool = False
    omega_weighting: str = "mean"

    def as_dict(self) -> dict:
        return asdict(self)


def make_settings(**training) -> TrainSettings:
    """``TrainSettings`` with user overrides; unknown names raise ``ValueError`` listing the known ones."""
    known = set(TrainSettings.__dataclass_fields__)
    unknown = sorted(set(training) - known)
    if unknown:
        raise ValueError(f"unknown training option(s) {unknown}; known options are {sorted(known)}.")
    settings = TrainSettings(**training)
    check_in(settings.omega_weighting, OMEGA_WEIGHTINGS, "omega_weighting")
    return settings


class StackedMLP(nn.Module):
    """G independent MLPs with SiLU activations; input (G, B, d_in) -> output (G, B, d_out).

    The last layer is zero-initialised, so every model starts as the zero function.
    """

    def __init__(
        self, n_models: int, d_in: int, d_out: int, width: int, depth: int, generator: torch.Generator
    ):
        super().__init__()
        sizes = [d_in] + [width] * depth + [d_out]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for layer, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            bound = 1.0 / math.sqrt(a)
            last = layer == len(sizes) - 2
            w = (
                torch.zeros(n_models, a, b)
                if last
                else (torch.rand(n_models, a, b, generator=generator) * 2 - 1) * bound
            )
            bias = (
                torch.zeros(n_models, 1, b)
                if last
                else (torch.rand(n_models, 1, b, generator=generator) * 2 - 1) * bound
            )
            self.weights.append(nn.Parameter(w))
            self.biases.append(nn.Parameter(bias))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        n = len(self.weights)
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = torch.baddbmm(b, h, w)
            if i < n - 1:
                h = nn.functional.silu(h)
        return h


class MultiTimeField(nn.Module):
    """Gaussian-aware multi-time velocity ``u = u_Gauss + r_theta`` for G models of k variables.

    Parameters
    ----------
    sigma : Tensor, shape (G, D, D)
        Joint covariance of each model's (rank-normalised, per-variable whitened) training data.
    dims : sequence of int, length k
        Dimension of each variable (the same for all G models).
    width, depth, n_frequencies : int
        Residual MLP size and time-embedding frequencies.
    generator : torch.Generator
        Initialisation randomness.
    mask_idle, mahalanobis : bool
        Residual input options (see the module notes and ``TrainSettings``).
    """

    def __init__(
        self,
        sigma: torch.Tensor,
        dims: Sequence[int],
        *,
        width: int,
        depth: int,
        n_frequencies: int,
        generator: torch.Generator,
        mask_idle: bool = False,
        mahalanobis: bool = False,
    ):
        super().__init__()
        self.dims = list(dims)
        owner = torch.as_tensor(coordinate_index(dims))
        self.register_buffer("owner", owner)
        self.register_buffer("sigma", sigma)
        same = owner[:, None] == owner[None, :]
        self.register_buffer("dblock", torch.where(same, sigma, torch.zeros_like(sigma)))
        self.register_buffer("frequencies", math.pi * torch.arange(1, n_frequencies + 1, dtype=sigma.dtype))
        k, d_total = len(dims), owner.numel()
        self.mask_idle, self.mahalanobis = mask_idle, mahalanobis
        d_in = 2 * d_total + int(mahalanobis) + k * (1 + 2 * n_frequencies)
        self.residual = StackedMLP(sigma.shape[0], d_in, d_total, width, depth, generator)

    @classmethod
    def from_settings(
        cls, sigma: torch.Tensor, dims: Sequence[int], settings: TrainSettings, generator: torch.Generator
    ) -> MultiTimeField:
        """A field with the architecture and input options of ``settings``."""
        return cls(
            sigma,
            dims,
            width=settings.width,
            depth=settings.depth,
            n_frequencies=settings.n_frequencies,
            generator=generator,
            mask_idle=settings.mask_idle,
            mahalanobis=settings.mahalanobis,
        )

    def embed(self, tau: torch.Tensor) -> torch.Tensor:
        """Time features ``[tau, sin(f tau), cos(f tau)]`` per variable; (G, B, k) -> (G, B, k (1 + 2F))."""
        angles = tau[..., None] * self.frequencies
        feats = torch.cat([tau[..., None], torch.sin(angles), torch.cos(angles)], dim=-1)
        return feats.flatten(-2)

    def gaussian_parts(self, z: torch.Tensor, tau: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``A = Sigma T - Dm (I - T)`` and ``w = S_tau^{-1} z``, so that ``u_Gauss = A w``.

        z (G, B, D), tau (G, B, k) -> a (G, B, D, D), w (G, B, D).
        """
        a, s_tau = gaussian_field_matrices(tau[..., self.owner], self.sigma[:, None], self.dblock[:, None])
        return a, torch.linalg.solve(s_tau, z[..., None])[..., 0]

    def residual_field(
        self, z: torch.Tensor, tau: torch.Tensor, w: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The network part r_theta; z (G, B, D), tau (G, B, k) -> (G, B, D).

        With ``mask_idle`` the inputs of variables at time 0 (shuffled, hence independent of everything)
        are zeroed, as the optimal residual does not depend on them; ``w = S_tau^{-1} z`` (from
        ``gaussian_parts``, for the Mahalanobis feature) is recomputed when needed and not given.
        """
        if self.mahalanobis and w is None:
            _, w = self.gaussian_parts(z, tau)
        if self.mask_idle:
            z = z * (tau > 0).to(z.dtype)[..., self.owner]
        features = [z, z * z, self.embed(tau)]
        if self.mahalanobis:
            features.insert(2, torch.log1p((z * w).sum(-1, keepdim=True).clamp(min=0.0)))
        return self.residual(torch.cat(features, dim=-1))

    def forward(self, z: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
        """Full velocity; z (G, B, D), tau (G, B, k) -> (G, B, D)."""
        a, w = self.gaussian_parts(z, tau)
        return (a @ w[..., None])[..., 0] + self.residual_field(z, tau, w)


def group_time_sampler(
    n_vars: int, p_diagonal: float, device: torch.device, p_leave_out: float = 0.0
) -> TimeSampler:
    """Times for one group of ``n_vars`` variables, a mixture over the paths the terms need.

    With probability ``p_diagonal`` all variables share one time (TC); with ``p_leave_out`` one variable
    sits at 0 and the others share one time (TC(X_-i)); otherwise one variable moves and the rest sit at
    1 (I(X_i; X_-i)).
    """

    def sample(batch: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        s = torch.rand(batch, generator=generator, device=device)
        kind = torch.rand(batch, generator=generator, device=device)
        diagonal = (kind < p_diagonal)[:, None]
        leave_out = ((kind >= p_diagonal) & (kind < p_diagonal + p_leave_out))[:, None]
        chosen = torch.randint(0, n_vars, (batch,), generator=generator, device=device)
        one_hot = nn.functional.one_hot(chosen, n_vars).to(s.dtype)
        ones = torch.ones_like(one_hot)
        moving = torch.where(diagonal, ones, torch.where(leave_out, 1.0 - one_hot, one_hot))
        tau = torch.where(moving.bool(), s[:, None].expand(-1, n_vars), torch.where(leave_out, 0.0, 1.0))
        tau = torch.where(diagonal, s[:, None].expand(-1, n_vars), tau)
        return tau, moving

    return sample


def _flow_batch(
    x: torch.Tensor, rows: torch.Tensor, sources: torch.Tensor, tau: torch.Tensor, owner: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Path points and targets; x (G, n, D), rows (B,), sources (B, k), tau (B, k) -> z, target (G, B, D)."""
    x1 = x[:, rows]
    src = sources[:, owner]
    x0 = torch.gather(x, 1, src[None].expand(x.shape[0], -1, -1))
    tau_c = tau[:, owner]
    return (1.0 - tau_c) * x0 + tau_c * x1, x1 - x0


def _draw_rows(n: int, batch: int, n_vars: int, generator: torch.Generator, device: torch.device):
    rows = torch.randint(0, n, (batch,), generator=generator, device=device)
    sources = torch.randint(0, n - 1, (batch, n_vars), generator=generator, device=device)
    sources = sources + (sources >= rows[:, None]).long()
    return rows, sources


def _masked_loss(field: MultiTimeField, z, target, tau, moving) -> torch.Tensor:
    """Mean over rows of the mean squared error on moving coordinates; returns shape (G,)."""
    mask = moving[:, field.owner]
    pred = field(z, tau[None].expand(z.shape[0], -1, -1))
    err = ((pred - target) ** 2 * mask).sum(-1) / mask.sum(-1)
    return err.mean(-1)


def train_field(
    field: MultiTimeField,
    x_fit: torch.Tensor,
    x_val: torch.Tensor,
    sampler: TimeSampler,
    settings: TrainSettings,
    generator: torch.Generator,
) -> dict:
    """Fit the residual by flow matching with early stopping on the validation loss (per model).

    Parameters
    ----------
    field : MultiTimeField
        Trained in place; on return it holds each model's best-validation parameters.
    x_fit, x_val : Tensor, shape (G, n_fit, D) and (G, n_val, D)
        Training and validation samples (joint positions).
    sampler : TimeSampler
    settings : TrainSettings
    generator : torch.Generator

    Returns
    -------
    dict
        ``steps`` (int, steps run), ``best_step`` (ndarray (G,)), ``val_loss_gauss`` and ``val_loss``
        (ndarray (G,), validation loss of the pure Gaussian field and of the kept model).
    """
    owner = field.owner
    k = len(field.dims)
    device = x_fit.device
    n_val_rows = min(settings.max_val_rows, 16 * x_val.shape[1])
    val_gen = torch.Generator(device=device).manual_seed(
        int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
    )
    v_rows, v_sources = _draw_rows(x_val.shape[1], n_val_rows, k, val_gen, device)
    v_tau, v_moving = sampler(n_val_rows, val_gen)
    v_z, v_target = _flow_batch(x_val, v_rows, v_sources, v_tau, owner)

    def validate() -> torch.Tensor:
        with torch.no_grad():
            return _masked_loss(field, v_z, v_target, v_tau, v_moving)

    params = list(field.residual.parameters())
    averaged = [p.detach().clone() for p in params]
    best = [p.detach().clone() for p in params]
    decay = 1.0 - 1.0 / max(1, settings.ema_window)

    def validate_average() -> torch.Tensor:
        live = [p.detach().clone() for p in params]
        with torch.no_grad():
            for p, a in zip(params, averaged, strict=True):
                p.copy_(a)
            loss = validate()
            for p, w in zip(params, live, strict=True):
                p.copy_(w)
        return loss

    best_loss = validate()
    gauss_loss = best_loss.clone()
    best_step = torch.zeros_like(best_loss, dtype=torch.long)
    optimiser = torch.optim.AdamW(params, lr=settings.lr, weight_decay=settings.weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=settings.max_steps)
    stale = 0
    step = 0
    for step in range(1, settings.max_steps + 1):
        rows, sources = _draw_rows(x_fit.shape[1], settings.batch_size, k, generator, device)
        tau, moving = sampler(settings.batch_size, generator)
        z, target = _flow_batch(x_fit, rows, sources, tau, owner)
        loss = _masked_loss(field, z, target, tau, moving).sum()
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        schedule.step()
        with torch.no_grad():
            for p, a in zip(params, averaged, strict=True):
                a.lerp_(p.detach(), 1.0 - decay)
        if step % settings.eval_every == 0:
            current = validate_average()
            improved = current < best_loss
            stale = 0 if improved.any() else stale + 1
            best_loss = torch.where(improved, current, best_loss)
            best_step = torch.where(improved, torch.full_like(best_step, step), best_step)
            with torch.no_grad():
                for a, b in zip(averaged, best, strict=True):
                    b.copy_(torch.where(improved.view(-1, *([1] * (a.ndim - 1))), a, b))
            if stale >= settings.patience and step >= settings.min_steps:
                break
    with torch.no_grad():
        for p, b in zip(params, best, strict=True):
            p.copy_(b)
    return {
        "steps": step,
        "best_step": best_step.cpu().numpy(),
        "val_loss_gauss": gauss_loss.cpu().numpy(),
        "val_loss": best_loss.cpu().numpy(),
    }


def covariance(x: np.ndarray) -> np.ndarray:
    """Sample covariance with the n - 1 divisor over the sample axis; x (..., n, D) -> (..., D, D)."""
    centred = x - x.mean(axis=-2, keepdims=True)
    return np.einsum("...ni,...nj->...ij", centred, centred) / (x.shape[-2] - 1)
