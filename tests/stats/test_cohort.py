"""Cohort -> subject table -> group table: planted groups found, null groups at the nominal rate."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from _cohorts import ar1, planted_subject
from scipy import stats as sps

from fmmi_neuro.io.timeseries import RegionTimeSeries
from fmmi_neuro.stats.cohort import NULL_COLUMNS, SUBJECT_COLUMNS, score_cohort
from fmmi_neuro.stats.group_level import GROUP_COLUMNS, cohens_d, group_statistics, hedges_g

PLANTED = {"0-1-2": "synergy", "3-4-5": "redundancy"}


@pytest.fixture(scope="module")
def scored():
    """18 subjects (12 with planted triplets), 12 regions x 300 AR(1) samples, all 220 triplets."""
    rng = np.random.default_rng(0)
    cohort = {f"{i:02d}": planted_subject(rng, 300, 12, planted=i < 12) for i in range(18)}
    return score_cohort(cohort, size=3, null="time_shift", n_surrogates=49, seed=1)


def test_subject_table_columns(scored):
    assert list(scored.columns) == [*SUBJECT_COLUMNS, *NULL_COLUMNS]
    assert scored["subject"].nunique() == 18 and len(scored) == 18 * 220
    assert scored.attrs["sign_convention"].startswith("Omega = TC - DTC")
    assert scored.attrs["estimator"] == "gaussian_copula" and "numpy" in scored.attrs["versions"]


@pytest.mark.parametrize(
    ("test", "against"), [("one_sample", 0.0), ("one_sample", "surrogate"), ("stouffer", 0.0), ("auto", 0.0)]
)
def test_planted_groups_found_null_groups_not(scored, test, against):
    table = group_statistics(scored, test=test, against=against)
    assert table["test"].iloc[0] == ("stouffer" if test == "auto" else test)
    assert list(table.columns) == list(GROUP_COLUMNS)
    found = table.loc[table["significant"], ["group_id", "direction"]]
    for group, direction in PLANTED.items():
        row = table.set_index("group_id").loc[group]
        assert row["q_value"] <= 0.05 and row["direction"] == direction
    null = table[table["regions"].map(lambda g: min(g) >= 6)]  # 20 triplets of null regions only
    assert len(null) == 20
    assert not null["significant"].any()
    assert set(found["group_id"]) >= set(PLANTED)


@pytest.mark.parametrize("test", ["one_sample", "stouffer"])
def test_fpr_on_many_null_groups_is_nominal(test):
    """100 disjoint null triplets of AR(1) regions, 10 subjects: false positives ~ Binomial(100, 0.05)."""
    rng = np.random.default_rng(5)
    n_groups = 100
    cohort = {f"{i:02d}": ar1(rng, 200, 3 * n_groups, phi=0.7) for i in range(10)}
    groups = np.arange(3 * n_groups).reshape(n_groups, 3)
    subject_table = score_cohort(
        cohort, groups=groups, null="time_shift" if test == "stouffer" else None, n_surrogates=49
    )
    p = group_statistics(subject_table, test=test)["p_value"].to_numpy()
    assert (p <= 0.05).sum() <= sps.binom.ppf(0.999, n_groups, 0.05)
    assert sps.kstest(p, "uniform").pvalue > 1e-3


def test_one_sample_matches_scipy(scored):
    table = group_statistics(scored, test="one_sample", against="surrogate").set_index("group_id")
    sub = scored[scored["group_id"] == "0-1-2"]
    y = (sub["o_info"] - sub["null_mean"]).to_numpy()
    ref = sps.ttest_1samp(y, 0.0)
    row = table.loc["0-1-2"]
    assert row["statistic"] == pytest.approx(ref.statistic) and row["p_value"] == pytest.approx(ref.pvalue)
    lo, hi = ref.confidence_interval(0.95)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((lo, hi))
    assert row["effect_size"] == pytest.approx(y.mean() / y.std(ddof=1))
    assert row["hedges_g"] == pytest.approx(row["effect_size"] * (1 - 3 / (4 * 17 - 1)))


def test_two_group_contrast_and_regression(scored):
    subjects = sorted(scored["subject"].unique())
    phenotype = pd.DataFrame(
        {
            "group": ["patient" if int(s) < 12 else "control" for s in subjects],
            "age": np.linspace(20, 60, len(subjects)),
            "sex": ["F", "M"] * (len(subjects) // 2),
        },
        index=subjects,
    )
    contrast = group_statistics(
        scored, test="two_group", by="group", levels=("patient", "control"), phenotype=phenotype
    ).set_index("group_id")
    assert contrast.loc["0-1-2", "estimate"] < 0 < contrast.loc["3-4-5", "estimate"]
    assert contrast.loc[["0-1-2", "3-4-5"], "significant"].all()
    sub = scored[scored["group_id"] == "0-1-2"].set_index("subject")["o_info"]
    a, b = sub[phenotype["group"] == "patient"], sub[phenotype["group"] == "control"]
    ref = sps.ttest_ind(a, b, equal_var=False)
    assert contrast.loc["0-1-2", "statistic"] == pytest.approx(ref.statistic)
    assert contrast.loc["0-1-2", "p_value"] == pytest.approx(ref.pvalue)
    assert contrast.loc["0-1-2", "effect_size"] == pytest.approx(float(cohens_d(a.to_numpy(), b.to_numpy())))
    assert contrast.loc["0-1-2", "hedges_g"] == pytest.approx(float(hedges_g(a.to_numpy(), b.to_numpy())))

    regression = group_statistics(
        scored, test="regression", covariate="age", covariates=["sex"], phenotype=phenotype
    ).set_index("group_id")
    design = sm.add_constant(pd.get_dummies(phenotype[["age", "sex"]], drop_first=True, dtype=float))
    fit = sm.OLS(sub.loc[design.index].to_numpy(), design.to_numpy()).fit()
    assert regression.loc["0-1-2", "estimate"] == pytest.approx(fit.params[1])
    assert regression.loc["0-1-2", "se"] == pytest.approx(fit.bse[1])
    assert regression.loc["0-1-2", "p_value"] == pytest.approx(fit.pvalues[1])
    assert regression.loc["0-1-2", "df"] == fit.df_resid


def test_region_time_series_input_and_bad_subject(rng):
    names = [f"R{i}" for i in range(6)]
    series = [
        RegionTimeSeries(planted_subject(rng, 200, 6, planted=True), names, subject=f"{i}") for i in range(4)
    ]
    series.append(RegionTimeSeries(rng.standard_normal((200, 5)), names[:5], subject="bad"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = score_cohort(series, groups=[["R0", "R1", "R2"], [3, 4, 5]], null=None)
    assert "bad" in table.attrs["errors"] and "5 regions" in table.attrs["errors"]["bad"]
    assert any("bad" in str(w.message) for w in caught)
    assert sorted(table["subject"].unique()) == ["0", "1", "2", "3"]
    assert table["region_names"].iloc[0] == ("R0", "R1", "R2")


def test_bad_arguments(scored):
    with pytest.raises(ValueError, match="null_mean"):
        group_statistics(scored.drop(columns="null_mean"), against="surrogate")
    with pytest.raises(ValueError, match="'by'"):
        group_statistics(scored, test="two_group")
    with pytest.raises(ValueError, match="phenotype column 'age'"):
        group_statistics(scored, test="regression", covariate="age")
    with pytest.raises(ValueError, match="null"):
        score_cohort({"a": np.zeros((10, 3))}, null="shuffle")
    with pytest.raises(TypeError, match="cohort"):
        score_cohort(42)
    with pytest.raises(ValueError, match="member_shift"):
        score_cohort({"a": np.zeros((10, 3))}, null="member_shift", estimator="fmmi")


def test_design_chunks_as_groups_and_bad_groups_raise(make_cohort):
    from fmmi_neuro.scoring.designs import network_groups

    cohort = make_cohort(n_subjects=3, n_planted=3, n_samples=150, n_regions=9)
    networks = ["A", "A", "A", "B", "B", "B", "C", "C", "C"]
    table = score_cohort(cohort, groups=network_groups(networks, 3, design="within"), null=None)
    assert sorted(table["group_id"].unique()) == ["0-1-2", "3-4-5", "6-7-8"]
    with pytest.raises(ValueError, match="out of range"):
        score_cohort(cohort, groups=[[0, 1, 99]], null=None)


def test_array_cohort_equals_dict_cohort(make_cohort):
    cohort = make_cohort(n_subjects=3, n_planted=2, n_samples=120, n_regions=6)
    stacked = score_cohort(np.stack(list(cohort.values())), size=3, n_surrogates=9, seed=3)
    as_dict = score_cohort(cohort, size=3, n_surrogates=9, seed=3)
    pd.testing.assert_frame_equal(stacked, as_dict)
