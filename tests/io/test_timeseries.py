"""RegionTimeSeries: validation, DataFrame view, BIDS-like names, TSV + JSON save/load round trip."""

from __future__ import annotations

import numpy as np
import pytest

from fmmi_neuro.io import RegionTimeSeries


@pytest.fixture
def ts(rng) -> RegionTimeSeries:
    return RegionTimeSeries(
        data=rng.standard_normal((37, 5)) * 1e3,
        region_names=["A", "B", "C", "D", "E"],
        networks=["Vis", "Vis", "Default", "Cont", "Default"],
        coordinates=rng.uniform(-70, 70, size=(5, 3)),
        t_r=0.72,
        subject="101309",
        session="1",
        run="2",
        task="rest",
        atlas="schaefer_2018",
        preprocessing={"standardize": "zscore_sample", "scrubbed_volumes": [1, 2]},
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_save_load_round_trip_is_exact(ts, tmp_path, dtype):
    ts.data = ts.data.astype(dtype)
    path = ts.save(tmp_path)
    assert path.name == "sub-101309_ses-1_task-rest_run-2_atlas-schaefer2018_timeseries.tsv"
    assert path.with_suffix(".json").is_file()
    back = RegionTimeSeries.load(path)
    assert back.data.dtype == dtype
    np.testing.assert_array_equal(back.data, ts.data)
    np.testing.assert_array_equal(back.coordinates, ts.coordinates)
    for field in (
        "region_names",
        "networks",
        "t_r",
        "subject",
        "session",
        "run",
        "task",
        "atlas",
        "preprocessing",
    ):
        assert getattr(back, field) == getattr(ts, field), field


def test_save_to_explicit_file_and_bad_suffix(ts, tmp_path):
    target = tmp_path / "out" / "mine.tsv"
    assert ts.save(target) == target and target.with_suffix(".json").is_file()
    with pytest.raises(ValueError, match="'.tsv' file or an existing folder"):
        ts.save(tmp_path / "mine.csv")


def test_load_missing_sidecar(ts, tmp_path):
    path = ts.save(tmp_path)
    path.with_suffix(".json").unlink()
    with pytest.raises(ValueError, match="does not exist"):
        RegionTimeSeries.load(path)


def test_dataframe_and_select(ts):
    df = ts.to_dataframe()
    assert df.shape == (37, 5) and df.index.name == "time_s" and df.index[1] == pytest.approx(0.72)
    sub = ts.select(["C", 0])
    assert sub.region_names == ["C", "A"] and sub.networks == ["Default", "Vis"]
    np.testing.assert_array_equal(sub.data, ts.data[:, [2, 0]])
    with pytest.raises(ValueError, match="'Z' is not one of the regions of subject '101309'"):
        ts.select(["Z"])


def test_validation_names_subject_and_region(rng):
    data = rng.standard_normal((10, 3))
    with pytest.raises(ValueError, match="3 regions but 2 region names"):
        RegionTimeSeries(data, ["a", "b"], subject="01")
    with pytest.raises(ValueError, match="repeat"):
        RegionTimeSeries(data, ["a", "a", "b"])
    with pytest.raises(ValueError, match=r"coordinates.*\(3, 3\)"):
        RegionTimeSeries(data, ["a", "b", "c"], coordinates=np.zeros((2, 3)))
    data[4, 1] = np.nan
    with pytest.raises(ValueError, match=r"subject '01'.*NaN.*\['b'\]"):
        RegionTimeSeries(data, ["a", "b", "c"], subject="01")
    with pytest.raises(ValueError, match="t_r"):
        RegionTimeSeries(rng.standard_normal((5, 1)), ["a"], t_r=-1)


def test_repr(ts):
    assert "37 time points x 5 regions" in repr(ts) and "101309" in repr(ts)
