"""Cross-fitted multi-time estimates of TC, I(X_i; X_-i) and TC(X_-i) for G groups at once.

For each group (G groups of k variables with the same dims, samples already rank-transformed and
whitened per variable): the Gaussian part of every term is the closed form of the full-data copula
scatter (bias-corrected; ``student_t_copula.scatter``); the non-Gaussian correction is
``-E[div r_theta]`` along the term's path, where ``r_theta`` is trained on the other contiguous folds and
evaluated on the held-out block. The per-sample series (Gaussian influence + correction, time-ordered) give
autocorrelation-robust standard errors by batch means.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from fmmi_neuro.engine.blocks import batch_means_stderr, contiguous_folds, split_validation
from fmmi_neuro.engine.multitime import (
    Path,
    gaussian_path_terms,
    path_divergence,
    split_path_terms,
    term_paths,
)
from fmmi_neuro.engine.multitime_net import (
    MultiTimeField,
    TimeSampler,
    TrainSettings,
    group_time_sampler,
    train_field,
)
from fmmi_neuro.engine.student_t_copula import path_influence, scatter

TERM_KEYS = ("o_info", "tc", "dtc", "s_info")
AUTO_SECOND_IDENTITY_MAX_VARS = 4
"""Up to this many variables, ``omega_weighting="auto"`` takes Omega from the second identity alone."""


@dataclass
class PathEstimate:
    """Cross-fitted path terms of G groups (columns as ``term_paths``: TC, I(X_i; X_-i), TC(X_-i)), nats.

    Attributes
    ----------
    gauss : ndarray, shape (G, P)
        Bias-corrected Gaussian part of each term (closed form at the full-data scatter).
    correction : ndarray, shape (G, P)
        Mean network correction ``-E[div r]`` over all held-out samples.
    series : ndarray, shape (G, n, P)
        Per-sample contributions (Gaussian influence + correction), time-ordered; their mean is
        ``correction`` and their batch-means spread gives the standard error.
    training : list of dict
        What ``train_field`` reported, one per fold.
    seconds : float
    settings : TrainSettings or None
        The settings that were run.
    """

    gauss: np.ndarray
    correction: np.ndarray
    series: np.ndarray
    training: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    settings: TrainSettings | None = None

    @property
    def value(self) -> np.ndarray:
        return self.gauss + self.correction


def standardise_groups(x: np.ndarray) -> np.ndarray:
    """Centre and scale each coordinate to unit variance; x (..., n, D)."""
    centred = x - x.mean(axis=-2, keepdims=True)
    return centred / centred.std(axis=-2, keepdims=True)


def crossfit_path_terms(
    x: np.ndarray,
    dims: Sequence[int],
    settings: TrainSettings,
    *,
    seed: int,
    device: torch.device,
    paths: Sequence[Path] | None = None,
    sampler: TimeSampler | None = None,
    dof: float | None = None,
) -> PathEstimate:
    """Train one Gaussian-aware multi-time field per fold (G models at once) and estimate the path terms.

    Parameters
    ----------
    x : ndarray, shape (G, n, D)
        Rank-transformed (``dof``), per-variable whitened samples of G groups with the same ``dims``.
    dims : sequence of int, length k
    settings : TrainSettings
    seed : int
        Fixes initialisation, training batches and Monte-Carlo draws.
    device : torch.device
    paths : sequence of Path, optional
        Default ``term_paths(k)`` (TC, then I(X_i; X_-i), then TC(X_-i) for each i).
    sampler : TimeSampler, optional
        Training times; default ``group_time_sampler``.
    dof : float, optional
        Degrees of freedom of the Student-t copula ``x`` was transformed with (``student_t_copula``);
        ``None`` (Gaussian copula) uses the sample covariance.

    Returns
    -------
    PathEstimate
    """
    start = time.perf_counter()
    n_groups, n, _ = x.shape
    k = len(dims)
    paths = list(term_paths(k) if paths is None else paths)
    sampler = sampler or group_time_sampler(k, settings.p_diagonal, device, settings.p_leave_out)
    cov_full = scatter(x, dof)
    gauss = gaussian_path_terms(cov_full, dims, paths, n_samples=n)
    centred = x - x.mean(axis=-2, keepdims=True)
    influence = path_influence(centred, cov_full, dims, paths, dof)
    correction = np.zeros((n_groups, n, len(paths)))
    generator = torch.Generator(device=device).manual_seed(int(seed))
    init_generator = torch.Generator().manual_seed(int(seed) + 1)
    x_t = torch.as_tensor(x, dtype=torch.float32, device=device)
    reports = []
    folds = contiguous_folds(n, settings.n_folds)
    for fold in folds:
        fit, val = split_validation(fold.train, settings.val_fraction)
        sigma = torch.as_tensor(scatter(x[:, fold.train], dof), dtype=torch.float32, device=device)
        model = MultiTimeField.from_settings(
            sigma, dims, settings, init_generator, n_fit=len(fit), student_t=dof is not None
        ).to(device)
        reports.append(train_field(model, x_t[:, fit], x_t[:, val], sampler, settings, generator))
        test = x_t[:, fold.test]
        for p, path in enumerate(paths):
            div = path_divergence(
                model.residual_field,
                test,
                dims,
                path,
                n_draws=settings.n_draws,
                generator=generator,
                exact_max_dim=settings.exact_max_dim,
            )
            correction[:, fold.test, p] = -div.cpu().numpy()
    return PathEstimate(
        gauss=gauss,
        correction=correction.mean(axis=1),
        series=influence + correction,
        training=reports,
        seconds=time.perf_counter() - start,
        settings=settings,
    )


def terms_with_stderr(estimate: PathEstimate) -> dict[str, np.ndarray]:
    """TC, DTC, Omega, S (values and batch-means stderrs) and per-variable pieces of G groups, nats.

    ``estimate`` holds the ``term_paths`` values (TC, I(X_i; X_-i), TC(X_-i)).

    Returns
    -------
    dict
        ``o_info, tc, dtc, s_info`` and ``*_se`` (shape (G,)), ``tc_minus`` and ``mi_one_rest``
        (shape (G, k)), ``identity_weight`` (shape (G,), the weight of the second identity: see
        ``omega_weight``). Omega = TC - DTC; > 0 redundancy, < 0 synergy.
    """
    n_groups, n = estimate.series.shape[:2]
    weighting = "mean" if estimate.settings is None else estimate.settings.omega_weighting
    weight = omega_weight(estimate.series, weighting)
    terms = split_path_terms(estimate.value, weight)
    series = split_path_terms(estimate.series, weight[:, None])
    out: dict[str, np.ndarray] = {}
    for key in TERM_KEYS:
        out[key] = terms[key]
        per_sample = series[key].T.reshape(n, n_groups)
        out[f"{key}_se"] = np.asarray(batch_means_stderr(per_sample)).reshape(n_groups)
    out["tc_minus"] = terms["tc_minus"]
    out["mi_one_rest"] = terms["mi_one_rest"]
    out["identity_weight"] = weight
    return out


def omega_weight(series: np.ndarray, weighting: str) -> np.ndarray:
    """Weight of the second Omega identity ``(2 - k) TC + sum_i TC(X_-i)`` per group, shape (G,).

    ``"mean"``: 0.5. ``"min_variance"``: ``identity_weights``. ``"auto"``: 1 (the second identity alone)
    for k <= 4 variables, ``identity_weights`` above. The second identity uses only diagonal paths, which
    the networks learn better than the one-moving paths of I(X_i; X_-i) (70-90 % of their non-Gaussian
    part in our measurements, see ``benchmarks/RESULTS.md``), and for k <= 4 it multiplies TC's error by
    |2 - k| <= 2, no more than the first identity does; with more variables that factor grows and the
    minimum-variance weight decides.

    Parameters
    ----------
    series : ndarray, shape (G, n, 2k + 1)
        Per-sample path terms in ``term_paths`` order, time-ordered.
    weighting : {"mean", "min_variance", "auto"}
    """
    n_groups, k = series.shape[0], (series.shape[-1] - 1) // 2
    if weighting == "mean":
        return np.full(n_groups, 0.5)
    if weighting == "auto" and k <= AUTO_SECOND_IDENTITY_MAX_VARS:
        return np.ones(n_groups)
    return identity_weights(series)


def identity_weights(series: np.ndarray) -> np.ndarray:
    """Minimum-variance weight of the second Omega identity, per group, in [0, 1].

    Omega is ``(1 - w) (2 TC - sum_i I(X_i; X_-i)) + w ((2 - k) TC + sum_i TC(X_-i))``. Both identities are
    exact, but their network corrections are noisy in different ways: the second multiplies the error of
    TC by k - 2, so it is the worse one for large k, while with few variables the one-moving terms
    I(X_i; X_-i) are often the noisier ones. ``w = (v1 - c) / (v1 + v2 - 2c)`` with v1, v2, c the
    batch-means (co)variances of the two identities' per-sample series; 0.5 when they are identical.

    Parameters
    ----------
    series : ndarray, shape (G, n, P)
        Per-sample path terms in ``term_paths`` order, time-ordered.

    Returns
    -------
    ndarray, shape (G,)
    """
    first = split_path_terms(series, 0.0)["o_info"].T
    second = split_path_terms(series, 1.0)["o_info"].T
    var_first = np.asarray(batch_means_stderr(first)) ** 2
    var_diff = np.asarray(batch_means_stderr(first - second)) ** 2
    var_second = np.asarray(batch_means_stderr(second)) ** 2
    cov = 0.5 * (var_first + var_second - var_diff)
    with np.errstate(invalid="ignore", divide="ignore"):
        weight = (var_first - cov) / var_diff
    return np.clip(np.nan_to_num(weight, nan=0.5, posinf=0.5, neginf=0.5), 0.0, 1.0).reshape(-1)
