"""The ``fmmi-neuro`` command line: a thin layer over the Python API (every command has an API twin).

Commands and their API twins:

- ``demo``          -> :func:`fmmi_neuro.batch.demo`
- ``run CONFIG``    -> :func:`fmmi_neuro.batch.run_pipeline`
- ``parcellate``    -> :func:`fmmi_neuro.batch.parcellate_cohort`
- ``score``         -> :func:`fmmi_neuro.batch.score_cohort_batch`
- ``stats``         -> :func:`fmmi_neuro.batch.cohort_statistics`
- ``report``        -> :func:`fmmi_neuro.batch.cohort_report`
- ``atlases list``  -> :func:`fmmi_neuro.io.list_atlases`
- ``atlases show``  -> :func:`fmmi_neuro.io.load_atlas`

Heavy modules are imported inside the commands, so ``fmmi-neuro --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

SIGN = "Sign convention: O-information Ω = TC − DTC; Ω > 0 redundancy, Ω < 0 synergy."
EXIT_OK, EXIT_PARTIAL, EXIT_ERROR = 0, 1, 2
EXIT_CODES = (
    "\b\nExit codes:\n"
    "  0  everything done: every subject scored, every step run\n"
    "  1  finished, but some subjects failed (or a step could not run): the others' results are\n"
    "     written and the failures listed in the summary, summary.json and the report\n"
    "  2  nothing done: a bad option, config or input (all checked before any job starts,\n"
    "     every problem listed), or no subject could be processed"
)

app = typer.Typer(
    name="fmmi-neuro",
    help=(
        "Higher-order interactions (O-information: redundancy vs synergy) between brain regions in fMRI.\n\n"
        f"{SIGN}\n\n"
        "\b\nStart here:\n"
        "  fmmi-neuro demo               # whole pipeline on a shipped sample, offline, ~20 s\n"
        "  fmmi-neuro run study.yaml     # your cohort, from a YAML config (see 'run --help')\n"
        "  fmmi-neuro atlases list       # atlases known by name\n\n"
        "Or step by step: parcellate -> score -> stats -> report.\n\n"
        f"{EXIT_CODES}"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
atlases_app = typer.Typer(help="Atlases known by name: list them, or show one.", no_args_is_help=True)
app.add_typer(atlases_app, name="atlases")

NJobs = Annotated[int, typer.Option("--n-jobs", "-j", help="Local worker processes.", min=1)]
DaskOpt = Annotated[
    str | None,
    typer.Option("--dask-scheduler", help="Run the jobs on this Dask cluster (e.g. tcp://host:8786)."),
]
SeedOpt = Annotated[int, typer.Option("--seed", help="Run seed; each job's seed derives from it.", min=0)]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")]


def _fail(err: Exception) -> None:
    typer.echo(f"error: {err}", err=True)
    raise typer.Exit(code=EXIT_ERROR)


def _finish(failed: dict[str, str], not_done: dict[str, str] | None = None) -> None:
    """Exit 1 (after saying so) when some subjects failed or a step could not run; else return."""
    for step, reason in sorted((not_done or {}).items()):
        typer.echo(f"NOT DONE {step}: {reason}")
    if failed or not_done:
        typer.echo(
            f"exit code {EXIT_PARTIAL}: {len(failed)} subject(s) failed"
            f"{' and some steps did not run' if not_done else ''}; the other results are written.",
            err=True,
        )
        raise typer.Exit(code=EXIT_PARTIAL)


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path(
        "fmmi_neuro_results/demo"
    ),
    dataset: Annotated[
        str, typer.Option(help="'sample' (shipped, offline) or 'development_fmri' (nilearn, needs network).")
    ] = "sample",
    n_jobs: NJobs = 2,
    seed: SeedOpt = 0,
    n_subjects: Annotated[int, typer.Option(help="Subjects of the cohort part.", min=4)] = 16,
    n_surrogates: Annotated[
        int, typer.Option(help="Surrogates of the real run's tests (999 let q < 0.05 be reached).", min=1)
    ] = 999,
    cohort_surrogates: Annotated[
        int, typer.Option(help="Time-shift surrogates per subject of the synthetic cohort.", min=1)
    ] = 99,
    dask_scheduler: DaskOpt = None,
    quiet: Quiet = False,
) -> None:
    """Run the whole pipeline (load -> score -> stats -> report) on a small sample, offline, in ~20 s.

    The default sample is one REAL resting-state run shipped with the package (BrainFC rest01,
    Schaefer-100, Apache-2.0; 300 random triplets tested against 999 time-shift surrogates, enough for
    BH-FDR to reach q < 0.05) plus a clearly labelled SYNTHETIC cohort with planted redundant and
    synergistic triplets (two groups, for the group statistics). Prints where the reports are.

    \b
    Examples:
      fmmi-neuro demo
      fmmi-neuro demo --out /tmp/demo --n-jobs 1
      fmmi-neuro demo --dataset development_fmri   # nilearn children/adults cohort, needs network once
    """
    from fmmi_neuro.batch.demo import demo as run_demo

    try:
        result = run_demo(
            out,
            dataset=dataset,
            n_jobs=n_jobs,
            seed=seed,
            n_subjects=n_subjects,
            n_surrogates=n_surrogates,
            cohort_surrogates=cohort_surrogates,
            dask_scheduler=dask_scheduler,
            progress=not quiet,
        )
    except (ValueError, OSError) as err:
        _fail(err)
    typer.echo(SIGN)
    for name, path in result.reports.items():
        typer.echo(f"report ({name}): {path}")
    typer.echo(f"all outputs: {result.out_dir}")
    typer.echo(f"open this first: {result.index}")
    failed = {s: m for part in result.findings.values() for s, m in part.get("failed_subjects", {}).items()}
    for subject, message in sorted(failed.items()):
        typer.echo(f"FAILED subject {subject}: {message}")
    _finish(failed)


@app.command()
def run(
    config: Annotated[Path, typer.Argument(help="YAML config file.")],
    n_jobs: Annotated[int | None, typer.Option("--n-jobs", "-j", help="Override run.n_jobs.", min=1)] = None,
    dask_scheduler: DaskOpt = None,
    seed: Annotated[int | None, typer.Option(help="Override run.seed.", min=0)] = None,
    device: Annotated[str | None, typer.Option(help="Override scoring.device: auto, cpu, cuda.")] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Only check the config, the data and the output folder.")
    ] = False,
    quiet: Quiet = False,
) -> None:
    """Run a cohort from a YAML config: (parcellate ->) score -> stats -> report. Rerun to resume.

    Everything is checked before any job starts, and every problem is listed in one message: unknown
    keys, wrong types and values, the data.clean options, the group size and groups against the data's
    regions, the participants.tsv columns that stats names, and whether the output folder can be
    written. Finished subjects are never redone; a failing subject is recorded in
    OUTPUT/scoring/summary.json and in the report while the others finish.

    Exit code 0: everything done; 1: some subjects failed or a step could not run (the rest is
    written); 2: nothing done (a problem found by the checks, or no subject could be scored).

    \b
    Example config (paths relative to the config file):
      output: results/my_study
      data:
        region_tables: region_tables     # or: fmriprep: derivatives/fmriprep + atlas: schaefer200
        clean: {detrend: true, standardize: zscore_sample}
      scoring: {estimator: gaussian_copula, size: 3, null_model: time_shift, n_surrogates: 99, unit: bits}
      stats: {by: group}                 # a participants.tsv column; or covariate: age
      run: {seed: 0, n_jobs: 2}
    \b
    Examples:
      fmmi-neuro run study.yaml --check
      fmmi-neuro run study.yaml -j 2
      fmmi-neuro run study.yaml --dask-scheduler tcp://scheduler:8786
    """
    from fmmi_neuro.batch.config import load_config
    from fmmi_neuro.batch.preflight import check_pipeline

    try:
        cfg = load_config(config)
        if check:
            check_pipeline(cfg, seed=seed, device=device)
    except ValueError as err:
        _fail(err)
    if check:
        typer.echo(f"{config}: OK (settings, data, phenotype columns and output folder checked)")
        return
    from fmmi_neuro.batch.pipeline import run_pipeline

    try:
        result = run_pipeline(
            cfg,
            n_jobs=n_jobs,
            dask_scheduler=dask_scheduler,
            seed=seed,
            device=device,
            progress=False if quiet else None,
        )
    except (ValueError, OSError) as err:
        _fail(err)
    _print_scores(result.scores)
    for subject, message in sorted(result.parcellation_errors.items()):
        typer.echo(f"FAILED subject {subject}: {message}")
    if result.statistics is not None:
        for name, path in result.statistics.paths.items():
            typer.echo(f"{name}: {path}")
    if result.report is not None:
        typer.echo(f"report: {result.report}")
    _finish(result.errors, result.not_done)


def _print_scores(scores) -> None:
    summary = scores.run.summary
    typer.echo(
        f"scored {summary['n_finished']}/{summary['n_jobs']} jobs "
        f"({summary['n_finished_before']} finished before, {summary['n_done_now']} now)"
    )
    for subject, message in sorted(scores.errors.items()):
        typer.echo(f"FAILED subject {subject}: {message}")
    typer.echo(f"scores: {scores.path}")
    typer.echo(f"run log: {scores.run.folder.log_path}")


@app.command()
def parcellate(
    derivatives: Annotated[Path, typer.Argument(help="fMRIPrep derivatives folder.")],
    atlas: Annotated[str, typer.Option(help="Atlas name (see 'fmmi-neuro atlases list') or labels image.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (gets region_tables/).")],
    task: Annotated[str | None, typer.Option(help="Only runs of this task.")] = None,
    space: Annotated[str | None, typer.Option(help="Only runs in this space.")] = None,
    confounds_strategy: Annotated[str, typer.Option(help="fMRIPrep denoising strategy.")] = "simple",
    data_dir: Annotated[Path | None, typer.Option(help="nilearn data dir for the atlas.")] = None,
    n_jobs: NJobs = 1,
    dask_scheduler: DaskOpt = None,
    quiet: Quiet = False,
) -> None:
    """fMRIPrep derivatives -> one region table per subject (OUT/region_tables), resumable.

    Exit code 0: every subject parcellated; 1: some failed (listed; the others are written); 2: none was.

    \b
    Examples:
      fmmi-neuro parcellate derivatives/fmriprep --atlas schaefer200 --out results/study -j 2
      fmmi-neuro score results/study/region_tables --out results/study/scoring
    """
    from fmmi_neuro.batch.pipeline import parcellate_cohort

    options = {k: v for k, v in {"task": task, "space": space, "data_dir": data_dir}.items() if v is not None}
    try:
        res = parcellate_cohort(
            derivatives,
            atlas,
            out,
            n_jobs=n_jobs,
            dask_scheduler=dask_scheduler,
            progress=not quiet,
            confounds_strategy=confounds_strategy,
            **options,
        )
    except (ValueError, OSError) as err:
        _fail(err)
    for job_id, message in sorted(res.errors.items()):
        typer.echo(f"FAILED {job_id}: {message}")
    if res.summary["n_finished"] == 0:
        _fail(ValueError(f"no subject was parcellated (of {res.summary['n_jobs']}); see {res.folder.path}"))
    typer.echo(f"region tables: {Path(out) / 'region_tables'} ({res.summary['n_finished']} subjects)")
    _finish(res.errors)


@app.command()
def score(
    tables: Annotated[
        Path, typer.Argument(help="Folder of region tables (one per subject; participants.tsv).")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder (rerun to resume).")],
    size: Annotated[int, typer.Option(help="Group size.", min=3)] = 3,
    estimator: Annotated[
        str, typer.Option(help="gaussian_copula (fast) or fmmi (neural).")
    ] = "gaussian_copula",
    null: Annotated[
        str, typer.Option(help="Per-subject null: time_shift, phase, aaft, member_shift or none.")
    ] = "time_shift",
    n_surrogates: Annotated[int, typer.Option(min=1)] = 99,
    unit: Annotated[str, typer.Option(help="nats or bits.")] = "bits",
    t_r: Annotated[float | None, typer.Option(help="Seconds, if the tables have no sidecar.")] = None,
    detrend: Annotated[bool, typer.Option(help="Detrend and z-score each subject first.")] = False,
    chunk_size: Annotated[
        int | None, typer.Option(help="Groups per job (default: one job per subject).")
    ] = None,  # noqa: E501
    device: Annotated[str, typer.Option(help="auto, cpu or cuda (fmmi).")] = "auto",
    seed: SeedOpt = 0,
    n_jobs: NJobs = 1,
    dask_scheduler: DaskOpt = None,
    quiet: Quiet = False,
) -> None:
    """Score every group of SIZE regions in every subject (one job per subject), with a surrogate null.

    Writes OUT/scores.parquet (one row per subject and group), OUT/run_log.jsonl and OUT/summary.json.
    Every option is checked against the tables before any job starts (all problems listed at once).
    Exit code 0: every subject scored; 1: some failed (listed; the others are written); 2: nothing done.

    \b
    Examples:
      fmmi-neuro score region_tables --out results/scoring -j 2
      fmmi-neuro score region_tables --out results/scoring --null none --unit nats --seed 3
    """
    from fmmi_neuro.batch.pipeline import CohortSource, score_cohort_batch

    options = {"t_r": t_r} if t_r is not None else {}
    clean = {"detrend": True, "standardize": "zscore_sample"} if detrend else {}
    try:
        source = CohortSource("region_tables", str(tables), options, clean=clean)
        result = score_cohort_batch(
            source,
            out,
            size=size,
            estimator=estimator,
            null=None if null == "none" else null,
            n_surrogates=n_surrogates,
            unit=unit,
            seed=seed,
            device=device,
            chunk_size=chunk_size,
            n_jobs=n_jobs,
            dask_scheduler=dask_scheduler,
            progress=not quiet,
        )
    except (ValueError, OSError) as err:
        _fail(err)
    _print_scores(result)
    _finish(result.errors)


@app.command()
def stats(
    scores: Annotated[Path, typer.Argument(help="scores.parquet from 'fmmi-neuro score'.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
    by: Annotated[str | None, typer.Option(help="Two-group contrast on this phenotype column.")] = None,
    levels: Annotated[str | None, typer.Option(help="The two levels, 'B,A' (B - A).")] = None,
    covariate: Annotated[str | None, typer.Option(help="Regression on this phenotype column.")] = None,
    test: Annotated[str, typer.Option(help="auto, one_sample, stouffer, two_group, regression.")] = "auto",
    alpha: Annotated[float, typer.Option(help="FDR level.")] = 0.05,
    seed: SeedOpt = 0,
) -> None:
    """Group-level statistics across subjects: one test per group, FDR across groups, region summary.

    \b
    Examples:
      fmmi-neuro stats results/scoring/scores.parquet --out results/stats
      fmmi-neuro stats results/scoring/scores.parquet --out results/stats --by group --levels B,A
    """
    from fmmi_neuro.batch.pipeline import cohort_statistics
    from fmmi_neuro.stats.tables import load_table

    try:
        table = load_table(scores)
        result = cohort_statistics(
            table,
            out,
            test=test,
            by=by,
            covariate=covariate,
            alpha=alpha,
            seed=seed,
            levels=levels.split(",") if levels else None,
        )
    except (ValueError, OSError) as err:
        _fail(err)
    n_sig = int(result.group_stats["significant"].sum()) if "significant" in result.group_stats else 0
    typer.echo(f"{len(result.group_stats)} groups tested, {n_sig} significant at FDR q < {alpha:g}. {SIGN}")
    for name, path in result.paths.items():
        typer.echo(f"{name}: {path}")


@app.command()
def report(
    scores: Annotated[Path, typer.Argument(help="scores.parquet (cohort or one subject).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
    stats_dir: Annotated[Path | None, typer.Option(help="Folder written by 'fmmi-neuro stats'.")] = None,
    title: Annotated[str, typer.Option()] = "fmmi_neuro report: higher-order interactions",
) -> None:
    """Write a self-contained HTML report (figures embedded, opens offline).

    \b
    Examples:
      fmmi-neuro report results/scoring/scores.parquet --stats-dir results/stats --out results/report
    """
    from fmmi_neuro.batch.pipeline import CohortStatistics, cohort_report
    from fmmi_neuro.stats.tables import load_table

    try:
        table = load_table(scores)
        statistics = None
        if stats_dir is not None:
            paths = {p.stem: p for p in Path(stats_dir).glob("*.parquet")}
            if "group_stats" not in paths:
                raise ValueError(
                    f"no group_stats.parquet in {str(stats_dir)!r}; run 'fmmi-neuro stats' first."
                )
            statistics = CohortStatistics(
                group_stats=load_table(paths["group_stats"]),
                region_table=load_table(paths["regions"]) if "regions" in paths else None,
                enrichment=load_table(paths["enrichment"]) if "enrichment" in paths else None,
                paths=paths,
            )
        path = cohort_report(table, out, statistics=statistics, title=title)
    except (ValueError, OSError) as err:
        _fail(err)
    typer.echo(f"report: {path}")


@atlases_app.command("list")
def atlases_list() -> None:
    """List the atlases known by name (use the name with --atlas or in a config).

    \b
    Example:
      fmmi-neuro atlases list
    """
    import pandas as pd

    from fmmi_neuro.io import list_atlases

    with pd.option_context("display.max_rows", None, "display.width", 200, "display.max_colwidth", 60):
        typer.echo(list_atlases().to_string(index=False))


@atlases_app.command("show")
def atlases_show(
    name: Annotated[str, typer.Argument(help="Atlas name, e.g. schaefer200 or power264.")],
    data_dir: Annotated[Path | None, typer.Option(help="nilearn data dir (default $NILEARN_DATA).")] = None,
) -> None:
    """Load one atlas and show its regions, networks, space and citation.

    \b
    Example:
      fmmi-neuro atlases show schaefer100 --data-dir ~/nilearn_data
    """
    from fmmi_neuro.io import load_atlas

    try:
        atlas = load_atlas(name, data_dir=data_dir)
    except (ValueError, OSError) as err:
        _fail(err)
    typer.echo(repr(atlas))
    typer.echo(f"space: {atlas.space}")
    typer.echo(f"citation: {atlas.citation}")
    typer.echo(atlas.regions_table().head(20).to_string())


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    return f"warning: {message}\n"


def main() -> None:
    """Entry point of the ``fmmi-neuro`` console script (warnings shown as one line each)."""
    import warnings

    warnings.formatwarning = _one_line_warning
    app()


if __name__ == "__main__":
    main()
