"""``RegionTimeSeries``: one run's (time x regions) signals with their labels, saved as TSV + JSON sidecar."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

_SIDECAR_VERSION = 1
_ENTITY_ORDER = ("subject", "session", "task", "run", "space", "atlas")
_ENTITY_KEYS = {
    "subject": "sub",
    "session": "ses",
    "task": "task",
    "run": "run",
    "space": "space",
    "atlas": "atlas",
}


def _entity_value(value: str) -> str:
    """Make ``value`` usable as a BIDS entity value (letters and digits only)."""
    return re.sub(r"[^A-Za-z0-9]", "", str(value))


def describe_source(subject: str | None = None, source: str | Path | None = None) -> str:
    """Return the phrase that names a run in error messages, e.g. ``"subject '01' (file /x/y.nii.gz)"``."""
    if subject is not None and source is not None:
        return f"subject {subject!r} (file {str(source)!r})"
    if subject is not None:
        return f"subject {subject!r}"
    if source is not None:
        return f"file {str(source)!r}"
    return "the input"


@dataclass
class RegionTimeSeries:
    """Region time series of one run (time points x regions) with everything needed to interpret them.

    Examples
    --------
    >>> import numpy as np
    >>> ts = RegionTimeSeries(np.arange(6.0).reshape(3, 2), ["A", "B"], t_r=2.0, subject="01")
    >>> ts.shape
    (3, 2)
    >>> ts.to_dataframe().columns.tolist()
    ['A', 'B']

    Parameters
    ----------
    data : ndarray, shape (n_timepoints, n_regions)
        Signals, float. One column per region, in the order of ``region_names``.
    region_names : list of str, length n_regions
        Unique region names.
    networks : list of str, length n_regions, optional
        Network label of each region (e.g. Yeo-7 ``"Default"``), or None when the atlas has none.
    coordinates : ndarray, shape (n_regions, 3), optional
        Region centroids in MNI space, millimetres.
    t_r : float, optional
        Repetition time in seconds.
    subject, session, run, task, space : str, optional
        BIDS labels (without the ``sub-``/``ses-``/... prefixes).
    atlas : str, optional
        Name of the atlas the regions come from.
    preprocessing : dict
        What was done to the signals (confounds, filters, scrubbed volumes, dropped regions, ...); JSON-able.
    source : str, optional
        Path of the file the signals were read or extracted from.

    Raises
    ------
    ValueError
        If shapes disagree, names repeat, or the data contain NaN or infinite values (naming the region).
    """

    data: np.ndarray
    region_names: list[str]
    networks: list[str] | None = None
    coordinates: np.ndarray | None = None
    t_r: float | None = None
    subject: str | None = None
    session: str | None = None
    run: str | None = None
    task: str | None = None
    atlas: str | None = None
    space: str | None = None
    preprocessing: dict[str, Any] = field(default_factory=dict)
    source: str | None = None

    def __post_init__(self) -> None:
        where = describe_source(self.subject, self.source)
        data = np.asarray(self.data)
        if data.ndim != 2:
            raise ValueError(
                f"time series of {where} must be 2-D (n_timepoints, n_regions); got {data.shape}."
            )
        if not np.issubdtype(data.dtype, np.floating):
            data = data.astype(np.float64)
        self.data = data
        self.region_names = [str(n) for n in self.region_names]
        if len(self.region_names) != data.shape[1]:
            raise ValueError(
                f"time series of {where}: {data.shape[1]} regions but {len(self.region_names)} region names."
            )
        seen: set[str] = set()
        duplicates = sorted({n for n in self.region_names if n in seen or seen.add(n)})
        if duplicates:
            raise ValueError(f"region names of {where} repeat: {duplicates[:5]}; names must be unique.")
        if self.networks is not None:
            self.networks = [str(n) for n in self.networks]
            if len(self.networks) != data.shape[1]:
                raise ValueError(
                    f"time series of {where}: {data.shape[1]} regions, {len(self.networks)} network labels."
                )
        if self.coordinates is not None:
            coords = np.asarray(self.coordinates, dtype=np.float64)
            if coords.shape != (data.shape[1], 3):
                raise ValueError(
                    f"coordinates of {where} must be ({data.shape[1]}, 3) in MNI mm; got {coords.shape}."
                )
            self.coordinates = coords
        if self.t_r is not None:
            try:
                t_r = float(self.t_r)
            except (TypeError, ValueError):
                t_r = np.nan
            if isinstance(self.t_r, bool) or not np.isfinite(t_r) or t_r <= 0:
                raise ValueError(f"t_r of {where} must be a positive number of seconds; got {self.t_r!r}.")
            self.t_r = t_r
        for name in ("subject", "session", "run", "task", "atlas", "space", "source"):
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, str(value))
        self.preprocessing = dict(self.preprocessing)
        bad = ~np.isfinite(data)
        if bad.any():
            cols = np.flatnonzero(bad.any(axis=0))
            names = [self.region_names[j] for j in cols[:5]]
            raise ValueError(
                f"time series of {where} have NaN or infinite values in {cols.size} region(s), e.g. {names}."
            )

    @property
    def shape(self) -> tuple[int, int]:
        """(n_timepoints, n_regions)."""
        return self.data.shape  # type: ignore[return-value]

    @property
    def n_timepoints(self) -> int:
        return int(self.data.shape[0])

    @property
    def n_regions(self) -> int:
        return int(self.data.shape[1])

    def __repr__(self) -> str:
        who = ", ".join(
            f"{k}={getattr(self, k)!r}"
            for k in ("subject", "session", "task", "run", "atlas")
            if getattr(self, k) is not None
        )
        sep = ", " if who else ""
        return f"RegionTimeSeries({self.n_timepoints} time points x {self.n_regions} regions{sep}{who})"

    def to_dataframe(self) -> pd.DataFrame:
        """Return the signals as a DataFrame (rows = time points, columns = region names).

        The index is the time of each volume in seconds when ``t_r`` is known (named ``"time_s"``), else the
        volume number (``"volume"``).
        """
        if self.t_r is not None:
            index = pd.Index(np.arange(self.n_timepoints) * self.t_r, name="time_s")
        else:
            index = pd.RangeIndex(self.n_timepoints, name="volume")
        return pd.DataFrame(self.data, index=index, columns=list(self.region_names))

    def regions_table(self) -> pd.DataFrame:
        """Return one row per region: ``name``, ``network`` and MNI ``x``, ``y``, ``z`` (mm) where known."""
        table = pd.DataFrame({"name": self.region_names})
        table["network"] = self.networks if self.networks is not None else None
        coords = self.coordinates if self.coordinates is not None else np.full((self.n_regions, 3), np.nan)
        table[["x", "y", "z"]] = coords
        return table

    def select(self, regions: list[str] | list[int]) -> RegionTimeSeries:
        """Return a copy keeping only ``regions`` (names or column indices), in the order given."""
        idx = []
        for r in regions:
            if isinstance(r, (int, np.integer)):
                if not 0 <= r < self.n_regions:
                    raise ValueError(f"region index {r} is out of range for {self.n_regions} regions.")
                idx.append(int(r))
            elif r in self.region_names:
                idx.append(self.region_names.index(r))
            else:
                raise ValueError(
                    f"region {r!r} is not one of the regions of {describe_source(self.subject)}."
                )
        return replace(
            self,
            data=self.data[:, idx],
            region_names=[self.region_names[i] for i in idx],
            networks=None if self.networks is None else [self.networks[i] for i in idx],
            coordinates=None if self.coordinates is None else self.coordinates[idx],
        )

    def bids_name(self, suffix: str = "timeseries") -> str:
        """A BIDS-like file stem, e.g. ``sub-01_ses-1_task-rest_run-1_atlas-schaefer100_timeseries``."""
        parts = [
            f"{_ENTITY_KEYS[k]}-{_entity_value(getattr(self, k))}"
            for k in _ENTITY_ORDER
            if getattr(self, k) is not None and _entity_value(getattr(self, k))
        ]
        return "_".join([*parts, suffix])

    def save(self, path: str | Path) -> Path:
        """Write the signals as TSV (header = region names) plus a JSON sidecar with everything else.

        Parameters
        ----------
        path : str or Path
            A ``.tsv`` file to write, or an existing folder, in which case the file gets a BIDS-like name
            (:meth:`bids_name`). The sidecar is the same path with ``.json``.

        Returns
        -------
        Path
            The TSV file written.
        """
        path = Path(path)
        if path.is_dir():
            path = path / f"{self.bids_name()}.tsv"
        elif path.suffix != ".tsv":
            raise ValueError(
                f"RegionTimeSeries.save needs a '.tsv' file or an existing folder; got {str(path)!r}."
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(self.data, columns=list(self.region_names)).to_csv(path, sep="\t", index=False)
        sidecar = {
            "fmmi_neuro_sidecar": _SIDECAR_VERSION,
            "RepetitionTime": self.t_r,
            "RegionNames": list(self.region_names),
            "Networks": self.networks,
            "CoordinatesMNI": None if self.coordinates is None else self.coordinates.tolist(),
            "Subject": self.subject,
            "Session": self.session,
            "Run": self.run,
            "TaskName": self.task,
            "Atlas": self.atlas,
            "Space": self.space,
            "Source": self.source,
            "Preprocessing": self.preprocessing,
            "dtype": str(self.data.dtype),
        }
        path.with_suffix(".json").write_text(json.dumps(sidecar, indent=1, default=_json_default))
        return path

    @classmethod
    def load(cls, path: str | Path) -> RegionTimeSeries:
        """Read what :meth:`save` wrote (the ``.tsv``; its ``.json`` sidecar must sit next to it)."""
        path = Path(path)
        sidecar_path = path.with_suffix(".json")
        for p in (path, sidecar_path):
            if not p.is_file():
                raise ValueError(f"cannot load region time series: file {str(p)!r} does not exist.")
        try:
            meta = json.loads(sidecar_path.read_text())
            table = pd.read_csv(path, sep="\t")
        except (OSError, ValueError, pd.errors.ParserError) as err:
            raise ValueError(f"cannot read region time series {str(path)!r}: {err}") from err
        names = meta.get("RegionNames") or [str(c) for c in table.columns]
        if [str(c) for c in table.columns] != list(names):
            raise ValueError(
                f"the header of {str(path)!r} does not match the region names of its JSON sidecar."
            )
        dtype = np.dtype(meta.get("dtype", "float64"))
        coords = meta.get("CoordinatesMNI")
        return cls(
            data=table.to_numpy(dtype=dtype),
            region_names=list(names),
            networks=meta.get("Networks"),
            coordinates=None if coords is None else np.asarray(coords, dtype=np.float64),
            t_r=meta.get("RepetitionTime"),
            subject=meta.get("Subject"),
            session=meta.get("Session"),
            run=meta.get("Run"),
            task=meta.get("TaskName"),
            atlas=meta.get("Atlas"),
            space=meta.get("Space"),
            preprocessing=meta.get("Preprocessing") or {},
            source=meta.get("Source"),
        )


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} in a JSON sidecar")
