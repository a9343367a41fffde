"""Which groups to score: network designs and random samples, streamed in chunks.

Every generator yields int64 arrays of shape (chunk, size) with rows sorted ascending, so memory scales
with the chunk size and never with the number of groups (C(n, k) for all k-subsets, see
:func:`fmmi_neuro.scoring.groups.iter_all_groups`). Chunks can be passed straight to ``score_groups``
(``groups=chunk``) or to :func:`~fmmi_neuro.scoring.two_stage.two_stage_score`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import combinations, product
from math import comb, prod

import numpy as np

from .._validation import check_in, check_positive_int
from .groups import DEFAULT_CHUNK_SIZE, iter_all_groups

DESIGNS = ("within", "between", "mixed")


def _codes(networks: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    labels = [str(n) for n in networks]
    if not labels:
        raise ValueError("'networks' is empty; give one network label per region.")
    names = sorted(set(labels))
    lookup = {name: i for i, name in enumerate(names)}
    return np.array([lookup[n] for n in labels], dtype=np.int64), names


def _batched(rows: Iterable[Sequence[int]], size: int, chunk_size: int) -> Iterator[np.ndarray]:
    buffer: list[Sequence[int]] = []
    for row in rows:
        buffer.append(row)
        if len(buffer) == chunk_size:
            yield np.sort(np.asarray(buffer, dtype=np.int64).reshape(-1, size), axis=1)
            buffer = []
    if buffer:
        yield np.sort(np.asarray(buffer, dtype=np.int64).reshape(-1, size), axis=1)


def network_groups(
    networks: Sequence[str], size: int, *, design: str = "within", chunk_size: int = DEFAULT_CHUNK_SIZE
) -> Iterator[np.ndarray]:
    """Stream the groups of ``size`` regions allowed by a network design.

    Parameters
    ----------
    networks : sequence of str, length n_regions
        Network label of each region (e.g. ``RegionTimeSeries.networks``).
    size : int
        Regions per group (>= 3).
    design : {"within", "between", "mixed"}
        ``within``: all regions of a group in the same network; ``between``: every region in a
        different network; ``mixed``: any group that is not within one network.
    chunk_size : int
        Groups per yielded array.

    Yields
    ------
    ndarray of int64, shape (<= chunk_size, size)
        Region indices, each row sorted ascending.

    Examples
    --------
    >>> nets = ["A", "A", "A", "B", "B", "B"]
    >>> [c.tolist() for c in network_groups(nets, 3, design="within")]
    [[[0, 1, 2], [3, 4, 5]]]
    """
    check_in(design, DESIGNS, "design")
    size = check_positive_int(size, "size", minimum=3)
    chunk_size = check_positive_int(chunk_size, "chunk_size")
    codes, names = _codes(networks)
    members = [np.flatnonzero(codes == k).tolist() for k in range(len(names))]
    if design == "within":
        rows = (g for m in members for g in combinations(m, size))
        yield from _batched(rows, size, chunk_size)
    elif design == "between":
        rows = (
            g
            for chosen in combinations(range(len(names)), size)
            for g in product(*(members[k] for k in chosen))
        )
        yield from _batched(rows, size, chunk_size)
    else:
        buffer = np.empty((0, size), dtype=np.int64)
        for chunk in iter_all_groups(codes.size, size, chunk_size=chunk_size):
            labels = codes[chunk]
            kept = chunk[(labels != labels[:, :1]).any(axis=1)]
            buffer = np.concatenate([buffer, kept])
            while buffer.shape[0] >= chunk_size:
                yield buffer[:chunk_size]
                buffer = buffer[chunk_size:]
        if buffer.shape[0]:
            yield buffer


def count_network_groups(networks: Sequence[str], size: int, *, design: str = "within") -> int:
    """Number of groups :func:`network_groups` yields, computed without enumerating them."""
    check_in(design, DESIGNS, "design")
    size = check_positive_int(size, "size", minimum=3)
    codes, names = _codes(networks)
    counts = np.bincount(codes, minlength=len(names)).tolist()
    within = sum(comb(c, size) for c in counts)
    if design == "within":
        return within
    if design == "between":
        return sum(prod(counts[k] for k in chosen) for chosen in combinations(range(len(counts)), size))
    return comb(codes.size, size) - within


def random_groups(
    n_regions: int,
    n_groups: int,
    *,
    sizes: int | Sequence[int] = (3,),
    seed: int = 0,
) -> list[np.ndarray]:
    """Distinct groups drawn uniformly at random, ``n_groups`` of each size.

    Parameters
    ----------
    n_regions : int
    n_groups : int
        Groups per size; when it is >= C(n_regions, size) every group of that size is returned.
    sizes : int or sequence of int
        Group sizes, e.g. ``range(3, 7)`` for sizes 3 to 6.
    seed : int
        The same seed gives the same groups.

    Returns
    -------
    list of ndarray of int64, one per size, shape (n_groups, size)
        Rows sorted ascending, no repeated group; the list follows ``sizes``.
    """
    n_regions = check_positive_int(n_regions, "n_regions")
    n_groups = check_positive_int(n_groups, "n_groups")
    sizes = [sizes] if isinstance(sizes, (int, np.integer)) else list(sizes)
    if not sizes:
        raise ValueError("'sizes' is empty; give at least one group size.")
    rng = np.random.default_rng(seed)
    out = []
    for size in sizes:
        size = check_positive_int(size, "sizes", minimum=3)
        if size > n_regions:
            raise ValueError(f"group size {size} is larger than the number of regions ({n_regions}).")
        total = comb(n_regions, size)
        if n_groups >= total:
            out.append(np.concatenate(list(iter_all_groups(n_regions, size))))
            continue
        seen: dict[tuple[int, ...], None] = {}
        while len(seen) < n_groups:
            batch = _draw(rng, n_regions, size, min(2 * (n_groups - len(seen)), 50_000))
            for row in batch.tolist():
                seen.setdefault(tuple(row), None)
                if len(seen) == n_groups:
                    break
        out.append(np.array(list(seen), dtype=np.int64))
    return out


def _draw(rng: np.random.Generator, n_regions: int, size: int, n_rows: int) -> np.ndarray:
    """Up to ``n_rows`` uniform random ``size``-subsets (sorted rows, may repeat across rows)."""
    if 2 * size <= n_regions:
        rows = np.sort(rng.integers(0, n_regions, size=(n_rows, size)), axis=1)
        return rows[(np.diff(rows, axis=1) > 0).all(axis=1)]
    n_rows = max(1, min(n_rows, 10_000_000 // n_regions))
    return np.sort(np.argsort(rng.random((n_rows, n_regions)), axis=1)[:, :size], axis=1)
