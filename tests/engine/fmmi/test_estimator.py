"""``MultiTimeFMMI``: what ``fit`` decides and stores, scoring groups through the fitted fields, the
closed-form answer of an untrained field, and analytic velocity fields plugged into the estimator's own
Monte-Carlo machinery (``_correction``): a linear field's divergence is constant in z, so the estimate
must be the closed-form path integral at the fold's own path positions."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
import torch
from torch.func import jacrev, vmap

from fmmi_neuro.engine.blocks import contiguous_folds, split_validation
from fmmi_neuro.engine.fmmi import MultiTimeFMMI
from fmmi_neuro.engine.fmmi.estimator import MIN_SAMPLES
from fmmi_neuro.engine.fmmi.gaussian_field import gaussian_velocity, path_integral, path_trace
from fmmi_neuro.engine.fmmi.paths import Path, interpolate
from fmmi_neuro.engine.fmmi.terms import stderr
from fmmi_neuro.engine.gaussian.closed_form import information_truth, random_covariance
from fmmi_neuro.engine.gaussian.copula import copula_transform, gc_group_terms
from fmmi_neuro.engine.gaussian.student_t import scatter
from fmmi_neuro.engine.gaussian.terms import gaussian_term_influence, gaussian_terms
from fmmi_neuro.scoring.frames import fmmi_group_terms

KEYS = ("o_info", "tc", "dtc", "s_info")
SCORE_KEYS = {*KEYS, *(f"{k}_se" for k in KEYS), "tc_minus", "mi_one_rest", "identity_weight"}
SCORE_KEYS |= {"tc_gauss", "o_info_gauss"}
GAUSSIAN_ONLY = {"max_steps": 0, "min_steps": 0, "gaussianize": False, "width": 16, "batch_size": 64}
"""No training: the field is the untrained one, u = u_Gauss."""
SYSTEM_DIMS = [1, 2, 2]


@pytest.fixture(scope="module")
def untrained_groups(regions):
    """Groups of 3 of the 6 regions, untrained fields (u = u_Gauss), two draws per held-out sample.

    The radial residual's divergence goes through the generic Jacobian-vector products of
    ``residual_field``, so replacing ``residual_field`` by an analytic field tests that machinery."""
    return MultiTimeFMMI(
        group_size=3, copula="gaussian", residual="radial", seed=1, device="cpu", n_draws=2, **GAUSSIAN_ONLY
    ).fit(regions[1])


@pytest.fixture(scope="module")
def system_data():
    cov = random_covariance(SYSTEM_DIMS, coupling=1.2, seed=5)
    x = np.random.default_rng(8).multivariate_normal(np.zeros(5), cov, size=300)
    return cov, [x[:, :1], x[:, 1:3], x[:, 3:]]


@pytest.fixture(scope="module")
def untrained_system(system_data):
    """One system of variables of dimensions 1, 2, 2, untrained fields, two draws (radial residual: see
    ``untrained_groups``)."""
    return MultiTimeFMMI(
        copula="gaussian", residual="radial", seed=2, device="cpu", n_draws=2, **GAUSSIAN_ONLY
    ).fit(system_data[1])


def _sub(cov, est, members):
    """Block of a covariance over all coordinates for the variables ``members``."""
    starts = np.concatenate([[0], np.cumsum(est.dims_)])
    index = np.concatenate([np.arange(starts[v], starts[v + 1]) for v in members])
    return cov[np.ix_(index, index)]


# ----------------------------------------------------------------------------------------------- fit


def test_fit_stores_what_it_decided(fitted_groups, regions):
    est, data = fitted_groups, regions[1]
    assert est.n_samples_ == 400 and est.dims_ == (1,) * 6 and est.size_ == 3
    assert est.copula_dof_ is None and est.residual_ in ("mlp", "radial")
    assert est.budget_ == {"max_steps": 30, "min_steps": 30, "n_draws": 1}
    np.testing.assert_allclose(
        est.scatter_, np.cov(copula_transform([data[:, [j]] for j in range(6)]), rowvar=False)
    )
    assert len(est.folds_) == est.n_folds == 2 and est.seconds_fit_ > 0
    assert est.decisions()["left_out_flag"] and all(fold.field.left_out_flag for fold in est.folds_)


def test_folds_are_contiguous_cross_fitting_blocks_with_their_draws(fitted_groups):
    est = fitted_groups
    np.testing.assert_array_equal(np.concatenate([f.test for f in est.folds_]), np.arange(400))
    for fold, block in zip(est.folds_, contiguous_folds(400, 2), strict=True):
        np.testing.assert_array_equal(fold.test, block.test)
        fit, _ = split_validation(block.train, est.val_fraction)
        report = fold.report
        assert report.n_fit == len(fit) and report.steps == 30
        assert report.best_step in {s for s, _ in report.history} and report.history[0][0] == 0
        n_test = len(fold.test)
        assert fold.positions.shape == (1, n_test) and fold.probes.shape == (1, n_test, 6)
        assert fold.sources.shape == (1, 6, n_test)
        assert bool((fold.sources != torch.arange(n_test)).all())  # held-out derangements: no self-pairs
        assert set(fold.probes.unique().tolist()) == {-1.0, 1.0}
        assert not any(p.requires_grad for p in fold.field.parameters())


def test_positions_are_stratified_across_draws(untrained_groups):
    positions = untrained_groups.folds_[0].positions
    assert positions.shape[0] == 2
    assert bool((positions[0] >= 0).all() and (positions[0] < 0.5).all())
    assert bool((positions[1] >= 0.5).all() and (positions[1] < 1).all())


def test_on_validation_sees_every_validation_of_every_fold(regions, tiny):
    seen = []
    est = MultiTimeFMMI(group_size=3, seed=0, device="cpu", copula="gaussian", **tiny)
    est.fit(regions[1][:200], on_validation=lambda fold, step, loss: seen.append((id(fold), step, loss)))
    for fold in est.folds_:
        assert [(s, v) for f, s, v in seen if f == id(fold)] == fold.report.history[1:]


def test_held_out_corrections_can_be_read_during_training(regions, tiny):
    """The learning-curve use: ``fold_corrections`` on the fold being trained, from ``on_validation``."""
    curves = []

    def record(fold, step, loss):
        curves.append(est.fold_corrections(fold, np.array([[0, 1, 2]]), ("tc",))["tc"].mean())

    est = MultiTimeFMMI(group_size=3, seed=0, device="cpu", copula="gaussian", **tiny)
    est.fit(regions[1][:200], on_validation=record)
    assert len(curves) == sum(len(f.report.history) - 1 for f in est.folds_) and np.isfinite(curves).all()


@pytest.mark.parametrize(
    ("make", "kwargs", "message"),
    [
        (lambda x: x, {"group_size": 7}, "exceeds the number of variables"),
        (lambda x: [x[:, :2], x[:, 2], x[:, 3], x[:, 4]], {"group_size": 3}, "one dimension"),
        (lambda x: x[:, :2], {}, "at least 3 variables"),
        (lambda x: x[:, :1], {"paths": "diagonal"}, "at least 2 variables"),
        (lambda x: x[: MIN_SAMPLES - 1], {}, f"at least {MIN_SAMPLES}"),
        (lambda x: np.where(np.arange(len(x))[:, None] == 3, np.nan, x), {}, "NaN"),
        (lambda x: np.column_stack([x, np.ones(len(x))]), {}, "constant"),
        (lambda x: [x[:, :2], x[:-1, 2]], {"paths": "diagonal"}, "same number of samples"),
        (
            lambda x: [np.tile(x[:101], 10), np.tile(x[101:202], 10)],
            {"paths": "diagonal"},
            "need at least 122",
        ),
    ],
    ids=[
        "group-size",
        "mixed-dims",
        "two-for-omega",
        "one-variable",
        "few-samples",
        "nan",
        "constant",
        "lengths",
        "coordinates",
    ],
)
def test_bad_data_raise_before_training(regions, make, kwargs, message):
    with pytest.raises(ValueError, match=message):
        MultiTimeFMMI(device="cpu", **{**GAUSSIAN_ONLY, **kwargs}).fit(make(regions[1]))


# --------------------------------------------------------------------------------------------- score


def test_score_shapes_and_default_groups(fitted_groups):
    out = fitted_groups.score()
    assert set(out) == SCORE_KEYS
    n_groups = 20  # C(6, 3)
    for key in SCORE_KEYS - {"tc_minus", "mi_one_rest"}:
        assert out[key].shape == (n_groups,) and np.isfinite(out[key]).all(), key
    assert out["tc_minus"].shape == out["mi_one_rest"].shape == (n_groups, 3)
    assert np.all(out["o_info_se"] > 0) and np.all(out["tc_se"] > 0)
    np.testing.assert_array_equal(out["identity_weight"], 1.0)  # k = 3: the diagonal identity alone
    np.testing.assert_allclose(out["o_info"], out["tc"] - out["dtc"], atol=1e-12)
    np.testing.assert_allclose(out["s_info"], out["tc"] + out["dtc"], atol=1e-12)
    chunks = list(fitted_groups.iter_scores(chunk_size=6))
    assert [len(g) for g, _ in chunks] == [6, 6, 6, 2]
    np.testing.assert_array_equal(np.concatenate([g for g, _ in chunks]), list(combinations(range(6), 3)))
    np.testing.assert_array_equal(np.concatenate([t["o_info"] for _, t in chunks]), out["o_info"])


def test_scoring_a_subset_gives_the_same_values_as_scoring_all(fitted_groups):
    everything = fitted_groups.score()
    all_groups = np.array(list(combinations(range(6), 3)))
    pick = [13, 0, 7]
    subset = fitted_groups.score(all_groups[pick])
    single = fitted_groups.score(all_groups[[7]])
    for key in SCORE_KEYS:  # identical up to the summation order of numpy's batch means (1 ulp)
        np.testing.assert_allclose(subset[key], everything[key][pick], rtol=1e-12, atol=0, err_msg=key)
        np.testing.assert_allclose(single[key][0], everything[key][7], rtol=1e-12, atol=0, err_msg=key)


def test_chunk_size_does_not_change_the_values(fitted_groups):
    default = fitted_groups.score()
    one = fitted_groups.score(chunk_size=1)
    for key in SCORE_KEYS:
        np.testing.assert_allclose(one[key], default[key], rtol=1e-6, atol=1e-9, err_msg=key)


def test_member_order_does_not_change_omega(fitted_groups):
    """``score`` sorts the members: any listing gives the same numbers (per-member columns follow the sorted
    order, as ``iter_scores`` yields the groups)."""
    sorted_score = fitted_groups.score([[1, 3, 5]])
    shuffled = fitted_groups.score([[5, 1, 3]])
    for key in SCORE_KEYS:
        np.testing.assert_array_equal(shuffled[key], sorted_score[key], err_msg=key)
    groups, _ = next(fitted_groups.iter_scores([[5, 1, 3]]))
    np.testing.assert_array_equal(groups, [[1, 3, 5]])


@pytest.mark.parametrize("residual", ["mlp", "radial"])
def test_a_fields_corrections_do_not_depend_on_the_order_of_members(regions, monkeypatch, residual):
    """Below the sorting: a residual with random output weights gives the same per-sample corrections for
    any listing of the members (per-variable weights and common random numbers per variable)."""
    est = MultiTimeFMMI(group_size=3, residual=residual, seed=4, device="cpu", **GAUSSIAN_ONLY).fit(
        regions[1]
    )
    gen = torch.Generator().manual_seed(0)
    fold = est.folds_[0]
    net = fold.field.net
    monkeypatch.setattr(net, "w_out", torch.nn.Parameter(torch.randn(net.w_out.shape, generator=gen), False))
    monkeypatch.setattr(net, "b_out", torch.nn.Parameter(torch.randn(net.b_out.shape, generator=gen), False))
    order = [2, 0, 1]  # listed as (5, 1, 3)
    for path in (Path.diagonal(3), Path.one_moving(3, 0), Path.one_moving(3, 2)):
        a = est._correction(fold, torch.tensor([[1, 3, 5]]), path)
        moved = Path(path.base[order], path.moving[order])
        b = est._correction(fold, torch.tensor([[5, 1, 3]]), moved)
        assert np.abs(a).max() > 1e-3
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-5)


def test_trained_smoke_with_each_residual(regions, tiny):
    for residual in ("mlp", "radial"):
        est = MultiTimeFMMI(group_size=3, residual=residual, seed=0, device="cpu", **tiny).fit(
            regions[1][:200]
        )
        assert est.residual_ == residual
        out = est.score([[0, 1, 2], [2, 3, 5]])
        assert all(np.isfinite(out[key]).all() for key in SCORE_KEYS), residual
        assert all(0 <= f.report.best_step <= f.report.steps == 30 for f in est.folds_)


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        ([[0, 1]], "shape"),
        ([[0, 1, 6]], "outside"),
        ([[-1, 1, 2]], "outside"),
        ([[0, 1, 1]], "repeats a variable"),
        ([[0.0, 1.0, 2.0]], "int array"),
    ],
)
def test_bad_groups_raise(fitted_groups, groups, message):
    with pytest.raises(ValueError, match=message):
        fitted_groups.score(groups)


def test_score_needs_a_fit_and_the_terms_paths(regions):
    with pytest.raises(ValueError, match="not fitted"):
        MultiTimeFMMI(group_size=3).score()
    est = MultiTimeFMMI(paths="diagonal", device="cpu", **GAUSSIAN_ONLY).fit(regions[1][:, :2])
    with pytest.raises(ValueError, match="paths='terms'"):
        est.score()


def test_chunk_size_is_checked(fitted_groups):
    with pytest.raises(ValueError, match="chunk_size"):
        fitted_groups.score(chunk_size=0)


def test_scoring_no_group_is_an_error(fitted_groups):
    with pytest.raises(ValueError, match="empty"):
        fitted_groups.score(np.zeros((0, 3), dtype=int))


def test_score_returns_the_documented_gaussian_parts(fitted_groups):
    assert {"tc_gauss", "o_info_gauss"} <= set(fitted_groups.score([[0, 1, 2]]))


def test_groups_can_be_streamed_from_an_iterator(fitted_groups):
    everything = fitted_groups.score()
    streamed = fitted_groups.score(combinations(range(6), 3), chunk_size=4)
    np.testing.assert_allclose(streamed["o_info"], everything["o_info"], rtol=1e-12)


def test_fmmi_group_terms_is_a_fitted_estimator_scored_on_the_groups(regions, tiny):
    groups = np.array([[0, 1, 2], [3, 4, 5]])
    data = regions[1][:300]
    wrapped = fmmi_group_terms(data, groups, seed=3, device="cpu", copula="gaussian", **tiny)
    est = MultiTimeFMMI(group_size=3, seed=3, device="cpu", copula="gaussian", **tiny).fit(data)
    direct = est.score(groups)
    for key in SCORE_KEYS:  # to rounding: see fmmi/test_field.py (training with random groups)
        np.testing.assert_allclose(wrapped[key], direct[key], rtol=1e-6, atol=1e-9, err_msg=key)


def test_same_seed_reproduces_and_another_seed_differs_where_training_was_kept(regions, tiny):
    data = regions[1][:300]
    groups = [[0, 1, 2], [0, 4, 5]]
    fits = [
        MultiTimeFMMI(group_size=3, seed=s, device="cpu", copula="gaussian", **tiny).fit(data)
        for s in (5, 5, 6)
    ]
    scores = [f.score(groups) for f in fits]
    for key in SCORE_KEYS:
        np.testing.assert_allclose(scores[1][key], scores[0][key], rtol=1e-6, atol=1e-9, err_msg=key)
    kept = [[fold.report.best_step for fold in f.folds_] for f in (fits[0], fits[2])]
    if all(step == 0 for steps in kept for step in steps):
        np.testing.assert_array_equal(scores[2]["o_info"], scores[0]["o_info"])  # both Gaussian: identical
    else:
        assert not np.allclose(scores[2]["o_info"], scores[0]["o_info"], rtol=1e-6, atol=1e-9)


# ------------------------------------------------------------------------------- the untrained field


def test_untrained_field_scores_the_bias_corrected_gaussian_copula(untrained_groups, regions):
    est = untrained_groups
    groups = np.array(list(combinations(range(6), 3)))
    out = est.score(groups)
    copula = gc_group_terms(regions[1], groups)
    for key in KEYS:
        np.testing.assert_allclose(out[key], copula[key], atol=1e-9, err_msg=key)
    terms = est.score_paths(groups)
    for key, value in terms.correction.items():
        assert bool((value == 0).all()), key
    # standard errors: batch means of the Gaussian parts' influence at the full-data scatter
    x = copula_transform([regions[1][:, [j]] for j in range(6)])
    centred = x - x.mean(axis=0)
    influence = gaussian_term_influence(
        centred[:, groups[4]], est.scatter_[np.ix_(groups[4], groups[4])], [1] * 3
    )
    assert out["o_info_se"][4] == pytest.approx(float(stderr(influence["o_info"][None])[0]), rel=1e-9)


def test_untrained_multivariate_system_is_the_closed_form_of_its_scatter(untrained_system, system_data):
    est = untrained_system
    out = est.score()
    terms = gaussian_terms(est.scatter_, SYSTEM_DIMS, n_samples=300)
    for key in KEYS:
        assert out[key][0] == pytest.approx(float(terms[key]), abs=1e-10), key
    np.testing.assert_allclose(out["tc_minus"][0], terms["tc_minus"], atol=1e-10)
    np.testing.assert_allclose(out["mi_one_rest"][0], terms["mi_one_rest"], atol=1e-10)
    truth = information_truth(system_data[0], SYSTEM_DIMS)
    assert abs(out["o_info"][0] - truth.o_info) < 4 * out["o_info_se"][0]


def test_untrained_student_t_copula_gives_the_closed_form_of_the_student_t_scatter(regions, rng):
    """copula=3: rank-to-Student-t coordinates; with no training Omega is the Gaussian part of the Student-t
    scatter of all regions, taken block by block."""
    _, gaussian = regions
    data = gaussian / np.sqrt(rng.chisquare(3, size=(len(gaussian), 1)) / 3)
    groups = np.array([[0, 1, 2], [3, 4, 5], [0, 3, 5]])
    est = MultiTimeFMMI(group_size=3, copula=3.0, seed=0, device="cpu", **GAUSSIAN_ONLY).fit(data)
    assert est.copula_dof_ == 3.0
    out = est.score(groups)
    x = copula_transform([data[:, [j]] for j in range(6)], 3.0)
    full = scatter(x, 3.0)
    np.testing.assert_allclose(est.scatter_, full)
    for g, group in enumerate(groups):
        terms = gaussian_terms(full[np.ix_(group, group)], [1, 1, 1], n_samples=len(x))
        assert out["o_info"][g] == pytest.approx(float(terms["o_info"]), abs=1e-9)
        assert 0 < out["o_info_se"][g] < 0.1


@pytest.mark.parametrize("paths", ["diagonal", "last_moving"])
def test_score_paths_of_two_variables_is_their_mutual_information(paths):
    """The two-variable estimator behind ``estimate_mi``: TC (diagonal) or I(X_2; X_1) (last one moving)."""
    rng = np.random.default_rng(3)
    cov = random_covariance([2, 1], seed=4)
    x = rng.multivariate_normal(np.zeros(3), cov, size=200)
    est = MultiTimeFMMI(paths=paths, seed=0, device="cpu", **GAUSSIAN_ONLY).fit([x[:, :2], x[:, 2:]])
    terms = est.score_paths()
    mi = gaussian_terms(est.scatter_, [2, 1], n_samples=200)["mi_one_rest"][1]
    if paths == "diagonal":
        assert set(terms.correction) == {"tc"}
        assert terms.value("tc")[0] == pytest.approx(mi, abs=1e-10)
    else:
        assert set(terms.correction) == {"mi_one_rest"}
        assert terms.value("mi_one_rest")[0, 1] == pytest.approx(mi, abs=1e-10)
        assert bool((terms.correction["mi_one_rest"][..., 0] == 0).all())  # only the last member moves


# ------------------------------------------------------------------- analytic fields in the estimator


def _linear_residual(field, cov_all):
    """The closed-form Gaussian velocity of ``cov_all`` (all coordinates) on each group's coordinates."""
    sigma = torch.as_tensor(cov_all, dtype=torch.float32)

    def residual(z, inputs, layout):
        _, index = field.layout(inputs.members)
        sub = sigma[index[:, :, None], index[:, None, :]][:, None]
        return gaussian_velocity(z, inputs.tau[..., layout.owner], sub, layout.owner)

    return residual


def _expected_linear_correction(est, fold, cov_all, members, path):
    """-mean over draws of the closed-form divergence at the fold's own path positions, (C, n_test)."""
    out = []
    for group in members:
        cov = _sub(cov_all, est, group)
        dims = [est.dims_[v] for v in group]
        traces = [
            path_trace(cov, dims, path, fold.positions[r].double().numpy())
            for r in range(len(fold.positions))
        ]
        out.append(-np.mean(traces, axis=0))
    return np.array(out)


def _paths(k):
    return [("diagonal", Path.diagonal(k))] + [(f"one-moving-{i}", Path.one_moving(k, i)) for i in range(k)]


@pytest.mark.parametrize("fixture", ["untrained_groups", "untrained_system"])
def test_linear_field_corrections_are_the_closed_form_path_integrals(request, monkeypatch, fixture):
    est = request.getfixturevalue(fixture)
    total = sum(est.dims_)
    cov_all = random_covariance(list(est.dims_), coupling=1.5, seed=11) * np.linspace(0.6, 1.6, total)
    cov_all = 0.5 * (cov_all + cov_all.T)
    k = est.size_
    members = np.array([[0, 2, 4], [1, 3, 5]]) if fixture == "untrained_groups" else np.array([[0, 1, 2]])
    for fold in est.folds_:
        monkeypatch.setattr(fold.field, "residual_field", _linear_residual(fold.field, cov_all))
        n_test = len(fold.test)
        subsets = [("leave-out", members[:, [0, 2]], Path.diagonal(k - 1))]
        for name, group, path in [(n, members, p) for n, p in _paths(k)] + subsets:
            got = est._correction(fold, torch.as_tensor(group), path)
            assert got.shape == (len(group), n_test)
            expected = _expected_linear_correction(est, fold, cov_all, group, path)
            # exact per sample up to float32 arithmetic: the divergence of a linear field is its trace
            np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4, err_msg=name)
            for g, members_g in enumerate(group):
                dims = [est.dims_[v] for v in members_g]
                integral = path_integral(_sub(cov_all, est, members_g), dims, path)
                se = got[g].std(ddof=1) / np.sqrt(n_test)
                assert abs(got[g].mean() + integral) < 4 * se + 1e-4, name


def test_leave_out_corrections_of_mixed_dimensions_use_each_subsets_coordinates(
    untrained_system, monkeypatch
):
    est = untrained_system  # dims 1, 2, 2: the subsets without one variable have dims (2, 2) and (1, 2)
    cov_all = random_covariance(SYSTEM_DIMS, coupling=1.5, seed=15)
    fold = est.folds_[0]
    monkeypatch.setattr(fold.field, "residual_field", _linear_residual(fold.field, cov_all))
    got = est.fold_corrections(fold, np.array([[0, 1, 2]]), ("tc_minus",))["tc_minus"][0]
    for i in range(3):
        subset = np.delete([0, 1, 2], i)[None]
        expected = _expected_linear_correction(est, fold, cov_all, subset, Path.diagonal(2))[0]
        np.testing.assert_allclose(got[:, i], expected, rtol=1e-4, atol=1e-4, err_msg=f"without {i}")


def test_linear_field_through_score_adds_the_closed_form_terms(untrained_groups, monkeypatch):
    """Plug the Gaussian velocity of Sigma' in as the residual: every score is its Gaussian part plus the
    closed-form terms of Sigma' (within the Monte-Carlo error of the path positions)."""
    est = untrained_groups
    cov_all = random_covariance([1] * 6, coupling=1.2, seed=12)
    groups = np.array([[0, 1, 2], [1, 4, 5], [0, 3, 5]])
    base = est.score(groups)
    for fold in est.folds_:
        monkeypatch.setattr(fold.field, "residual_field", _linear_residual(fold.field, cov_all))
    out = est.score(groups)
    for g, group in enumerate(groups):
        truth = information_truth(cov_all[np.ix_(group, group)], [1, 1, 1])
        for key in KEYS:
            shift = out[key][g] - base[key][g]
            assert abs(shift - getattr(truth, key)) < 4 * out[f"{key}_se"][g] + 1e-4, key
        np.testing.assert_allclose(
            out["mi_one_rest"][g] - base["mi_one_rest"][g],
            truth.mi_one_rest,
            atol=4 * out["s_info_se"][g] + 1e-4,
        )


def test_five_variables_use_one_moving_paths_and_weight_the_identities(regions, monkeypatch):
    est = MultiTimeFMMI(group_size=5, copula="gaussian", seed=3, device="cpu", n_draws=1, **GAUSSIAN_ONLY)
    est.fit(regions[1])
    cov_all = random_covariance([1] * 6, coupling=1.0, seed=13)
    for fold in est.folds_:
        monkeypatch.setattr(fold.field, "residual_field", _linear_residual(fold.field, cov_all))
    base_terms = gaussian_terms(est.scatter_[:5, :5], [1] * 5, n_samples=400)
    out = est.score([[0, 1, 2, 3, 4]])
    assert 0 <= out["identity_weight"][0] <= 1
    truth = information_truth(cov_all[:5, :5], [1] * 5)
    assert abs(out["o_info"][0] - base_terms["o_info"] - truth.o_info) < 4 * out["o_info_se"][0] + 1e-4
    np.testing.assert_allclose(
        out["mi_one_rest"][0] - base_terms["mi_one_rest"],
        truth.mi_one_rest,
        atol=4 * out["s_info_se"][0] + 1e-4,
    )


def test_hutchinson_in_the_estimator_agrees_with_the_exact_divergence(untrained_system, monkeypatch):
    est = untrained_system
    cov_all = random_covariance(SYSTEM_DIMS, coupling=1.5, seed=14)
    fold = est.folds_[0]
    monkeypatch.setattr(fold.field, "residual_field", _linear_residual(fold.field, cov_all))
    members, path = torch.tensor([[0, 1, 2]]), Path.diagonal(3)
    exact = est._correction(fold, members, path)
    monkeypatch.setattr(est, "exact_max_dim", 1)  # 5 moving coordinates > 1: Hutchinson's estimator
    probed = est._correction(fold, members, path)
    assert not np.allclose(probed, exact)
    difference = probed - exact
    assert abs(difference.mean()) < 4 * difference.std(ddof=1) / np.sqrt(difference.size)


def test_nonlinear_field_correction_matches_autograd_on_the_reconstructed_points(
    untrained_system, monkeypatch
):
    """r(z) = tanh(z W) (1 + tau): the correction must be -tr(dr/dz) over the moving coordinates at
    z = (1 - tau) x[source] + tau x, rebuilt here from the fold's rows, sources and positions."""
    est = untrained_system
    fold = est.folds_[1]
    w = torch.randn(5, 5, generator=torch.Generator().manual_seed(0)) * 0.7

    def field_of(tau_c):
        return lambda z: torch.tanh(z @ w) * (1 + tau_c)

    def residual(z, inputs, layout):
        return field_of(inputs.tau[..., layout.owner])(z)

    monkeypatch.setattr(fold.field, "residual_field", residual)
    members = [0, 1, 2]
    x = est.x_[torch.as_tensor(fold.test)]  # (n_test, R, d_max), padded
    layout, _ = fold.field.layout(torch.tensor([members]))
    for path in (Path.diagonal(3), Path.one_moving(3, 2)):
        got = est._correction(fold, torch.tensor([members]), path)[0]
        moving = torch.as_tensor(path.moving)[layout.owner]
        expected = torch.zeros(len(fold.test))
        for r in range(fold.positions.shape[0]):
            tau = path.times(fold.positions[r])  # (n_test, 3)
            source = torch.stack([x[fold.sources[r][v], v] for v in members], dim=1)
            z, _ = interpolate(x[:, members], source, tau)
            z = layout.to_flat(z)
            tau_c = tau[:, layout.owner]
            jac = vmap(lambda zz, tt: jacrev(field_of(tt))(zz))(z, tau_c)
            expected += torch.diagonal(jac, dim1=-2, dim2=-1)[:, moving].sum(-1)
        np.testing.assert_allclose(
            got, -(expected / fold.positions.shape[0]).double().numpy(), rtol=1e-5, atol=1e-5
        )


# ------------------------------------------------------------------------ accuracy (slow, judged later)

SMALL = {"max_steps": 100, "min_steps": 50, "n_draws": 1, "width": 32, "batch_size": 256}


@pytest.fixture(scope="module")
def regions_800():
    """6 regions, 800 samples: a redundant block and a synergistic sum."""
    cov = np.eye(6)
    cov[:3, :3] = 0.55 + 0.45 * np.eye(3)
    cov[3, 5] = cov[5, 3] = cov[4, 5] = cov[5, 4] = 0.6
    return cov, np.random.default_rng(20261126).multivariate_normal(np.zeros(6), cov, size=800)


@pytest.mark.slow
def test_shared_field_agrees_with_one_system_estimates_and_the_truth(regions_800):
    """A field shared by all triplets of the regions against ``information`` on each triplet alone and
    against the closed form."""
    from fmmi_neuro.engine.information import information

    cov, data = regions_800
    groups = np.array([[0, 1, 2], [3, 4, 5], [0, 3, 5]])
    shared = MultiTimeFMMI(group_size=3, device="cpu", **SMALL).fit(data).score(groups)
    for g, group in enumerate(groups):
        single = information(data[:, group], seed=0, device="cpu", **SMALL)
        truth = information_truth(cov[np.ix_(group, group)], [1, 1, 1])
        for key in KEYS:
            spread = np.hypot(shared[f"{key}_se"][g], getattr(single, f"{key}_se"))
            assert abs(shared[key][g] - getattr(single, key)) < 4 * spread, (group, key)
            assert abs(shared[key][g] - getattr(truth, key)) < 4 * shared[f"{key}_se"][g], (group, key)


@pytest.mark.slow
def test_system_mode_recovers_every_triplet(regions_800):
    cov, data = regions_800
    groups = np.array(list(combinations(range(6), 3)))
    out = MultiTimeFMMI(group_size=3, device="cpu", **SMALL).fit(data).score(groups, chunk_size=7)
    assert SCORE_KEYS <= set(out)
    truth = np.array([information_truth(cov[np.ix_(g, g)], [1, 1, 1]).o_info for g in groups])
    assert np.all(out["o_info_se"] > 0)
    # The standard errors leave out the training's own variability, so errors may also reach 0.05 nats
    # (half the acceptance bar at n = 1,200): with full training both residuals reach ~0.02 here.
    assert np.all(np.abs(out["o_info"] - truth) <= np.maximum(4.5 * out["o_info_se"], 0.05))
    assert out["o_info"][0] > 0 and out["o_info"][groups.tolist().index([3, 4, 5])] < 0


@pytest.mark.slow
@pytest.mark.parametrize("size", [3, 4, 5])
def test_groups_of_three_to_five_meet_the_n_1200_bar(size):
    """Every group of ``size`` of 7 Gaussian regions (a random correlation matrix), scored through one
    field at n = 1,200 with the default budget: within max(0.1, 20 %) of the closed form, the sign right
    where |Omega| > 0.1 (the O-information bar at fMRI scale)."""
    cov = random_covariance([1] * 7, coupling=1.5, seed=size)
    data = np.random.default_rng(size).multivariate_normal(np.zeros(7), cov, size=1200)
    groups = np.array(list(combinations(range(7), size)))
    out = MultiTimeFMMI(group_size=size, seed=0, device="cpu").fit(data).score(groups)
    truth = np.array([information_truth(cov[np.ix_(g, g)], [1] * size).o_info for g in groups])
    assert np.all(np.abs(out["o_info"] - truth) <= np.maximum(0.1, 0.2 * np.abs(truth)))
    strong = np.abs(truth) > 0.1
    assert np.all(np.sign(out["o_info"][strong]) == np.sign(truth[strong]))
