"""Network designs and random groups: right groups, streamed, counted without enumeration."""

from __future__ import annotations

from itertools import combinations
from math import comb

import numpy as np
import pytest

from fmmi_neuro.scoring.designs import count_network_groups, network_groups, random_groups

NETWORKS = ["Vis"] * 5 + ["DMN"] * 4 + ["SMN"] * 3 + ["FPN"] * 2


@pytest.mark.parametrize("design", ["within", "between", "mixed"])
@pytest.mark.parametrize("size", [3, 4])
def test_network_designs_match_brute_force(design, size):
    labels = np.array(NETWORKS)
    expected = set()
    for g in combinations(range(len(labels)), size):
        n_distinct = len(set(labels[list(g)]))
        if (design == "within" and n_distinct == 1) or (design == "between" and n_distinct == size):
            expected.add(g)
        elif design == "mixed" and n_distinct > 1:
            expected.add(g)
    chunks = list(network_groups(NETWORKS, size, design=design, chunk_size=17))
    assert all(c.shape[0] <= 17 and c.shape[1] == size and c.dtype == np.int64 for c in chunks)
    rows = [tuple(r) for c in chunks for r in c.tolist()]
    assert len(rows) == len(set(rows)) == len(expected) == count_network_groups(NETWORKS, size, design=design)
    assert set(rows) == expected
    assert all(list(r) == sorted(r) for r in rows)


def test_network_groups_stream_lazily():
    """A large between-network design is consumed chunk by chunk (the generator never builds it all)."""
    networks = [f"N{i // 20}" for i in range(400)]
    stream = network_groups(networks, 3, design="between", chunk_size=1000)
    first = next(stream)
    assert first.shape == (1000, 3)
    assert count_network_groups(networks, 3, design="between") == comb(20, 3) * 20**3


def test_random_groups_sizes_distinct_and_seeded():
    out = random_groups(30, 200, sizes=range(3, 7), seed=1)
    assert [g.shape for g in out] == [(200, 3), (200, 4), (200, 5), (200, 6)]
    for g in out:
        assert len({tuple(r) for r in g.tolist()}) == 200
        assert (np.diff(g, axis=1) > 0).all() and g.min() >= 0 and g.max() < 30
    again = random_groups(30, 200, sizes=range(3, 7), seed=1)
    assert all(np.array_equal(a, b) for a, b in zip(out, again, strict=True))
    assert not np.array_equal(out[0], random_groups(30, 200, sizes=3, seed=2)[0])
    assert random_groups(6, 100, sizes=5)[0].shape == (6, 5)


def test_random_groups_are_uniform():
    """Every region appears in a fraction size / n_regions of the groups (binomial tolerance)."""
    n_regions, n, size = 30, 2000, 3
    g = random_groups(n_regions, n, sizes=size, seed=3)[0]
    assert n < comb(n_regions, size)
    counts = np.bincount(g.ravel(), minlength=n_regions)
    expected = n * size / n_regions
    assert np.all(np.abs(counts - expected) < 5 * np.sqrt(expected))


def test_design_bad_input():
    with pytest.raises(ValueError, match="design"):
        next(network_groups(NETWORKS, 3, design="across"))
    with pytest.raises(ValueError, match="size"):
        next(network_groups(NETWORKS, 2))
    with pytest.raises(ValueError, match="larger than the number of regions"):
        random_groups(4, 10, sizes=5)
