"""Flow-matching training of the residual, with early stopping on held-out rows.

The loss regresses the field ``u = u_Gauss + r_theta`` at ``z = (1 - tau) x_source + tau x_joint`` onto
``x_joint - x_source`` on the coordinates that move along the sampled path (``paths.PathMixture``), mean
squared error per coordinate. AdamW with a cosine decay over ``max_steps``; every ``eval_every`` steps an
exponential moving average (EMA) of the weights is scored on a fixed validation set drawn once from a
contiguous block at the end of the training fold, the EMA weights with the lowest validation loss are
kept (which may be the Gaussian start, step 0), and training stops after ``patience`` validations
without improvement once past ``min_steps``. (A schedule that lowered the learning rate only when the
validation loss stalled trained longer: it helped low-dimensional MI a little and let the radial residual
drift on a ten-variable Student-t sum, ``benchmarks/RESULTS.md``.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from fmmi_neuro.engine.fmmi.field import MultiTimeField
from fmmi_neuro.engine.fmmi.paths import PathMixture, TrainingRows, interpolate


@dataclass
class TrainingReport:
    """What training did for one fold.

    Attributes
    ----------
    n_fit : int
        Training rows (the fold without its validation block).
    steps : int
        Optimiser steps run.
    best_step : int
        Step whose (EMA) weights were kept; 0 is the Gaussian field.
    val_loss_gauss, val_loss : float
        Validation loss of the Gaussian field and of the kept weights.
    history : list of (int, float)
        (step, validation loss) at every validation.
    """

    n_fit: int
    steps: int
    best_step: int
    val_loss_gauss: float
    val_loss: float
    history: list[tuple[int, float]] = field(default_factory=list)


@dataclass
class PathPoints:
    """Training points in the field's layout: ``z``, ``target`` and the float mask ``moving`` (C, N, D_S),
    ``tau`` and ``active`` (C, N, k), ``members`` (C, k)."""

    z: torch.Tensor
    target: torch.Tensor
    moving: torch.Tensor
    tau: torch.Tensor
    active: torch.Tensor
    members: torch.Tensor


def path_points(field: MultiTimeField, x: torch.Tensor, rows: TrainingRows) -> tuple[PathPoints, tuple]:
    """Points, targets and moving-coordinate masks of ``rows`` over samples ``x`` (n, R, d_max).

    Rows that all use the same group (one system) form one group of B points (C = 1, N = B); otherwise
    each row is its own group (C = B, N = 1).
    """
    joint = x[rows.rows[:, None], rows.members]
    source = x[rows.sources, rows.members]
    z, target = interpolate(joint, source, rows.tau)
    shared = bool((rows.members == rows.members[:1]).all())
    members = rows.members[:1] if shared else rows.members
    layout, index = field.layout(members)

    def arrange(t: torch.Tensor) -> torch.Tensor:
        return t[None] if shared else t[:, None]

    moving = rows.moving[:, layout.owner]
    points = PathPoints(
        arrange(layout.to_flat(z)),
        arrange(layout.to_flat(target)),
        arrange(moving),
        arrange(rows.tau),
        arrange(rows.active),
        members,
    )
    return points, (layout, index)


def flow_matching_loss(field: MultiTimeField, points: PathPoints, geometry: tuple) -> torch.Tensor:
    """Mean over rows of the mean squared error on the moving coordinates."""
    layout, index = geometry
    inputs = field.inputs(points.tau, points.active, points.members, layout, index)
    velocity = field.gaussian(points.z, inputs) + field.residual_field(points.z, inputs, layout)
    err = ((velocity - points.target) ** 2 * points.moving).sum(-1) / points.moving.sum(-1)
    return err.mean()


def train_field(
    field: MultiTimeField,
    x_fit: torch.Tensor,
    x_val: torch.Tensor,
    mixture: PathMixture,
    *,
    max_steps: int,
    min_steps: int,
    batch_size: int,
    lr: float,
    weight_decay: float,
    ema_window: int,
    eval_every: int,
    patience: int,
    max_val_rows: int,
    generator: torch.Generator,
    on_validation: Callable[[int, float], None] | None = None,
) -> TrainingReport:
    """Fit ``field``'s residual in place (see the module notes); x_fit (n_fit, R, d), x_val (n_val, R, d).

    ``on_validation(step, val_loss)``, if given, is called at every validation while the field holds the
    EMA weights being validated (``benchmarks/learning_curves.py`` records held-out estimates with it).
    """
    device = x_fit.device
    val_generator = torch.Generator(device=device).manual_seed(
        int(torch.randint(0, 2**31 - 1, (1,), generator=generator, device=device))
    )
    n_val_rows = min(max_val_rows, 16 * x_val.shape[0])
    val_points, val_geometry = path_points(
        field, x_val, mixture.draw(x_val.shape[0], n_val_rows, val_generator, device)
    )
    params = list(field.net.parameters())

    def validate() -> float:
        with torch.no_grad():
            return float(flow_matching_loss(field, val_points, val_geometry))

    averaged = [p.detach().clone() for p in params]
    best = [p.detach().clone() for p in params]
    decay = 1.0 - 1.0 / ema_window

    def validate_average(step: int) -> float:
        live = [p.detach().clone() for p in params]
        with torch.no_grad():
            for p, a in zip(params, averaged, strict=True):
                p.copy_(a)
            loss = validate()
            if on_validation is not None:
                on_validation(step, loss)
            for p, w in zip(params, live, strict=True):
                p.copy_(w)
        return loss

    gauss_loss = best_loss = validate()
    history = [(0, gauss_loss)]
    best_step, stale, step = 0, 0, 0
    optimiser = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=max(1, max_steps))
    for step in range(1, max_steps + 1):
        points, geometry = path_points(
            field, x_fit, mixture.draw(x_fit.shape[0], batch_size, generator, device)
        )
        loss = flow_matching_loss(field, points, geometry)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        schedule.step()
        with torch.no_grad():
            for p, a in zip(params, averaged, strict=True):
                a.lerp_(p.detach(), 1.0 - decay)
        if step % eval_every == 0 or step == max_steps:
            current = validate_average(step)
            history.append((step, current))
            if current < best_loss:
                best_loss, best_step, stale = current, step, 0
                for a, b in zip(averaged, best, strict=True):
                    b.copy_(a)
            else:
                stale += 1
            if stale >= patience and step >= min_steps:
                break
    with torch.no_grad():
        for p, b in zip(params, best, strict=True):
            p.copy_(b)
    return TrainingReport(x_fit.shape[0], step, best_step, gauss_loss, best_loss, history)
