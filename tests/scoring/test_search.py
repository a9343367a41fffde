"""Search finds planted synergistic and redundant groups."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import lfilter

from fmmi_neuro.scoring.search import search_groups


def _planted(rng, n=600, n_regions=25, phi=0.5):
    e = rng.standard_normal((n, n_regions)) * np.sqrt(1 - phi**2)
    x = lfilter([1.0], [1.0, -phi], e, axis=0)
    x[:, 7] = 0.9 * (x[:, 3] + x[:, 12]) / np.sqrt(2) + np.sqrt(1 - 0.81) * x[:, 7]  # synergy 3-7-12
    s = x[:, n_regions - 1].copy()
    for i in (5, 9, n_regions - 3):
        x[:, i] = 0.8 * s + 0.6 * x[:, i]  # redundancy 5-9-(n-3)-(n-1)
    return x


@pytest.mark.parametrize("method", ["greedy", "anneal"])
def test_search_finds_planted_synergistic_triplet(method):
    x = _planted(np.random.default_rng(0))
    found = search_groups(x, 3, target="synergy", method=method, n_steps=500, n_restarts=2, seed=1)
    assert found["group_id"].iloc[0] == "3-7-12"
    assert found["o_info"].iloc[0] < 0 and found["method"].iloc[0] == method


def test_random_start_annealing_finds_triplet_among_few_regions():
    x = _planted(np.random.default_rng(1), n_regions=14)  # 364 triplets
    found = search_groups(x, 3, method="anneal", init="random", n_steps=1500, n_restarts=3, seed=2)
    assert found["group_id"].iloc[0] == "3-7-12"
    trace = np.asarray(found.attrs["trace"])
    assert np.all(np.diff(trace) <= 0)


def test_search_redundancy_and_greedy_path():
    x = _planted(np.random.default_rng(2))
    found = search_groups(x, 4, target="redundancy", method="greedy")
    assert list(found["size"]) == [3, 4]
    assert found["group_id"].iloc[-1] == "5-9-22-24"
    assert (found["o_info"] > 0).all()
    np.testing.assert_allclose(found["o_info"], found["search_o_info"])


def test_search_bad_input():
    x = _planted(np.random.default_rng(3))
    with pytest.raises(ValueError, match="target"):
        search_groups(x, 3, target="both")
    with pytest.raises(ValueError, match="larger than the number of regions"):
        search_groups(x, 26)
