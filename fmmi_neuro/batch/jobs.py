"""The job model: one job per subject, or per subject x chunk of groups, each with its own seed.

A job's seed is derived from the run's ``seed`` and the job's id only, so results do not depend on the
order in which jobs are scheduled, on the number of workers, or on the executor.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from fmmi_neuro._validation import check_positive_int

_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class Job:
    """One unit of work of a batch run.

    Attributes
    ----------
    job_id : str
        Unique, file-name safe id (e.g. ``"sub-01"`` or ``"sub-01_chunk-0003"``); names the result file.
    subject : str
        Subject label (BIDS label without ``"sub-"``).
    seed : int
        Seed of this job, derived from the run seed and ``job_id`` (see :func:`derive_seed`).
    chunk : int or None
        Index of the chunk of groups, or None when the job covers all groups of the subject.
    group_range : tuple of int or None
        ``(start, stop)`` positions, in the run's group enumeration, of the groups this job scores.
    """

    job_id: str
    subject: str
    seed: int
    chunk: int | None = None
    group_range: tuple[int, int] | None = None


def derive_seed(seed: int, job_id: str) -> int:
    """Seed of one job: a hash of the run ``seed`` and the ``job_id``, in ``[0, 2**31)``.

    The same (seed, job_id) always gives the same job seed, on any machine and in any scheduling order.

    Examples
    --------
    >>> derive_seed(0, "sub-01") == derive_seed(0, "sub-01")
    True
    >>> derive_seed(0, "sub-01") != derive_seed(1, "sub-01")
    True
    """
    seed = check_positive_int(seed, "seed", minimum=0)
    digest = hashlib.sha256(f"fmmi_neuro:{seed}:{job_id}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def plan_jobs(
    subjects: Sequence[str],
    *,
    seed: int = 0,
    n_groups: int | None = None,
    chunk_size: int | None = None,
) -> list[Job]:
    """Jobs for a cohort: one per subject, or one per subject x chunk of ``chunk_size`` groups.

    Parameters
    ----------
    subjects : sequence of str
        Subject labels; must be unique and file-name safe (letters, digits, ``.``, ``_``, ``-``).
    seed : int
        Run seed; each job's seed is ``derive_seed(seed, job_id)``.
    n_groups : int, optional
        Number of groups each subject scores; needed only with ``chunk_size``.
    chunk_size : int, optional
        Groups per job. None: one job per subject.

    Returns
    -------
    list of Job
        In subject order, then chunk order.
    """
    subjects = [str(s) for s in subjects]
    if not subjects:
        raise ValueError("'subjects' is empty: there is nothing to run.")
    seen: set[str] = set()
    for s in subjects:
        if not _SAFE_ID.match(s):
            raise ValueError(
                f"subject label {s!r} is not file-name safe; use letters, digits, '.', '_' or '-'."
            )
        if s in seen:
            raise ValueError(f"subject {s!r} appears more than once; subject labels must be unique.")
        seen.add(s)
    if chunk_size is None:
        return [Job(job_id=f"sub-{s}", subject=s, seed=derive_seed(seed, f"sub-{s}")) for s in subjects]
    chunk_size = check_positive_int(chunk_size, "chunk_size")
    if n_groups is None:
        raise ValueError("'n_groups' is needed to split the groups into chunks of 'chunk_size'.")
    n_groups = check_positive_int(n_groups, "n_groups")
    n_chunks = math.ceil(n_groups / chunk_size)
    width = max(4, len(str(n_chunks - 1)))
    jobs = []
    for s in subjects:
        for c in range(n_chunks):
            job_id = f"sub-{s}_chunk-{c:0{width}d}"
            stop = min(n_groups, (c + 1) * chunk_size)
            jobs.append(Job(job_id, s, derive_seed(seed, job_id), c, (c * chunk_size, stop)))
    return jobs
