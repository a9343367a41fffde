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

from fmmi_neuro._lazy import lazy_exports

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


__getattr__, __dir__ = lazy_exports(__name__, _NAMES, globals())


__all__ = sorted(_NAMES)
