"""From path terms to TC, DTC, O-information and S-information of each group, with standard errors.

Every path term is its Gaussian part (closed form at the full-data scatter, ``gaussian.terms``) plus the
network's correction ``-E[div r_theta]`` along the path. Per sample, a term contributes the Gaussian part's
influence plus that sample's correction; the batch means of these time-ordered contributions give
autocorrelation-robust standard errors (``blocks.batch_means_stderr``).

Omega has two exact identities: ``2 TC - sum_i I(X_i; X_-i)`` (one-moving paths) and
``(2 - k) TC + sum_i TC(X_-i)`` (diagonal paths only). ``identity_weight`` decides how they are combined;
then ``DTC = TC - Omega`` and ``S = TC + DTC``. Sign: Omega > 0 redundancy, Omega < 0 synergy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fmmi_neuro.engine.blocks import batch_means_stderr

AUTO_SECOND_IDENTITY_MAX_VARS = 4
"""Up to this many variables Omega comes from the diagonal identity alone, so one-moving paths are neither
needed nor evaluated. The networks learn diagonal paths better (one-moving terms kept 70-90 % of their
non-Gaussian part in ``benchmarks/RESULTS.md``), and for k <= 4 that identity multiplies TC's error by
|2 - k| <= 2, no more than the other; above, the minimum-variance combination of the two decides."""

TERM_KEYS = ("o_info", "tc", "dtc", "s_info")


@dataclass
class PathTerms:
    """Path terms of C groups of k members: values (nats) and per-sample contributions.

    Attributes
    ----------
    gauss : dict
        Gaussian parts: ``tc`` (C,), ``tc_minus`` (C, k), ``mi_one_rest`` (C, k).
    influence : dict
        Their per-sample influence, time-ordered: (C, n) and (C, n, k).
    correction : dict
        Per-sample network corrections ``-div r_theta`` for the evaluated paths: ``tc`` (C, n),
        ``tc_minus`` (C, n, k), and ``mi_one_rest`` (C, n, k) where one-moving paths were evaluated.
    """

    gauss: dict[str, np.ndarray]
    influence: dict[str, np.ndarray]
    correction: dict[str, np.ndarray]

    def value(self, key: str) -> np.ndarray:
        """Gaussian part plus mean correction of ``key``, nats."""
        return self.gauss[key] + self.correction[key].mean(axis=1)

    def series(self, key: str) -> np.ndarray:
        """Per-sample contributions of ``key`` (influence + correction), shape (C, n[, k])."""
        return self.influence[key] + self.correction[key]


def stderr(series: np.ndarray) -> np.ndarray:
    """Batch-means standard error of the mean over axis 1 of ``series`` (C, n), shape (C,)."""
    return np.asarray(batch_means_stderr(series.T)).reshape(series.shape[0])


def identity_weights(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Minimum-variance weight of the second Omega identity per group, in [0, 1].

    ``first``/``second`` (C, n) are the per-sample series of the two identities. With v1, v2 and c their
    batch-means (co)variances, ``w = (v1 - c) / (v1 + v2 - 2c)``; 0.5 when the two are identical.
    """
    var_first, var_second = stderr(first) ** 2, stderr(second) ** 2
    var_diff = stderr(first - second) ** 2
    cov = 0.5 * (var_first + var_second - var_diff)
    with np.errstate(invalid="ignore", divide="ignore"):
        weight = (var_first - cov) / var_diff
    return np.clip(np.nan_to_num(weight, nan=0.5, posinf=0.5, neginf=0.5), 0.0, 1.0)


def omega_terms(terms: PathTerms) -> dict[str, np.ndarray]:
    """TC, DTC, Omega, S with standard errors, and per-member pieces of C groups, nats.

    Returns
    -------
    dict
        ``o_info, tc, dtc, s_info`` and ``*_se`` (C,); ``tc_minus`` and ``mi_one_rest`` (C, k);
        ``identity_weight`` (C,), the weight of the diagonal identity; ``tc_gauss`` and ``o_info_gauss``
        (C,), the closed-form Gaussian parts.
    """
    k = terms.gauss["tc_minus"].shape[-1]
    tc, tc_minus = terms.value("tc"), terms.value("tc_minus")
    tc_series, minus_series = terms.series("tc"), terms.series("tc_minus")
    second, second_series = (2 - k) * tc + tc_minus.sum(-1), (2 - k) * tc_series + minus_series.sum(-1)
    if "mi_one_rest" in terms.correction:
        mi = terms.value("mi_one_rest")
        first, first_series = 2 * tc - mi.sum(-1), 2 * tc_series - terms.series("mi_one_rest").sum(-1)
        weight = (
            np.ones(len(tc))
            if k <= AUTO_SECOND_IDENTITY_MAX_VARS
            else identity_weights(first_series, second_series)
        )
    else:
        mi = tc[:, None] - tc_minus
        first, first_series, weight = second, second_series, np.ones(len(tc))
    o_info = (1 - weight) * first + weight * second
    o_series = (1 - weight[:, None]) * first_series + weight[:, None] * second_series
    series = {
        "tc": tc_series,
        "o_info": o_series,
        "dtc": tc_series - o_series,
        "s_info": 2 * tc_series - o_series,
    }
    out = {"tc": tc, "o_info": o_info, "dtc": tc - o_info, "s_info": 2 * tc - o_info}
    out.update({f"{key}_se": stderr(series[key]) for key in TERM_KEYS})
    gauss = terms.gauss
    out.update({"tc_minus": tc_minus, "mi_one_rest": mi, "identity_weight": weight})
    out.update({"tc_gauss": gauss["tc"], "o_info_gauss": gauss["o_info"]})
    return out
