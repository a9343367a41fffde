"""fmmi_group_terms: batched and system-level modes agree with one-by-one estimates and the truth."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from fmmi_neuro.engine.batched import fmmi_group_terms
from fmmi_neuro.engine.closed_form import information_truth
from fmmi_neuro.engine.information import information

SMALL = {"max_steps": 100, "min_steps": 50, "n_draws": 1, "width": 32, "batch_size": 256}
KEYS = ("o_info", "tc", "dtc", "s_info")


@pytest.fixture
def regions(rng):
    """6 regions, 800 samples: a redundant block (0-2) and a synergistic sum (3, 4 -> 5)."""
    cov = np.eye(6)
    cov[:3, :3] = 0.55 + 0.45 * np.eye(3)
    cov[3, 5] = cov[5, 3] = cov[4, 5] = cov[5, 4] = 0.6
    return cov, rng.multivariate_normal(np.zeros(6), cov, size=800)


def test_batched_equals_one_by_one(regions):
    cov, data = regions
    groups = np.array([[0, 1, 2], [3, 4, 5], [0, 3, 5]])
    batched = fmmi_group_terms(data, groups, mode="batched", device="cpu", **SMALL)
    for g, group in enumerate(groups):
        single = information(data[:, group], seed=0, device="cpu", **SMALL)
        truth = information_truth(cov[np.ix_(group, group)], [1, 1, 1])
        for key in KEYS:
            spread = np.hypot(batched[f"{key}_se"][g], getattr(single, f"{key}_se"))
            assert abs(batched[key][g] - getattr(single, key)) < 4 * spread, (group, key)
            assert abs(batched[key][g] - getattr(truth, key)) < 4 * batched[f"{key}_se"][g], (group, key)


def test_system_mode_recovers_every_triplet(regions):
    cov, data = regions
    groups = np.array(list(itertools.combinations(range(6), 3)))
    out = fmmi_group_terms(data, groups, mode="system", device="cpu", chunk=7, **SMALL)
    assert set(out) == {*KEYS, *(f"{k}_se" for k in KEYS)}
    truth = np.array([information_truth(cov[np.ix_(g, g)], [1, 1, 1]).o_info for g in groups])
    assert np.all(out["o_info_se"] > 0)
    # The standard errors leave out the training's own variability, so errors may also reach 0.05 nats
    # (half the acceptance bar at n = 1,200): with full training both residuals reach ~0.02 here.
    assert np.all(np.abs(out["o_info"] - truth) <= np.maximum(4.5 * out["o_info_se"], 0.05))
    assert out["o_info"][0] > 0 and out["o_info"][groups.tolist().index([3, 4, 5])] < 0


def test_scoring_a_subset_agrees_with_scoring_all(regions):
    """Same model (same regions and seed); only the Monte-Carlo draws differ, so within their error."""
    _, data = regions
    groups = np.array(list(itertools.combinations(range(6), 3)))
    everything = fmmi_group_terms(data, groups, mode="system", device="cpu", chunk=7, **SMALL)
    subset = fmmi_group_terms(data, groups[:5], mode="system", device="cpu", chunk=20, **SMALL)
    for key in KEYS:
        spread = np.hypot(everything[f"{key}_se"][:5], subset[f"{key}_se"])
        assert np.all(np.abs(everything[key][:5] - subset[key]) < 4 * spread), key


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        (np.array([[0, 1]]), "at least 3"),
        (np.array([[0, 1, 9]]), "outside"),
        (np.array([[0, 1, 1]]), "repeats a region"),
        (np.array([[0.0, 1.0, 2.0]]), "int array"),
    ],
)
def test_bad_groups_raise(regions, groups, message):
    with pytest.raises(ValueError, match=message):
        fmmi_group_terms(regions[1], groups)


def test_bad_mode_raises(regions):
    with pytest.raises(ValueError, match="mode"):
        fmmi_group_terms(regions[1], np.array([[0, 1, 2]]), mode="vmap")


@pytest.mark.parametrize("mode", ["system", "batched"])
def test_untrained_student_t_copula_gives_the_closed_form_of_the_student_t_scatter(regions, rng, mode):
    """copula=3: rank-to-Student-t coordinates; with no training Omega is the Gaussian part of the Student-t
    scatter (system mode: sub-blocks of all regions' scatter; batched: each group's own)."""
    from fmmi_neuro.engine.multitime import gaussian_path_terms, split_path_terms
    from fmmi_neuro.engine.multitime_estimate import standardise_groups
    from fmmi_neuro.engine.student_t_copula import scatter
    from fmmi_neuro.engine.transforms import rank_to_student_t

    _, gaussian = regions
    data = gaussian / np.sqrt(rng.chisquare(3, size=(len(gaussian), 1)) / 3)
    groups = np.array([[0, 1, 2], [3, 4, 5], [0, 3, 5]])
    out = fmmi_group_terms(data, groups, mode=mode, device="cpu", copula=3.0, max_steps=0, min_steps=0)
    x = standardise_groups(rank_to_student_t(data, 3.0))
    for g, group in enumerate(groups):
        cov = scatter(x, 3.0)[np.ix_(group, group)] if mode == "system" else scatter(x[:, group], 3.0)
        terms = split_path_terms(gaussian_path_terms(cov, [1, 1, 1], n_samples=len(x)), 1.0)
        assert out["o_info"][g] == pytest.approx(terms["o_info"], abs=1e-9)
        assert 0 < out["o_info_se"][g] < 0.1
