"""O-information, TC, DTC and S-information of one system of variables: ``information(X)``.

Sign convention: Omega = TC - DTC; Omega > 0 means redundancy-dominated, Omega < 0 synergy-dominated
(Rosas et al. 2019). Everything is computed in nats; ``unit="bits"`` converts on the way out.

A thin layer over the engine: ``estimator="fmmi"`` fits ``fmmi.MultiTimeFMMI`` with every variable in
one group and scores that group; ``estimator="gaussian_copula"`` is ``gaussian.copula`` with standard
errors from the influence functions of the Gaussian terms (batch means over time, robust to
autocorrelation; they ignore the rank transform's own variability).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from fmmi_neuro._docs import fill_doc
from fmmi_neuro._validation import check_in, check_seed
from fmmi_neuro.engine.blocks import batch_means_stderr
from fmmi_neuro.engine.fmmi import FMMISettings, MultiTimeFMMI
from fmmi_neuro.engine.gaussian.copula import (
    check_variables,
    copula_transform,
    gaussian_copula_information,
    sample_covariance,
)
from fmmi_neuro.engine.gaussian.terms import gaussian_term_influence

ESTIMATORS = ("fmmi", "gaussian_copula")
UNITS = ("nats", "bits")
MIN_SAMPLES = 100
"""Fewest samples ``information`` accepts (each cross-fitting fold needs training and evaluation data)."""

_SCALED = (
    "o_info",
    "tc",
    "dtc",
    "s_info",
    "o_info_se",
    "tc_se",
    "dtc_se",
    "s_info_se",
    "tc_minus",
    "mi_one_rest",
)


@dataclass(frozen=True)
class InfoResult:
    """TC, DTC, O-information and S-information of one system, with standard errors.

    Omega = TC - DTC; Omega > 0 redundancy-dominated, Omega < 0 synergy-dominated.

    Attributes
    ----------
    o_info, tc, dtc, s_info : float
        O-information, total correlation, dual total correlation and S-information (TC + DTC), in ``unit``.
    o_info_se, tc_se, dtc_se, s_info_se : float
        Autocorrelation-robust (batch-means) standard errors, in ``unit``.
    tc_minus : ndarray, shape (n_vars,)
        TC of the system without variable i, in ``unit``.
    mi_one_rest : ndarray, shape (n_vars,)
        I(X_i; X_-i), in ``unit``.
    unit : {"nats", "bits"}
    estimator : {"fmmi", "gaussian_copula"}
    n_samples : int
    dims : tuple of int
        Dimension of each variable.
    device : str
    seconds : float
    settings : dict
        fmmi: the options, the seed and what ``fit`` decided (``MultiTimeFMMI.decisions``: ``tail_dof``,
        ``copula_dof`` (``None``: the Gaussian copula), ``gaussianize``, ``residual``, the budget, each
        fold's kept ``best_step`` and ``steps``), ``identity_weight`` and ``gaussian_part`` (the
        closed-form Gaussian part of TC and Omega, in nats; the network added the rest).
        gaussian_copula: how it was computed.

    Examples
    --------
    >>> r = InfoResult(0.1, 0.5, 0.4, 0.9, 0.01, 0.02, 0.02, 0.03, np.zeros(3), np.zeros(3),
    ...                "nats", "gaussian_copula", 1200, (1, 1, 1), "cpu", 0.01, {})
    >>> round(r.to("bits").o_info, 4)
    0.1443
    """

    o_info: float
    tc: float
    dtc: float
    s_info: float
    o_info_se: float
    tc_se: float
    dtc_se: float
    s_info_se: float
    tc_minus: np.ndarray
    mi_one_rest: np.ndarray
    unit: str
    estimator: str
    n_samples: int
    dims: tuple[int, ...]
    device: str
    seconds: float
    settings: dict = field(default_factory=dict, repr=False)

    def to(self, unit: str) -> InfoResult:
        """The same result in ``unit`` ("nats" or "bits")."""
        check_in(unit, UNITS, "unit")
        if unit == self.unit:
            return self
        factor = 1 / math.log(2) if unit == "bits" else math.log(2)
        scaled = {name: getattr(self, name) * factor for name in _SCALED}
        return replace(self, unit=unit, **scaled)

    def __repr__(self) -> str:
        kind = "redundancy" if self.o_info > 0 else "synergy"
        return (
            f"InfoResult(o_info={self.o_info:.4f} ± {self.o_info_se:.4f} {self.unit} ({kind}-dominated; "
            f"Omega = TC - DTC, > 0 redundancy, < 0 synergy), tc={self.tc:.4f} ± {self.tc_se:.4f}, "
            f"dtc={self.dtc:.4f} ± {self.dtc_se:.4f}, s_info={self.s_info:.4f} ± {self.s_info_se:.4f}, "
            f"estimator={self.estimator!r}, n_samples={self.n_samples}, dims={self.dims}, "
            f"device={self.device!r}, seconds={self.seconds:.2f})"
        )


@fill_doc
def information(
    X: np.ndarray | Sequence[np.ndarray],
    *,
    estimator: str = "fmmi",
    seed: int = 0,
    device: str = "auto",
    unit: str = "nats",
    **options: Any,
) -> InfoResult:
    """TC, DTC, O-information (Omega = TC - DTC) and S-information of a system of variables.

    Omega > 0 means redundancy-dominated, Omega < 0 synergy-dominated (Rosas et al. 2019).

    Parameters
    ----------
    X : ndarray, shape (n_samples, n_vars), or list of ndarray, each (n_samples, d_i)
        One scalar variable per column, or one (possibly multivariate) variable per list entry.
        At least 3 variables and ``MIN_SAMPLES`` samples, finite, no constant coordinate.
    %(estimator)s
    %(seed)s
    %(device)s
    %(unit)s
    %(fmmi_options)s

    Returns
    -------
    InfoResult
        ``settings`` holds the options, the seed and what ``fit`` decided (``copula_dof``, ``residual``,
        the budget, each fold's kept step).

    Raises
    ------
    ValueError
        On bad input (too few variables or samples, NaN/inf, a constant coordinate), an unknown estimator,
        unit or device, or an FMMI option out of range (all of them listed).
    TypeError
        An unknown FMMI option.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> s = rng.normal(size=(2000, 1))
    >>> X = s + 0.5 * rng.normal(size=(2000, 3))   # three noisy copies of one source: redundancy
    >>> information(X, estimator="gaussian_copula").o_info > 0
    True
    """
    check_in(estimator, ESTIMATORS, "estimator")
    check_in(unit, UNITS, "unit")
    check_seed(seed)
    settings = FMMISettings.from_options(**options) if estimator == "fmmi" else None
    if estimator == "gaussian_copula" and options:
        raise TypeError(f"the Gaussian copula takes no FMMI options; got {sorted(options)}.")
    arrays = check_variables(X, min_samples=MIN_SAMPLES)
    start = time.perf_counter()
    if settings is None:
        result = _gaussian_copula(arrays, start)
    else:
        result = _fmmi(arrays, MultiTimeFMMI(**settings.options(), seed=seed, device=device), start)
    return result.to(unit)


def _result(terms: dict, arrays: list[np.ndarray], estimator: str, device: str, start: float, settings: dict):
    """``InfoResult`` in nats from a terms dict (one group: values of shape () or (1,))."""
    scalar = {key: float(np.asarray(terms[key]).reshape(-1)[0]) for key in _SCALED[:8]}
    return InfoResult(
        **scalar,
        tc_minus=np.asarray(terms["tc_minus"]).reshape(-1),
        mi_one_rest=np.asarray(terms["mi_one_rest"]).reshape(-1),
        unit="nats",
        estimator=estimator,
        n_samples=arrays[0].shape[0],
        dims=tuple(a.shape[1] for a in arrays),
        device=device,
        seconds=time.perf_counter() - start,
        settings=settings,
    )


def _gaussian_copula(arrays: list[np.ndarray], start: float) -> InfoResult:
    terms = gaussian_copula_information(arrays)
    dims = [a.shape[1] for a in arrays]
    x = copula_transform(arrays)
    influence = gaussian_term_influence(x - x.mean(axis=0), sample_covariance(x), dims)
    values = {
        key: getattr(terms, key) for key in ("o_info", "tc", "dtc", "s_info", "tc_minus", "mi_one_rest")
    }
    values.update(
        {f"{key}_se": float(batch_means_stderr(influence[key])) for key in ("o_info", "tc", "dtc", "s_info")}
    )
    settings = {"bias_correct": True, "stderr": "influence function, batch means"}
    return _result(values, arrays, "gaussian_copula", "cpu", start, settings)


def _fmmi(arrays: list[np.ndarray], estimator: MultiTimeFMMI, start: float) -> InfoResult:
    estimator.fit(arrays)
    terms = estimator.score()
    settings = {
        **estimator.options(),
        "seed": estimator.seed,
        **estimator.decisions(),
        "identity_weight": float(terms["identity_weight"][0]),
        "gaussian_part": {"tc": float(terms["tc_gauss"][0]), "o_info": float(terms["o_info_gauss"][0])},
    }
    return _result(terms, arrays, "fmmi", str(estimator.x_.device), start, settings)
