"""Picklable job functions for the batch tests (workers import this module by name)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from fmmi_neuro.batch.jobs import Job


def seeded_mean(job: Job, *, data_dir: str, sleep: float = 0.0) -> pd.DataFrame:
    """Mean of the subject's array plus a draw from the job's own generator; slow on purpose if asked."""
    path = Path(data_dir) / f"{job.subject}.npy"
    try:
        x = np.load(path)
    except (OSError, ValueError) as err:
        raise ValueError(f"subject {job.subject!r}: could not read {path.name} ({err})") from err
    time.sleep(sleep)
    rng = np.random.default_rng(job.seed)
    return pd.DataFrame(
        {
            "subject": [job.subject],
            "job_id": [job.job_id],
            "value": [float(x.mean()) + rng.normal()],
            "seed": [job.seed],
        }
    )


def die_once(job: Job, *, data_dir: str, victim: str) -> pd.DataFrame:
    """Kill the worker process the first time ``victim`` runs (a marker file remembers it)."""
    marker = Path(data_dir) / f"died-{victim}"
    if job.subject == victim and not marker.exists():
        marker.write_text("x")
        os._exit(1)
    return seeded_mean(job, data_dir=data_dir)
