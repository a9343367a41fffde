"""Mutual information by flow matching (FMMI), conditional and joint variants: ``estimate_mi(x, y)``.

``I(X; Y)`` is the two-variable case of the multi-time estimator (``fmmi.MultiTimeFMMI``): with X and Y
each on its own time, the path with X at time 1 and Y moving from its shuffled copy to its joint position
changes the entropy by ``-I(X; Y)`` (the conditional variant, cFMMI), and so does the diagonal path on
which both move together (the joint variant, jFMMI). The field is the closed-form Gaussian-copula velocity
plus a learned residual, so the value is the bias-corrected Gaussian-copula MI plus the network's
non-Gaussian correction, cross-fitted on contiguous blocks; the standard error is the batch-means standard
error of the time-ordered per-sample contributions (the Gaussian part's influence plus the correction).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from fmmi_neuro._docs import fill_doc
from fmmi_neuro._validation import as_samples_array, check_in, check_same_length
from fmmi_neuro.engine.blocks import batch_means_stderr
from fmmi_neuro.engine.fmmi import FMMISettings, MultiTimeFMMI
from fmmi_neuro.engine.fmmi.estimator import MIN_SAMPLES

VARIANTS = ("conditional", "joint")
UNITS = ("nats", "bits")


@dataclass(frozen=True)
class MIResult:
    """An estimate of I(X; Y) and what was done to get it.

    Attributes
    ----------
    value : float
        Estimated mutual information, in ``unit``.
    stderr : float
        Batch-means standard error (robust to autocorrelation), in ``unit``.
    unit : {"nats", "bits"}
    variant : {"conditional", "joint"}
    n_train : int
        Samples used to fit each fold's network (mean over folds; validation samples excluded).
    n_eval : int
        Samples whose contributions make the estimate (all of them, by cross-fitting).
    steps : int
        Optimiser steps over all folds.
    device : str
    seconds : float
        Wall-clock time.
    gaussian_part : float
        Bias-corrected Gaussian-copula MI included in ``value``, in ``unit``; the network's correction is
        ``value - gaussian_part``.
    settings : dict
        The FMMI options, the seed and what ``fit`` decided (``MultiTimeFMMI.decisions``).

    Examples
    --------
    >>> r = MIResult(0.5, 0.01, "nats", "conditional", 900, 2000, 1200, "cpu", 3.0, 0.48)
    >>> round(r.to("bits").value, 4)
    0.7213
    """

    value: float
    stderr: float
    unit: str
    variant: str
    n_train: int
    n_eval: int
    steps: int
    device: str
    seconds: float
    gaussian_part: float
    settings: dict = field(default_factory=dict, repr=False)

    def to(self, unit: str) -> MIResult:
        """The same result expressed in ``unit`` ("nats" or "bits")."""
        check_in(unit, UNITS, "unit")
        if unit == self.unit:
            return self
        factor = 1 / math.log(2) if unit == "bits" else math.log(2)
        return replace(
            self,
            value=self.value * factor,
            stderr=self.stderr * factor,
            unit=unit,
            gaussian_part=self.gaussian_part * factor,
        )

    def to_bits(self) -> MIResult:
        return self.to("bits")

    def __repr__(self) -> str:
        gp = f", gaussian_part={self.gaussian_part:.4f}"
        return (
            f"MIResult(value={self.value:.4f} ± {self.stderr:.4f} {self.unit}, variant={self.variant!r}{gp}, "
            f"n_train={self.n_train}, n_eval={self.n_eval}, steps={self.steps}, device={self.device!r}, "
            f"seconds={self.seconds:.1f})"
        )


@fill_doc
def estimate_mi(
    x: Any,
    y: Any,
    *,
    variant: str = "conditional",
    seed: int = 0,
    device: str = "auto",
    unit: str = "nats",
    **options: Any,
) -> MIResult:
    """Estimate the mutual information I(X; Y) by flow matching (FMMI).

    Parameters
    ----------
    x : array-like, shape (n_samples, d_x) or (n_samples,)
    y : array-like, shape (n_samples, d_y) or (n_samples,)
        Paired samples (rows in time order for time series); at least ``MIN_SAMPLES`` (100), finite,
        no constant columns.
    variant : {"conditional", "joint"}
        Conditional (cFMMI): the field moves y with x fixed (the multi-time path with X at time 1 and Y
        moving). Joint (jFMMI): it moves (x, y) together (the diagonal path).
    %(seed)s
    %(device)s
    %(unit)s
    %(fmmi_options)s

    Returns
    -------
    MIResult

    Raises
    ------
    ValueError
        Unknown variant/unit/device, NaN or infinite values, different lengths, fewer than
        ``MIN_SAMPLES`` samples, constant columns, an FMMI option out of range.
    TypeError
        Unknown FMMI option.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(2000, 1)); y = 0.8 * x + 0.6 * rng.normal(size=(2000, 1))
    >>> res = estimate_mi(x, y, device="cpu", max_steps=200)  # truth: -1/2 log(1 - 0.64) = 0.511
    >>> abs(res.value - 0.511) < 0.1
    True
    """
    start = time.perf_counter()
    check_in(variant, VARIANTS, "variant")
    check_in(unit, UNITS, "unit")
    paths = "last_moving" if variant == "conditional" else "diagonal"
    estimator = MultiTimeFMMI(
        **FMMISettings.from_options(**options).options(), paths=paths, seed=seed, device=device
    )
    x = as_samples_array(x, "x", min_samples=MIN_SAMPLES)
    y = as_samples_array(y, "y", min_samples=MIN_SAMPLES)
    n = check_same_length([x, y], ["x", "y"])
    terms = estimator.fit([x, y]).score_paths()
    key = "mi_one_rest" if variant == "conditional" else "tc"

    def pick(values: np.ndarray) -> np.ndarray:
        return values[..., -1] if key == "mi_one_rest" else values

    series = pick(terms.series(key))[0]
    folds = estimator.folds_
    result = MIResult(
        value=float(pick(terms.value(key))[0]),
        stderr=float(batch_means_stderr(series)),
        unit="nats",
        variant=variant,
        n_train=round(np.mean([f.report.n_fit for f in folds])),
        n_eval=n,
        steps=sum(f.report.steps for f in folds),
        device=str(estimator.x_.device),
        seconds=time.perf_counter() - start,
        gaussian_part=float(pick(terms.gauss[key])[0]),
        settings={**estimator.options(), "seed": seed, **estimator.decisions()},
    )
    return result.to(unit)
