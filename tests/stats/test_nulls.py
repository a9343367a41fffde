"""Per-group surrogate p-values, BH-FDR (equal to statsmodels) and moving-block bootstrap intervals."""

from __future__ import annotations

import numpy as np
import pytest
from _cohorts import REDUNDANCY, SYNERGY, ar1, planted_subject
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from fmmi_neuro.stats.multitest import fdr_bh
from fmmi_neuro.stats.nulls import block_bootstrap_ci, empirical_p_values, surrogate_test


def _binomial_upper(n: int, p: float, level: float = 0.999) -> int:
    """Largest count of false positives among n independent tests at level p we accept."""
    return int(sps.binom.ppf(level, n, p))


def test_empirical_p_values_plus_one():
    null = np.array([[0.0, 5.0], [1.0, 6.0], [2.0, 7.0], [3.0, 8.0]])
    observed = np.array([2.5, 4.0])
    np.testing.assert_allclose(empirical_p_values(observed, null, alternative="greater"), [2 / 5, 5 / 5])
    np.testing.assert_allclose(empirical_p_values(observed, null, alternative="less"), [4 / 5, 1 / 5])
    np.testing.assert_allclose(empirical_p_values(observed, null), [0.8, 0.4])
    assert empirical_p_values(np.array([100.0]), null[:, :1]).min() > 0


@pytest.mark.parametrize("m", [1, 7, 200])
def test_fdr_equals_statsmodels(rng, m):
    p = np.concatenate([rng.uniform(size=m), rng.uniform(0, 0.01, size=m // 3)])
    p[: m // 4] = p[m // 4 : 2 * (m // 4)]  # ties
    reject, q = fdr_bh(p, alpha=0.05)
    ref_reject, ref_q, _, _ = multipletests(p, alpha=0.05, method="fdr_bh")
    np.testing.assert_allclose(q, ref_q, rtol=1e-12)
    np.testing.assert_array_equal(reject, ref_reject)


def test_fdr_leaves_nan_out(rng):
    p = rng.uniform(0, 0.1, size=20)
    p[[3, 11]] = np.nan
    reject, q = fdr_bh(p)
    ok = np.isfinite(p)
    ref_reject, ref_q, _, _ = multipletests(p[ok], method="fdr_bh")
    np.testing.assert_allclose(q[ok], ref_q)
    assert np.isnan(q[~ok]).all() and not reject[~ok].any()
    with pytest.raises(ValueError, match="alpha"):
        fdr_bh(p, alpha=1.5)


def test_surrogate_test_finds_planted_triplets_only():
    rng = np.random.default_rng(11)
    x = planted_subject(rng, 400, 9, planted=True)
    groups = np.array([SYNERGY, REDUNDANCY, (6, 7, 8)])
    table = surrogate_test(x, groups, method="time_shift", n_surrogates=99, seed=1)
    assert list(table["group_id"]) == ["0-1-2", "3-4-5", "6-7-8"]
    assert table["o_info"].iloc[0] < 0 < table["o_info"].iloc[1]
    assert (table["p_value"].iloc[:2] <= 2 / 100).all()
    assert table["p_value"].iloc[2] > 0.01
    assert table["significant"].iloc[:2].all()


def test_time_shift_null_is_calibrated_on_null_groups():
    """Independent AR(1) regions, disjoint triplets: p-values ~ uniform, FPR at the nominal level."""
    rng = np.random.default_rng(12)
    n_groups = 120
    x = ar1(rng, 300, 3 * n_groups, phi=0.7)
    groups = np.arange(3 * n_groups).reshape(n_groups, 3)
    p = surrogate_test(x, groups, n_surrogates=99, seed=3)["p_value"].to_numpy()
    assert (p <= 0.05).sum() <= _binomial_upper(n_groups, 0.05)
    assert sps.kstest(p, "uniform").pvalue > 1e-3


def test_phase_null_does_not_flag_gaussian_synergy():
    """Phase surrogates keep linear structure, so a Gaussian (linear) synergistic triplet is not beyond it."""
    rng = np.random.default_rng(13)
    x = planted_subject(rng, 400, 6, planted=True)
    with pytest.warns(UserWarning, match="copula"):
        table = surrogate_test(x, np.array([SYNERGY]), method="phase", n_surrogates=99, seed=2)
    time_shift = surrogate_test(x, np.array([SYNERGY]), method="time_shift", n_surrogates=99, seed=2)
    assert time_shift["p_value"].iloc[0] <= 0.02
    assert table["p_value"].iloc[0] > 0.01
    assert abs(table["z"].iloc[0]) < 4


def test_surrogate_test_units_and_metadata():
    x = planted_subject(np.random.default_rng(14), 200, 6, planted=True)
    nats = surrogate_test(x, np.array([SYNERGY]), n_surrogates=19, seed=0)
    bits = surrogate_test(x, np.array([SYNERGY]), n_surrogates=19, seed=0, unit="bits")
    np.testing.assert_allclose(bits["o_info"] * np.log(2), nats["o_info"])
    np.testing.assert_allclose(bits["null_mean"] * np.log(2), nats["null_mean"])
    assert bits["p_value"].iloc[0] == nats["p_value"].iloc[0]
    assert "redundancy" in nats.attrs["sign_convention"] and nats.attrs["null_method"] == "time_shift"


def test_block_bootstrap_ci_covers_truth():
    """Null disjoint triplets: Omega = 0 lies inside the 90% intervals about 90% of the time."""
    rng = np.random.default_rng(15)
    n_groups = 60
    x = ar1(rng, 400, 3 * n_groups, phi=0.6)
    groups = np.arange(3 * n_groups).reshape(n_groups, 3)
    table = block_bootstrap_ci(x, groups, n_boot=100, confidence=0.9, seed=0)
    covered = ((table["o_info_ci_low"] <= 0) & (table["o_info_ci_high"] >= 0)).sum()
    assert covered >= n_groups - _binomial_upper(n_groups, 0.1)
    planted = block_bootstrap_ci(
        planted_subject(rng, 400, 6, planted=True), np.array([SYNERGY, REDUNDANCY]), n_boot=100, seed=0
    )
    assert planted["o_info_ci_high"].iloc[0] < 0 < planted["o_info_ci_low"].iloc[1]
    assert (planted["tc_ci_low"] > 0).all()


def test_copula_fast_path_equals_rescoring_each_surrogate():
    """Time-shift + copula reuses the normal scores; the numbers equal scoring every surrogate afresh."""
    from fmmi_neuro.engine.gaussian.copula import gc_group_terms

    x = planted_subject(np.random.default_rng(16), 250, 9, planted=True)
    groups = np.array([SYNERGY, REDUNDANCY, (0, 3, 7), (2, 5, 8)])

    def kernel(data, grp):
        return gc_group_terms(data, grp)

    fast = surrogate_test(x, groups, n_surrogates=29, seed=4)
    slow = surrogate_test(x, groups, n_surrogates=29, seed=4, estimator=kernel)
    for column in ("o_info", "null_mean", "null_sd", "null_quantile", "p_value"):
        np.testing.assert_allclose(fast[column], slow[column], rtol=1e-10, atol=1e-14)


def test_member_shift_nulls_equal_shifting_one_column():
    """The FFT lag table gives the same Omega as rolling the member's column and rescoring."""
    from fmmi_neuro.engine.gaussian.copula import gc_group_terms
    from fmmi_neuro.stats.nulls import _copula_member_shift_nulls

    x = planted_subject(np.random.default_rng(17), 200, 8, planted=True)
    groups = np.array([SYNERGY, REDUNDANCY, (1, 4, 6), (0, 5, 7)])
    out = next(_copula_member_shift_nulls(x, groups, 1, 5, None, "o_info"))
    shifts = np.random.default_rng(5).integers(20, 200 - 20 + 1, size=(len(groups), 3))
    for g, group in enumerate(groups):
        for m in range(3):
            y = x.copy()
            y[:, group[m]] = np.roll(x[:, group[m]], shifts[g, m])
            ref = gc_group_terms(y, group[None])["o_info"][0]
            assert out[m, g] == pytest.approx(ref, rel=1e-9, abs=1e-12)


def test_member_shift_null_controls_groups_with_a_dependent_pair():
    """Omega = 0 when one member is independent of a dependent pair; the member-shift null keeps the pair."""
    rng = np.random.default_rng(18)
    n_groups = 100
    x = ar1(rng, 300, 3 * n_groups, phi=0.7)
    x[:, 1::3] = 0.8 * x[:, 0::3] + 0.6 * x[:, 1::3]
    groups = np.arange(3 * n_groups).reshape(n_groups, 3)
    p = surrogate_test(x, groups, method="member_shift", n_surrogates=99, seed=3)["p_value"].to_numpy()
    assert (p <= 0.05).sum() <= _binomial_upper(n_groups, 0.05)
    planted = planted_subject(rng, 300, 6, planted=True)
    table = surrogate_test(planted, np.array([SYNERGY, REDUNDANCY]), method="member_shift", n_surrogates=99)
    assert (table["p_value"] <= 2 / 100).all() and table["significant"].all()
