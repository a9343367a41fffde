"""Loaders: fMRI images, fMRIPrep/BIDS derivatives and region tables -> ``RegionTimeSeries`` / ``Cohort``.

Names resolve lazily, so ``import fmmi_neuro.io`` stays light (no nilearn, never torch).

Examples
--------
>>> from fmmi_neuro.io import load_atlas, parcellate, Cohort  # doctest: +SKIP
>>> atlas = load_atlas("schaefer200", data_dir="~/nilearn_data")  # doctest: +SKIP
>>> bold = "sub-01_task-rest_desc-preproc_bold.nii.gz"
>>> ts = parcellate(bold, atlas, confounds_strategy="simple")  # doctest: +SKIP
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_NAMES: dict[str, str] = {
    "RegionTimeSeries": "timeseries",
    "Atlas": "atlas",
    "AtlasFetchError": "atlases",
    "load_atlas": "atlases",
    "list_atlases": "atlases",
    "parse_yeo_network": "atlases",
    "parcellate": "parcellation",
    "bids_entities": "parcellation",
    "clean_region_signals": "cleaning",
    "scrub_mask": "confounds",
    "load_region_table": "tables",
    "Cohort": "cohort",
}


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        value = getattr(import_module(f"{__name__}.{_NAMES[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_NAMES])


__all__ = sorted(_NAMES)
