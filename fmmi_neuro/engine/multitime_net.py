"""Multi-time velocity networks (G independent models evaluated together) and their flow-matching training.

The field is Gaussian-aware: ``u(z, tau) = u_Gauss(z, tau) + r_theta(z, tau)``, where ``u_Gauss`` is the
closed-form multi-time velocity of a Gaussian with the training fold's covariance (see ``multitime``) and
the residual ``r_theta`` starts at zero (zero last layers), so an untrained model is exactly the Gaussian
(copula) answer. G models with the same architecture (one per group of variables) live in stacked weight
tensors of shape (G, in, out) and run through ``torch.baddbmm``; G = 1 is the single-group case.

The residual (``TrainSettings.residual``; every choice measured in ``benchmarks/RESULTS.md``):

- ``"mlp"``: an MLP over ``[z, z**2, log(1 + z' S_tau^{-1} z), time features of every variable]``. The
  squares let it pick up heteroscedastic (tail) dependence in a few hundred steps (plain ``[z, time]`` sat
  on a plateau for over 1,000 steps); the Mahalanobis norm (``mahalanobis``, sharing the Gaussian field's
  solve) is the statistic elliptical (Student-t) dependence acts through; the inputs of variables at time 0,
  independent shuffles the optimal residual ignores, are zeroed (``mask_idle``: without it the
  leave-one-out diagonals TC(X_-i) learned about half of their non-Gaussian part while TC learned 95 %).
- ``"radial"``: ``r_c = alpha_i z_c + beta_i (S_tau^{-1} z)_c + gamma_i u_Gauss,c`` with per-variable
  coefficients from a small network of rotation-invariant statistics (``MultiTimeField.radial_field``).
  The MLP memorises a few hundred samples (at n = 1,200 with 15 coordinates its held-out loss rose from the
  first steps, so early stopping kept the Gaussian start); the radial residual cannot, and learns
  elliptical dependence there, but less than the MLP on scalar Student-t systems at n = 10,000.
- ``"auto"`` (default): ``"radial"`` in Student-t copula coordinates (``student_t_copula``: there the
  data are elliptical, and the MLP over heavy-tailed inputs overshot by up to 2 nats at n = 10,000) or
  below ``AUTO_RADIAL_ROWS_PER_COORDINATE`` training rows per coordinate, else ``"mlp"``;
  ``"radial+mlp"`` trains the radial part and then the MLP on top of it.

Every variant under-learns the one-moving terms I(X_i; X_-i) (70-90 % of their non-Gaussian part, even when
trained on them alone), which is why ``omega_weighting="auto"`` takes Omega from the diagonal paths for up to
four variables (``multitime_estimate.omega_weight``). In rank-normal coordinates all of them under-learn
TC on strongly synergistic heavy-tailed systems (a near-deterministic sum, curved after the rank
transform); Student-t copula coordinates straighten those sums.

Training regresses ``u`` onto ``x - x_src`` (per coordinate, on the coordinates that move along the
sampled path) at ``z = (1 - tau) x_src + tau x`` where every variable's source row is drawn independently.
Validation and early stopping use an exponential moving average of the weights; per model, the averaged
parameters with the lowest held-out flow-matching loss on a validation block of the training fold are kept.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import torch
from torch import nn

from fmmi_neuro._validation import check_in
from fmmi_neuro.engine.multitime import coordinate_index, gaussian_field_matrices
from fmmi_neuro.engine.student_t_copula import check_copula

OMEGA_WEIGHTINGS = ("mean", "min_variance", "auto")
FIELD_RESIDUALS = ("mlp", "radial", "radial+mlp")
RESIDUALS = ("auto", *FIELD_RESIDUALS)
AUTO_RADIAL_ROWS_PER_COORDINATE = 100
"""``residual="auto"`` picks the radial residual below this many training rows per coordinate, else the MLP.

Measured (``benchmarks/RESULTS.md``): with 15 coordinates the MLP's held-out loss rose from its first
steps at 34 rows per coordinate (n = 1,200, 2 folds) and it learned at 283 (n = 10,000); the radial
residual learned at both but, on scalar Student-t systems at n = 10,000, less than the MLP. 100 lies between
the two regimes (their geometric mean is 98)."""
RADIAL_WIDTH = 64
"""Hidden width of the radial residual's coefficient network (2 hidden layers)."""

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
    omega_weighting : {"mean", "min_variance", "auto"}
        How Omega combines its two identities (``multitime_estimate.omega_weight``).
    residual : {"auto", "mlp", "radial", "radial+mlp"}
        The network part of the field (see the module notes): the MLP over coordinates, the radial
        residual, or the radial residual first and then the MLP on top of it (two training stages, each
        with its own early stopping; ``mask_idle`` and ``mahalanobis`` apply to the MLP). ``"auto"``:
        ``resolve_residual`` (radial in Student-t coordinates or with few training rows per coordinate).
    copula : {"auto", "gaussian"} or float
        The marginal transform and the scatter behind the Gaussian part (``student_t_copula``):
        rank-to-normal with the sample covariance (``"gaussian"``), rank-to-Student-t with that many
        degrees of freedom (> 2) and the Student-t scatter, or ``"auto"``: ``student_t_copula.resolve_dof``
        (Student-t only where it moves the Gaussian part a lot).
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
    mask_idle: bool = True
    mahalanobis: bool = True
    omega_weighting: str = "auto"
    residual: str = "auto"
    copula: str | float = "auto"

    def as_dict(self) -> dict:
        return asdict(self)


def resolve_residual(residual: str, n_fit: int, n_coordinates: int, student_t: bool = False) -> str:
    """The residual a field is built with: ``residual`` itself, or for ``"auto"`` ``"radial"`` in Student-t
    coordinates (``student_t``) or with fewer than ``AUTO_RADIAL_ROWS_PER_COORDINATE`` training rows per
    coordinate, and ``"mlp"`` otherwise."""
    if residual != "auto":
        return residual
    if student_t or n_fit < AUTO_RADIAL_ROWS_PER_COORDINATE * n_coordinates:
        return "radial"
    return "mlp"


def make_settings(**training) -> TrainSettings:
    """``TrainSettings`` with user overrides; unknown names raise ``ValueError`` listing the known ones."""
    known = set(TrainSettings.__dataclass_fields__)
    unknown = sorted(set(training) - known)
    if unknown:
        raise ValueError(f"unknown training option(s) {unknown}; known options are {sorted(known)}.")
    settings = TrainSettings(**training)
    check_in(settings.omega_weighting, OMEGA_WEIGHTINGS, "omega_weighting")
    check_in(settings.residual, RESIDUALS, "residual")
    check_copula(settings.copula)
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
        MLP input options (see the module notes and ``TrainSettings``).
    residual : {"mlp", "radial", "radial+mlp"}
        Which network parts ``r_theta`` sums; they are trained in this order (``stages``). (``"auto"`` is
        resolved by ``from_settings``.)
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
        residual: str = "mlp",
    ):
        super().__init__()
        check_in(residual, FIELD_RESIDUALS, "residual")
        self.dims = list(dims)
        owner = torch.as_tensor(coordinate_index(dims))
        self.register_buffer("owner", owner)
        self.register_buffer("sigma", sigma)
        same = owner[:, None] == owner[None, :]
        self.register_buffer("dblock", torch.where(same, sigma, torch.zeros_like(sigma)))
        self.register_buffer("frequencies", math.pi * torch.arange(1, n_frequencies + 1, dtype=sigma.dtype))
        self.register_buffer("membership", nn.functional.one_hot(owner, len(dims)).to(sigma.dtype))
        self.register_buffer("dim_sizes", torch.as_tensor(self.dims, dtype=sigma.dtype))
        k, d_total = len(dims), owner.numel()
        n_models, n_time = sigma.shape[0], k * (1 + 2 * n_frequencies)
        self.mask_idle, self.mahalanobis = mask_idle, mahalanobis
        self.stages = residual.split("+")
        self.parts = nn.ModuleDict()
        if "radial" in self.stages:
            self.parts["radial"] = StackedMLP(n_models, 1 + 2 * k + n_time, 3 * k, RADIAL_WIDTH, 2, generator)
        if "mlp" in self.stages:
            d_in = 2 * d_total + int(mahalanobis) + n_time
            self.parts["mlp"] = StackedMLP(n_models, d_in, d_total, width, depth, generator)
        self.enabled = list(self.stages)

    @classmethod
    def from_settings(
        cls,
        sigma: torch.Tensor,
        dims: Sequence[int],
        settings: TrainSettings,
        generator: torch.Generator,
        n_fit: int,
        n_active: int | None = None,
        student_t: bool = False,
    ) -> MultiTimeField:
        """A field with the architecture and input options of ``settings``, to be trained on ``n_fit`` rows.

        ``residual="auto"`` is resolved by ``resolve_residual`` with ``n_fit``, ``n_active`` (the number of
        coordinates a training path moves; default all of ``dims``) and ``student_t`` (the samples are in
        Student-t copula coordinates, ``student_t_copula``)."""
        return cls(
            sigma,
            dims,
            width=settings.width,
            depth=settings.depth,
            n_frequencies=settings.n_frequencies,
            generator=generator,
            mask_idle=settings.mask_idle,
            mahalanobis=settings.mahalanobis,
            residual=resolve_residual(settings.residual, n_fit, n_active or sum(dims), student_t),
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

    def mlp_field(self, z: torch.Tensor, tau: torch.Tensor, w: torch.Tensor | None) -> torch.Tensor:
        """The MLP part; inputs ``[z, z**2, (log(1 + z' w)), time]``, (G, B, D) -> (G, B, D).

        ``w = S_tau^{-1} z`` is needed only with ``mahalanobis``.

        With ``mask_idle`` the inputs of variables at time 0 (shuffled, hence independent of everything)
        are zeroed, as the optimal residual does not depend on them.
        """
        if self.mask_idle:
            z = z * (tau > 0).to(z.dtype)[..., self.owner]
        features = [z, z * z, self.embed(tau)]
        if self.mahalanobis:
            features.insert(2, torch.log1p((z * w).sum(-1, keepdim=True).clamp(min=0.0)))
        return self.parts["mlp"](torch.cat(features, dim=-1))

    def radial_field(
        self, z: torch.Tensor, tau: torch.Tensor, a: torch.Tensor, w: torch.Tensor
    ) -> torch.Tensor:
        """The radial part ``r_c = alpha_i z_c + beta_i w_c + gamma_i (A w)_c`` (coordinate c of variable i).

        The per-variable coefficients come from a small MLP of rotation-invariant statistics only: the
        Mahalanobis norm ``log(1 + z' w)`` over the variables off time 0, each such variable's
        ``log(1 + |z_i|^2 / d_i)`` and ``z_i' w_i`` (squashed to (-1, 1)), and the times. A Gaussian scale
        mixture (e.g. Student-t) moves along these directions with scales set by these statistics, and
        the coefficient network cannot memorise sample points, so it learns at a few hundred samples.
        (G, B, D) -> (G, B, D).
        """
        active = (tau > 0).to(z.dtype)
        zw = z * w * active[..., self.owner]
        norm = torch.log1p(zw.sum(-1, keepdim=True).clamp(min=0.0))
        spread = torch.log1p((z * z) @ self.membership / self.dim_sizes) * active
        alignment = zw @ self.membership
        alignment = alignment / (1.0 + alignment.abs())
        coef = self.parts["radial"](torch.cat([norm, spread, alignment, self.embed(tau)], dim=-1))
        alpha, beta, gamma = (c[..., self.owner] for c in coef.chunk(3, dim=-1))
        return alpha * z + beta * w + gamma * (a @ w[..., None])[..., 0]

    def residual_field(
        self, z: torch.Tensor, tau: torch.Tensor, parts: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> torch.Tensor:
        """The network part r_theta (sum of the enabled parts); z (G, B, D), tau (G, B, k) -> (G, B, D).

        ``parts = (A, w)`` from ``gaussian_parts`` is computed when not given and needed.
        """
        if parts is None and ("radial" in self.enabled or self.mahalanobis):
            parts = self.gaussian_parts(z, tau)
        a, w = parts if parts is not None else (None, None)
        out = torch.zeros_like(z)
        if "radial" in self.enabled:
            out = out + self.radial_field(z, tau, a, w)
        if "mlp" in self.enabled:
            out = out + self.mlp_field(z, tau, w)
        return out

    def forward(self, z: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
        """Full velocity; z (G, B, D), tau (G, B, k) -> (G, B, D)."""
        a, w = self.gaussian_parts(z, tau)
        return (a @ w[..., None])[..., 0] + self.residual_field(z, tau, (a, w))


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

    The residual's parts are trained one after another (``field.stages``): each stage adds its part,
    trains only that part's parameters from its zero start, and keeps its best-validation weights, so a
    later part is kept only where it improves on the earlier ones.

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
        ``residual`` (str, the parts trained), ``steps`` (int, steps run over all stages),
        ``best_step`` (ndarray (G,), of the last stage), ``stage_best_steps`` and ``stage_val_losses``
        (lists with one ndarray (G,) per stage: the kept step and its validation loss), ``val_loss_gauss``
        and ``val_loss`` (ndarray (G,), validation loss of the pure Gaussian field and of the kept model).
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

    field.enabled = []
    gauss_loss = validate()
    steps, stage_best, stage_loss = 0, [], []
    for stage in field.stages:
        field.enabled.append(stage)
        report = _fit_part(field, field.parts[stage], x_fit, sampler, settings, generator, validate)
        field.parts[stage].requires_grad_(False)
        steps += report["steps"]
        stage_best.append(report["best_step"])
        stage_loss.append(report["val_loss"])
    return {
        "residual": "+".join(field.stages),
        "steps": steps,
        "best_step": stage_best[-1],
        "stage_best_steps": stage_best,
        "stage_val_losses": stage_loss,
        "val_loss_gauss": gauss_loss.cpu().numpy(),
        "val_loss": stage_loss[-1],
    }


def _fit_part(
    field: MultiTimeField,
    part: nn.Module,
    x_fit: torch.Tensor,
    sampler: TimeSampler,
    settings: TrainSettings,
    generator: torch.Generator,
    validate: Callable[[], torch.Tensor],
) -> dict:
    """AdamW + EMA + per-model early stopping on ``validate()`` for the parameters of ``part`` only."""
    owner = field.owner
    k = len(field.dims)
    device = x_fit.device
    params = list(part.parameters())
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
    return {"steps": step, "best_step": best_step.cpu().numpy(), "val_loss": best_loss.cpu().numpy()}

