"""score_groups: table shape and metadata, invariants, agreement with the closed form, bad input."""

from __future__ import annotations

from itertools import combinations
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from fmmi_neuro import score_groups
from fmmi_neuro.engine.gaussian.closed_form import information_truth, random_covariance
from fmmi_neuro.engine.gaussian.copula import gaussian_copula_information
from fmmi_neuro.scoring.frames import COLUMNS

NAMES = ["PreCG_L", "PreCG_R", "SFG_L", "SFG_R", "MFG_L", "MFG_R"]


@pytest.fixture
def frame(rng):
    cov = random_covariance([1] * 6, coupling=1.5, seed=1)
    x = rng.standard_normal((400, 6)) @ np.linalg.cholesky(cov).T
    return pd.DataFrame(x, columns=NAMES)


def _gc(data, **kw):
    return score_groups(data, estimator="gaussian_copula", **kw)


def test_columns_types_and_metadata(frame):
    table = _gc(frame)
    assert tuple(table.columns) == COLUMNS
    assert len(table) == 20
    row = table.iloc[0]
    assert row["group_id"] == "0-1-2" and row["regions"] == (0, 1, 2)
    assert row["region_names"] == ("PreCG_L", "PreCG_R", "SFG_L")
    assert row["size"] == 3 and row["unit"] == "nats" and row["estimator"] == "gaussian_copula"
    assert np.isfinite(table[["o_info", "tc", "dtc", "s_info"]].to_numpy()).all()
    assert table["o_info_se"].isna().all()
    np.testing.assert_allclose(table["o_info"], table["tc"] - table["dtc"], atol=1e-12)
    np.testing.assert_allclose(table["s_info"], table["tc"] + table["dtc"], atol=1e-12)
    attrs = table.attrs
    assert attrs["unit"] == "nats" and attrs["estimator"] == "gaussian_copula"
    assert "Omega > 0: redundancy" in attrs["sign_convention"]
    assert attrs["estimator_settings"] == {"bias_correct": True}
    assert attrs["seed"] == 0 and attrs["n_samples"] == 400 and attrs["n_groups"] == 20
    assert {"fmmi-neuro", "numpy", "pandas", "scipy"} <= set(attrs["versions"])


def test_values_equal_the_single_system_estimator(frame):
    table = _gc(frame, size=4)
    for _, row in table.iterrows():
        one = gaussian_copula_information(frame.to_numpy()[:, list(row["regions"])])
        assert row["o_info"] == pytest.approx(one.o_info, abs=1e-10)
        assert row["dtc"] == pytest.approx(one.dtc, abs=1e-10)


def test_scoring_a_subset_equals_scoring_all(frame):
    everything = _gc(frame).set_index("group_id")
    subset = [("SFG_R", "PreCG_L", "MFG_R"), (4, 2, 1), (0, 1, 2)]
    part = _gc(frame, groups=subset)
    assert part["group_id"].tolist() == ["0-3-5", "1-2-4", "0-1-2"]
    for column in ("o_info", "tc", "dtc", "s_info"):
        np.testing.assert_allclose(part[column], everything.loc[part["group_id"], column], atol=1e-12)


def test_reordering_within_a_group_leaves_omega_unchanged(frame):
    tables = [_gc(frame, groups=[g]) for g in ([0, 3, 5], [5, 0, 3], [3, 5, 0])]
    assert {t["group_id"].iloc[0] for t in tables} == {"0-3-5"}
    for t in tables[1:]:
        assert t["o_info"].iloc[0] == pytest.approx(tables[0]["o_info"].iloc[0], abs=1e-12)


def test_permuting_the_regions_of_the_data_moves_the_scores_with_them(frame):
    order = [3, 0, 5, 1, 4, 2]
    permuted = frame.iloc[:, order]
    a = _gc(frame).set_index("group_id")
    b = _gc(permuted)
    original_ids = ["-".join(map(str, sorted(order[i] for i in r))) for r in b["regions"]]
    np.testing.assert_allclose(b["o_info"], a.loc[original_ids, "o_info"], atol=1e-12)


@pytest.mark.parametrize("chunk_size", [1, 3, 7])
def test_chunk_size_does_not_change_results(frame, chunk_size):
    pd.testing.assert_frame_equal(_gc(frame, chunk_size=chunk_size), _gc(frame))


def test_mixed_group_sizes_keep_the_given_order(frame):
    groups = [(0, 1, 2, 3), (1, 2, 4), (0, 2, 4, 5), (0, 1, 5)]
    table = _gc(frame, groups=groups, chunk_size=1)
    assert table["group_id"].tolist() == ["0-1-2-3", "1-2-4", "0-2-4-5", "0-1-5"]
    assert table["size"].tolist() == [4, 3, 4, 3]


def test_bits_are_nats_over_log_two(frame):
    nats, bits = _gc(frame), _gc(frame, unit="bits")
    for column in ("o_info", "tc", "dtc", "s_info"):
        np.testing.assert_allclose(bits[column], nats[column] / np.log(2), rtol=1e-12)
    assert (bits["unit"] == "bits").all() and bits.attrs["unit"] == "bits"


def test_equals_the_closed_form_on_large_gaussian_samples(rng):
    """Each triplet's mean over 20 replicates (n = 5000) lies within 4 standard errors of its truth."""
    cov = random_covariance([1] * 5, coupling=1.5, seed=8)
    chol = np.linalg.cholesky(cov)
    runs = np.array([_gc(rng.standard_normal((5000, 5)) @ chol.T)["o_info"].to_numpy() for _ in range(20)])
    groups = list(combinations(range(5), 3))
    truth = np.array([information_truth(cov[np.ix_(g, g)], [1, 1, 1]).o_info for g in groups])
    stderr = runs.std(axis=0, ddof=1) / np.sqrt(len(runs))
    assert np.all(np.abs(runs.mean(axis=0) - truth) < 4 * stderr)


def test_region_time_series_like_input(frame):
    series = SimpleNamespace(data=frame.to_numpy(), region_names=NAMES, subject="01", t_r=0.72)
    table = _gc(series, groups=[("PreCG_L", "SFG_L", "MFG_L")])
    assert table["region_names"].iloc[0] == ("PreCG_L", "SFG_L", "MFG_L")
    assert table.attrs["source"] == {"subject": "01", "t_r": 0.72}


def test_array_input_gets_default_names(frame):
    table = _gc(frame.to_numpy(), groups=[(0, 1, 2)])
    assert table["region_names"].iloc[0] == ("region_0", "region_1", "region_2")


def test_bad_input_gives_clear_errors(frame, rng):
    with pytest.raises(ValueError, match="at least 3 regions; the data has 2"):
        _gc(rng.standard_normal((100, 2)))
    with pytest.raises(ValueError, match="NaN"):
        _gc(frame.assign(SFG_L=np.r_[np.nan, frame["SFG_L"].to_numpy()[1:]]))
    with pytest.raises(ValueError, match="constant column 3 \\('SFG_R'\\)"):
        _gc(frame.assign(SFG_R=1.0))
    series = SimpleNamespace(data=frame.to_numpy(), region_names=NAMES[:5], subject="07")
    with pytest.raises(ValueError, match="sub-07 has 6 regions but 5 region names"):
        _gc(series)
    with pytest.raises(ValueError, match="duplicate region names"):
        _gc(pd.DataFrame(frame.to_numpy(), columns=[*NAMES[:5], "PreCG_L"]))
    with pytest.raises(ValueError, match="time points"):
        _gc(frame.iloc[:4])
    with pytest.raises(ValueError, match="'Foo'"):
        _gc(frame, groups=[("Foo", "SFG_L", "MFG_L")])
    with pytest.raises(ValueError, match="estimator"):
        score_groups(frame, estimator="ksg")
    with pytest.raises(ValueError, match="unit"):
        _gc(frame, unit="dits")
    with pytest.raises(ValueError, match="size"):
        _gc(frame, size=2)
    with pytest.raises(TypeError, match="unexpected"):
        _gc(frame, n_steps=10)


def test_a_duplicated_region_is_refused_like_information_refuses_it(frame):
    """A copy (or a monotone transform) of a region gave NaN/inf rows with only a RuntimeWarning."""
    import fmmi_neuro as fn

    twin = frame.assign(MFG_R=np.exp(frame["PreCG_L"]))
    with pytest.raises(ValueError, match="singular"):
        fn.information(twin[["PreCG_L", "SFG_L", "MFG_R"]].to_numpy(), estimator="gaussian_copula")
    with pytest.raises(ValueError, match=r"regions 0 \('PreCG_L'\) and 5 \('MFG_R'\) have the same ranks"):
        _gc(twin)
    with pytest.raises(ValueError, match="same ranks"):
        _gc(twin, groups=[("PreCG_L", "SFG_L", "MFG_R")])
    with pytest.warns(UserWarning, match="No group scored here holds both"):
        table = _gc(twin, groups=[("PreCG_L", "SFG_L", "SFG_R")])
    assert np.isfinite(table["o_info"]).all()


@pytest.mark.parametrize("estimator", ["gaussian_copula", "fmmi"])
def test_short_series_and_bad_seeds_are_refused_before_any_work(frame, rng, estimator):
    """score_groups scored 5 x 10 arrays (information needs >= 100 rows); seed='x' failed late or never."""
    with pytest.raises(ValueError, match="has 50 time points; at least 100"):
        score_groups(rng.standard_normal((50, 10)), estimator=estimator)
    for seed in ("x", -1, 1.5, True):
        with pytest.raises(ValueError, match=f"'seed' must be a non-negative integer; got {seed!r}"):
            score_groups(frame, estimator=estimator, seed=seed)


def test_fmmi_fits_once_on_every_region_and_scores_any_subset_the_same(frame):
    """One field per group size, fitted on all of the data's regions: a group scores the same whether it
    is scored alone or with others, and the fit's decisions land in attrs."""
    options = {"max_steps": 30, "min_steps": 30, "eval_every": 10, "width": 16, "batch_size": 128}
    both = score_groups(
        frame, groups=[(2, 1, 0), (3, 4, 5)], estimator="fmmi", seed=7, device="cpu", **options
    )
    alone = score_groups(frame, groups=[(3, 4, 5)], estimator="fmmi", seed=7, device="cpu", **options)
    assert both["group_id"].tolist() == ["0-1-2", "3-4-5"] and (both["estimator"] == "fmmi").all()
    np.testing.assert_allclose(alone["o_info"].to_numpy(), both["o_info"].to_numpy()[1:], rtol=1e-6)
    assert np.isfinite(both[["o_info", "o_info_se", "tc", "tc_se"]].to_numpy()).all()
    settings = both.attrs["estimator_settings"]
    assert settings["copula_dof"] is None and settings["residual"] in ("mlp", "radial")
    assert settings["max_steps"] == 30 and len(settings["best_step"]) == 2 and settings["device"] == "cpu"
    assert "torch" in both.attrs["versions"]
    with pytest.raises(TypeError, match="unknown FMMI option"):
        score_groups(frame, estimator="fmmi", n_steps=50)


def test_real_data_triplets(shared_data):
    path = shared_data / "hcp7_aal2" / "sub-101309_task-rest_run-REST1LR_timeseries.tsv"
    frame = pd.read_csv(path, sep="\t").iloc[:, :12]
    table = _gc(frame)
    assert len(table) == 220 and np.isfinite(table["o_info"]).all()
    assert table["region_names"].iloc[0] == tuple(frame.columns[:3])


def test_progress_bar_does_not_change_results(frame):
    pd.testing.assert_frame_equal(_gc(frame, progress=True, chunk_size=4), _gc(frame))
