"""Region participation, synergy-minus-redundancy rank and network enrichment."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as sps

from fmmi_neuro.stats.regions import network_enrichment, region_summary


def _table(groups, effects, significant):
    return pd.DataFrame(
        {"regions": [tuple(g) for g in groups], "estimate": effects, "significant": significant}
    )


def test_region_summary_counts_by_hand():
    table = _table(
        [(0, 1, 2), (0, 1, 3), (2, 3, 4), (1, 2, 4)], [-0.5, -0.2, 0.4, 0.1], [True, False, True, False]
    )
    out = region_summary(table, region_names=list("ABCDE"), networks=["x", "x", "y", "y", "y"])
    assert list(out["n_groups"]) == [2, 3, 3, 2, 2]
    assert list(out["n_significant_synergy"]) == [1, 1, 1, 0, 0]
    assert list(out["n_significant_redundancy"]) == [0, 0, 1, 1, 1]
    np.testing.assert_allclose(out["participation_synergy"], [0.5, 1 / 3, 1 / 3, 0, 0])
    np.testing.assert_allclose(out["mean_effect"], [-0.35, -0.2, 0.0, 0.1, 0.25], atol=1e-12)
    np.testing.assert_allclose(out["synergy_strength"], [0.35, 0.7 / 3, 0.5 / 3, 0.1, 0.0])
    assert out.loc[0, "synergy_minus_redundancy_rank"] > 0 > out.loc[4, "synergy_minus_redundancy_rank"]
    assert list(out["region_name"]) == list("ABCDE")


def test_network_enrichment_finds_planted_network_and_is_calibrated():
    rng = np.random.default_rng(0)
    networks = np.repeat(["Vis", "DMN", "SMN", "FPN"], 10)
    dmn = np.flatnonzero(networks == "DMN")
    groups = [tuple(sorted(rng.choice(40, 3, replace=False))) for _ in range(300)]
    groups += [tuple(sorted(rng.choice(dmn, 3, replace=False))) for _ in range(40)]
    groups = list(dict.fromkeys(groups))
    effects = np.array([-1.0 if set(g) <= set(dmn) else rng.normal() for g in groups])
    significant = np.array([set(g) <= set(dmn) for g in groups])
    out = network_enrichment(_table(groups, effects, significant), list(networks), n_permutations=499, seed=1)
    syn = out[out["direction"] == "synergy"].set_index("network")
    assert syn.loc["DMN", "significant"] and syn.loc["DMN", "enrichment"] > 2
    assert not syn.drop("DMN")["significant"].any()

    # null: significance unrelated to networks -> enrichment p-values ~ uniform over repeats
    p = []
    for seed in range(60):
        r = np.random.default_rng(100 + seed)
        sig = r.random(len(groups)) < 0.1
        res = network_enrichment(
            _table(groups, -np.ones(len(groups)), sig), list(networks), n_permutations=99, seed=seed
        )
        p.append(res.loc[(res["direction"] == "synergy") & (res["network"] == "Vis"), "p_value"].item())
    assert (np.array(p) <= 0.05).sum() <= sps.binom.ppf(0.999, 60, 0.05)
