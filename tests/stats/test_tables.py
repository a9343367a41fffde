"""Parquet round trip of result tables with their metadata."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _cohorts import planted_subject

from fmmi_neuro.stats.cohort import score_cohort
from fmmi_neuro.stats.group_level import group_statistics
from fmmi_neuro.stats.tables import load_table, read_metadata, save_table


def test_round_trip_subject_and_group_tables(tmp_path):
    rng = np.random.default_rng(3)
    cohort = {f"{i}": planted_subject(rng, 150, 6, planted=True) for i in range(4)}
    subject_table = score_cohort(cohort, size=3, n_surrogates=9, seed=2, unit="bits")
    group_table = group_statistics(subject_table)
    for table, name in ((subject_table, "subjects.parquet"), (group_table, "nested/groups.parquet")):
        path = save_table(table, tmp_path / name, metadata={"note": "test"})
        back = load_table(path)
        pd.testing.assert_frame_equal(back, table, check_dtype=False)
        assert isinstance(back["regions"].iloc[0], tuple) and isinstance(back["region_names"].iloc[0], tuple)
        assert back.attrs["unit"] == "bits" and back.attrs["seed"] == 2 and back.attrs["note"] == "test"
        assert back.attrs["sign_convention"] == "Omega = TC - DTC; > 0 redundancy, < 0 synergy"
        assert back.attrs["estimator"] == "gaussian_copula" and "numpy" in back.attrs["versions"]
        assert read_metadata(path)["unit"] == "bits"


def test_save_adds_defaults_and_rejects_non_frames(tmp_path):
    path = save_table(pd.DataFrame({"a": [1.0, np.nan]}), tmp_path / "t.parquet")
    meta = read_metadata(path)
    assert "redundancy" in meta["sign_convention"] and "pandas" in meta["versions"]
    with pytest.raises(TypeError, match="DataFrame"):
        save_table({"a": 1}, tmp_path / "x.parquet")
    with pytest.raises(ValueError, match="no table"):
        load_table(tmp_path / "missing.parquet")
