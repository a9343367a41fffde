"""Small pieces shared by the plot functions: axes creation, saving, reading tables."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .._validation import check_in
from .style import UNITS


def figure_and_axes(ax=None, figsize: tuple[float, float] = (5.0, 3.6)):
    """Return ``(fig, ax)``: a new figure when ``ax`` is None, else ``ax`` and its figure."""
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        return fig, ax
    return ax.figure, ax


def save_figure(fig, output_file: str | Path | None) -> None:
    """Save ``fig`` to ``output_file`` (format from the suffix), creating parent folders."""
    if output_file is None:
        return
    path = Path(output_file)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=150, bbox_inches="tight", facecolor="white")


def require_columns(table: pd.DataFrame, columns: Sequence[str], name: str) -> pd.DataFrame:
    """Raise ``TypeError``/``ValueError`` unless ``table`` is a non-empty DataFrame with ``columns``."""
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"'{name}' must be a pandas DataFrame; got {type(table).__name__}.")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"'{name}' lacks column(s) {missing}; it has {list(table.columns)}.")
    if table.empty:
        raise ValueError(f"'{name}' has no rows: there is nothing to plot.")
    return table


def table_unit(table: pd.DataFrame, unit: str | None = None) -> str:
    """The information unit of a score table: ``unit`` if given, else its ``unit`` column or attrs."""
    if unit is None:
        if "unit" in table.columns and table["unit"].notna().any():
            found = pd.unique(table["unit"].dropna())
            if len(found) > 1:
                raise ValueError(f"table mixes units {list(found)}; convert to one unit before plotting.")
            unit = str(found[0])
        else:
            unit = table.attrs.get("unit")
    if unit is None:
        raise ValueError(
            "the table names no unit (no 'unit' column or attrs['unit']); pass unit='nats'|'bits'."
        )
    return check_in(unit, UNITS, "unit")


def parse_regions(value) -> tuple[int, ...]:
    """Region indices of a group from a ``regions`` tuple/list/array or a ``group_id`` like ``"3-17-42"``."""
    if isinstance(value, str):
        return tuple(int(v) for v in value.split("-"))
    return tuple(int(v) for v in np.asarray(value).ravel())
