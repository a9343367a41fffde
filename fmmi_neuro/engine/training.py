"""Flow-matching training with a budget that scales with the problem and early stopping.

The loss is the flow-matching regression ``E ||v(z_t, t | cond) - (z_1 - z_0)||^2`` on the linear path,
with product-of-marginals sources drawn by within-batch derangements (``paths.sample_path``). AdamW with
a cosine learning-rate decay. Every ``eval_every`` steps the same loss is measured on a fixed validation
set (a contiguous block carved from the end of the *training* fold, never the evaluation fold, with fixed
pairings and times so successive checks are paired); the weights with the lowest validation loss are
kept, and training stops after ``patience`` checks without improvement.

All knobs live in ``TrainingSettings``; ``None`` means "chosen from the problem size" by ``resolve``.
"""

from __future__ import annotations

import copy
import math
from dataclasses import asdict, dataclass, fields, replace

import torch
from torch import nn

from fmmi_neuro._validation import check_in
from fmmi_neuro.engine.paths import PathBatch, sample_path


@dataclass(frozen=True)
class TrainingSettings:
    """Every knob of training and evaluation (``None``: chosen from n and the dimensions).

    Attributes
    ----------
    width, depth, n_freq : network size (hidden units, hidden layers, time frequencies).
    batch_size, max_steps : optimisation budget.
    lr, weight_decay : AdamW parameters; ``schedule`` is "cosine" (decay to 0 over max_steps) or "constant".
    ema_window : exponential moving average of the weights over about this many steps (``None``:
        ``max_steps / 20``; 1 turns it off). Validation, early stopping and the estimate use the average,
        which removes most of the SGD noise of a snapshot taken before the learning rate has decayed.
    early_stopping : bool, stop when the held-out flow-matching loss stops improving.
    val_fraction : share of each training fold held out (contiguous, at its end) for early stopping.
    eval_every, patience, min_steps : check the validation loss every ``eval_every`` steps; once past
        ``min_steps``, stop after ``patience`` checks without improvement; restore the best weights
        (possibly those at step 0: for the Gaussian-aware field, the Gaussian-copula answer).
    val_repeats : (pairing, time) draws per validation sample.
    n_folds, gap : contiguous cross-fitting folds, and samples dropped between training and evaluation.
    n_draws : (t, probe) draws per evaluated sample (stratified in t).
    exact_max_dim : exact divergence up to this dimension of the moving variable, Hutchinson above.
    n_probes : Rademacher probes per draw for Hutchinson.
    eval_chunk : rows per divergence evaluation call (memory).
    """

    width: int | None = None
    depth: int = 3
    n_freq: int = 4
    batch_size: int | None = None
    max_steps: int | None = None
    lr: float = 2e-3
    weight_decay: float = 1e-4
    schedule: str = "cosine"
    ema_window: int | None = None
    early_stopping: bool = True
    val_fraction: float = 0.1
    eval_every: int | None = None
    patience: int = 5
    min_steps: int | None = None
    val_repeats: int | None = None
    n_folds: int = 2
    gap: int = 0
    n_draws: int = 8
    exact_max_dim: int = 16
    n_probes: int = 1
    eval_chunk: int = 16384

    @classmethod
    def from_kwargs(cls, **kwargs) -> TrainingSettings:
        """Build settings from keyword overrides; unknown names raise ``TypeError`` listing the valid ones."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(kwargs) - names)
        if unknown:
            raise TypeError(f"unknown training setting(s) {unknown}; valid ones are {sorted(names)}.")
        settings = cls(**kwargs)
        settings.validate()
        return settings

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first setting out of range."""
        check_in(self.schedule, ("cosine", "constant"), "schedule")
        positive = (
            "width",
            "depth",
            "batch_size",
            "max_steps",
            "eval_every",
            "patience",
            "val_repeats",
            "n_draws",
            "n_probes",
            "eval_chunk",
            "ema_window",
            "min_steps",
        )
        for name in positive:
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise ValueError(f"training setting '{name}' must be a positive integer; got {value!r}.")
        if not isinstance(self.n_folds, int) or self.n_folds < 2:
            raise ValueError(f"training setting 'n_folds' must be an integer >= 2; got {self.n_folds!r}.")
        if not isinstance(self.gap, int) or self.gap < 0:
            raise ValueError(f"training setting 'gap' must be an integer >= 0; got {self.gap!r}.")
        if not 0 < self.val_fraction < 0.5:
            raise ValueError(
                f"training setting 'val_fraction' must be in (0, 0.5); got {self.val_fraction!r}."
            )
        if not (self.lr > 0 and self.weight_decay >= 0):
            raise ValueError(
                f"'lr' must be > 0 and 'weight_decay' >= 0; got {self.lr!r}, {self.weight_decay!r}."
            )

    def resolve(self, n_fit: int, n_val: int, dim: int) -> TrainingSettings:
        """Fill the ``None`` knobs for ``n_fit`` training samples, ``n_val`` validation samples and
        ``dim`` total input dimensions (d_x + d_y).

        Width 128 up to 16 dimensions, 256 above; batch 256 below 4,000 training samples, else 512;
        ``max_steps = clip(n_fit, 500, 4000)`` (early stopping usually ends sooner) and no stopping before
        ``min_steps = max(200, max_steps / 4)`` (a zero-initialised residual first sits on a plateau);
        validation every ``max_steps / 20`` steps (also the EMA window); repeats for about 4,096 points.
        """
        max_steps = self.max_steps or int(min(4000, max(500, n_fit)))
        return replace(
            self,
            width=self.width or (128 if dim <= 16 else 256),
            batch_size=self.batch_size or (256 if n_fit < 4000 else 512),
            max_steps=max_steps,
            eval_every=self.eval_every or max(10, max_steps // 20),
            ema_window=self.ema_window or max(10, max_steps // 20),
            min_steps=self.min_steps or min(max_steps, max(200, max_steps // 4)),
            val_repeats=self.val_repeats or max(2, math.ceil(4096 / max(n_val, 1))),
        )

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class TrainingLog:
    """What training did: ``steps`` taken, ``best_step`` restored, and (step, validation loss) checks."""

    steps: int
    best_step: int
    val_losses: tuple[tuple[int, float], ...]


def _validation_batch(x, y, variant, repeats, generator) -> PathBatch:
    batches = []
    for _ in range(repeats):
        t = torch.rand(x.shape[0], generator=generator, device=x.device, dtype=x.dtype)
        batches.append(sample_path(x, y, variant, t, generator=generator))
    cond = None if batches[0].cond is None else torch.cat([b.cond for b in batches])
    return PathBatch(
        z_t=torch.cat([b.z_t for b in batches]),
        t=torch.cat([b.t for b in batches]),
        target=torch.cat([b.target for b in batches]),
        cond=cond,
    )


def _loss(model: nn.Module, batch: PathBatch) -> torch.Tensor:
    return ((model(batch.z_t, batch.t, batch.cond) - batch.target) ** 2).sum(dim=1).mean()


@torch.no_grad()
def _chunked_loss(model: nn.Module, batch: PathBatch, chunk: int) -> float:
    total = 0.0
    n = batch.t.shape[0]
    for start in range(0, n, chunk):
        sl = slice(start, start + chunk)
        part = PathBatch(
            batch.z_t[sl], batch.t[sl], batch.target[sl], None if batch.cond is None else batch.cond[sl]
        )
        total += float(_loss(model, part)) * part.t.shape[0]
    return total / n


def train_flow(
    model: nn.Module,
    x_fit: torch.Tensor,
    y_fit: torch.Tensor,
    x_val: torch.Tensor,
    y_val: torch.Tensor,
    *,
    variant: str,
    settings: TrainingSettings,
    generator: torch.Generator,
) -> TrainingLog:
    """Train ``model(z_t, t, cond)`` by flow matching; restore the weights with the best validation loss.

    Parameters
    ----------
    model : nn.Module
        Velocity field; conditional variant: z = y, cond = x; joint: z = (x, y), cond None.
    x_fit, y_fit : Tensor, shapes (n_fit, d_x), (n_fit, d_y)
        Training samples (paired rows).
    x_val, y_val : Tensor, shapes (n_val, d_x), (n_val, d_y)
        Validation block carved from the training fold (at least 2 samples).
    variant : {"conditional", "joint"}
    settings : TrainingSettings
        Resolved settings (no ``None`` budget knobs).
    generator : torch.Generator
        On the tensors' device; drives batches, pairings and times.

    Returns
    -------
    TrainingLog
    """
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=settings.lr, weight_decay=settings.weight_decay)
    max_steps = settings.max_steps
    if settings.schedule == "cosine":
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: 0.5 * (1 + math.cos(math.pi * min(step, max_steps) / max_steps))
        )
    else:
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    val_batch = _validation_batch(x_val, y_val, variant, settings.val_repeats, generator)
    n_fit = x_fit.shape[0]
    batch_size = min(settings.batch_size, n_fit)

    ema = copy.deepcopy(model)
    ema_params = [p for p in ema.parameters() if p.requires_grad]
    checks = [(0, _chunked_loss(ema, val_batch, settings.eval_chunk))]
    best_loss, best_step, best_state, since_best = checks[0][1], 0, copy.deepcopy(ema.state_dict()), 0
    step = 0
    model.train()
    while step < max_steps:
        idx = torch.randint(0, n_fit, (batch_size,), generator=generator, device=x_fit.device)
        t = torch.rand(batch_size, generator=generator, device=x_fit.device, dtype=x_fit.dtype)
        batch = sample_path(x_fit[idx], y_fit[idx], variant, t, generator=generator)
        optimizer.zero_grad(set_to_none=True)
        _loss(model, batch).backward()
        optimizer.step()
        scheduler.step()
        step += 1
        with torch.no_grad():
            weight = max(1.0 / settings.ema_window, 1.0 / step)
            for p_ema, p in zip(ema_params, params, strict=True):
                p_ema.lerp_(p, weight)
        if step % settings.eval_every == 0 or step == max_steps:
            val = _chunked_loss(ema, val_batch, settings.eval_chunk)
            checks.append((step, val))
            if val < best_loss:
                best_loss, best_step, best_state, since_best = val, step, copy.deepcopy(ema.state_dict()), 0
            else:
                since_best += 1
                if settings.early_stopping and since_best >= settings.patience and step >= settings.min_steps:
                    break
    if settings.early_stopping:
        model.load_state_dict(best_state)
    else:
        model.load_state_dict(ema.state_dict())
        best_step = step
    model.eval()
    return TrainingLog(steps=step, best_step=best_step, val_losses=tuple(checks))


@torch.no_grad()
def init_parameters(model: nn.Module, generator: torch.Generator) -> nn.Module:
    """Re-draw every ``nn.Linear`` (PyTorch's default ranges, ``U(+-1/sqrt(fan_in))``) from ``generator``,
    keeping zero-initialised layers at zero; returns the model."""
    for module in model.modules():
        if isinstance(module, nn.Linear):
            if not module.weight.any() and (module.bias is None or not module.bias.any()):
                continue
            bound = 1 / math.sqrt(module.in_features)
            for p in (module.weight, module.bias):
                if p is not None:
                    draw = torch.rand(p.shape, generator=generator, dtype=p.dtype, device=generator.device)
                    p.copy_((2 * draw - 1) * bound)
    return model
