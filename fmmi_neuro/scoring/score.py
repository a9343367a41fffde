"""Score many groups of regions of one time series: a tidy table of O-information, TC, DTC and S-information.

Sign convention: Omega = TC - DTC; Omega > 0 is redundancy-dominated, Omega < 0 synergy-dominated
(Rosas et al. 2019).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from importlib.metadata import PackageNotFoundError, version
from math import comb
from typing import Any

import numpy as np
import pandas as pd

from fmmi_neuro._docs import fill_doc
from fmmi_neuro._validation import check_in, check_positive_int, check_seed
from fmmi_neuro.scoring.frames import check_region_data, group_frame
from fmmi_neuro.scoring.groups import DEFAULT_CHUNK_SIZE, check_groups, iter_all_groups, iter_chunks

ESTIMATORS = ("fmmi", "gaussian_copula")
UNITS = ("nats", "bits")
SIGN_CONVENTION = (
    "O-information Omega = TC - DTC; Omega > 0: redundancy-dominated, Omega < 0: synergy-dominated "
    "(Rosas et al. 2019). S-information = TC + DTC."
)
FMMI_CHUNK_SIZE = 4096
"""Groups per table chunk for fmmi (the engine evaluates them in smaller, memory-bounded chunks)."""


def installed_versions(*packages: str) -> dict[str, str]:
    """Installed version of each package ("unknown" where it is not installed)."""
    out = {}
    for package in packages:
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = "unknown"
    return out


def _chunked_groups(
    groups: Any, size: int, n_regions: int, names: list[str] | None, chunk_size: int
) -> tuple[Iterator[np.ndarray], int]:
    """Chunks of groups (int arrays (m, k), rows sorted) in output order, and the number of groups."""
    if groups is None:
        if n_regions < size:
            raise ValueError(f"groups of size {size} need at least {size} regions; the data has {n_regions}.")
        return iter_all_groups(n_regions, size, chunk_size=chunk_size), comb(n_regions, size)
    checked = check_groups(groups, n_regions=n_regions, region_names=names)

    def runs() -> Iterator[np.ndarray]:
        start = 0
        while start < len(checked):
            k = len(checked[start])
            stop = start
            while stop < len(checked) and len(checked[stop]) == k:
                stop += 1
            yield from iter_chunks(np.array(checked[start:stop], dtype=np.int64), chunk_size)
            start = stop

    return runs(), len(checked)


@fill_doc
def score_groups(
    data: Any,
    *,
    groups: Iterable[Iterable[int | str]] | np.ndarray | None = None,
    size: int = 3,
    estimator: str = "gaussian_copula",
    unit: str = "nats",
    chunk_size: int | None = None,
    seed: int = 0,
    device: str = "auto",
    progress: bool = False,
    **options: Any,
) -> pd.DataFrame:
    """O-information, TC, DTC and S-information of many groups of regions, one row per group.

    Omega = TC - DTC: Omega > 0 means the group is redundancy-dominated, Omega < 0 synergy-dominated.

    Parameters
    ----------
    data : RegionTimeSeries, pandas.DataFrame or ndarray, shape (n_timepoints, n_regions)
        A RegionTimeSeries-like object (``.data`` and ``.region_names``), a DataFrame whose columns are
        region names, or an array (regions named "region_0", "region_1", ...).
    groups : list of sequences of int or str, or int ndarray (n_groups, size), optional
        Groups to score, as region indices (0-based columns) or region names; sizes may differ. ``None``
        scores every group of ``size`` regions, streamed in chunks.
    size : int
        Group size when ``groups`` is None (>= 3).
    estimator : {"gaussian_copula", "fmmi"}
        ``"gaussian_copula"`` (default): the closed-form Gaussian-copula estimator, every triplet of a
        400-region atlas in seconds, blind to non-Gaussian dependence, no standard error. ``"fmmi"``: the
        neural multi-time estimator (``fmmi_neuro.engine.fmmi.MultiTimeFMMI``), fitted once on all of
        ``data``'s regions, then every group streamed through the fitted fields (a group's score does not
        depend on the other groups scored with it); on a whole atlas, ``two_stage_score`` refines the
        copula's extremes with it.
    %(unit)s
    chunk_size : int, optional
        Groups per table chunk (memory; results do not depend on it). Default: 65,536 for the copula,
        the engine's evaluation chunk for fmmi.
    %(seed)s
    %(device)s
    progress : bool
        Show a progress bar with an ETA over the groups.
    **options
        ``bias_correct`` for the copula; FMMI options (``fmmi_neuro.engine.fmmi.FMMISettings``) for fmmi.
        What fmmi decided from the data (``copula_dof``, ``residual``, the budget, the kept steps) is in
        ``attrs["estimator_settings"]``.

    Returns
    -------
    pandas.DataFrame
        Columns ``group_id`` (sorted indices joined by "-"), ``regions`` (tuple of int), ``region_names``
        (tuple of str), ``size``, ``o_info``, ``o_info_se``, ``tc``, ``tc_se``, ``dtc``, ``dtc_se``,
        ``s_info``, ``s_info_se`` (in ``unit``; stderr NaN for the copula), ``unit``, ``estimator`` and
        ``status`` (``"ok"``, or ``"nonfinite"`` with NaN values: see ``frames.STATUSES``).
        ``df.attrs`` records the unit, the sign convention, the estimator and its settings, the seed,
        the data shape, every region's name (``region_names``) and source, and package versions. For
        every group of a large atlas without holding the table in memory, stream ``iter_score_groups``
        into ``fn.save_table``.

    Raises
    ------
    ValueError
        Checked before any group is scored (:func:`~fmmi_neuro.scoring.frames.check_region_data`): fewer
        than 100 time points (as :func:`fmmi_neuro.information`), NaN/inf values, a constant region, two
        regions with the same ranks (a duplicated region: no finite O-information), region names that do
        not match the columns; also fewer regions than the group size, bad groups, a seed that is not a
        non-negative integer.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).standard_normal((500, 4))
    >>> table = score_groups(x, estimator="gaussian_copula")
    >>> table["group_id"].tolist()
    ['0-1-2', '0-1-3', '0-2-3', '1-2-3']
    """
    chunks = iter_score_groups(
        data,
        groups=groups,
        size=size,
        estimator=estimator,
        unit=unit,
        chunk_size=chunk_size,
        seed=seed,
        device=device,
        progress=progress,
        **options,
    )
    parts = list(chunks)
    table = pd.concat(parts, ignore_index=True)
    table.attrs = parts[-1].attrs
    return table


def iter_score_groups(
    data: Any,
    *,
    groups: Iterable[Iterable[int | str]] | np.ndarray | None = None,
    size: int = 3,
    estimator: str = "gaussian_copula",
    unit: str = "nats",
    chunk_size: int | None = None,
    seed: int = 0,
    device: str = "auto",
    progress: bool = False,
    **options: Any,
) -> Iterator[pd.DataFrame]:
    """``score_groups`` chunk by chunk: yields tables of at most ``chunk_size`` groups, in order, each with
    the full ``attrs``, so memory stays flat in the number of groups (e.g. every triplet of a 400-region
    atlas: ``fn.save_table(fn.iter_score_groups(ts), "triplets.parquet")``). Arguments as ``score_groups``;
    everything is checked before the first group is scored."""
    check_in(estimator, ESTIMATORS, "estimator")
    check_in(unit, UNITS, "unit")
    size = check_positive_int(size, "size", minimum=3)
    seed = check_seed(seed)
    if chunk_size is not None:
        chunk_size = check_positive_int(chunk_size, "chunk_size")
    if estimator == "fmmi":
        from fmmi_neuro.engine.fmmi import FMMISettings, MultiTimeFMMI

        fmmi_options = FMMISettings.from_options(**options).options()
        MultiTimeFMMI(**fmmi_options, seed=seed, device=device)  # checks the device before any work
    checked = check_region_data(data, groups=groups)
    arr, names, where, meta = checked.values, checked.region_names, checked.where, checked.source
    n_samples, n_regions = arr.shape
    if names is None:
        names = [f"region_{j}" for j in range(n_regions)]
    if estimator == "gaussian_copula":
        from fmmi_neuro.engine.gaussian.copula import copula_covariance, gc_group_terms_from_cov

        bias_correct = bool(options.pop("bias_correct", True))
        if options:
            raise TypeError(f"unexpected arguments for the Gaussian copula: {sorted(options)}.")
        chunks, total = _chunked_groups(groups, size, n_regions, names, chunk_size or DEFAULT_CHUNK_SIZE)
        cov = copula_covariance(arr)
        settings: dict[str, Any] = {"bias_correct": bias_correct}

        def kernel(chunk: np.ndarray) -> dict[str, np.ndarray]:
            if n_samples < chunk.shape[1] + 2:
                raise ValueError(
                    f"{where} has {n_samples} time points; groups of {chunk.shape[1]} need at least "
                    f"{chunk.shape[1] + 2}."
                )
            return gc_group_terms_from_cov(cov, chunk, n_samples, bias_correct=bias_correct)

    else:
        fitted: dict[int, MultiTimeFMMI] = {}
        chunks, total = _chunked_groups(groups, size, n_regions, names, chunk_size or FMMI_CHUNK_SIZE)
        settings = {"device": device, **fmmi_options}

        def kernel(chunk: np.ndarray) -> dict[str, np.ndarray]:
            k = chunk.shape[1]
            if k not in fitted:
                fitted[k] = MultiTimeFMMI(**fmmi_options, group_size=k, seed=seed, device=device).fit(arr)
                settings.update(fitted[k].decisions())
            return fitted[k].score(chunk)

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc=f"scoring groups ({estimator})", unit="group")
    try:
        for chunk in chunks:
            table = group_frame(chunk, kernel(chunk), region_names=names, unit=unit, estimator=estimator)
            table.attrs = {
                "unit": unit,
                "sign_convention": SIGN_CONVENTION,
                "estimator": estimator,
                "estimator_settings": {k: _plain(v) for k, v in settings.items()},
                "seed": seed,
                "n_samples": n_samples,
                "n_regions": n_regions,
                "region_names": list(names),
                "n_groups": total,
                "source": {k: _plain(v) for k, v in meta.items()},
                "versions": installed_versions(
                    "fmmi-neuro", "numpy", "scipy", "pandas", *(("torch",) if estimator == "fmmi" else ())
                ),
            }
            if bar is not None:
                bar.update(len(chunk))
            yield table
    finally:
        if bar is not None:
            bar.close()


def _plain(value: Any) -> Any:
    """A JSON-friendly version of a setting (numbers and strings kept, anything else as its repr)."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return repr(value)
