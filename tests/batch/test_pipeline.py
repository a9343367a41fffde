"""Cohort scoring as a batch: real HCP subjects, a corrupted one, local processes == Dask, chunks == whole."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from fmmi_neuro.batch.demo import make_synthetic_cohort
from fmmi_neuro.batch.pipeline import CohortSource, score_cohort_batch
from fmmi_neuro.stats.multitest import fdr_bh


@pytest.fixture
def hcp_cohort(shared_data, tmp_path):
    """Four real HCP subjects (copied) plus one corrupted subject with a NaN region."""
    src = shared_data / "hcp7_aal2"
    folder = tmp_path / "hcp"
    folder.mkdir()
    shutil.copy(src / "regions.tsv", folder / "regions.tsv")
    files = sorted(src.glob("sub-*_timeseries.tsv"))[:4]
    for f in files:
        shutil.copy(f, folder / f.name)
    bad = pd.read_csv(files[0], sep="\t")
    bad.iloc[100:110, 5] = np.nan
    bad.to_csv(folder / "sub-999999_task-rest_run-REST1LR_timeseries.tsv", sep="\t", index=False)
    return folder


def test_real_cohort_local_processes_and_dask_give_identical_tables(hcp_cohort, tmp_path, dask_client):
    source = CohortSource(
        "region_tables",
        str(hcp_cohort),
        {"t_r": 0.72},
        clean={"detrend": True, "standardize": "zscore_sample"},
    )
    groups = [[0, 1, 2], [3, 40, 77], [10, 11, 12, 13], [5, 50, 60], [20, 21, 90]]
    kwargs = dict(groups=groups, null="time_shift", n_surrogates=19, unit="bits", seed=7, progress=False)
    local = score_cohort_batch(source, tmp_path / "local", n_jobs=2, **kwargs)
    dask = score_cohort_batch(source, tmp_path / "dask", dask_scheduler=dask_client, **kwargs)
    assert set(local.errors) == {"999999"} and "999999" in local.errors["999999"]
    assert "NaN" in local.errors["999999"]
    assert local.table["subject"].nunique() == 4
    assert local.run.summary["failed_subjects"] == ["999999"]
    pd.testing.assert_frame_equal(local.table, dask.table, check_exact=True)
    assert np.isfinite(local.table["o_info"]).all() and local.table["p_value"].between(0, 1).all()
    # the executor does not matter, nor does the number of workers
    serial = score_cohort_batch(source, tmp_path / "serial", **kwargs)
    pd.testing.assert_frame_equal(serial.table, local.table, check_exact=True)


def test_chunked_jobs_give_the_same_scores_and_subject_level_fdr(tmp_path):
    folder = make_synthetic_cohort(tmp_path / "cohort", n_subjects=4, seed=9)
    whole = score_cohort_batch(folder, tmp_path / "whole", null=None, seed=1, progress=False)
    chunked = score_cohort_batch(
        folder, tmp_path / "chunked", null=None, seed=1, chunk_size=64, progress=False
    )
    assert chunked.run.summary["n_jobs"] == 4 * 4  # 220 triplets in chunks of 64
    cols = ["subject", "group_id", "o_info", "tc", "dtc", "s_info"]
    pd.testing.assert_frame_equal(whole.table[cols], chunked.table[cols], check_exact=True)

    tested = score_cohort_batch(
        folder, tmp_path / "tested", n_surrogates=9, seed=1, chunk_size=100, progress=False
    )
    for _, part in tested.table.groupby("subject"):
        reject, q = fdr_bh(part["p_value"].to_numpy(), alpha=0.05)
        np.testing.assert_array_equal(part["q_value"].to_numpy(), q)
        np.testing.assert_array_equal(part["significant"].to_numpy(), reject)


def test_planted_effects_of_the_synthetic_cohort_are_found(tmp_path):
    folder = make_synthetic_cohort(tmp_path / "cohort", n_subjects=8, seed=3)
    res = score_cohort_batch(folder, tmp_path / "run", null=None, seed=0, progress=False)
    table = res.table
    mean = table.groupby(["group", "group_id"])["o_info"].mean()
    assert mean[("A", "0-1-2")] > 0 and mean[("B", "0-1-2")] > 0  # redundant everywhere
    assert mean[("B", "3-4-5")] < 0  # synergistic in group B
    assert abs(mean[("A", "3-4-5")]) < abs(mean[("B", "3-4-5")]) / 5
    assert table.attrs["errors"] == {}
