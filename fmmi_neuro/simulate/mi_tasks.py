"""Mutual-information tasks with known truth: the bmi benchmark families (Czyz et al. 2023).

:data:`MI_TASKS` maps a task name (bmi's task id) to an :class:`MITask`; calling the task draws samples,
and its ``mi`` attribute is the true I(X; Y) in nats, from a closed form or a stated quadrature
(:mod:`fmmi_neuro.simulate.quadrature`), never from a fit. Generators are written here from bmi's
definitions (github.com/cbg-ethz/bmi, ``src/bmi/benchmark``) with our own random numbers.

Examples
--------
>>> from fmmi_neuro import simulate
>>> data = simulate.mi_task("1v1-additive-0.75", 500, seed=0)
>>> data.x.shape, data.y.shape, round(data.mi, 4)
((500, 1), (500, 1), 0.3333)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from scipy.special import ndtr

from fmmi_neuro._validation import check_in, check_positive_int
from fmmi_neuro.simulate.quadrature import concentric_mi, inlier_mi, mixture_mi_2d
from fmmi_neuro.simulate.systems import Seed, closed_form_mi, spiral


@dataclass(frozen=True)
class MIData:
    """Samples of one mutual-information task and the true I(X; Y).

    Attributes
    ----------
    x : ndarray, shape (n_samples, d_x)
    y : ndarray, shape (n_samples, d_y)
    mi : float
        True I(X; Y) in nats.
    name : str
        Task name (the bmi task id where the task comes from bmi).
    description : str
    """

    x: np.ndarray
    y: np.ndarray
    mi: float
    name: str
    description: str


@dataclass(frozen=True)
class MITask:
    """A distribution of (X, Y) with known mutual information; call it to draw samples.

    Attributes
    ----------
    name : str
    description : str
        The generative model.
    truth_method : str
        How :attr:`mi` is obtained (closed form, or which quadrature).
    dim_x, dim_y : int

    Examples
    --------
    >>> task = MI_TASKS["1v1-additive-0.75"]
    >>> round(task.mi, 4)
    0.3333
    >>> data = task(1000, seed=0)
    >>> data.x.shape, data.y.shape
    ((1000, 1), (1000, 1))
    """

    name: str
    description: str
    truth_method: str
    dim_x: int
    dim_y: int
    sampler: Callable[[int, np.random.Generator], tuple[np.ndarray, np.ndarray]] = field(repr=False)
    truth: Callable[[], float] = field(repr=False)

    @cached_property
    def mi(self) -> float:
        """True I(X; Y) in nats (computed once)."""
        return float(self.truth())

    def __call__(self, n_samples: int, *, seed: Seed = 0) -> MIData:
        """Draw ``n_samples`` i.i.d. pairs; ``seed`` (int or numpy Generator) fixes them."""
        n_samples = check_positive_int(n_samples, "n_samples")
        x, y = self.sampler(n_samples, np.random.default_rng(seed))
        return MIData(x=x, y=y, mi=self.mi, name=self.name, description=self.description)


def _split_sampler(sample_z, dim_x: int):
    def sampler(n, rng):
        z = sample_z(n, rng)
        return z[:, :dim_x], z[:, dim_x:]

    return sampler


def _gaussian_z(cov: np.ndarray, nu: float | None = None):
    """Sampler of N(0, cov) rows, or of the multivariate Student-t with scale ``cov``."""
    chol = np.linalg.cholesky(cov)

    def sample(n, rng):
        z = rng.standard_normal((n, cov.shape[0])) @ chol.T
        return z if nu is None else z / np.sqrt(rng.chisquare(nu, size=(n, 1)) / nu)

    return sample


def _mixture_z(weights, means, covs):
    """Sampler of a Gaussian mixture: weights (k,), means (k, D), covs (k, D, D)."""
    weights, means = np.asarray(weights, dtype=np.float64), np.asarray(means, dtype=np.float64)
    chols = np.linalg.cholesky(np.asarray(covs, dtype=np.float64))

    def sample(n, rng):
        label = rng.choice(len(weights), size=n, p=weights)
        z = rng.standard_normal((n, means.shape[1]))
        for k, chol in enumerate(chols):
            rows = label == k
            z[rows] = means[k] + z[rows] @ chol.T
        return z

    return sample


def _mapped(sampler, map_x=None, map_y=None):
    """Sampler of (map_x(X), map_y(Y)); the maps take and return (n_samples, d) arrays."""

    def sample(n, rng):
        x, y = sampler(n, rng)
        return (x if map_x is None else map_x(x)), (y if map_y is None else map_y(y))

    return sample


def _half_cube(x: np.ndarray) -> np.ndarray:
    return x * np.sqrt(np.abs(x))


def _wiggly_x(x: np.ndarray) -> np.ndarray:
    return x + 0.4 * np.sin(x) + 0.2 * np.sin(1.7 * x + 1) + 0.03 * np.sin(3.3 * x - 2.5)


def _wiggly_y(y: np.ndarray) -> np.ndarray:
    return y - 0.4 * np.sin(0.4 * y) + 0.17 * np.sin(1.3 * y + 3.5) + 0.02 * np.sin(4.3 * y - 2.5)


def _swissroll(x: np.ndarray) -> np.ndarray:
    """bmi's ``swissroll2d`` of x in [0, 1]: t = 1.5 pi (1 + 2 x), (t cos t, t sin t) / 21; shape (n, 2)."""
    t = 1.5 * np.pi * (1 + 2 * x[:, 0])
    return np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / 21.0


def _bmi_spiral(x_plane: tuple[int, int], y_plane: tuple[int, int], dim_x: int, dim_y: int):
    """bmi's ``transform_spiral_task``: spiral of X in one plane at speed 1 / d_x, of Y at 1 / d_y."""
    return (
        lambda x: spiral(x, speed=1.0 / dim_x, planes=[x_plane]),
        lambda y: spiral(y, speed=1.0 / dim_y, planes=[y_plane]),
    )


def _sparse_correlation(dim_x: int, dim_y: int, n_interacting: int = 2, strength: float = 2.0) -> np.ndarray:
    """bmi's sparse multinormal: identity correlation except corr(X_i, Y_i) = s^2 / (1 + s^2), i < m.

    Equal to ``GaussianLVMParametrization(alpha=0, beta=0, lambd=eta=strength, epsilon=1).correlation``.
    """
    corr = np.eye(dim_x + dim_y)
    rho = strength**2 / (1 + strength**2)
    for i in range(n_interacting):
        corr[i, dim_x + i] = corr[dim_x + i, i] = rho
    return corr


def _dense_correlation(dim: int, off_diag: float = 0.5) -> np.ndarray:
    return np.eye(dim) * (1 - off_diag) + off_diag


def _gaussian_task(name, cov, dim_x, description, nu=None, map_x=None, map_y=None, prefix="") -> MITask:
    kind = "Gaussian" if nu is None else f"multivariate Student-t (nu = {nu:g})"
    return MITask(
        name=name,
        description=f"{prefix}{kind} {dim_x} x {cov.shape[0] - dim_x}: {description}",
        truth_method=f"closed form ({kind}{', invariant under the maps' if map_x or map_y else ''})",
        dim_x=dim_x,
        dim_y=cov.shape[0] - dim_x,
        sampler=_mapped(_split_sampler(_gaussian_z(cov, nu), dim_x), map_x, map_y),
        truth=lambda: closed_form_mi(cov, dim_x, nu),
    )


def _mixture_2d_task(name, weights, means, covs, description, dim_x=1, lift=None, map_x=None) -> MITask:
    """A task whose I(X; Y) is that of a 2-D Gaussian mixture (``lift`` adds coordinates that do not
    change it; ``map_x`` is a diffeomorphism of X)."""
    sampler = _split_sampler(_mixture_z(weights, means, covs), 1)
    if lift is not None:
        sampler = lift(sampler)
    return MITask(
        name=name,
        description=description,
        truth_method="2-D trapezoid quadrature of the mixture density (mixture_mi_2d)",
        dim_x=dim_x,
        dim_y=1,
        sampler=_mapped(sampler, map_x),
        truth=lambda: mixture_mi_2d(weights, means, covs),
    )


def _additive_task(epsilon: float) -> MITask:
    def sampler(n, rng):
        x = rng.uniform(0.0, 1.0, size=(n, 1))
        return x, x + rng.uniform(-epsilon, epsilon, size=(n, 1))

    return MITask(
        name=f"1v1-additive-{epsilon}",
        description=f"X ~ U(0, 1), Y = X + N, N ~ U(-{epsilon:g}, {epsilon:g}) independent of X",
        truth_method="closed form: 1 / (4 eps) for eps > 1/2, eps - log(2 eps) otherwise",
        dim_x=1,
        dim_y=1,
        sampler=sampler,
        truth=lambda: 0.25 / epsilon if epsilon > 0.5 else epsilon - np.log(2 * epsilon),
    )


def _ai_task() -> MITask:
    var_x, corr = 0.04, 0.95
    c = np.sqrt(var_x * 0.2) * corr
    weights = np.full(6, 1 / 6)
    means = [[1.0, 0.0], [1.0, 1.0], [1.0, -1.0], [-0.8, -0.2], [-1.2, 0.0], [-0.4, 0.0]]
    covs = [
        np.diag([0.01, 0.2]),
        np.diag([0.05, 0.001]),
        np.diag([0.05, 0.001]),
        np.diag([0.03, 0.001]),
        np.array([[var_x, c], [c, 0.2]]),
        np.array([[var_x, -c], [-c, 0.2]]),
    ]
    return _mixture_2d_task(
        "1v1-AI",
        weights,
        means,
        covs,
        "'AI': equal mixture of six 2-D Gaussians drawing the letters A (x < 0) and I (x = 1)",
    )


def _x_task(rho: float = 0.9) -> MITask:
    covs = [np.array([[1.0, s * rho], [s * rho, 1.0]]) for s in (-1, 1)]
    return _mixture_2d_task(
        f"1v1-X-{rho}",
        [0.5, 0.5],
        np.zeros((2, 2)),
        covs,
        f"'X': equal mixture of bivariate normals with correlations -{rho:g} and +{rho:g}",
    )


def _waves_task(n_components: int = 12, amplitude: float = 5.0, frequency: float = 3.0) -> MITask:
    """bmi's Waves 2 x 1; the MI is that of (X_0, Y) (X_1 ~ N(0, 1) is independent of both)."""
    k = np.arange(n_components)
    means = np.stack([1.5 * k, 1.5 * (k % 4)], axis=1)
    covs = np.tile(np.diag([0.1, 0.1]), (n_components, 1, 1))

    def lift(sampler):
        def sample(n, rng):
            x0, y = sampler(n, rng)
            return np.hstack([x0, rng.standard_normal((n, 1))]), y

        return sample

    def wave(x):
        x0 = x[:, 0] + amplitude * np.sin(frequency * x[:, 1])
        return np.stack([0.1 * x0 - 0.8, 0.5 * x[:, 1]], axis=1)

    return _mixture_2d_task(
        f"2v1-waves-{n_components}-{amplitude}-{frequency}",
        np.full(n_components, 1 / n_components),
        means,
        covs,
        f"'Waves': {n_components} Gaussians (x_0, y) ~ N((1.5 k, 1.5 (k mod 4)), 0.1 I), x_1 ~ N(0, 1); "
        f"x_0 <- x_0 + {amplitude:g} sin({frequency:g} x_1), then x <- (0.1 x_0 - 0.8, 0.5 x_1)",
        dim_x=2,
        lift=lift,
        map_x=wave,
    )


def _galaxy_task(speed: float = 0.5, distance: float = 3.0) -> MITask:
    """bmi's Galaxy 2 x 1: (x, y) ~ 1/2 N(+-distance/2 (1, 1, 1), I_3), x spiralled in its plane.

    Only u = (x_0 + x_1) / sqrt 2 carries the component, so I(X; Y) = I(U; Y) of a 2-D mixture.
    """
    half = distance / 2
    means = np.array([[s * half * np.sqrt(2), s * half] for s in (-1, 1)])

    def lift(sampler):
        def sample(n, rng):
            u, y = sampler(n, rng)
            v = rng.standard_normal((n, 1))
            return np.hstack([u + v, u - v]) / np.sqrt(2), y

        return sample

    return _mixture_2d_task(
        f"2v1-galaxy-{speed}-{distance}",
        [0.5, 0.5],
        means,
        np.tile(np.eye(2), (2, 1, 1)),
        f"'Galaxy': (x, y) ~ 1/2 N(+-{half:g} (1, 1, 1), I_3), x (2-D) through a spiral of speed {speed:g}",
        dim_x=2,
        lift=lift,
        map_x=lambda x: spiral(x, speed=speed, planes=[(0, 1)]),
    )


def _concentric_task(dim: int, n_components: int = 5) -> MITask:
    label_sd = 0.01

    def sampler(n, rng):
        k = rng.integers(1, n_components + 1, size=(n, 1))
        return k * rng.standard_normal((n, dim)), k + label_sd * rng.standard_normal((n, 1))

    return MITask(
        name=f"{dim}v1-concentric_gaussians-{n_components}",
        description=f"'Concentric': K uniform on 1..{n_components}, X ~ N(0, K^2 I_{dim}), "
        f"Y ~ N(K, {label_sd:g}^2) (Y reveals K: the components lie 100 sd apart)",
        truth_method="I(X; K) by 1-D adaptive quadrature over the radius (concentric_mi); "
        "I(X; K | Y) < 1e-300",
        dim_x=dim,
        dim_y=1,
        sampler=sampler,
        truth=lambda: concentric_mi(dim, n_components),
    )


def _inliers_task(dim: int, inlier_fraction: float = 0.2, n_interacting: int = 2, strength: float = 2.0):
    corr = _sparse_correlation(dim, dim, n_interacting, strength)
    product = corr.copy()
    product[:dim, dim:] = product[dim:, :dim] = 0.0
    rho = strength**2 / (1 + strength**2)
    weights = [1 - inlier_fraction, inlier_fraction]
    return MITask(
        name=f"mult-sparse-w-inliers-{dim}-{dim}-{n_interacting}-{strength:.1f}-{inlier_fraction:g}",
        description=f"Gaussian {dim} x {dim} with {n_interacting} pairs of correlation {rho:g}, a fraction "
        f"{inlier_fraction:g} of samples replaced by independent draws from the product of the marginals",
        truth_method="2-D generalised Gauss-Laguerre quadrature over chi-square variables (inlier_mi)",
        dim_x=dim,
        dim_y=dim,
        sampler=_split_sampler(_mixture_z(weights, np.zeros((2, 2 * dim)), [corr, product]), dim),
        truth=lambda: inlier_mi(n_interacting, rho, inlier_fraction),
    )


def _student_identity(dim: int, nu: int, asinh: bool) -> MITask:
    name = f"{'asinh-' if asinh else ''}student-identity-{dim}-{dim}-{nu}"
    return _gaussian_task(
        name,
        np.eye(2 * dim),
        dim,
        "identity scale (dependence only through the shared chi-square)",
        nu=nu,
        map_x=np.arcsinh if asinh else None,
        map_y=np.arcsinh if asinh else None,
        prefix="asinh of each coordinate of a " if asinh else "",
    )


def _build_mi_tasks() -> dict[str, MITask]:
    binormal = np.array([[1.0, 0.75], [0.75, 1.0]])
    tasks = [
        _gaussian_task("1v1-normal-0.75", binormal, 1, "correlation 0.75"),
        _gaussian_task(
            "normal_cdf-1v1-normal-0.75",
            binormal,
            1,
            "correlation 0.75",
            None,
            ndtr,
            ndtr,
            prefix="uniform margins (normal CDF of each coordinate) of a ",
        ),
        _additive_task(0.1),
        _additive_task(0.75),
        _gaussian_task(
            "wiggly-1v1-normal-0.75",
            binormal,
            1,
            "correlation 0.75",
            None,
            _wiggly_x,
            _wiggly_y,
            prefix="bmi's 'wiggly' monotone maps of X and Y of a ",
        ),
        _gaussian_task(
            "half_cube-1v1-normal-0.75",
            binormal,
            1,
            "correlation 0.75",
            None,
            _half_cube,
            _half_cube,
            prefix="x |x|^(1/2) of each coordinate of a ",
        ),
        _student_identity(1, 1, asinh=False),
        _student_identity(1, 1, asinh=True),
        _x_task(),
        _ai_task(),
        MITask(
            name="swissroll_x-normal_cdf-1v1-normal-0.75",
            description="uniform margins of a Gaussian 1 x 1 (correlation 0.75), X embedded in 2-D as a "
            "Swiss roll (bmi's swissroll2d)",
            truth_method="closed form (Gaussian, invariant under the injective maps)",
            dim_x=2,
            dim_y=1,
            sampler=_mapped(
                _split_sampler(_gaussian_z(binormal), 1),
                lambda x: _swissroll(ndtr(x)),
                ndtr,
            ),
            truth=lambda: closed_form_mi(binormal, 1),
        ),
        _waves_task(),
        _galaxy_task(),
        _concentric_task(3),
        _concentric_task(5),
    ]
    for dim in (2, 3, 5, 25, 50):
        tasks.append(
            _gaussian_task(
                f"multinormal-dense-{dim}-{dim}-0.5", _dense_correlation(2 * dim), dim, "all correlations 0.5"
            )
        )
    for dim in (3, 5, 25):
        tasks.append(
            _gaussian_task(
                f"multinormal-sparse-{dim}-{dim}-2-2.0",
                _sparse_correlation(dim, dim),
                dim,
                "2 pairs (X_i, Y_i) of correlation 0.8, all else independent",
            )
        )
    tasks += [_inliers_task(5), _inliers_task(25)]
    tasks += [_student_identity(d, nu, asinh=False) for d, nu in ((2, 2), (3, 3), (5, 2), (5, 3))]
    tasks += [_student_identity(d, nu, asinh=True) for d, nu in ((2, 1), (3, 2), (5, 2))]
    for dim in (3, 5, 25):
        map_x, map_y = _bmi_spiral((0, 1), (1, 2), dim, dim)
        tasks.append(
            _gaussian_task(
                f"spiral-multinormal-sparse-{dim}-{dim}-2-2.0",
                _sparse_correlation(dim, dim),
                dim,
                "2 pairs (X_i, Y_i) of correlation 0.8; X spiralled in plane (0, 1) at speed 1/d_x, "
                "Y in plane (1, 2) at speed 1/d_y",
                map_x=map_x,
                map_y=map_y,
            )
        )
    for name, fn in (("half_cube", _half_cube), ("normal_cdf", ndtr)):
        tasks.append(
            _gaussian_task(
                f"{name}-multinormal-sparse-5-5-2-2.0",
                _sparse_correlation(5, 5),
                5,
                "2 pairs (X_i, Y_i) of correlation 0.8",
                map_x=fn,
                map_y=fn,
                prefix=f"{name} of each coordinate of a ",
            )
        )
    return {task.name: task for task in tasks}


MI_TASKS: dict[str, MITask] = _build_mi_tasks()
"""Task name -> :class:`MITask`. Names are bmi's task ids (Czyz et al. 2023, "Beyond normal"; the task
lists of github.com/cbg-ethz/bmi, ``src/bmi/benchmark/task_list.py`` and its benchmark v2 configuration);
the generators and truths are written here from bmi's definitions, with our own random numbers. Tasks
are not rescaled (bmi standardises each coordinate; that leaves every MI unchanged)."""


def mi_task(name: str, n_samples: int, *, seed: Seed = 0) -> MIData:
    """Draw ``n_samples`` pairs of the task ``name`` of :data:`MI_TASKS` (see :class:`MITask`)."""
    return MI_TASKS[check_in(name, MI_TASKS, "name")](n_samples, seed=seed)
