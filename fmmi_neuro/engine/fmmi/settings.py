"""Every option of the FMMI estimator in one validated object, and the rules behind its ``"auto"`` values.

``FMMISettings`` is what ``information``, ``estimate_mi``, ``score_groups`` and ``MultiTimeFMMI`` accept as
keyword options; each is checked here, once, with one message shape. Options set to ``None`` or
``"auto"`` are resolved at ``fit`` from the data (``resolve_budget``, ``resolve_residual``,
``gaussian.student_t.resolve_dof``) and the decisions are stored on the fitted estimator (attributes
ending in ``_``) and on every result.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from fmmi_neuro._validation import check_in
from fmmi_neuro.engine.gaussian.student_t import check_copula

RESIDUALS = ("auto", "mlp", "radial")
AUTO_RADIAL_ROWS_PER_COORDINATE = 100
"""``residual="auto"`` picks the radial residual below this many training rows per moving coordinate.

Measured (``benchmarks/RESULTS.md``, "Why the residual under-learns"): with 15 coordinates the MLP's
held-out loss rose from its first steps at 34 rows per coordinate (n = 1,200, 2 folds) and it learned at
283 (n = 10,000); the radial residual learned at both but, on scalar Student-t systems at n = 10,000, less
than the MLP. 100 lies between the two regimes (their geometric mean is 98)."""

AUTO_RADIAL_MAX_TAIL_DOF = 2.5
"""``residual="auto"`` picks the radial residual where ``select_dof`` finds the heaviest tails of its grid.

Measured (``benchmarks/RESULTS.md``): on five scalar variables sharing a nu = 1 scale (Omega 0.641,
n = 1,200) the MLP gave 1.33 and the radial residual 0.77; three 5-dimensional ones (Omega 1.095): MLP
2.84, radial 0.66-0.80. Student-t nu = 3 data select 3 and keep the MLP, which was better there (1.53
against 1.39 at n = 1,200, truth 1.61). Applied to O-information only: for the MI of heavy-tailed pairs
the MLP was better (``asinh-student-identity-5-5-2`` at n = 10,000: 0.456 against 0.416, truth 0.448)."""

ONE_SYSTEM_BUDGET = {"max_steps": 4000, "min_steps": 2000, "n_draws": 4}
MI_BUDGET = {"max_steps": 8000, "min_steps": 4000, "n_draws": 4}
MANY_GROUPS_BUDGET = {"max_steps": 2000, "min_steps": 600, "n_draws": 1}
"""``max_steps``, ``min_steps`` and ``n_draws`` left at ``None``. One system (every variable in the one
group scored, as ``information`` does) gets four evaluation draws per sample; the mutual information of
two variables (``estimate_mi``) trains twice as long, because low-dimensional dependence keeps being
learned (``1v1-AI`` at n = 10,000: 0.61 nats after 4,000 steps, 0.69 after 8,000, truth 0.78); a field
shared by many groups of an atlas (``score_groups``) stops sooner and evaluates each held-out sample once,
because its cost is the evaluation of every group (``benchmarks/RESULTS.md``, "FMMI throughput")."""


@dataclass(kw_only=True)
class FMMISettings:
    """Options of the multi-time FMMI estimator (every one a keyword of ``information``, ``estimate_mi``,
    ``score_groups`` and ``MultiTimeFMMI``).

    Network
        width, depth : int
            Hidden width and number of hidden layers of the residual network.
        n_frequencies : int
            Sine/cosine frequencies per variable in the time embedding.
        residual : {"auto", "mlp", "radial"}
            The learned part ``r_theta`` of the field ``u = u_Gauss + r_theta`` (``fmmi.field``): an MLP over
            the group's coordinates, or the radial residual (per-variable scalings along ``z``,
            ``S_tau^-1 z`` and ``u_Gauss``, which cannot memorise samples). ``"auto"``: ``resolve_residual``.
    Training
        max_steps, min_steps : int or None
            Optimiser steps at most, and before early stopping may end training (``None``:
            ``resolve_budget``).
            ``max_steps=0`` keeps the untrained field: the closed-form Gaussian (copula) answer.
        batch_size : int
            Rows per step.
        lr, weight_decay : float
            AdamW learning rate (cosine-decayed over ``max_steps``) and weight decay.
        ema_window : int
            Validation, early stopping and the estimate use an exponential moving average of the weights
            over about this many steps.
        eval_every, patience : int
            Validate every ``eval_every`` steps; after ``min_steps``, stop when the validation loss has not
            improved for ``patience`` validations; the weights with the best validation loss are kept.
        val_fraction : float
            Share of each training fold held out (contiguously, at its end) for validation.
        max_val_rows : int
            Validation path points (16 per validation sample, at most this many).
        p_diagonal, p_leave_out : float
            Probabilities that a training row lies on a group's diagonal path or on a leave-one-out
            diagonal; otherwise one member moves with the rest of its group at time 1.
    Evaluation
        n_folds : int
            Contiguous cross-fitting folds: each sample is evaluated by a field that did not see it.
        n_draws : int or None
            Monte-Carlo draws of (s, source rows, probe) per held-out sample and path (``None``:
            ``resolve_budget``).
        exact_max_dim : int
            Exact divergence up to this many moving coordinates, Hutchinson's estimator above (0: always
            Hutchinson).
    Marginals
        copula : {"auto", "gaussian"} or float
            Rank-to-normal marginals with the sample covariance (``"gaussian"``), rank-to-Student-t with
            that many degrees of freedom (> 2) and the Student-t scatter, or ``"auto"``
            (``gaussian.student_t.resolve_dof``: Student-t only where it moves the Gaussian part a lot).
        gaussianize : bool
            Learn an invertible map per multivariate variable that makes the joint as Gaussian as
            possible (``fmmi.gaussianize``), on rank-to-normal coordinates; kept only where it raises the
            held-out likelihood. Scalar variables (regions) are never mapped.
    """

    width: int = 128
    depth: int = 2
    n_frequencies: int = 3
    residual: str = "auto"
    max_steps: int | None = None
    min_steps: int | None = None
    batch_size: int = 1024
    lr: float = 3e-3
    weight_decay: float = 1e-2
    ema_window: int = 50
    eval_every: int = 100
    patience: int = 4
    val_fraction: float = 0.15
    max_val_rows: int = 16384
    p_diagonal: float = 0.3
    p_leave_out: float = 0.35
    n_folds: int = 2
    n_draws: int | None = None
    exact_max_dim: int = 16
    copula: str | float = "auto"
    gaussianize: bool = True

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` naming every option that is out of range (all at once)."""
        problems = []
        minimum = {"n_frequencies": 0, "exact_max_dim": 0, "n_folds": 2, "max_steps": 0, "min_steps": 0}
        integers = ["width", "depth", "batch_size", "ema_window", "eval_every", "patience", "max_val_rows"]
        integers += ["n_frequencies", "exact_max_dim", "n_folds", "max_steps", "min_steps", "n_draws"]
        for name in integers:
            value = getattr(self, name)
            if value is None and name in ("max_steps", "min_steps", "n_draws"):
                continue
            low = minimum.get(name, 1)
            if not _is_int(value) or value < low:
                problems.append(f"'{name}' must be an integer >= {low}; got {value!r}")
        for name, low, high in (("lr", 0.0, None), ("weight_decay", None, None), ("val_fraction", 0.0, 0.5)):
            value = getattr(self, name)
            if not _is_number(value) or (low is not None and value <= low) or (high and value >= high):
                bounds = f"in ({low}, {high})" if high else ("> 0" if low is not None else ">= 0")
                problems.append(f"'{name}' must be a finite number {bounds}; got {value!r}")
            elif name == "weight_decay" and value < 0:
                problems.append(f"'weight_decay' must be a finite number >= 0; got {value!r}")
        probabilities = [getattr(self, name) for name in ("p_diagonal", "p_leave_out")]
        for name, value in zip(("p_diagonal", "p_leave_out"), probabilities, strict=True):
            if not _is_number(value) or not 0 <= value <= 1:
                problems.append(f"'{name}' must be a probability in [0, 1]; got {value!r}")
        if all(_is_number(p) for p in probabilities) and sum(probabilities) > 1:
            problems.append(f"'p_diagonal' + 'p_leave_out' must be at most 1; got {sum(probabilities)}")
        steps = (self.max_steps, self.min_steps)
        if all(_is_int(v) for v in steps) and self.min_steps > self.max_steps:
            problems.append(f"'min_steps' ({self.min_steps}) must not exceed 'max_steps' ({self.max_steps})")
        checks = (lambda: check_in(self.residual, RESIDUALS, "residual"), lambda: check_copula(self.copula))
        for check in checks:
            try:
                check()
            except ValueError as err:
                problems.append(str(err).rstrip("."))
        if not isinstance(self.gaussianize, (bool, np.bool_)):
            problems.append(f"'gaussianize' must be True or False; got {self.gaussianize!r}")
        if problems:
            raise ValueError("invalid FMMI option(s): " + "; ".join(problems) + ".")

    @classmethod
    def from_options(cls, **options: Any) -> FMMISettings:
        """Settings from keyword options; unknown names raise ``TypeError`` listing the known ones."""
        known = {f.name for f in fields(FMMISettings)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise TypeError(f"unknown FMMI option(s) {unknown}; known options are {sorted(known)}.")
        return FMMISettings(**options)

    def options(self) -> dict[str, Any]:
        """The options as a plain dict (``FMMISettings`` fields only)."""
        return {f.name: getattr(self, f.name) for f in fields(FMMISettings)}

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    return number and bool(np.isfinite(value))


def resolve_budget(settings: FMMISettings, one_system: bool, mutual_information: bool = False) -> dict:
    """``max_steps``, ``min_steps`` and ``n_draws``: the user's values, else ``MI_BUDGET`` (the MI of two
    variables), ``ONE_SYSTEM_BUDGET`` or ``MANY_GROUPS_BUDGET`` (``min_steps`` never above ``max_steps``)."""
    table = MI_BUDGET if mutual_information else ONE_SYSTEM_BUDGET if one_system else MANY_GROUPS_BUDGET
    budget = {key: table[key] if getattr(settings, key) is None else getattr(settings, key) for key in table}
    budget["min_steps"] = min(budget["min_steps"], budget["max_steps"])
    return budget


def resolve_residual(
    residual: str, n_fit: int, n_moving: int, tail_dof: float | None, student_t: bool
) -> str:
    """The residual a field is built with: ``residual`` itself, or for ``"auto"`` the radial residual

    - in Student-t copula coordinates (there the data are elliptical, and an MLP over heavy-tailed inputs
      overshot by up to 2 nats at n = 10,000);
    - for the heaviest tails, ``tail_dof`` (``select_dof``) at most ``AUTO_RADIAL_MAX_TAIL_DOF``;
    - below ``AUTO_RADIAL_ROWS_PER_COORDINATE`` training rows per moving coordinate (``n_moving``: the
      coordinates of one group);

    and the MLP otherwise."""
    if residual != "auto":
        return residual
    heavy = tail_dof is not None and tail_dof <= AUTO_RADIAL_MAX_TAIL_DOF
    if student_t or heavy or n_fit < AUTO_RADIAL_ROWS_PER_COORDINATE * n_moving:
        return "radial"
    return "mlp"
