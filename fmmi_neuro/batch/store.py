"""The run folder: one result file per finished job (written atomically), a JSON-lines log, a summary.

Layout::

    run_dir/
      run.json            settings of the run (a rerun with other settings is refused)
      run_log.jsonl       one JSON object per event (run start/end, job done/failed), appended
      summary.json        totals, failed jobs with their errors, timings (rewritten at the end)
      results/<job_id>.parquet
      errors/<job_id>.json

A job is finished exactly when its result file exists. Files are written to a temporary name in the same
folder and moved into place with ``os.replace``, so a crash or ``kill -9`` leaves either the whole file
or none of it, never a partial one.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

# columns that hold tuples in memory; Parquet stores them as lists
TUPLE_COLUMNS = ("regions", "region_names")


@contextmanager
def _atomic_target(path: Path) -> Iterator[str]:
    """Yield a temporary file name in the folder of ``path``; once written, it is fsynced and moved onto
    ``path`` with ``os.replace`` (on any error it is removed and ``path`` is left as it was)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield tmp
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary file in the same folder, fsync, ``os.replace``)."""
    with _atomic_target(path) as tmp:
        Path(tmp).write_bytes(data)


def atomic_write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    atomic_write_bytes(path, (json.dumps(obj, indent=2, default=str) + "\n").encode())


def _jsonable_attrs(attrs: dict) -> dict:
    """``attrs`` reduced to what JSON can hold (Parquet keeps pandas attrs as JSON)."""
    return json.loads(json.dumps(attrs, default=str))


def atomic_write_frame(path: Path, df: pd.DataFrame) -> None:
    """Write a DataFrame to Parquet atomically; tuple columns become lists, ``attrs`` are kept."""
    out = df.copy()
    out.attrs = _jsonable_attrs(df.attrs)
    for col in TUPLE_COLUMNS:
        if col in out.columns:
            out[col] = out[col].map(list)
    with _atomic_target(path) as tmp:
        out.to_parquet(tmp, index=False)


def read_frame(path: Path) -> pd.DataFrame:
    """Read a table written by :func:`atomic_write_frame` (list columns back to tuples)."""
    df = pd.read_parquet(path)
    for col in TUPLE_COLUMNS:
        if col in df.columns:
            df[col] = df[col].map(tuple)
    return df


class RunFolder:
    """A run folder on disk (see the module docstring for its layout).

    Parameters
    ----------
    path : str or Path
        The folder; created if missing.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.results_dir = self.path / "results"
        self.errors_dir = self.path / "errors"
        self.log_path = self.path / "run_log.jsonl"
        self.summary_path = self.path / "summary.json"
        self.settings_path = self.path / "run.json"

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    def create(self) -> RunFolder:
        """Create the folder and its sub-folders; return self."""
        self.results_dir.mkdir(parents=True, exist_ok=True)
        self.errors_dir.mkdir(parents=True, exist_ok=True)
        return self

    def result_path(self, job_id: str) -> Path:
        return self.results_dir / f"{job_id}.parquet"

    def error_path(self, job_id: str) -> Path:
        return self.errors_dir / f"{job_id}.json"

    def finished(self) -> set[str]:
        """Ids of the jobs whose result file exists."""
        if not self.results_dir.is_dir():
            return set()
        return {p.name[: -len(".parquet")] for p in self.results_dir.glob("*.parquet")}

    def check_settings(self, settings: dict) -> None:
        """Record ``settings``; on a rerun over finished results, refuse settings that differ.

        A folder that holds no finished result takes the new settings (a run whose every job failed,
        e.g. on a bad setting, never blocks the corrected rerun).

        Raises
        ------
        ValueError
            Naming each setting that differs, so finished results are never mixed with other settings.
        """
        settings = json.loads(json.dumps(settings, default=str, sort_keys=True))
        if not self.settings_path.exists() or not self.finished():
            atomic_write_json(self.settings_path, settings)
            return
        old = json.loads(self.settings_path.read_text())
        diffs = [
            f"  {k}: {old.get(k)!r} in the folder, {settings.get(k)!r} now"
            for k in sorted(set(old) | set(settings))
            if old.get(k) != settings.get(k)
        ]
        if diffs:
            raise ValueError(
                f"run folder {str(self.path)!r} holds a run with other settings; resuming would mix "
                "results. Use a new output folder, or the same settings. Differences:\n" + "\n".join(diffs)
            )

    def log(self, event: str, **fields: Any) -> None:
        """Append one JSON line ``{"time", "event", **fields}`` to the run log (flushed to disk)."""
        record = {"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "event": event, **fields}
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record, default=str) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def read_log(self) -> list[dict]:
        """All records of the run log; a line cut short by a crash is ignored."""
        if not self.log_path.exists():
            return []
        records = []
        for line in self.log_path.read_text(encoding="utf-8").splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return records

    def errors(self) -> dict[str, dict]:
        """``job_id -> {"subject", "error", "type", "traceback"}`` of jobs whose last attempt failed."""
        out = {}
        if self.errors_dir.is_dir():
            for p in sorted(self.errors_dir.glob("*.json")):
                job_id = p.name[: -len(".json")]
                if not self.result_path(job_id).exists():
                    out[job_id] = json.loads(p.read_text())
        return out

    def results(self, job_ids: Iterable[str] | None = None) -> pd.DataFrame:
        """All finished results (or those of ``job_ids``) concatenated, in job-id order."""
        ids = sorted(self.finished() if job_ids is None else set(job_ids) & self.finished())
        frames = [read_frame(self.result_path(j)) for j in ids]
        if not frames:
            return pd.DataFrame()
        df = pd.concat(frames, ignore_index=True)
        df.attrs = frames[0].attrs
        return df

    def summary(self) -> dict:
        """The summary written at the end of the last run (empty dict before)."""
        if not self.summary_path.exists():
            return {}
        return json.loads(self.summary_path.read_text())
