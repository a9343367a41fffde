"""Region time series that were already extracted (TSV/CSV/NPY/MAT tables) -> ``RegionTimeSeries``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_positive_number
from .confounds import read_table
from .parcellation import bids_entities, sidecar_repetition_time
from .timeseries import RegionTimeSeries, describe_source

_TABLE_SUFFIXES = (".tsv", ".csv", ".txt", ".npy", ".mat")


def _file_suffix(path: Path) -> str:
    return path.suffix.lower()


def _read_matrix(path: Path, key: str | None, where: str) -> tuple[np.ndarray, list[str] | None]:
    """Read the numbers (and the header, if any) of a region table file."""
    suffix = _file_suffix(path)
    if suffix == ".npy":
        try:
            return np.load(path, allow_pickle=False), None
        except (OSError, ValueError) as err:
            raise ValueError(f"region table of {where} cannot be read as .npy: {err}") from err
    if suffix == ".mat":
        from scipy.io import loadmat

        try:
            content = loadmat(path)
        except (OSError, ValueError, NotImplementedError) as err:
            raise ValueError(f"region table of {where} cannot be read as .mat: {err}") from err
        arrays = {
            k: v
            for k, v in content.items()
            if not k.startswith("__")
            and isinstance(v, np.ndarray)
            and v.ndim == 2
            and np.issubdtype(v.dtype, np.number)
        }
        if key is None:
            if len(arrays) != 1:
                raise ValueError(
                    f"region table of {where} holds {len(arrays)} 2-D numeric arrays "
                    f"({sorted(arrays)}); choose one with key=."
                )
            key = next(iter(arrays))
        if key not in arrays:
            raise ValueError(
                f"region table of {where} has no 2-D numeric array {key!r}; it has {sorted(arrays)}."
            )
        return np.asarray(arrays[key], dtype=np.float64), None
    if suffix not in (".tsv", ".csv", ".txt"):
        raise ValueError(f"region table of {where} has an unknown extension; use one of {_TABLE_SUFFIXES}.")
    table = read_table(path, "region table")
    named = all(isinstance(c, str) for c in table.columns)  # False: read without a header
    header = [str(c) for c in table.columns] if named else None
    try:
        return table.to_numpy(dtype=np.float64), header
    except (TypeError, ValueError) as err:
        raise ValueError(f"region table of {where} has non-numeric values: {err}") from err


def read_regions(regions: Any) -> pd.DataFrame:
    """A regions table (path or DataFrame) with columns name, network, x, y, z, label (some optional)."""
    table = read_table(regions, "regions table") if isinstance(regions, (str, Path)) else regions.copy()
    cols = {c.lower(): c for c in table.columns}
    out = pd.DataFrame(index=range(len(table)))
    for target, candidates in {
        "name": ("name", "region", "roi_name", "label_name"),
        "network": ("network", "networks", "yeo_network"),
        "label": ("label_value", "aal2_label", "label", "index", "roi_id", "value"),
        "x": ("x",),
        "y": ("y",),
        "z": ("z",),
    }.items():
        col = next((cols[c] for c in candidates if c in cols), None)
        if col is not None:
            out[target] = table[col].to_numpy()
    return out


def load_region_table(
    path: str | Path,
    *,
    region_names: list[str] | None = None,
    regions: Any = None,
    t_r: float | None = None,
    subject: str | None = None,
    session: str | None = None,
    run: str | None = None,
    task: str | None = None,
    atlas: str | None = None,
    key: str | None = None,
    transpose: bool | None = None,
) -> RegionTimeSeries:
    """Load region time series someone already extracted into a :class:`RegionTimeSeries`.

    Parameters
    ----------
    path : str or Path
        ``.tsv``/``.csv``/``.txt`` (header = region names or label values; a header-less table also works),
        ``.npy`` or ``.mat`` (choose the array with ``key`` when there are several), shape (time, regions).
    region_names : list of str, optional
        Names of the columns (needed for headerless files unless ``regions`` gives them).
    regions : str, Path or DataFrame, optional
        Table describing the regions: ``name`` and optionally ``network``, MNI ``x``/``y``/``z`` and a label
        column (``label_value``, ``label``, ``index``, ...). Matched to the columns by name, else by label
        value, else by position.
    t_r : float, optional
        Seconds; default ``RepetitionTime`` from a JSON sidecar with the same stem (or ``timeseries.json``).
    subject, session, run, task : str, optional
        Default: parsed from a BIDS-like file name (``sub-01_task-rest_...``).
    atlas : str, optional
    key : str, optional
        Array name inside a ``.mat`` file.
    transpose : bool, optional
        Whether the file is (regions, time). Default: transpose only if that is what makes the number of
        columns match ``region_names``/``regions``.

    Raises
    ------
    ValueError
        Naming the file and subject when the file is missing, a folder or unreadable, has no rows or a
        repeated column name, names and columns disagree, a region is NaN or constant (e.g. all zero), or
        ``t_r`` is not a positive number.
    """
    path = Path(path)
    entities = bids_entities(path)
    subject = subject if subject is not None else entities.get("subject")
    where = describe_source(subject, path)
    if t_r is not None:
        t_r = check_positive_number(t_r, "t_r", " of seconds")
    if path.is_dir():
        raise ValueError(f"region table of {where} is a folder, not a file.")
    if not path.is_file():
        raise ValueError(f"region table of {where} does not exist.")
    if _is_own_output(path):
        return RegionTimeSeries.load(path)
    data, header = _read_matrix(path, key, where)
    if data.ndim != 2:
        raise ValueError(f"region table of {where} must be 2-D (time, regions); got shape {data.shape}.")
    info = read_regions(regions) if regions is not None else None
    n_expected = len(region_names) if region_names is not None else (len(info) if info is not None else None)
    if transpose is None:
        transpose = n_expected is not None and data.shape[1] != n_expected and data.shape[0] == n_expected
    if transpose:
        data = data.T
        header = None
    if data.shape[0] == 0:
        raise ValueError(f"region table of {where} has no time points (no rows below the header).")
    info = _match_regions(info, header, region_names, data.shape[1], where)
    names = info["name"].astype(str).tolist()
    flat = np.flatnonzero(np.ptp(data, axis=0) == 0) if data.shape[0] else np.array([], int)
    if flat.size:
        raise ValueError(
            f"region table of {where} has constant (e.g. all-zero) region(s) "
            f"{[names[j] for j in flat[:5]]}; drop them before analysis."
        )
    if t_r is None:
        t_r = _sidecar_t_r(path)
    coords = (
        info[["x", "y", "z"]].to_numpy(dtype=np.float64) if {"x", "y", "z"} <= set(info.columns) else None
    )
    return RegionTimeSeries(
        data=data,
        region_names=names,
        networks=info["network"].astype(str).tolist() if "network" in info else None,
        coordinates=coords,
        t_r=t_r,
        subject=subject,
        session=session if session is not None else entities.get("session"),
        run=run if run is not None else entities.get("run"),
        task=task if task is not None else entities.get("task"),
        atlas=atlas,
        preprocessing={"loaded_from": str(path)},
        source=str(path),
    )


def _match_regions(
    info: pd.DataFrame | None,
    header: list[str] | None,
    region_names: list[str] | None,
    n_columns: int,
    where: str,
) -> pd.DataFrame:
    """One row per column of the table: name (+ network, x, y, z)."""
    if region_names is not None:
        if len(region_names) != n_columns:
            raise ValueError(
                f"region table of {where} has {n_columns} columns but {len(region_names)} "
                "region_names were given."
            )
        names = [str(n) for n in region_names]
    elif header is not None:
        names = header
    elif info is not None and "name" in info:
        names = info["name"].astype(str).tolist()
    else:
        names = [f"region_{j:03d}" for j in range(n_columns)]
    if info is None:
        return pd.DataFrame({"name": names})
    if len(names) != n_columns:
        raise ValueError(
            f"region table of {where} has {n_columns} columns but the regions table lists "
            f"{len(names)} regions."
        )
    if "name" in info and set(names) <= set(info["name"].astype(str)):
        matched = info.set_index(info["name"].astype(str)).loc[names].reset_index(drop=True)
        return matched
    if "label" in info:
        labels = info["label"].astype(str).tolist()
        if set(names) <= set(labels):
            matched = info.set_index(pd.Index(labels)).loc[names].reset_index(drop=True)
            if "name" not in matched:
                matched["name"] = names
            return matched
    if len(info) == n_columns:
        matched = info.reset_index(drop=True).copy()
        if "name" not in matched:
            matched["name"] = names
        return matched
    raise ValueError(
        f"region table of {where}: its columns {names[:5]}... match neither the names nor the "
        f"labels of the regions table ({len(info)} rows)."
    )


def _sidecar_t_r(path: Path) -> float | None:
    for sidecar in (path.with_name(path.name.split(".")[0] + ".json"), path.parent / "timeseries.json"):
        t_r = sidecar_repetition_time(sidecar)
        if t_r is not None:
            return t_r
    return None


def _is_own_output(path: Path) -> bool:
    """True for a TSV written by ``RegionTimeSeries.save`` (its JSON sidecar says so)."""
    sidecar = path.with_suffix(".json")
    if path.suffix.lower() != ".tsv" or not sidecar.is_file():
        return False
    try:
        return "fmmi_neuro_sidecar" in json.loads(sidecar.read_text())
    except (OSError, ValueError):
        return False
