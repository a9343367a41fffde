"""The cohort pipeline as batch steps: parcellate -> score -> stats -> report, each resumable on its own.

Each step is a plain function (the CLI's commands call these):

- :func:`parcellate_cohort`: fMRIPrep derivatives + atlas -> one region table per subject (one job each);
- :func:`score_cohort_batch`: region tables -> subject-level score table (one job per subject, or per
  subject x chunk of groups), saved as ``scores.parquet``;
- :func:`cohort_statistics`: subject-level table -> one test per group across subjects, region summary,
  network enrichment (Parquet files);
- :func:`cohort_report`: tables -> self-contained HTML report.

Sign convention: O-information Omega = TC - DTC; Omega > 0 redundancy-dominated, Omega < 0
synergy-dominated.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import os
import uuid
import warnings
from dataclasses import dataclass, field
from math import comb
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fmmi_neuro.batch.jobs import Job, plan_jobs
from fmmi_neuro.batch.preflight import data_problems, output_problems, raise_problems, scoring_problems
from fmmi_neuro.batch.runner import RunResult, run_jobs
from fmmi_neuro.batch.source import CohortSource, as_source, config_source


def _group_slice(size: int, n_regions: int, group_range: tuple[int, int]) -> np.ndarray:
    start, stop = group_range
    combos = itertools.islice(itertools.combinations(range(n_regions), size), start, stop)
    return np.array(list(combos), dtype=np.int64).reshape(-1, size)


def score_subject_job(
    job: Job,
    *,
    source: CohortSource,
    groups: Any,
    size: int,
    estimator: str,
    null: str | None,
    n_surrogates: int,
    unit: str,
    alpha: float,
    estimator_kwargs: dict,
) -> pd.DataFrame:
    """Score one subject (or one chunk of its groups): the job function of :func:`score_cohort_batch`."""
    from fmmi_neuro.stats.cohort import score_cohort

    ts = source.get(job.subject)
    if job.group_range is not None:
        groups = (
            _group_slice(size, ts.n_regions, job.group_range)
            if groups is None
            else (list(groups)[job.group_range[0] : job.group_range[1]])
        )
    return score_cohort(
        {job.subject: ts},
        groups=groups,
        size=size,
        estimator=estimator,
        null=null,
        n_surrogates=n_surrogates,
        unit=unit,
        alpha=alpha,
        seed=job.seed,
        **estimator_kwargs,
    )


@dataclass
class CohortScores:
    """Outcome of :func:`score_cohort_batch`.

    Attributes
    ----------
    table : DataFrame
        One row per (subject, group), phenotype columns joined; ``attrs`` carry unit, sign convention,
        estimator settings, seed and the failed subjects (``attrs["errors"]``).
    path : Path
        ``scores.parquet`` in the run folder.
    run : RunResult
        The batch run (run log, summary, errors per job).
    """

    table: pd.DataFrame
    path: Path
    run: RunResult

    @property
    def errors(self) -> dict[str, str]:
        """Subject -> error message of the subjects that failed."""
        return dict(self.table.attrs.get("errors", {}))


def score_cohort_batch(
    source: Any,
    run_dir: str | os.PathLike,
    *,
    groups: Any = None,
    size: int = 3,
    estimator: str = "gaussian_copula",
    null: str | None = "time_shift",
    n_surrogates: int = 99,
    unit: str = "nats",
    alpha: float = 0.05,
    seed: int = 0,
    device: str = "auto",
    chunk_size: int | None = None,
    subjects: list[str] | None = None,
    n_jobs: int = 1,
    dask_scheduler: Any = None,
    progress: bool = True,
    **estimator_kwargs: Any,
) -> CohortScores:
    """Score the same groups in every subject of a cohort as a resumable batch run.

    One job per subject (or per subject x ``chunk_size`` groups); each job's seed depends only on
    ``seed`` and the job, so local processes and Dask give identical tables. Rerunning the same call
    skips the finished jobs. A subject that fails is recorded (``run_log.jsonl``, ``summary.json``,
    ``attrs["errors"]``) and the others finish.

    Parameters
    ----------
    source : CohortSource or path
        The cohort; a path is a folder of region tables (``Cohort.from_region_tables``).
    run_dir : path
        Run folder; receives ``results/``, ``run_log.jsonl``, ``summary.json`` and ``scores.parquet``.
    groups : list of sequences of int or str, optional
        Groups to score (indices or region names); default every ``size``-subset of regions.
    size : int
        Group size when ``groups`` is None.
    estimator : {"gaussian_copula", "fmmi"}
    null : {"time_shift", "phase"} or None
        Per-subject surrogate null (``fmmi_neuro.stats.score_cohort``); None skips it.
    n_surrogates : int
    unit : {"nats", "bits"}
    alpha : float
        Per-subject FDR level of ``significant`` (q-values are computed over all groups of a subject,
        also when its groups were split into chunks).
    seed : int
        Run seed (see :func:`fmmi_neuro.batch.derive_seed`).
    device : str
        ``"auto"``, ``"cpu"`` or ``"cuda"`` for the fmmi estimator.
    chunk_size : int, optional
        Groups per job (None: one job per subject).
    subjects : list of str, optional
        Only these subjects (default all the cohort's).
    n_jobs : int
        Local worker processes.
    dask_scheduler : str or distributed.Client, optional
        Run on a Dask cluster instead.
    progress : bool
        Progress bar with ETA.
    **estimator_kwargs
        Passed to the estimator (e.g. fmmi training settings).

    Returns
    -------
    CohortScores

    Raises
    ------
    ValueError
        Before any job starts, listing every problem: a setting out of its choices or range, an estimator
        option the estimator does not take, ``clean`` options, a group size or groups that do not fit the
        first loadable subject's regions, unknown ``subjects``, a ``run_dir`` that cannot be written
        (:mod:`fmmi_neuro.batch.preflight`). After the jobs: no subject could be scored.
    """
    from fmmi_neuro.stats.cohort import join_phenotype

    source = dataclasses.replace(as_source(source), token=uuid.uuid4().hex)
    problems = scoring_problems(
        estimator=estimator,
        null=null,
        unit=unit,
        size=size,
        n_surrogates=n_surrogates,
        alpha=alpha,
        chunk_size=chunk_size,
        device=device,
        seed=seed,
        estimator_kwargs=estimator_kwargs,
    )
    problems += output_problems(run_dir, "run_dir")
    problems += data_problems(source, subjects, size=size, groups=groups)
    raise_problems(problems)
    cohort = source.cohort()
    subjects = list(cohort.subjects if subjects is None else subjects)
    if estimator == "fmmi":
        estimator_kwargs = {**estimator_kwargs, "device": device}
    n_groups = None
    if chunk_size is not None:
        n_groups = (
            len(list(groups)) if groups is not None else comb(_first_good(source, subjects).n_regions, size)
        )
    jobs = plan_jobs(subjects, seed=seed, n_groups=n_groups, chunk_size=chunk_size)
    func = functools.partial(
        score_subject_job,
        source=source,
        groups=groups,
        size=size,
        estimator=estimator,
        null=null,
        n_surrogates=n_surrogates,
        unit=unit,
        alpha=alpha,
        estimator_kwargs=estimator_kwargs,
    )
    settings = {
        "step": "score",
        "source": source.key(),
        "groups": groups,
        "size": size,
        "estimator": estimator,
        "null": null,
        "n_surrogates": n_surrogates,
        "unit": unit,
        "alpha": alpha,
        "seed": seed,
        "chunk_size": chunk_size,
        "estimator_kwargs": {k: v for k, v in estimator_kwargs.items() if k != "device"},
    }
    run = run_jobs(
        jobs,
        func,
        run_dir,
        n_jobs=n_jobs,
        dask_scheduler=dask_scheduler,
        settings=settings,
        progress=progress,
        desc="scoring subjects",
    )
    job_errors = run.folder.errors()
    errors = {j.subject: job_errors[j.job_id]["error"] for j in jobs if j.job_id in job_errors}
    table = run.results([j.job_id for j in jobs])
    if errors and not table.empty:  # a subject with a failed chunk is left out whole
        attrs = dict(table.attrs)
        table = table.loc[~table["subject"].isin(list(errors))].reset_index(drop=True)
        table.attrs = attrs
    if table.empty:
        raise ValueError(f"no subject could be scored in {str(run.folder.path)!r}; errors: {errors}")
    attrs = dict(table.attrs)
    if chunk_size is not None and "p_value" in table.columns:
        table = _subject_fdr(table, alpha)
    if not cohort.phenotype.empty:
        table = join_phenotype(table, cohort.phenotype)
    attrs.update(
        seed=seed,
        errors=errors,
        n_subjects=int(table["subject"].nunique()),
        chunk_size=chunk_size,
        source=source.path,
    )
    table.attrs = attrs
    from fmmi_neuro.stats.tables import save_table

    path = save_table(table, run.folder.path / "scores.parquet")
    return CohortScores(table=table, path=path, run=run)


def _first_good(source: CohortSource, subjects: list[str]):
    problems = []
    for s in subjects:
        try:
            return source.get(s)
        except ValueError as err:
            problems.append(str(err))
    raise ValueError(f"no subject of the cohort could be loaded: {problems[:5]}")


def _subject_fdr(table: pd.DataFrame, alpha: float) -> pd.DataFrame:
    from fmmi_neuro.stats.multitest import fdr_bh

    table = table.copy()
    for _, idx in table.groupby("subject", sort=False).groups.items():
        reject, q = fdr_bh(table.loc[idx, "p_value"].to_numpy(), alpha=alpha)
        table.loc[idx, "q_value"] = q
        table.loc[idx, "significant"] = reject
    return table


@dataclass
class CohortStatistics:
    """Outcome of :func:`cohort_statistics`: group-level tests, region summary, network enrichment."""

    group_stats: pd.DataFrame
    region_table: pd.DataFrame
    enrichment: pd.DataFrame | None
    paths: dict[str, Path]


def cohort_statistics(
    scores: pd.DataFrame,
    out_dir: str | os.PathLike,
    *,
    test: str = "auto",
    value: str = "o_info",
    by: str | None = None,
    levels: list | None = None,
    covariate: str | None = None,
    covariates: list[str] | tuple = (),
    alpha: float = 0.05,
    n_permutations: int = 1000,
    seed: int = 0,
) -> CohortStatistics:
    """Across subjects: one test per group (FDR across groups), region summary and network enrichment.

    Parameters
    ----------
    scores : DataFrame
        Subject-level table (:func:`score_cohort_batch`).
    out_dir : path
        Receives ``group_stats.parquet``, ``regions.parquet`` and ``enrichment.parquet`` (when networks
        are known).
    test, value, by, levels, covariate, covariates, alpha
        As in :func:`fmmi_neuro.stats.group_statistics` (``by`` -> two-group contrast, ``covariate`` ->
        regression).
    n_permutations, seed
        Network-enrichment permutation null.

    Returns
    -------
    CohortStatistics
    """
    from fmmi_neuro.stats.group_level import group_statistics
    from fmmi_neuro.stats.regions import network_enrichment, region_summary
    from fmmi_neuro.stats.tables import save_table

    if test == "auto" and by is not None:
        test = "two_group"
    elif test == "auto" and covariate is not None:
        test = "regression"
    stats = group_statistics(
        scores,
        test=test,
        value=value,
        by=by,
        levels=levels,
        covariate=covariate,
        covariates=list(covariates),
        alpha=alpha,
    )
    for key in ("region_names", "networks", "unit", "sign_convention", "atlas"):
        if key in scores.attrs and key not in stats.attrs:
            stats.attrs[key] = scores.attrs[key]
    out = Path(out_dir)
    paths = {"group_stats": save_table(stats, out / "group_stats.parquet")}
    regions = region_summary(stats, alpha=alpha)
    paths["regions"] = save_table(regions, out / "regions.parquet")
    enrichment = None
    if stats.attrs.get("networks"):
        enrichment = network_enrichment(stats, n_permutations=n_permutations, alpha=alpha, seed=seed)
        paths["enrichment"] = save_table(enrichment, out / "enrichment.parquet")
    return CohortStatistics(group_stats=stats, region_table=regions, enrichment=enrichment, paths=paths)


def cohort_report(
    scores: pd.DataFrame,
    out_dir: str | os.PathLike,
    *,
    statistics: CohortStatistics | None = None,
    coordinates: np.ndarray | None = None,
    atlas: Any = None,
    title: str = "fmmi_neuro cohort report: higher-order interactions",
    data_description: str | None = None,
    provenance: dict | None = None,
    alpha: float = 0.05,
    formats: tuple[str, ...] = ("png",),
    maps: tuple[str, ...] = ("glass",),
) -> Path:
    """Write the HTML report of a cohort run (figures embedded; PNG files next to it). Returns its path."""
    from fmmi_neuro.report import report

    kwargs: dict[str, Any] = {}
    if statistics is not None:
        kwargs.update(
            group_stats=statistics.group_stats,
            region_table=statistics.region_table,
            enrichment=statistics.enrichment,
        )
    return report(
        scores,
        out_dir,
        atlas=atlas,
        coordinates=coordinates,
        title=title,
        data_description=data_description,
        provenance=provenance,
        alpha=alpha,
        formats=formats,
        maps=maps,
        **kwargs,
    )


def parcellate_subject_job(job: Job, *, source: CohortSource, out_dir: str) -> pd.DataFrame:
    """Parcellate one subject and save its region table: the job function of :func:`parcellate_cohort`."""
    ts = source.get(job.subject)
    path = ts.save(Path(out_dir))
    return pd.DataFrame(
        {
            "subject": [job.subject],
            "path": [str(path)],
            "n_timepoints": [ts.n_timepoints],
            "n_regions": [ts.n_regions],
        }
    )


def parcellate_cohort(
    derivatives_dir: str | os.PathLike,
    atlas: str,
    out_dir: str | os.PathLike,
    *,
    n_jobs: int = 1,
    dask_scheduler: Any = None,
    progress: bool = True,
    **cohort_options: Any,
) -> RunResult:
    """fMRIPrep derivatives -> one region table per subject in ``out_dir/region_tables`` (resumable).

    ``cohort_options`` go to :meth:`fmmi_neuro.io.Cohort.from_fmriprep` (``task``, ``space``,
    ``confounds_strategy``, ``data_dir``, ...). The participants table is copied next to the tables,
    so ``out_dir/region_tables`` is a ready input of :func:`score_cohort_batch`.
    """
    source = CohortSource(
        "fmriprep", str(derivatives_dir), {"atlas": atlas, **cohort_options}, token=uuid.uuid4().hex
    )
    cohort = source.cohort()
    tables = Path(out_dir).expanduser().resolve() / "region_tables"
    tables.mkdir(parents=True, exist_ok=True)
    if not cohort.phenotype.empty:
        pheno = cohort.phenotype.reset_index().rename(columns={"subject": "participant_id"})
        pheno["participant_id"] = "sub-" + pheno["participant_id"].astype(str)
        pheno.to_csv(tables / "participants.tsv", sep="\t", index=False)
    jobs = plan_jobs(cohort.subjects)
    func = functools.partial(parcellate_subject_job, source=source, out_dir=str(tables))
    return run_jobs(
        jobs,
        func,
        Path(out_dir) / "parcellate_run",
        n_jobs=n_jobs,
        dask_scheduler=dask_scheduler,
        settings={"step": "parcellate", "source": source.key()},
        progress=progress,
        desc="parcellating subjects",
    )


@dataclass
class PipelineResult:
    """Outcome of :func:`run_pipeline`: the tables, where they are, and the report.

    Attributes
    ----------
    out_dir : Path
    scores : CohortScores
    statistics : CohortStatistics or None
        None when the group statistics could not run (``not_done`` says why).
    report : Path or None
    not_done : dict of str -> str
        Step -> reason, for the steps the config asked for that could not run (also in the report).
    parcellation_errors : dict of str -> str
        Subject -> error, for the subjects that failed before scoring (fMRIPrep input).
    """

    out_dir: Path
    scores: CohortScores
    statistics: CohortStatistics | None
    report: Path | None
    not_done: dict[str, str] = field(default_factory=dict)
    parcellation_errors: dict[str, str] = field(default_factory=dict)

    @property
    def errors(self) -> dict[str, str]:
        """Subject -> error message of the subjects that failed (parcellation or scoring)."""
        return {**self.parcellation_errors, **self.scores.errors}


def run_pipeline(
    config: Any,
    *,
    n_jobs: int | None = None,
    dask_scheduler: str | None = None,
    seed: int | None = None,
    device: str | None = None,
    progress: bool | None = None,
) -> PipelineResult:
    """Run a whole config: (parcellate ->) score -> stats -> report, into ``config.output``.

    Parameters
    ----------
    config : Config, dict or path
        A validated :class:`fmmi_neuro.batch.config.Config`, a mapping (validated here) or a YAML file.
    n_jobs, dask_scheduler, seed, device, progress
        Override the config's values when given (the CLI's options).

    Returns
    -------
    PipelineResult
    """
    from fmmi_neuro.batch.config import Config, load_config, parse_config
    from fmmi_neuro.batch.preflight import check_pipeline

    if isinstance(config, (str, os.PathLike)):
        config = load_config(config)
    elif not isinstance(config, Config):
        config = parse_config(config)
    run, data, sc = config.run, config.data, config.scoring
    n_jobs = run.n_jobs if n_jobs is None else n_jobs
    dask_scheduler = run.dask_scheduler if dask_scheduler is None else dask_scheduler
    seed = run.seed if seed is None else seed
    device = sc.device if device is None else device
    progress = run.progress if progress is None else progress
    check_pipeline(config, seed=seed, device=device)
    out = Path(config.output)
    parcellation_errors: dict[str, str] = {}
    if data.fmriprep is not None:
        options = {
            k: v
            for k, v in {
                "task": data.task,
                "space": data.space,
                "data_dir": data.data_dir,
                "confounds_strategy": data.confounds_strategy,
            }.items()
            if v is not None
        }
        parcellated = parcellate_cohort(
            data.fmriprep,
            data.atlas,
            out,
            n_jobs=n_jobs,
            dask_scheduler=dask_scheduler,
            progress=progress,
            participants=data.participants,
            **options,
        )
        parcellation_errors = {
            job_id.removeprefix("sub-"): f"parcellation failed: {record['error']}"
            for job_id, record in parcellated.folder.errors().items()
        }
        if not parcellated.ok:
            warnings.warn(
                f"parcellation failed for {sorted(parcellated.errors)} (see "
                f"{parcellated.folder.path}/summary.json); they are left out.",
                UserWarning,
                stacklevel=2,
            )
        tables = out / "region_tables"
        participants = tables / "participants.tsv"
        source = CohortSource(
            "region_tables",
            str(tables),
            {"participants": str(participants) if participants.is_file() else None, "atlas": data.atlas},
            clean=dict(data.clean),
        )
    else:
        source = config_source(config)
    scores = score_cohort_batch(
        source,
        out / "scoring",
        groups=sc.groups,
        size=sc.size,
        estimator=sc.estimator,
        null=None if sc.null_model in (None, "none") else sc.null_model,
        n_surrogates=sc.n_surrogates,
        unit=sc.unit,
        alpha=sc.alpha,
        seed=seed,
        device=device,
        chunk_size=sc.chunk_size,
        subjects=data.subjects,
        n_jobs=n_jobs,
        dask_scheduler=dask_scheduler,
        progress=progress,
        **sc.estimator_settings,
    )
    st = config.stats
    statistics, not_done = None, {}
    try:
        statistics = cohort_statistics(
            scores.table,
            out / "stats",
            test=st.test,
            value=st.value,
            by=st.by,
            levels=st.levels,
            covariate=st.covariate,
            covariates=st.covariates,
            alpha=st.alpha,
            n_permutations=st.n_permutations,
            seed=seed,
        )
    except ValueError as err:  # e.g. too few subjects left: the scores stay, the reason is reported
        not_done["group statistics"] = str(err)
        warnings.warn(f"group statistics not computed: {err}", UserWarning, stacklevel=2)
    report_path = None
    if config.report.enabled:
        first = _first_good(source, list(scores.table["subject"].unique()))
        reported = scores.table.copy()
        reported.attrs = {**scores.table.attrs, "errors": {**parcellation_errors, **scores.errors}}
        report_path = cohort_report(
            reported,
            out / "report",
            statistics=statistics,
            coordinates=first.coordinates,
            atlas=first.atlas,
            title=config.report.title,
            provenance={
                "config": str(config.output),
                "seed": seed,
                **{f"{step}: not computed": reason for step, reason in not_done.items()},
            },
            alpha=st.alpha,
            formats=tuple(config.report.formats),
            maps=tuple(config.report.maps),
        )
    return PipelineResult(
        out_dir=out,
        scores=scores,
        statistics=statistics,
        report=report_path,
        not_done=not_done,
        parcellation_errors=parcellation_errors,
    )
