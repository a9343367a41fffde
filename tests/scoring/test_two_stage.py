"""Two-stage scoring: copula screen keeps the extremes and a random control set; disagreements reported."""

from __future__ import annotations

from math import comb

import numpy as np
import pytest
from scipy.signal import lfilter

from fmmi_neuro.engine.gaussian.copula import gc_group_terms
from fmmi_neuro.scoring.two_stage import disagreement_table, screen_groups, two_stage_score


def _data(rng, n=500, n_regions=16, phi=0.5):
    e = rng.standard_normal((n, n_regions)) * np.sqrt(1 - phi**2)
    x = lfilter([1.0], [1.0, -phi], e, axis=0)
    x[:, 2] = 0.9 * (x[:, 0] + x[:, 1]) / np.sqrt(2) + np.sqrt(1 - 0.81) * x[:, 2]
    for i in (4, 5):
        x[:, i] = 0.8 * x[:, 3] + 0.6 * x[:, i]
    return x


def test_screen_keeps_extremes_and_controls(rng):
    x = _data(rng)
    selected, selection, counts = screen_groups(x, _all(16), top_k=5, n_control=10, chunk_size=50, seed=0)
    assert counts["n_screened"] == comb(16, 3)
    omega = gc_group_terms(x, selected)["o_info"]
    everything = gc_group_terms(x, np.array(list(_all(16))))["o_info"]
    syn = omega[selection == "synergy_top"]
    red = omega[selection == "redundancy_top"]
    np.testing.assert_allclose(np.sort(syn), np.sort(everything)[:5])
    np.testing.assert_allclose(np.sort(red), np.sort(everything)[-5:])
    assert tuple(selected[0]) == (0, 1, 2) and (selection == "control").sum() <= 10
    assert len({tuple(g) for g in selected.tolist()}) == len(selected)
    again = screen_groups(x, _all(16), top_k=5, n_control=10, chunk_size=7, seed=0)
    np.testing.assert_array_equal(np.sort(selected[:10], axis=0), np.sort(again[0][:10], axis=0))


def _all(n):
    from itertools import combinations

    return combinations(range(n), 3)


def test_two_stage_reports_disagreement(rng):
    x = _data(rng)

    def flipping(data, groups):
        """A stand-in refinement: the copula, with the sign of group 0-1-2 flipped."""
        out = gc_group_terms(data, groups)
        flip = np.array([tuple(g) == (0, 1, 2) for g in np.sort(groups, axis=1).tolist()])
        out["o_info"] = np.where(flip, -out["o_info"], out["o_info"])
        return out

    table = two_stage_score(x, size=3, top_k=4, n_control=6, refine=flipping, seed=1)
    assert table.attrs["n_screened"] == comb(16, 3)
    row = table.set_index("group_id").loc["0-1-2"]
    assert row["selection"] == "synergy_top" and row["sign_flip"] and row["rank_change"] > 0
    assert table["sign_flip"].sum() == 1 == table.attrs["n_sign_flips"]
    same = table[table["group_id"] != "0-1-2"]
    np.testing.assert_allclose(same["o_info"], same["o_info_gc"])
    worst = disagreement_table(table)
    assert worst["group_id"].iloc[0] == "0-1-2"


def test_two_stage_with_the_copula_agrees_everywhere(rng):
    x = _data(rng)
    table = two_stage_score(x, size=3, top_k=3, n_control=5, refine="gaussian_copula", seed=0)
    assert not table["sign_flip"].any() and (table["rank_change"] == 0).all()
    assert table.attrs["spearman_gc_vs_refined"] > 0.999


@pytest.mark.slow
def test_two_stage_with_fmmi_runs_and_keeps_planted_extremes(rng):
    x = _data(rng, n=600, n_regions=10)
    table = two_stage_score(x, size=3, top_k=2, n_control=3, refine="fmmi", seed=0, max_steps=300)
    row = table.set_index("group_id").loc["0-1-2"]
    assert row["selection"] == "synergy_top" and row["o_info"] < 0 and np.isfinite(row["o_info_se"])
    assert table["estimator"].eq("fmmi").all() and table.attrs["screen_estimator"] == "gaussian_copula"
