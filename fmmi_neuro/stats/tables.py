"""Save result tables to Parquet with their metadata, and load them back unchanged.

The table's ``attrs`` (unit, sign convention, estimator and settings, seed, package versions, ...) are
stored as JSON under the key ``fmmi_neuro`` of the Parquet schema metadata; tuple columns (``regions``,
``region_names``) come back as tuples.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .cohort import package_versions

METADATA_KEY = b"fmmi_neuro"
SIGN_CONVENTION = "Omega = TC - DTC; > 0 redundancy, < 0 synergy"


def _plain(value: Any) -> Any:
    """JSON-friendly copy of metadata (numpy scalars and arrays to Python, other objects to repr)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)


def save_table(
    table: pd.DataFrame | Iterable[pd.DataFrame], path: str | Path, *, metadata: dict[str, Any] | None = None
) -> Path:
    """Write ``table`` to Parquet with ``table.attrs`` (plus ``metadata``) in the schema metadata.

    Parameters
    ----------
    table : DataFrame, or iterable of DataFrame
        A score or statistics table, or its chunks (e.g. ``fn.iter_score_groups(...)``), written one
        after the other as they come (to a temporary file renamed at the end), so a table larger than
        memory can be saved; the metadata are the ``attrs`` of the first chunk.
    path : str or Path
        Output file; parent folders are created.
    metadata : dict, optional
        Extra entries, merged over ``table.attrs``. The sign convention and package versions are added
        when absent.

    Returns
    -------
    Path
        The written file.
    """
    import pyarrow.parquet as pq

    chunks = iter([table]) if isinstance(table, pd.DataFrame) else iter(table)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    first = next(chunks, None)
    if not isinstance(first, pd.DataFrame):
        raise TypeError(f"'table' must be a pandas DataFrame or chunks of one; got {type(first).__name__}.")
    tuple_columns = [
        c
        for c in first.columns
        if first[c].dtype == object and len(first) and first[c].map(type).eq(tuple).all()
    ]
    meta = {**first.attrs, **(metadata or {})}
    meta.setdefault("sign_convention", SIGN_CONVENTION)
    meta.setdefault("versions", package_versions())
    payload = json.dumps({"attrs": _plain(meta), "tuple_columns": tuple_columns}).encode()
    temporary = path.with_name(f".{path.name}.partial")
    writer = None
    try:
        for chunk in itertools.chain([first], chunks):
            arrow = _arrow(chunk, tuple_columns)
            if writer is None:
                schema = arrow.schema.with_metadata({**(arrow.schema.metadata or {}), METADATA_KEY: payload})
                writer = pq.ParquetWriter(temporary, schema)
            writer.write_table(arrow.cast(writer.schema))
    finally:
        if writer is not None:
            writer.close()
    temporary.replace(path)
    return path


def _arrow(table: pd.DataFrame, tuple_columns: list[str]):
    """A pyarrow table of ``table`` without its attrs, tuple columns as lists."""
    import pyarrow as pa

    frame = table.copy()
    frame.attrs = {}
    for column in tuple_columns:
        frame[column] = frame[column].map(list)
    return pa.Table.from_pandas(frame, preserve_index=False)


def load_table(path: str | Path) -> pd.DataFrame:
    """Read a table written by :func:`save_table`, with its ``attrs`` and tuple columns restored."""
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no table at {str(path)!r}.")
    arrow = pq.read_table(path)
    raw = (arrow.schema.metadata or {}).get(METADATA_KEY)
    info = json.loads(raw.decode()) if raw else {"attrs": {}, "tuple_columns": []}
    table = arrow.to_pandas()
    for column in info["tuple_columns"]:
        table[column] = table[column].map(lambda v: tuple(v.tolist() if hasattr(v, "tolist") else v))
    table.attrs = info["attrs"]
    return table


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The metadata stored by :func:`save_table`, without reading the rows."""
    import pyarrow.parquet as pq

    raw = (pq.read_schema(Path(path)).metadata or {}).get(METADATA_KEY)
    return json.loads(raw.decode())["attrs"] if raw else {}
