"""fmmi_neuro: higher-order interactions in fMRI with flow-matching mutual information.

Layers (data flows one way): ``io`` -> ``engine`` -> ``scoring`` / ``stats`` -> ``report`` -> ``cli``.
The public names below are imported lazily, so ``import fmmi_neuro`` stays fast and the command line
does not pay for torch or nilearn until it needs them.

Sign convention: O-information Omega = TC - DTC; Omega > 0 means redundancy-dominated, Omega < 0
synergy-dominated (Rosas et al. 2019). Information is in nats unless ``unit="bits"`` is asked for.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from fmmi_neuro._lazy import lazy_exports

__version__ = "0.1.0"

# public name -> module that defines it
_PUBLIC: dict[str, str] = {
    # engine
    "estimate_mi": "fmmi_neuro.engine.mi",
    "MIResult": "fmmi_neuro.engine.mi",
    "information": "fmmi_neuro.engine.information",
    "InfoResult": "fmmi_neuro.engine.information",
    # io
    "RegionTimeSeries": "fmmi_neuro.io.timeseries",
    "Cohort": "fmmi_neuro.io.cohort",
    "Atlas": "fmmi_neuro.io.atlas",
    "load_atlas": "fmmi_neuro.io.atlases",
    "list_atlases": "fmmi_neuro.io.atlases",
    "parcellate": "fmmi_neuro.io.parcellation",
    "clean_region_signals": "fmmi_neuro.io.cleaning",
    "scrub_mask": "fmmi_neuro.io.confounds",
    "load_region_table": "fmmi_neuro.io.tables",
    # scoring
    "score_groups": "fmmi_neuro.scoring.score",
    "iter_score_groups": "fmmi_neuro.scoring.score",
    "two_stage_score": "fmmi_neuro.scoring.two_stage",
    "network_groups": "fmmi_neuro.scoring.designs",
    "random_groups": "fmmi_neuro.scoring.designs",
    "search_groups": "fmmi_neuro.scoring.search",
    "network_information": "fmmi_neuro.scoring.networks",
    # stats
    "score_cohort": "fmmi_neuro.stats.cohort",
    "group_statistics": "fmmi_neuro.stats.group_level",
    "surrogate_test": "fmmi_neuro.stats.nulls",
    "block_bootstrap_ci": "fmmi_neuro.stats.nulls",
    "time_shift_surrogate": "fmmi_neuro.stats.surrogates",
    "phase_randomized_surrogate": "fmmi_neuro.stats.surrogates",
    "fdr_bh": "fmmi_neuro.stats.multitest",
    "region_summary": "fmmi_neuro.stats.regions",
    "network_enrichment": "fmmi_neuro.stats.regions",
    "save_table": "fmmi_neuro.stats.tables",
    "load_table": "fmmi_neuro.stats.tables",
    # report
    "write_report": "fmmi_neuro.report",
    # batch
    "demo": "fmmi_neuro.batch.demo",
    "load_sample": "fmmi_neuro.batch.demo",
    "run_pipeline": "fmmi_neuro.batch.pipeline",
    "score_cohort_batch": "fmmi_neuro.batch.pipeline",
    "load_config": "fmmi_neuro.batch.config",
}


# subpackages and modules reachable as attributes, e.g. ``fmmi_neuro.simulate.redundant(...)``
_SUBMODULES = {"simulate", "engine", "io", "scoring", "stats", "report", "batch"}


_public_getattr, _public_dir = lazy_exports(__name__, _PUBLIC, globals())


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return import_module(f"fmmi_neuro.{name}")
    return _public_getattr(name)


def __dir__() -> list[str]:
    return sorted([*_public_dir(), *_SUBMODULES])


__all__ = sorted(_PUBLIC)
