"""Simulated systems: samples follow the stated law, the truth is the closed form, maps keep it."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import multivariate_t

from fmmi_neuro import simulate
from fmmi_neuro.engine.gaussian.closed_form import (
    information_truth,
    mixed_covariance,
    redundant_covariance,
    synergistic_covariance,
)


def _within_sampling_error(x, expected_cov, k=5.0):
    """Every entry of the sample covariance within k standard errors (from the sample's own products)."""
    n = len(x)
    centred = x - x.mean(axis=0)
    products = centred[:, :, None] * centred[:, None, :]
    stderr = products.std(axis=0, ddof=1) / np.sqrt(n)
    return np.abs(products.mean(axis=0) - expected_cov) < k * stderr + 1e-12


@pytest.mark.parametrize(
    ("sampler", "constructor", "dim"),
    [
        (simulate.redundant, redundant_covariance, 1),
        (simulate.synergistic, synergistic_covariance, 2),
        (simulate.mixed, mixed_covariance, 3),
    ],
)
def test_gaussian_samplers_have_the_stated_covariance_and_truth(sampler, constructor, dim):
    system = sampler(20_000, 4, dim, seed=3)
    cov, dims = constructor(4, dim)
    assert system.dims == tuple(dims) and system.nu is None
    assert [x.shape for x in system.samples] == [(20_000, dim)] * 4
    np.testing.assert_allclose(system.cov, cov)
    assert _within_sampling_error(system.data, cov).all()
    truth = information_truth(cov, dims)
    assert system.truth.o_info == pytest.approx(truth.o_info, abs=1e-12)
    np.testing.assert_allclose(system.truth.mi_one_rest, truth.mi_one_rest, atol=1e-12)


def test_student_t_sampler_has_scaled_covariance_and_t_truth():
    nu = 5.0
    system = simulate.mixed(50_000, 3, 2, nu=nu, seed=4)
    assert system.nu == nu and "Student-t nu=5" in system.description
    assert _within_sampling_error(system.data, system.cov * nu / (nu - 2)).all()
    truth = information_truth(system.cov, system.dims, nu)
    assert system.truth.tc == pytest.approx(truth.tc, abs=1e-12)
    assert system.truth.tc > information_truth(system.cov, system.dims).tc


def test_student_t_heavy_tails_share_one_chi_square():
    """A shared mixing variable couples |X_1| and |X_2| with a diagonal scale; the signs stay independent."""
    system = simulate.sample_system(np.eye(2), [1, 1], 20_000, nu=3.0, seed=5)
    a, b = np.abs(system.samples[0][:, 0]), np.abs(system.samples[1][:, 0])
    assert np.corrcoef(np.log(a), np.log(b))[0, 1] > 0.1
    same_sign = np.mean(np.sign(system.samples[0][:, 0]) == np.sign(system.samples[1][:, 0]))
    assert abs(same_sign - 0.5) < 5 * 0.5 / np.sqrt(20_000)


@pytest.mark.parametrize(
    ("name", "inverse"), [("exp", np.log), ("sinh", np.arcsinh), ("cube", np.cbrt), ("sigmoid", None)]
)
def test_per_coordinate_maps_keep_the_truth(name, inverse):
    plain = simulate.redundant(500, 3, 2, seed=9)
    mapped = simulate.redundant(500, 3, 2, transform=name, seed=9)
    for term in ("tc", "dtc", "o_info", "s_info"):
        assert getattr(mapped.truth, term) == getattr(plain.truth, term)
    for x, y in zip(plain.samples, mapped.samples, strict=True):
        if inverse is not None:
            np.testing.assert_allclose(inverse(y), x, atol=1e-9)
        assert np.all(np.argsort(x, axis=0) == np.argsort(y, axis=0))
    assert name in mapped.description


def test_mixed_transform_uses_a_different_map_per_variable():
    system = simulate.synergistic(300, 4, transform="mixed", seed=2)
    plain = simulate.synergistic(300, 4, seed=2)
    np.testing.assert_allclose(system.samples[0], plain.samples[0] ** 3)
    np.testing.assert_allclose(system.samples[1], np.exp(plain.samples[1]))


def test_rotation_within_variables_keeps_determinants_and_truth():
    plain = simulate.mixed(2000, 3, 3, seed=6)
    rotated = simulate.mixed(2000, 3, 3, rotate=True, seed=6)
    assert not np.allclose(rotated.samples[0], plain.samples[0])
    for x, y in zip(plain.samples, rotated.samples, strict=True):
        np.testing.assert_allclose(np.linalg.slogdet(np.cov(y.T))[1], np.linalg.slogdet(np.cov(x.T))[1])
    joint = [np.linalg.slogdet(np.cov(s.data.T))[1] for s in (plain, rotated)]
    assert joint[1] == pytest.approx(joint[0], abs=1e-9)
    assert rotated.truth.o_info == plain.truth.o_info and "rotated" in rotated.description


def test_seed_fixes_the_samples():
    a = simulate.mixed(100, seed=1)
    b = simulate.mixed(100, seed=np.random.default_rng(1))
    c = simulate.mixed(100, seed=2)
    np.testing.assert_array_equal(a.data, b.data)
    assert not np.allclose(a.data, c.data)


def test_planted_signs():
    assert simulate.redundant(10, 5).truth.o_info > 0
    assert simulate.synergistic(10, 5).truth.o_info < 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"nu": 0.0}, "nu"),
        ({"transform": "log"}, "transform"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        simulate.mixed(100, **kwargs)
    with pytest.raises(ValueError, match="n_samples"):
        simulate.redundant(0)


@pytest.mark.parametrize("d", [2, 3, 5, 8])
def test_spiral_is_a_norm_preserving_bijection(d, rng):
    x = rng.standard_normal((200, d))
    z = simulate.spiral(x, speed=1 / d)
    np.testing.assert_allclose(np.linalg.norm(z, axis=1), np.linalg.norm(x, axis=1))
    np.testing.assert_allclose(simulate.spiral(z, speed=1 / d, inverse=True), x, atol=1e-12)
    touched = {i for plane in simulate.spiral_planes(d) for i in plane}
    assert touched == set(range(d))
    assert not np.array_equal(np.argsort(z[:, 0]), np.argsort(x[:, 0]))


def test_spiral_rejects_bad_planes():
    with pytest.raises(ValueError, match="planes"):
        simulate.spiral(np.zeros((3, 2)), planes=[(0, 2)])
    with pytest.raises(ValueError, match="'d'"):
        simulate.spiral_planes(1)


def test_block_map_keeps_the_truth_and_is_undone_by_the_inverse():
    plain = simulate.mixed(400, 6, 5, redundancy=0.1, noise=0.125, seed=8)
    mapped = simulate.mixed(400, 6, 5, redundancy=0.1, noise=0.125, block_map="spiral", seed=8)
    assert mapped.block_map == "spiral" and "spiral" in mapped.description
    assert mapped.truth.o_info == plain.truth.o_info
    for x, z in zip(plain.samples, mapped.samples, strict=True):
        assert not np.allclose(x, z)
        np.testing.assert_allclose(simulate.spiral(z, speed=1 / 5, inverse=True), x, atol=1e-12)


def test_issue_systems_have_the_stated_omega():
    """Omega = (2 - n) TC + sum_i TC(X_-i), TC from Gaussian / scipy Student-t entropies written here."""
    mixed = simulate.mixed(10, 6, 5, redundancy=0.1, noise=0.125, block_map="spiral")

    def omega(cov, dims, entropy):
        edges = np.cumsum([0, *dims])
        blocks = [np.arange(edges[i], edges[i + 1]) for i in range(len(dims))]

        def tc(parts):
            idx = np.concatenate(parts)
            return sum(entropy(cov[np.ix_(b, b)]) for b in parts) - entropy(cov[np.ix_(idx, idx)])

        rest = [tc(blocks[:i] + blocks[i + 1 :]) for i in range(len(blocks))]
        return (2 - len(blocks)) * tc(blocks) + sum(rest)

    gauss = lambda c: 0.5 * np.linalg.slogdet(2 * np.pi * np.e * c)[1]  # noqa: E731
    assert omega(mixed.cov, mixed.dims, gauss) == pytest.approx(mixed.truth.o_info, abs=1e-9)
    assert mixed.truth.o_info == pytest.approx(-0.860, abs=5e-4)
    red = simulate.redundant(10, 5, 1, noise=10, nu=1)
    student = lambda c: multivariate_t(shape=c, df=1).entropy()  # noqa: E731
    assert omega(red.cov, red.dims, student) == pytest.approx(red.truth.o_info, abs=1e-9)
    assert red.truth.o_info == pytest.approx(0.641, abs=5e-4)


@pytest.mark.parametrize(
    ("kwargs", "match"), [({"block_map": "twist"}, "block_map"), ({"dim": 1}, "dimension")]
)
def test_bad_block_map_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        simulate.redundant(20, **{"dim": 2, "block_map": "spiral", **kwargs})
