"""Network-level analyses: each network (all its regions together) is one multivariate variable.

For groups of networks (e.g. every triplet of the 7 Yeo networks, or all of them at once) the
O-information is computed with the networks as variables of dimension n_regions(network), using
:func:`fmmi_neuro.engine.gaussian.copula.gaussian_copula_information` or, for ``estimator="fmmi"``,
:func:`fmmi_neuro.engine.information.information`. Sign convention: Omega = TC - DTC; Omega > 0
redundancy, Omega < 0 synergy.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_in, check_positive_int
from .frames import ESTIMATORS, SIGN_CONVENTION, TERM_COLUMNS, TERMS, as_data, unit_factor

NETWORK_COLUMNS = ("group_id", "networks", "size", "n_regions", *TERM_COLUMNS, "unit", "estimator")


def network_variables(data: Any, networks: Sequence[str] | None = None) -> tuple[list[str], list[np.ndarray]]:
    """Split the columns of ``data`` into one (n_samples, n_regions_in_network) array per network.

    Parameters
    ----------
    data : ndarray (n_samples, n_regions), DataFrame or RegionTimeSeries
    networks : sequence of str, optional
        Network label per region; default ``data.networks`` for a RegionTimeSeries.

    Returns
    -------
    names : list of str
        Network names, sorted.
    variables : list of ndarray, shape (n_samples, d_i) each
    """
    if networks is None:
        networks = getattr(data, "networks", None)
    if networks is None:
        raise ValueError("'networks' is needed (one label per region); the data carry none.")
    array, _ = as_data(data, None)
    labels = [str(n) for n in networks]
    if len(labels) != array.shape[1]:
        raise ValueError(f"'networks' has {len(labels)} labels for {array.shape[1]} regions.")
    names = sorted(set(labels))
    return names, [array[:, [j for j, n in enumerate(labels) if n == name]] for name in names]


def network_information(
    data: Any,
    networks: Sequence[str] | None = None,
    *,
    size: int | None = None,
    estimator: str = "gaussian_copula",
    unit: str = "nats",
    seed: int = 0,
    **estimator_kwargs: Any,
) -> pd.DataFrame:
    """O-information with whole networks as multivariate variables.

    Parameters
    ----------
    data : ndarray (n_samples, n_regions), DataFrame or RegionTimeSeries
    networks : sequence of str, optional
        Network label per region; default ``data.networks``.
    size : int, optional
        Score every group of ``size`` networks; default: one row with all networks together.
    estimator : {"gaussian_copula", "fmmi"}
    unit : {"nats", "bits"}
    seed : int
        Passed to fmmi.
    **estimator_kwargs
        ``bias_correct`` for the copula; training settings for fmmi.

    Returns
    -------
    DataFrame
        One row per group of networks: ``group_id`` (network names joined by "+"), ``networks`` (tuple
        of str), ``size`` (number of networks), ``n_regions`` (total regions), ``o_info, o_info_se, tc,
        tc_se, dtc, dtc_se, s_info, s_info_se`` (in ``unit``; stderr NaN for the copula), ``unit``,
        ``estimator``. Omega = TC - DTC; > 0 redundancy, < 0 synergy.
    """
    check_in(estimator, ESTIMATORS, "estimator")
    factor = unit_factor(unit)
    names, variables = network_variables(data, networks)
    if len(names) < 3:
        raise ValueError(f"O-information needs at least 3 networks; got {len(names)} ({names}).")
    size = len(names) if size is None else check_positive_int(size, "size", minimum=3)
    if size > len(names):
        raise ValueError(f"'size' ({size}) is larger than the number of networks ({len(names)}).")
    rows = []
    for chosen in combinations(range(len(names)), size):
        parts = [variables[i] for i in chosen]
        if estimator == "gaussian_copula":
            from ..engine.gaussian.copula import gaussian_copula_information

            result = gaussian_copula_information(parts, **estimator_kwargs)
            values = {term: getattr(result, term) for term in TERMS}
            values.update({f"{term}_se": np.nan for term in TERMS})
        else:
            from ..engine.information import information

            result = information(parts, estimator="fmmi", seed=seed, unit="nats", **estimator_kwargs)
            values = {key: getattr(result, key) for key in TERM_COLUMNS}
        rows.append(
            {
                "group_id": "+".join(names[i] for i in chosen),
                "networks": tuple(names[i] for i in chosen),
                "size": size,
                "n_regions": int(sum(p.shape[1] for p in parts)),
                **{key: float(value) * factor for key, value in values.items()},
                "unit": unit,
                "estimator": estimator,
            }
        )
    table = pd.DataFrame(rows).loc[:, list(NETWORK_COLUMNS)]
    table.attrs = {
        "unit": unit,
        "sign_convention": SIGN_CONVENTION,
        "estimator": estimator,
        "estimator_settings": {k: v for k, v in estimator_kwargs.items() if isinstance(v, (str, int, float))},
        "seed": seed,
        "variables": "networks (all regions of a network as one multivariate variable)",
    }
    return table
