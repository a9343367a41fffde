"""Group enumeration in chunks, validation of user groups, group ids."""

from __future__ import annotations

from itertools import combinations, islice
from math import comb

import numpy as np
import pytest

from fmmi_neuro.scoring.groups import (
    check_groups,
    group_id,
    group_ids,
    iter_all_groups,
    iter_chunks,
    n_groups,
)


@pytest.mark.parametrize("chunk_size", [1, 4, 35, 1000])
def test_chunks_cover_all_combinations_in_order(chunk_size):
    chunks = list(iter_all_groups(7, 3, chunk_size=chunk_size))
    assert all(c.dtype == np.int64 and c.shape[1] == 3 and len(c) <= chunk_size for c in chunks)
    assert all(len(c) == chunk_size for c in chunks[:-1])
    stacked = np.concatenate(chunks)
    assert stacked.tolist() == [list(g) for g in combinations(range(7), 3)]
    assert len(stacked) == n_groups(7, 3) == comb(7, 3)


def test_streaming_does_not_build_the_whole_list():
    """The first chunk of the 64,684,950 quadruplets of 200 regions comes at once and is small."""
    first = next(iter_all_groups(200, 4, chunk_size=1000))
    assert first.shape == (1000, 4)
    assert first[:2].tolist() == [[0, 1, 2, 3], [0, 1, 2, 4]]
    expected = list(islice(combinations(range(200), 4), 1000))
    assert first.tolist() == [list(g) for g in expected]


def test_iter_chunks_splits_rows():
    groups = np.arange(30).reshape(10, 3)
    parts = list(iter_chunks(groups, 4))
    assert [len(p) for p in parts] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate(parts), groups)


def test_bad_enumeration_arguments():
    with pytest.raises(ValueError, match="larger than the number of regions"):
        next(iter_all_groups(2, 3))
    with pytest.raises(ValueError, match="chunk_size"):
        next(iter_all_groups(5, 3, chunk_size=0))
    with pytest.raises(ValueError, match="size"):
        n_groups(5, 0)


def test_group_id_sorts_and_joins():
    assert group_id([42, 3, 17]) == "3-17-42"
    assert group_id(np.array([5, 1, 2])) == "1-2-5"
    assert group_ids(np.array([[0, 1, 2], [3, 17, 42]])) == ["0-1-2", "3-17-42"]


NAMES = ["PreCG_L", "PreCG_R", "SFG_L", "SFG_R", "MFG_L"]


def test_check_groups_normalises_indices_and_names():
    groups = [(4, 0, 2), ["SFG_R", "PreCG_L", 1], np.array([3, 2, 1, 0])]
    out = check_groups(groups, n_regions=5, region_names=NAMES)
    assert out == [(0, 2, 4), (0, 1, 3), (0, 1, 2, 3)]
    assert check_groups(np.array([[2, 1, 0]]), n_regions=3) == [(0, 1, 2)]
    assert all(isinstance(i, int) for i in out[2])


@pytest.mark.parametrize(
    ("groups", "error", "match"),
    [
        ([(0, 1, 5)], ValueError, r"group 0 has region index 5, out of range for 5 regions"),
        ([(0, 1, 2), (-1, 1, 2)], ValueError, r"group 1 has region index -1"),
        ([(0, 1, 1)], ValueError, r"group 0 \(0, 1, 1\) repeats region\(s\) \[1\]"),
        ([(0, 1, 2), (2, 1, 0)], ValueError, r"groups 0 and 1 contain the same regions \(0, 1, 2\)"),
        ([(0, "Foo", 2)], ValueError, r"group 0 names region 'Foo', which is not among"),
        ([(0, 1)], ValueError, r"group 0 \(0, 1\) has 2 region\(s\); at least 3"),
        ([], ValueError, "empty"),
        ([(0, 1.5, 2)], TypeError, "float"),
        (["0-1-2"], TypeError, "group 0"),
        ("0-1-2", TypeError, "not a string"),
        ([(0, True, 2)], TypeError, "bool"),
        (np.array([0, 1, 2]), ValueError, "shape"),
    ],
)
def test_check_groups_names_the_problem(groups, error, match):
    with pytest.raises(error, match=match):
        check_groups(groups, n_regions=5, region_names=NAMES)


def test_names_without_region_names_raise():
    with pytest.raises(ValueError, match="no region names"):
        check_groups([("a", "b", "c")], n_regions=5)


def test_check_groups_does_not_change_the_callers_list():
    groups = [[2, 1, 0]]
    check_groups(groups, n_regions=3)
    assert groups == [[2, 1, 0]]
