"""O-information, TC, DTC and S-information of one system of variables: ``information(X)``.

Sign convention: Omega = TC - DTC; Omega > 0 means redundancy-dominated, Omega < 0 synergy-dominated
(Rosas et al. 2019). Everything is computed in nats; ``unit="bits"`` converts on the way out.

``estimator="fmmi"`` (default) trains one Gaussian-aware multi-time velocity network per cross-fitting
fold (``multitime_estimate``): every term comes from paths of the same field, the diagonal (-TC),
one variable moving with the rest joint (-I(X_i; X_-i)) and the leave-one-out diagonals (-TC(X_-i));
Omega weighs the identities 2 TC - sum_i I(X_i; X_-i) and (2 - k) TC + sum_i TC(X_-i) (by default the
second alone for k <= 4 variables, their minimum-variance combination above: ``omega_weighting``),
DTC = TC - Omega, S = TC + DTC. The network residual is chosen by training rows per coordinate
(``residual="auto"``, see ``multitime_net``). The marginal transform is rank-to-normal, or rank-to-Student-t
when the data's copula has heavy tails (``copula="auto"``, see ``student_t_copula``); the Gaussian part
then comes from the Student-t scatter.
``estimator="gaussian_copula"`` is the closed-form baseline (``gaussian_copula.gaussian_copula_information``,
bias-corrected); its standard errors come from the influence function of the Gaussian entropies (batch
means over time, so they are robust to autocorrelation) and ignore the rank transform's own variability.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from fmmi_neuro._validation import as_samples_array, check_in, check_same_length

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
        Training settings, seed, ``copula_dof`` (the Student-t copula's degrees of freedom, ``None`` for
        the Gaussian copula), the Gaussian part of each term and what training did (fmmi).

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


def check_variables(X: np.ndarray | Sequence[np.ndarray], min_samples: int = MIN_SAMPLES) -> list[np.ndarray]:
    """Validate ``X`` and return it as a list of float64 arrays of shape (n_samples, d_i).

    Raises
    ------
    ValueError
        Fewer than 3 variables, mismatched lengths, too few samples, NaN/inf, or a constant variable
        (named by its index).
    """
    if isinstance(X, np.ndarray) or (not isinstance(X, (list, tuple))):
        arr = as_samples_array(X, "X", min_samples=min_samples)
        if arr.shape[1] < 3:
            raise ValueError(
                f"O-information needs at least 3 variables; 'X' has {arr.shape[1]} column(s) "
                "(one variable per column)."
            )
        return [arr[:, [j]] for j in range(arr.shape[1])]
    if len(X) < 3:
        raise ValueError(f"O-information needs at least 3 variables; got a list of {len(X)}.")
    arrays = [as_samples_array(v, f"variable {i}") for i, v in enumerate(X)]
    n = check_same_length(arrays, [f"variable {i}" for i in range(len(arrays))])
    if n < min_samples:
        raise ValueError(f"the variables have {n} samples; at least {min_samples} are needed.")
    return arrays


def copula_normalise(arrays: Sequence[np.ndarray], dof: float | None = None) -> np.ndarray:
    """Rank-to-normal (or rank-to-Student-t with ``dof``) per coordinate, then whiten each variable.

    list of (n, d_i) -> (n, D). Both maps are invertible within a variable, so every information term is
    unchanged.
    """
    from fmmi_neuro.engine.transforms import rank_to_student_t, whiten

    return np.hstack([whiten(rank_to_student_t(a, dof)) for a in arrays])


def information(
    X: np.ndarray | Sequence[np.ndarray],
    *,
    estimator: str = "fmmi",
    seed: int = 0,
    device: str = "auto",
    unit: str = "nats",
    **training,
) -> InfoResult:
    """TC, DTC, O-information (Omega = TC - DTC) and S-information of a system of variables.

    Omega > 0 means redundancy-dominated, Omega < 0 synergy-dominated (Rosas et al. 2019).

    Parameters
    ----------
    X : ndarray, shape (n_samples, n_vars), or list of ndarray, each (n_samples, d_i)
        One scalar variable per column, or one (possibly multivariate) variable per list entry.
        At least 3 variables and ``MIN_SAMPLES`` samples, finite, no constant coordinate.
    estimator : {"fmmi", "gaussian_copula"}
        Neural multi-time flow matching (default) or the closed-form Gaussian-copula baseline.
    seed : int
        Fixes every random choice (initialisation, batches, Monte-Carlo draws).
    device : {"auto", "cpu", "cuda", "cuda:N"}
        ``"auto"`` uses CUDA when available.
    unit : {"nats", "bits"}
    **training
        Overrides of ``multitime_net.TrainSettings`` (``max_steps``, ``width``, ``n_folds``, ...).

    Returns
    -------
    InfoResult

    Raises
    ------
    ValueError
        On bad input (see ``check_variables``), an unknown estimator, unit, device or training option.

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
    arrays = check_variables(X)
    dims = tuple(a.shape[1] for a in arrays)
    n = arrays[0].shape[0]
    if n < sum(dims) + 2:
        raise ValueError(f"{sum(dims)} coordinates need at least {sum(dims) + 2} samples; got {n}.")
    start = time.perf_counter()
    if estimator == "gaussian_copula":
        result = _gaussian_copula(arrays, dims, n, start)
    else:
        result = _fmmi(arrays, dims, n, seed, device, training, start)
    return result.to(unit)


def _gaussian_copula(arrays: list[np.ndarray], dims: tuple[int, ...], n: int, start: float) -> InfoResult:
    from fmmi_neuro.engine.blocks import batch_means_stderr
    from fmmi_neuro.engine.gaussian_copula import gaussian_copula_information
    from fmmi_neuro.engine.multitime import gaussian_path_influence, split_path_terms
    from fmmi_neuro.engine.student_t_copula import scatter

    terms = gaussian_copula_information(arrays, bias_correct=True)
    x = copula_normalise(arrays)
    series = split_path_terms(gaussian_path_influence(x - x.mean(axis=0), scatter(x, None), dims))
    se = {key: float(batch_means_stderr(series[key])) for key in ("o_info", "tc", "dtc", "s_info")}
    return InfoResult(
        o_info=terms.o_info,
        tc=terms.tc,
        dtc=terms.dtc,
        s_info=terms.s_info,
        o_info_se=se["o_info"],
        tc_se=se["tc"],
        dtc_se=se["dtc"],
        s_info_se=se["s_info"],
        tc_minus=np.asarray(terms.tc_minus),
        mi_one_rest=np.asarray(terms.mi_one_rest),
        unit="nats",
        estimator="gaussian_copula",
        n_samples=n,
        dims=dims,
        device="cpu",
        seconds=time.perf_counter() - start,
        settings={"bias_correct": True, "stderr": "influence function, batch means"},
    )


def _fmmi(arrays, dims, n, seed, device, training, start) -> InfoResult:
    from fmmi_neuro.engine._device import resolve_device
    from fmmi_neuro.engine.multitime import split_path_terms
    from fmmi_neuro.engine.multitime_estimate import crossfit_path_terms, terms_with_stderr
    from fmmi_neuro.engine.multitime_net import make_settings
    from fmmi_neuro.engine.student_t_copula import resolve_dof

    settings = make_settings(**training)
    torch_device = resolve_device(device)
    dof = resolve_dof(settings.copula, np.hstack(arrays), dims)
    x = copula_normalise(arrays, dof)[None]
    estimate = crossfit_path_terms(x, dims, settings, seed=seed, device=torch_device, dof=dof)
    terms = terms_with_stderr(estimate)
    settings = estimate.settings
    scalar = {key: float(terms[key][0]) for key in _SCALED[:8]}
    return InfoResult(
        **scalar,
        tc_minus=terms["tc_minus"][0],
        mi_one_rest=terms["mi_one_rest"][0],
        unit="nats",
        estimator="fmmi",
        n_samples=n,
        dims=dims,
        device=str(torch_device),
        seconds=time.perf_counter() - start,
        settings={
            **settings.as_dict(),
            "seed": seed,
            "copula_dof": dof,
            "gaussian_part": {
                key: np.asarray(value).tolist() for key, value in split_path_terms(estimate.gauss[0]).items()
            },
            "identity_weight": float(terms["identity_weight"][0]),
            "residual": [r["residual"] for r in estimate.training],
            "steps": [int(r["steps"]) for r in estimate.training],
            "best_step": [int(r["best_step"][0]) for r in estimate.training],
        },
    )
