"""Run a list of jobs into a run folder: resumable, one bad job never stops the others.

The job function is any picklable callable ``func(job) -> pandas.DataFrame``. Each job is executed on a
worker, which writes the result atomically to ``results/<job_id>.parquet`` (or the error to
``errors/<job_id>.json``) before reporting back; the caller appends one line per job to the run log and
writes a summary at the end. Rerunning with the same jobs skips every job whose result file exists.
"""

from __future__ import annotations

import functools
import os
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from fmmi_neuro.batch.executors import make_executor
from fmmi_neuro.batch.jobs import Job
from fmmi_neuro.batch.store import RunFolder, atomic_write_frame, atomic_write_json


@dataclass
class JobOutcome:
    """What a worker reports back for one job (the result itself stays on disk)."""

    job_id: str
    subject: str
    status: str  # "done" | "failed"
    seconds: float
    n_rows: int = 0
    error: str | None = None
    worker: str = ""


@dataclass
class RunResult:
    """The outcome of :func:`run_jobs`.

    Attributes
    ----------
    folder : RunFolder
        The run folder; ``folder.results()`` concatenates every finished job's table.
    summary : dict
        The content of ``summary.json``: counts, failed jobs with errors, timings.
    errors : dict
        ``job_id -> error message`` of the jobs that failed in this run.
    """

    folder: RunFolder
    summary: dict
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every job has a result."""
        return not self.errors

    def results(self, job_ids: list[str] | None = None) -> pd.DataFrame:
        """Finished results (all, or those of ``job_ids``), concatenated in job-id order."""
        return self.folder.results(job_ids)


def _limit_threads(threads: int) -> None:
    from threadpoolctl import threadpool_limits

    threadpool_limits(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)


def execute_job(job: Job, *, func: Callable[[Job], pd.DataFrame], run_dir: str, threads: int) -> JobOutcome:
    """Run ``func(job)`` on a worker and write its result (or its error) atomically into ``run_dir``.

    Ordinary exceptions are caught and recorded (``errors/<job_id>.json``) so the other jobs go on; only
    the death of the worker itself escapes, which executors handle by rescheduling.
    """
    folder = RunFolder(run_dir)
    start = time.perf_counter()
    worker = f"{os.uname().nodename}:{os.getpid()}"
    _limit_threads(threads)
    try:
        df = func(job)
        if not isinstance(df, pd.DataFrame):
            raise TypeError(f"the job function returned {type(df).__name__}, not a pandas DataFrame")
        atomic_write_frame(folder.result_path(job.job_id), df)
    except Exception as err:
        message = f"{type(err).__name__}: {err}"
        atomic_write_json(
            folder.error_path(job.job_id),
            {
                "job_id": job.job_id,
                "subject": job.subject,
                "type": type(err).__name__,
                "error": message,
                "traceback": traceback.format_exc(),
            },
        )
        return JobOutcome(
            job.job_id, job.subject, "failed", time.perf_counter() - start, error=message, worker=worker
        )
    folder.error_path(job.job_id).unlink(missing_ok=True)
    return JobOutcome(
        job.job_id, job.subject, "done", time.perf_counter() - start, n_rows=len(df), worker=worker
    )


def _progress(total: int, initial: int, desc: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit="job", disable=not enabled, dynamic_ncols=True)


def run_jobs(
    jobs: Sequence[Job],
    func: Callable[[Job], pd.DataFrame],
    run_dir: str | os.PathLike,
    *,
    n_jobs: int = 1,
    dask_scheduler: Any = None,
    executor: Any = None,
    settings: dict | None = None,
    threads_per_job: int = 1,
    progress: bool = True,
    desc: str = "jobs",
) -> RunResult:
    """Run ``jobs`` with ``func`` into ``run_dir``; skip the jobs already finished there.

    Parameters
    ----------
    jobs : sequence of Job
        From :func:`fmmi_neuro.batch.plan_jobs`; job ids must be unique.
    func : callable
        ``func(job) -> pandas.DataFrame``; must be picklable (a module-level function or a
        ``functools.partial`` of one) to run in worker processes or on Dask.
    run_dir : path
        The run folder (created if missing). A rerun resumes: finished jobs are not run again, failed
        ones are retried.
    n_jobs : int
        Local worker processes (1: run in this process). Ignored with ``dask_scheduler``/``executor``.
    dask_scheduler : str or distributed.Client, optional
        Run on this Dask cluster instead (workers must see ``run_dir``).
    executor : object, optional
        An executor from :mod:`fmmi_neuro.batch.executors`, overriding the two options above.
    settings : dict, optional
        What defines the run (data, estimator, seed...): recorded in ``run.json``; a rerun into the same
        folder with different settings raises ``ValueError`` instead of mixing results.
    threads_per_job : int
        BLAS/torch threads per job.
    progress : bool
        Show a progress bar with an ETA (on stderr).
    desc : str
        Label of the progress bar.

    Returns
    -------
    RunResult
    """
    jobs = list(jobs)
    ids = [j.job_id for j in jobs]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})
        raise ValueError(f"job ids must be unique; repeated: {dup[:5]}")
    folder = RunFolder(Path(run_dir).expanduser().resolve()).create()
    folder.check_settings(settings or {})
    finished = folder.finished()
    todo = [j for j in jobs if j.job_id not in finished]
    own_executor = executor is None
    if own_executor:
        executor = make_executor(n_jobs, dask_scheduler, threads_per_job=threads_per_job)
    started = time.time()
    folder.log(
        "run_start",
        n_jobs=len(jobs),
        n_finished_before=len(jobs) - len(todo),
        n_todo=len(todo),
        executor=repr(executor),
    )
    task = functools.partial(execute_job, func=func, run_dir=str(folder.path), threads=threads_per_job)
    errors: dict[str, str] = {}
    n_done = 0
    seconds = []
    bar = _progress(len(jobs), len(jobs) - len(todo), desc, progress)
    try:
        for job, outcome in executor.map_unordered(task, todo):
            if isinstance(outcome, BaseException):
                outcome = JobOutcome(
                    job.job_id, job.subject, "failed", 0.0, error=f"{type(outcome).__name__}: {outcome}"
                )
                atomic_write_json(
                    folder.error_path(job.job_id),
                    {
                        "job_id": job.job_id,
                        "subject": job.subject,
                        "type": "WorkerError",
                        "error": outcome.error,
                        "traceback": "",
                    },
                )
            if outcome.status == "done":
                n_done += 1
                seconds.append(outcome.seconds)
                folder.log(
                    "job_done",
                    job_id=job.job_id,
                    subject=job.subject,
                    seconds=round(outcome.seconds, 4),
                    n_rows=outcome.n_rows,
                    worker=outcome.worker,
                )
            else:
                errors[job.job_id] = outcome.error
                folder.log(
                    "job_failed",
                    job_id=job.job_id,
                    subject=job.subject,
                    error=outcome.error,
                    worker=outcome.worker,
                )
                bar.write(f"failed: {job.job_id} ({outcome.error})")
            bar.update(1)
    finally:
        bar.close()
        if own_executor:
            executor.close()
    summary = {
        "run_dir": str(folder.path),
        "executor": repr(executor),
        "n_jobs": len(jobs),
        "n_finished_before": len(jobs) - len(todo),
        "n_done_now": n_done,
        "n_failed": len(errors),
        "n_finished": len(folder.finished() & set(ids)),
        "failed": {k: errors[k] for k in sorted(errors)},
        "failed_subjects": sorted({j.subject for j in jobs if j.job_id in errors}),
        "job_seconds_total": round(sum(seconds), 3),
        "wall_seconds": round(time.time() - started, 3),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    atomic_write_json(folder.summary_path, summary)
    folder.log("run_end", n_done_now=n_done, n_failed=len(errors), wall_seconds=summary["wall_seconds"])
    return RunResult(folder=folder, summary=summary, errors=errors)
