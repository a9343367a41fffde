"""Where a cohort comes from, in a small picklable form every worker can rebuild it from.

Sign convention: O-information Omega = TC - DTC; Omega > 0 redundancy-dominated, Omega < 0
synergy-dominated.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SOURCE_KINDS = ("region_tables", "fmriprep")
_COHORTS: dict[str, Any] = {}  # per-process cache of discovered cohorts (workers rebuild theirs once)


@dataclass(frozen=True)
class CohortSource:
    """Where a cohort comes from, small and picklable, so every worker can rebuild the same ``Cohort``.

    Parameters
    ----------
    kind : {"region_tables", "fmriprep"}
        ``Cohort.from_region_tables(path, **options)`` or ``Cohort.from_fmriprep(path, **options)``.
    path : str
        The folder.
    options : dict
        Keyword arguments of that constructor (e.g. ``atlas``, ``t_r``, ``participants``).
    clean : dict
        If not empty, :func:`fmmi_neuro.io.clean_region_signals` arguments applied to every subject
        (e.g. ``{"detrend": True, "standardize": "zscore_sample", "high_pass": 0.01}``).
    token : str
        Identifies one run: each process discovers the cohort once per token, so a rerun (after fixing a
        file) never sees a stale cohort. Not part of :meth:`key`.
    """

    kind: str
    path: str
    options: dict = field(default_factory=dict)
    clean: dict = field(default_factory=dict)
    token: str = ""

    def __post_init__(self) -> None:
        from fmmi_neuro._validation import check_in

        check_in(self.kind, SOURCE_KINDS, "kind")
        object.__setattr__(self, "path", str(Path(self.path).expanduser().resolve()))

    def key(self) -> str:
        return json.dumps([self.kind, self.path, self.options, self.clean], sort_keys=True, default=str)

    def cohort(self):
        """The ``Cohort`` (discovered once per process)."""
        from fmmi_neuro.io import Cohort

        key = self.key() + self.token
        if key not in _COHORTS:
            while len(_COHORTS) >= 4:
                _COHORTS.pop(next(iter(_COHORTS)))
            build = Cohort.from_region_tables if self.kind == "region_tables" else Cohort.from_fmriprep
            _COHORTS[key] = build(self.path, **self.options)
        return _COHORTS[key]

    def get(self, subject: str):
        """One subject's (cleaned) ``RegionTimeSeries``; ``ValueError`` naming the subject if bad."""
        ts = self.cohort().get(subject)
        if self.clean:
            from fmmi_neuro.io import clean_region_signals

            try:
                ts = clean_region_signals(ts, **self.clean)
            except ValueError as err:
                raise ValueError(f"subject {subject!r}: cleaning failed: {err}") from err
        return ts


def as_source(source: Any) -> CohortSource:
    """A :class:`CohortSource` from itself or from a folder of region tables."""
    if isinstance(source, CohortSource):
        return source
    if isinstance(source, (str, os.PathLike)):
        return CohortSource("region_tables", str(source))
    raise TypeError(
        "'source' must be a CohortSource or the path of a folder of region tables; "
        f"got {type(source).__name__}."
    )


def config_source(config: Any) -> CohortSource:
    """The cohort of a config that reads region tables (``data.region_tables``), cleaned as
    ``data.clean`` says."""
    data = config.data
    options: dict[str, Any] = {"participants": data.participants}
    if data.t_r is not None:
        options["t_r"] = data.t_r
    if data.atlas is not None:
        options["atlas"] = data.atlas
    return CohortSource("region_tables", str(data.region_tables), options, clean=dict(data.clean))
