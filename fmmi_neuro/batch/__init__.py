"""Batch runs over cohorts: resumable jobs, run logs, local processes or a Dask cluster.

Names resolve lazily (the command line starts fast).

>>> from fmmi_neuro.batch import plan_jobs
>>> [j.job_id for j in plan_jobs(["01", "02"], seed=0)]
['sub-01', 'sub-02']
"""

from __future__ import annotations

from fmmi_neuro._lazy import lazy_exports

_NAMES: dict[str, str] = {
    "Job": "jobs",
    "derive_seed": "jobs",
    "plan_jobs": "jobs",
    "RunFolder": "store",
    "JobOutcome": "runner",
    "RunResult": "runner",
    "execute_job": "runner",
    "run_jobs": "runner",
    "SerialExecutor": "executors",
    "LocalExecutor": "executors",
    "DaskExecutor": "executors",
    "make_executor": "executors",
    "CohortSource": "source",
    "score_cohort_batch": "pipeline",
    "cohort_statistics": "pipeline",
    "cohort_report": "pipeline",
    "parcellate_cohort": "pipeline",
    "run_pipeline": "pipeline",
    "Config": "config",
    "ConfigError": "config",
    "load_config": "config",
    "parse_config": "config",
    "check_pipeline": "preflight",
    "demo": "demo",
    "DemoResult": "demo_index",
    "load_sample": "demo",
    "make_synthetic_cohort": "demo",
}


__getattr__, __dir__ = lazy_exports(__name__, _NAMES, globals())


__all__ = sorted(_NAMES)
