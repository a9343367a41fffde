"""Where jobs run: in this process, in local worker processes, or on a Dask cluster.

All executors run the same picklable function on the same items and yield ``(item, outcome)`` pairs as
they finish, where ``outcome`` is the function's return value or the exception that stopped it from
returning (for example a worker process that died). The job function itself decides what happens to
ordinary errors (see :mod:`fmmi_neuro.batch.runner`).
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from fmmi_neuro._validation import check_positive_int

# BLAS/OpenMP pools read these when they load, so they are set before a worker imports numpy/torch.
_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def _die_with_parent() -> None:
    """On Linux, have the kernel kill this worker when the parent dies (e.g. ``kill -9`` of a run)."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def _init_worker(threads: int) -> None:
    for var in _THREAD_VARS:
        os.environ[var] = str(threads)
    _die_with_parent()


class SerialExecutor:
    """Run every job in this process, one after the other (debugging, tiny runs)."""

    name = "serial"

    def map_unordered(self, fn: Callable, items: Sequence[Any]) -> Iterator[tuple[Any, Any]]:
        for item in items:
            try:
                yield item, fn(item)
            except Exception as err:  # the caller records it against the item
                yield item, err

    def close(self) -> None:
        """Nothing to release."""


class LocalExecutor:
    """Run jobs in ``n_jobs`` local worker processes (``concurrent.futures.ProcessPoolExecutor``).

    Workers are started with ``spawn`` (safe with torch) and with ``threads_per_job`` BLAS/OpenMP
    threads each; on Linux they die with the parent process, so a killed run leaves no workers behind.
    If a worker process dies (killed, out of memory), the pool is rebuilt and the jobs that had not
    finished are resubmitted, at most ``max_restarts`` times; after that they are yielded with the
    ``BrokenProcessPool`` error.

    Parameters
    ----------
    n_jobs : int
        Number of worker processes.
    threads_per_job : int
        BLAS/OpenMP threads in each worker.
    max_restarts : int
        How many times a broken pool is rebuilt.
    """

    name = "local"

    def __init__(self, n_jobs: int = 1, *, threads_per_job: int = 1, max_restarts: int = 3) -> None:
        self.n_jobs = check_positive_int(n_jobs, "n_jobs")
        self.threads_per_job = check_positive_int(threads_per_job, "threads_per_job")
        self.max_restarts = check_positive_int(max_restarts, "max_restarts", minimum=0)

    def __repr__(self) -> str:
        return f"LocalExecutor(n_jobs={self.n_jobs}, threads_per_job={self.threads_per_job})"

    def _pool(self) -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(
            max_workers=self.n_jobs,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(self.threads_per_job,),
        )

    def map_unordered(self, fn: Callable, items: Sequence[Any]) -> Iterator[tuple[Any, Any]]:
        pending = list(items)
        restarts = 0
        while pending:
            pool = self._pool()
            broken: BaseException | None = None
            try:
                futures = {pool.submit(fn, item): i for i, item in enumerate(pending)}
                done_idx = set()
                for fut in cf.as_completed(futures):
                    i = futures[fut]
                    try:
                        outcome = fut.result()
                    except cf.process.BrokenProcessPool as err:
                        broken = err
                        break
                    except Exception as err:  # e.g. an unpicklable result
                        outcome = err
                    done_idx.add(i)
                    yield pending[i], outcome
            finally:
                pool.shutdown(wait=broken is None, cancel_futures=True)
            pending = [item for i, item in enumerate(pending) if i not in done_idx]
            if broken is not None and pending:
                restarts += 1
                if restarts > self.max_restarts:
                    for item in pending:
                        yield item, broken
                    return

    def close(self) -> None:
        """Pools are closed after each map; nothing to release."""


class DaskExecutor:
    """Run jobs on a Dask cluster (``dask.distributed``); a dead worker's tasks are rescheduled.

    Parameters
    ----------
    address : str or distributed.Client
        Scheduler address (e.g. ``"tcp://10.0.0.5:8786"``) or an existing ``Client``. Workers must see
        the run folder (a shared file system), since they write the results.
    retries : int
        Extra attempts for a task whose worker raised or died (on top of the scheduler's own
        rescheduling of tasks from lost workers).
    """

    name = "dask"

    def __init__(self, address: Any, *, retries: int = 2) -> None:
        try:
            from distributed import Client
        except ImportError as err:
            raise ImportError(
                "running on a Dask cluster needs dask.distributed: pip install 'fmmi-neuro[dask]'"
            ) from err
        self.retries = check_positive_int(retries, "retries", minimum=0)
        if isinstance(address, Client):
            self.client, self._own_client = address, False
        else:
            try:
                self.client = Client(address, timeout="20s")
            except OSError as err:
                raise ValueError(
                    f"could not connect to the Dask scheduler at {address!r} ({err}); start one with "
                    "'dask scheduler' (and 'dask worker ADDRESS'), or leave the address out to run locally."
                ) from err
            self._own_client = True
        # taken now: once the client is closed it no longer knows its scheduler
        self.address = str(self.client.scheduler.address)

    def __repr__(self) -> str:
        return f"DaskExecutor({self.address!r})"

    def map_unordered(self, fn: Callable, items: Sequence[Any]) -> Iterator[tuple[Any, Any]]:
        from distributed import as_completed

        items = list(items)
        if not items:
            return
        futures = self.client.map(fn, items, pure=False, retries=self.retries)
        index = {fut.key: i for i, fut in enumerate(futures)}
        for fut in as_completed(futures):
            try:
                outcome = fut.result()
            except Exception as err:  # KilledWorker etc., recorded against the item
                outcome = err
            yield items[index[fut.key]], outcome
            fut.release()

    def close(self) -> None:
        """Close the client if this executor opened it."""
        if self._own_client:
            self.client.close()


def make_executor(n_jobs: int = 1, dask_scheduler: Any = None, *, threads_per_job: int = 1):
    """The executor for ``n_jobs`` local processes, or for a Dask cluster when ``dask_scheduler`` is set.

    ``n_jobs=1`` without a scheduler runs in this process (:class:`SerialExecutor`).
    """
    if dask_scheduler is not None:
        return DaskExecutor(dask_scheduler)
    n_jobs = check_positive_int(n_jobs, "n_jobs")
    if n_jobs == 1:
        return SerialExecutor()
    return LocalExecutor(n_jobs, threads_per_job=threads_per_job)
