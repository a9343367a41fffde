"""No NaN/inf estimate is reported as a number with a p-value: an explicit ``status`` column that the
p-values, the FDR and the group statistics honour, and small two-group tests that say what is wrong."""

from __future__ import annotations

import numpy as np
import pytest
from _cohorts import planted_subject

from fmmi_neuro.scoring.frames import group_terms
from fmmi_neuro.stats.cohort import score_cohort
from fmmi_neuro.stats.group_level import group_statistics
from fmmi_neuro.stats.multitest import fdr_bh
from fmmi_neuro.stats.nulls import surrogate_test

GROUPS = np.array([[0, 1, 2], [3, 4, 5], [6, 7, 8], [0, 6, 9]])


def nan_for_first_group(data, groups):
    """The copula kernel, except that the first group gets NaN (Omega) and inf (TC)."""
    terms = group_terms(data, groups, estimator="gaussian_copula")
    terms["o_info"][0], terms["tc"][0] = np.nan, np.inf
    return terms


class NanOnSurrogates:
    """The copula kernel; the first group is NaN on every call after the first (the surrogates)."""

    def __init__(self):
        self.calls = 0

    def __call__(self, data, groups):
        terms = group_terms(data, groups, estimator="gaussian_copula")
        if self.calls:
            terms["o_info"][0] = np.nan
        self.calls += 1
        return terms


def test_a_nonfinite_estimate_gets_no_p_value_and_stays_out_of_the_fdr():
    data = planted_subject(np.random.default_rng(0), 300, 10, planted=True)
    with pytest.warns(RuntimeWarning, match="1 of 4 groups have no finite estimate"):
        table = surrogate_test(data, GROUPS, method="phase", n_surrogates=19, estimator=nan_for_first_group)
    assert table["status"].tolist() == ["nonfinite", "ok", "ok", "ok"]
    bad = table.iloc[0]
    for column in ("o_info", "tc", "p_value", "q_value", "z", "null_mean", "null_quantile"):
        assert np.isnan(bad[column]), column
    assert not bad["significant"]
    ok = table.iloc[1:]
    assert ok["p_value"].between(0, 1).all()
    np.testing.assert_allclose(ok["q_value"], fdr_bh(ok["p_value"].to_numpy())[1])


def test_nonfinite_surrogates_keep_the_estimate_but_give_no_p_value():
    data = planted_subject(np.random.default_rng(1), 300, 10, planted=True)
    with pytest.warns(RuntimeWarning, match="1 of 4 groups had NaN or inf values on some surrogates"):
        table = surrogate_test(data, GROUPS, method="phase", n_surrogates=9, estimator=NanOnSurrogates())
    assert table["status"].tolist() == ["nonfinite_null", "ok", "ok", "ok"]
    assert np.isfinite(table["o_info"].iloc[0]) and np.isnan(table["p_value"].iloc[0])
    assert np.isnan(table["null_quantile"].iloc[0])


def _cohort(n_subjects=6):
    rng = np.random.default_rng(2)
    return {f"{i:02d}": planted_subject(rng, 300, 10, planted=True) for i in range(n_subjects)}


def test_group_statistics_count_and_name_what_they_leave_out():
    """A subject whose estimate is NaN was dropped per group silently (n_subjects 5 instead of 6)."""
    cohort = _cohort()
    cohort["03"] = cohort["03"][:250]  # the kernel below fails on this subject's length only

    def kernel(data, groups):
        terms = group_terms(data, groups, estimator="gaussian_copula")
        if data.shape[0] == 250:
            terms["o_info"][0] = np.nan
        return terms

    with pytest.warns(RuntimeWarning, match="no finite estimate"):
        subjects = score_cohort(cohort, groups=GROUPS, estimator=kernel, null="phase", n_surrogates=9)
    row = subjects.set_index(["subject", "group_id"]).loc[("03", "0-1-2")]
    assert row["status"] == "nonfinite" and np.isnan(row["p_value"]) and np.isnan(row["o_info"])
    for test in ("one_sample", "stouffer"):
        with pytest.warns(UserWarning, match=r"left out: subject\(s\) '03' \(1 of 4\)"):
            table = group_statistics(subjects, test=test).set_index("group_id")
        assert table.loc["0-1-2", "n_subjects"] == 5 and table.loc["0-1-2", "n_excluded"] == 1
        assert (table.drop(index="0-1-2")["n_excluded"] == 0).all()
        assert (table["status"] == "ok").all() and table["p_value"].notna().all()
        assert table.attrs["excluded"] == {"03": 1}


def test_small_two_group_tests_warn_or_refuse_and_say_why_p_is_missing():
    subjects = score_cohort(_cohort(5), groups=GROUPS, null=None)
    two_two = subjects[subjects["subject"] != "04"].assign(
        group=lambda t: t["subject"].map({"00": "A", "01": "A", "02": "B", "03": "B"})
    )
    with pytest.warns(UserWarning, match=r"2 \('A'\) vs 2 \('B'\) subjects: with fewer than 5"):
        table = group_statistics(two_two, test="two_group", by="group")
    assert table["p_value"].notna().all() and (table["status"] == "ok").all()
    assert "fewer than 5 per level" in table.attrs["notes"][0]  # the report shows it
    one_three = subjects.assign(group=np.where(subjects["subject"] == "00", "A", "B"))
    with pytest.raises(ValueError, match=r"at least 2 subjects per level .*got 1 \('A'\) vs 4 \('B'\)"):
        group_statistics(one_three, test="two_group", by="group")
    with pytest.raises(ValueError, match="needs at least 2 subjects; the subject table has 1"):
        group_statistics(subjects[subjects["subject"] == "00"], test="one_sample")
    # a group where one level keeps a single finite value: no p-value, and the status says why
    two_two.loc[(two_two["subject"] == "00") & (two_two["group_id"] == "3-4-5"), "o_info"] = np.nan
    with pytest.warns(UserWarning):
        table = group_statistics(two_two, test="two_group", by="group").set_index("group_id")
    assert table.loc["3-4-5", "status"] == "too_few_subjects" and np.isnan(table.loc["3-4-5", "p_value"])
    assert np.isnan(table.loc["3-4-5", "q_value"]) and not table.loc["3-4-5", "significant"]
    assert (table.drop(index="3-4-5")["status"] == "ok").all()
