"""Networks as multivariate variables."""

from __future__ import annotations

import numpy as np
import pytest

from fmmi_neuro.engine.gaussian.copula import gaussian_copula_information
from fmmi_neuro.io.timeseries import RegionTimeSeries
from fmmi_neuro.scoring.networks import NETWORK_COLUMNS, network_information, network_variables

NETWORKS = ["A", "B", "A", "C", "B", "D", "C", "A"]


def _redundant(rng, n=2000):
    """Every network's regions load on one shared source: networks are redundant (Omega > 0)."""
    s = rng.standard_normal((n, 1))
    return 0.7 * s + 0.7 * rng.standard_normal((n, len(NETWORKS)))


def test_network_information_equals_multivariate_copula(rng):
    x = _redundant(rng)
    table = network_information(x, NETWORKS, size=3)
    assert list(table.columns) == list(NETWORK_COLUMNS) and len(table) == 4
    row = table.set_index("group_id").loc["A+B+C"]
    names, variables = network_variables(x, NETWORKS)
    ref = gaussian_copula_information([variables[names.index(k)] for k in "ABC"])
    assert row["o_info"] == pytest.approx(ref.o_info) and row["n_regions"] == 7
    assert (table["o_info"] > 0).all() and (table["tc"] > 0).all()


def test_network_information_signs_and_region_time_series(rng):
    n = 2000
    a, b = rng.standard_normal((n, 2)), rng.standard_normal((n, 2))
    c = (a + b) / np.sqrt(2) + 0.3 * rng.standard_normal((n, 2))  # network C is synergistic with A and B
    ts = RegionTimeSeries(np.hstack([a, b, c]), [f"r{i}" for i in range(6)], networks=list("AABBCC"))
    table = network_information(ts, unit="bits")
    assert len(table) == 1 and table["networks"].iloc[0] == ("A", "B", "C")
    assert table["o_info"].iloc[0] < 0 and table["unit"].iloc[0] == "bits"


def test_network_information_bad_input(rng):
    with pytest.raises(ValueError, match="at least 3 networks"):
        network_information(rng.standard_normal((100, 4)), ["A", "A", "B", "B"])
    with pytest.raises(ValueError, match="networks"):
        network_information(rng.standard_normal((100, 4)))
    with pytest.raises(ValueError, match="labels for"):
        network_information(rng.standard_normal((100, 4)), ["A", "B", "C"])
