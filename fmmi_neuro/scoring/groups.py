"""Groups of regions: stream every k-subset in fixed-size chunks, check user group lists, name groups.

A group is a sorted tuple of distinct region indices (0-based columns of the time series). Chunks are
int64 arrays of shape (chunk, size), so memory scales with the chunk size and never with C(n, k).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import chain, combinations, islice
from math import comb
from typing import Any

import numpy as np

from fmmi_neuro._validation import check_positive_int

DEFAULT_CHUNK_SIZE = 65_536


def n_groups(n_regions: int, size: int) -> int:
    """Number of groups of ``size`` distinct regions among ``n_regions``: C(n_regions, size)."""
    return comb(check_positive_int(n_regions, "n_regions"), check_positive_int(size, "size"))


def iter_all_groups(
    n_regions: int, size: int, *, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> Iterator[np.ndarray]:
    """Yield every group of ``size`` regions, in lexicographic order, in chunks.

    Parameters
    ----------
    n_regions : int
        Number of regions (columns of the data).
    size : int
        Number of regions per group.
    chunk_size : int
        Groups per chunk; the last chunk may be shorter.

    Yields
    ------
    chunk : ndarray of int64, shape (<= chunk_size, size)
        Rows are sorted ascending, rows follow ``itertools.combinations(range(n_regions), size)``.

    Examples
    --------
    >>> [c.tolist() for c in iter_all_groups(4, 3, chunk_size=3)]
    [[[0, 1, 2], [0, 1, 3], [0, 2, 3]], [[1, 2, 3]]]
    """
    n_regions = check_positive_int(n_regions, "n_regions")
    size = check_positive_int(size, "size")
    chunk_size = check_positive_int(chunk_size, "chunk_size")
    if size > n_regions:
        raise ValueError(f"'size' ({size}) is larger than the number of regions ({n_regions}).")
    source = combinations(range(n_regions), size)
    while True:
        flat = np.fromiter(chain.from_iterable(islice(source, chunk_size)), dtype=np.int64)
        if flat.size == 0:
            return
        yield flat.reshape(-1, size)


def iter_chunks(groups: np.ndarray, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[np.ndarray]:
    """Yield consecutive row blocks of ``groups`` (shape (n_groups, size)) of at most ``chunk_size`` rows."""
    chunk_size = check_positive_int(chunk_size, "chunk_size")
    for start in range(0, len(groups), chunk_size):
        yield groups[start : start + chunk_size]


def group_id(regions: Iterable[int]) -> str:
    """Identifier of a group: its region indices sorted ascending and joined by "-" (e.g. "3-17-42")."""
    return "-".join(str(int(r)) for r in sorted(regions))


def group_ids(groups: np.ndarray) -> list[str]:
    """``group_id`` of each row of ``groups`` (int array, shape (n_groups, size), rows sorted)."""
    return ["-".join(map(str, row)) for row in np.asarray(groups).tolist()]


def _region_index(
    item: Any, k: int, n_regions: int, lookup: dict[str, int] | None, region_names: Sequence[str] | None
) -> int:
    if isinstance(item, str):
        if lookup is None:
            raise ValueError(f"group {k} names region {item!r}, but the data has no region names.")
        if item not in lookup:
            examples = ", ".join(repr(n) for n in list(region_names or [])[:3])
            raise ValueError(
                f"group {k} names region {item!r}, which is not among the {n_regions} region names "
                f"(e.g. {examples})."
            )
        return lookup[item]
    if isinstance(item, bool) or not isinstance(item, (int, np.integer)):
        raise TypeError(
            f"group {k} contains {item!r} of type {type(item).__name__}; "
            "use region indices (int) or region names (str)."
        )
    if not 0 <= item < n_regions:
        raise ValueError(
            f"group {k} has region index {int(item)}, out of range for {n_regions} regions "
            f"(valid: 0..{n_regions - 1})."
        )
    return int(item)


def check_groups(
    groups: Iterable[Iterable[int | str]],
    *,
    n_regions: int,
    region_names: Sequence[str] | None = None,
    min_size: int = 3,
) -> list[tuple[int, ...]]:
    """Validate user groups and return them as sorted tuples of region indices, in the given order.

    Parameters
    ----------
    groups : iterable of sequences of int or str
        Each group lists region indices (0-based columns) or region names (mixing is allowed). An int
        array of shape (n_groups, size) works too.
    n_regions : int
        Number of regions in the data.
    region_names : sequence of str, optional
        Names of the regions, needed when groups use names.
    min_size : int
        Smallest allowed group size (O-information needs at least 3 variables).

    Returns
    -------
    list of tuple of int
        One sorted tuple per group.

    Raises
    ------
    ValueError
        Empty list, a group that is too small, repeats a region, has an out-of-range index or an unknown
        name, or two groups with the same regions (each named in the message).
    TypeError
        A group that is not a sequence, or an element that is neither int nor str.
    """
    if isinstance(groups, (str, bytes)):
        raise TypeError("'groups' must be a list of groups (each a sequence of regions), not a string.")
    if isinstance(groups, np.ndarray) and groups.ndim != 2:
        raise ValueError(f"'groups' as an array must have shape (n_groups, size); got {groups.shape}.")
    lookup = None if region_names is None else {name: j for j, name in enumerate(region_names)}
    out: list[tuple[int, ...]] = []
    seen: dict[tuple[int, ...], int] = {}
    for k, group in enumerate(groups):
        if isinstance(group, (str, bytes)) or not isinstance(group, Iterable):
            raise TypeError(
                f"group {k} is {group!r}; each group must be a sequence of region indices or names."
            )
        members = [_region_index(item, k, n_regions, lookup, region_names) for item in group]
        if len(members) < min_size:
            raise ValueError(f"group {k} {tuple(members)} has {len(members)} region(s); at least {min_size}.")
        normalised = tuple(sorted(members))
        repeated = sorted({r for r in members if members.count(r) > 1})
        if repeated:
            raise ValueError(f"group {k} {tuple(members)} repeats region(s) {repeated}.")
        if normalised in seen:
            raise ValueError(f"groups {seen[normalised]} and {k} contain the same regions {normalised}.")
        seen[normalised] = k
        out.append(normalised)
    if not out:
        raise ValueError("'groups' is empty; give at least one group or leave it None to score all.")
    return out
