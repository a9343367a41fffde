"""Batch runner: atomic per-job results, resume after kill -9, bad subjects recorded, local == Dask."""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _toy_jobs import die_once, seeded_mean

from fmmi_neuro.batch import LocalExecutor, RunFolder, plan_jobs, run_jobs
from fmmi_neuro.batch.jobs import derive_seed

SUBJECTS = ["01", "02", "03", "04", "05", "06"]


@pytest.fixture
def data_dir(tmp_path, rng):
    d = tmp_path / "data"
    d.mkdir()
    for s in SUBJECTS:
        np.save(d / f"{s}.npy", rng.normal(size=50))
    return d


def _done_counts(folder: RunFolder) -> dict[str, int]:
    counts: dict[str, int] = {}
    for rec in folder.read_log():
        if rec["event"] == "job_done":
            counts[rec["job_id"]] = counts.get(rec["job_id"], 0) + 1
    return counts


def test_seeds_depend_only_on_run_seed_and_job():
    jobs = plan_jobs(SUBJECTS, seed=7)
    again = plan_jobs(list(reversed(SUBJECTS)), seed=7)
    assert {j.job_id: j.seed for j in jobs} == {j.job_id: j.seed for j in again}
    assert len({j.seed for j in jobs}) == len(jobs)
    assert jobs[0].seed == derive_seed(7, "sub-01") != derive_seed(8, "sub-01")


def test_chunked_jobs_cover_every_group_once():
    jobs = plan_jobs(["a", "b"], seed=0, n_groups=10, chunk_size=4)
    assert [j.group_range for j in jobs[:3]] == [(0, 4), (4, 8), (8, 10)]
    assert jobs[3].job_id == "sub-b_chunk-0000"


@pytest.mark.parametrize(
    ("subjects", "match"), [(["01", "01"], "more than once"), (["a/b"], "file-name safe"), ([], "empty")]
)
def test_bad_subject_lists_are_refused(subjects, match):
    with pytest.raises(ValueError, match=match):
        plan_jobs(subjects)


def test_corrupted_subject_is_recorded_and_others_finish(tmp_path, data_dir):
    (data_dir / "03.npy").write_bytes(b"not a numpy file")
    func = functools.partial(seeded_mean, data_dir=str(data_dir))
    res = run_jobs(plan_jobs(SUBJECTS, seed=1), func, tmp_path / "run", progress=False)
    assert set(res.errors) == {"sub-03"}
    assert "subject '03'" in res.errors["sub-03"]
    assert res.summary["failed_subjects"] == ["03"]
    assert res.summary["n_finished"] == len(SUBJECTS) - 1
    df = res.results()
    assert sorted(df["subject"]) == [s for s in SUBJECTS if s != "03"]
    err = json.loads((tmp_path / "run" / "errors" / "sub-03.json").read_text())
    assert err["subject"] == "03" and "Traceback" in err["traceback"]

    # fixing the file and rerunning runs only the failed job
    np.save(data_dir / "03.npy", np.zeros(50))
    res2 = run_jobs(plan_jobs(SUBJECTS, seed=1), func, tmp_path / "run", progress=False)
    assert res2.ok and res2.summary["n_done_now"] == 1 and res2.summary["n_finished_before"] == 5
    assert not (tmp_path / "run" / "errors" / "sub-03.json").exists()


def test_rerun_with_other_settings_is_refused(tmp_path, data_dir):
    func = functools.partial(seeded_mean, data_dir=str(data_dir))
    run_jobs(plan_jobs(SUBJECTS[:2]), func, tmp_path / "run", settings={"seed": 0}, progress=False)
    with pytest.raises(ValueError, match="seed: 0 in the folder, 1 now"):
        run_jobs(plan_jobs(SUBJECTS[:2]), func, tmp_path / "run", settings={"seed": 1}, progress=False)


def test_a_run_that_finished_nothing_does_not_block_the_corrected_rerun(tmp_path, data_dir):
    """Every job of a badly configured run failed, and its run.json then refused the corrected settings."""
    func = functools.partial(seeded_mean, data_dir=str(data_dir))
    bad = run_jobs(plan_jobs(["missing"]), func, tmp_path / "run", settings={"seed": "x"}, progress=False)
    assert bad.summary["n_finished"] == 0 and bad.errors
    fixed = run_jobs(plan_jobs(SUBJECTS[:2]), func, tmp_path / "run", settings={"seed": 0}, progress=False)
    assert fixed.ok and fixed.summary["n_finished"] == 2
    assert json.loads((tmp_path / "run" / "run.json").read_text()) == {"seed": 0}


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_resume_after_kill_9_loses_and_redoes_nothing(tmp_path, data_dir, n_jobs):
    run_dir = tmp_path / "run"
    script = textwrap.dedent(
        f"""
        import functools, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from _toy_jobs import seeded_mean
        from fmmi_neuro.batch import plan_jobs, run_jobs
        func = functools.partial(seeded_mean, data_dir={str(data_dir)!r}, sleep=0.4)
        run_jobs(plan_jobs({SUBJECTS!r}, seed=3), func, {str(run_dir)!r}, n_jobs={n_jobs}, progress=False)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script])
    folder = RunFolder(run_dir)
    deadline = time.time() + 60
    while len(folder.finished()) < 2 and time.time() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(0.3)
    before = folder.finished()
    assert 2 <= len(before) < len(SUBJECTS), "the run should have been killed midway"
    time.sleep(1.5)  # jobs take 0.4 s: orphaned workers would have finished more by now
    assert folder.finished() == before, "worker processes outlived the killed run"
    kept = {j: pd.read_parquet(folder.result_path(j)) for j in before}

    func = functools.partial(seeded_mean, data_dir=str(data_dir))
    res = run_jobs(plan_jobs(SUBJECTS, seed=3), func, run_dir, progress=False)
    assert res.ok
    assert res.summary["n_finished_before"] == len(before)
    assert res.summary["n_done_now"] == len(SUBJECTS) - len(before)
    counts = _done_counts(folder)
    assert set(counts) == {f"sub-{s}" for s in SUBJECTS}
    assert all(c == 1 for c in counts.values()), counts
    for j, df in kept.items():  # finished results were not touched
        pd.testing.assert_frame_equal(pd.read_parquet(folder.result_path(j)), df)
    # same numbers as an uninterrupted run
    fresh = run_jobs(plan_jobs(SUBJECTS, seed=3), func, tmp_path / "fresh", progress=False)
    pd.testing.assert_frame_equal(res.results(), fresh.results(), check_exact=True)


def test_local_worker_death_is_rescheduled(tmp_path, data_dir):
    func = functools.partial(die_once, data_dir=str(data_dir), victim="02")
    res = run_jobs(
        plan_jobs(SUBJECTS, seed=5), func, tmp_path / "run", executor=LocalExecutor(2), progress=False
    )
    assert res.ok, res.errors
    assert (data_dir / "died-02").exists()
    serial = run_jobs(
        plan_jobs(SUBJECTS, seed=5),
        functools.partial(seeded_mean, data_dir=str(data_dir)),
        tmp_path / "serial",
        progress=False,
    )
    pd.testing.assert_frame_equal(res.results(), serial.results(), check_exact=True)


def test_dask_run_with_a_worker_killed_midway_matches_local(tmp_path, data_dir, dask_client):
    func = functools.partial(seeded_mean, data_dir=str(data_dir), sleep=1.0)
    jobs = plan_jobs(SUBJECTS, seed=11)
    folder = RunFolder(tmp_path / "dask")
    killed: list[int] = []

    def _kill_one_worker():
        deadline = time.time() + 60
        while len(folder.finished()) < 1 and time.time() < deadline:
            time.sleep(0.05)
        busy = [w for w, keys in dask_client.processing().items() if keys]
        pids = dask_client.run(os.getpid, workers=busy[:1])  # a worker that is running a job now
        pid = next(iter(pids.values()))
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)

    killer = threading.Thread(target=_kill_one_worker)
    killer.start()
    res = run_jobs(jobs, func, folder.path, dask_scheduler=dask_client, progress=False)
    killer.join()
    assert killed, "no worker was killed"
    assert res.ok, res.errors
    assert all(c == 1 for c in _done_counts(folder).values())
    local = run_jobs(
        jobs,
        functools.partial(seeded_mean, data_dir=str(data_dir)),
        tmp_path / "local",
        executor=LocalExecutor(2),
        progress=False,
    )
    pd.testing.assert_frame_equal(res.results(), local.results(), check_exact=True)
