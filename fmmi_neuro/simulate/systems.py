"""Simulated systems with known O-information, for validating estimators (ours or anyone's).

Every sampler returns a :class:`System`: the samples (one (n_samples, d_i) array per variable) and the
closed-form truth (:class:`~fmmi_neuro.engine.gaussian.closed_form.InfoTerms`, in nats). Gaussian and
multivariate
Student-t systems are available; per-variable invertible maps change the marginals but not the truth.

Sign convention: Omega = TC - DTC; Omega > 0 redundancy-dominated, Omega < 0 synergy-dominated.

Examples
--------
>>> from fmmi_neuro import simulate
>>> system = simulate.synergistic(2000, seed=0)
>>> [x.shape for x in system.samples], round(system.truth.o_info, 3)
([(2000, 1), (2000, 1), (2000, 1)], -0.876)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from fmmi_neuro._validation import check_in, check_positive_int
from fmmi_neuro.engine.gaussian.closed_form import (
    InfoTerms,
    _check_system,
    information_truth,
    mixed_covariance,
    redundant_covariance,
    synergistic_covariance,
)

Seed = int | np.random.Generator

TRANSFORMS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "cube": lambda x: x**3,
    "exp": np.exp,
    "sinh": np.sinh,
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
}
"""Strictly increasing maps applied per coordinate (so every MI, TC, DTC and Omega is unchanged)."""


def _random_orthogonal(d: int, rng: np.random.Generator) -> np.ndarray:
    """A Haar-random orthogonal matrix of shape (d, d)."""
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def spiral_planes(d: int) -> list[tuple[int, int]]:
    """Default rotation planes of :func:`spiral` in d >= 2 dimensions: (0, 1), (2, 3), ... and (d-1, 0) if d
    is odd, so that every coordinate is mixed with another one."""
    d = check_positive_int(d, "d", minimum=2)
    planes = [(i, i + 1) for i in range(0, d - 1, 2)]
    return planes + [(d - 1, 0)] if d % 2 else planes


def spiral(
    x: np.ndarray,
    *,
    speed: float = 1.0,
    planes: Sequence[tuple[int, int]] | None = None,
    inverse: bool = False,
) -> np.ndarray:
    """Spiral diffeomorphism z = R(speed * |x|^2) x, applied to every row; or its inverse.

    R(theta) is the product of the rotations by the angle theta in the coordinate planes ``planes``, applied
    in order; the rotation in plane (i, j) is exp(theta A) with A[i, j] = -1, A[j, i] = 1 (bmi's
    ``so_generator``): x_i <- cos(theta) x_i - sin(theta) x_j, x_j <- sin(theta) x_i + cos(theta) x_j.
    R is orthogonal, so |z| = |x|: the angle can be read off z and the rotations undone, and the map is a
    smooth bijection of R^d. It is not coordinatewise, so per-coordinate rank-to-normal cannot undo it, and
    applied to one variable (or to X and Y separately) it leaves every mutual information unchanged.

    Parameters
    ----------
    x : ndarray, shape (n_samples, d)
    speed : float
        Radians per unit of squared norm (bmi uses 1 / d).
    planes : sequence of (int, int), optional
        Coordinate planes to rotate; default :func:`spiral_planes` (d).
    inverse : bool
        Return the inverse map of ``x`` instead.

    Returns
    -------
    ndarray, shape (n_samples, d)

    Examples
    --------
    >>> x = np.array([[1.0, 0.0]])
    >>> spiral(x, speed=np.pi / 2).round(12)
    array([[0., 1.]])
    >>> spiral(spiral(x, speed=0.3), speed=0.3, inverse=True).round(12)
    array([[1., 0.]])
    """
    z = np.array(x, dtype=np.float64, ndmin=2)
    planes = spiral_planes(z.shape[1]) if planes is None else [(int(i), int(j)) for i, j in planes]
    for i, j in planes:
        if not (0 <= i < z.shape[1] and 0 <= j < z.shape[1] and i != j):
            raise ValueError(
                f"'planes' must hold pairs of distinct coordinates below {z.shape[1]}; got {(i, j)}."
            )
    theta = float(speed) * (z**2).sum(axis=1)
    if inverse:
        theta, planes = -theta, planes[::-1]
    cos, sin = np.cos(theta), np.sin(theta)
    for i, j in planes:
        zi, zj = z[:, i].copy(), z[:, j].copy()
        z[:, i], z[:, j] = cos * zi - sin * zj, sin * zi + cos * zj
    return z


BLOCK_MAPS = ("spiral",)
"""Invertible maps of a whole variable (not coordinatewise); the information terms are unchanged.
``"spiral"``: :func:`spiral` of each d-dimensional variable with speed 1 / d (angle |x_i|^2 / d)."""


@dataclass(frozen=True)
class System:
    """A simulated system and its closed-form information terms.

    Attributes
    ----------
    samples : list of ndarray, each shape (n_samples, d_i)
        One array per variable.
    truth : InfoTerms
        TC, DTC, Omega (= TC - DTC; > 0 redundancy, < 0 synergy), S-information and per-variable pieces,
        in nats, from the closed form.
    cov : ndarray, shape (D, D)
        Covariance (Gaussian) or scale matrix (Student-t) of the samples before ``rotate`` / ``transform``.
    dims : tuple of int
        Dimension of each variable.
    nu : float or None
        Student-t degrees of freedom; None for a Gaussian.
    transform : str or None
        Name of the per-coordinate map applied (truth unchanged), or None.
    description : str
    block_map : str or None
        Name of the within-variable map applied (truth unchanged), or None.
    """

    samples: list[np.ndarray]
    truth: InfoTerms
    cov: np.ndarray
    dims: tuple[int, ...]
    nu: float | None
    transform: str | None
    description: str
    block_map: str | None = None

    @property
    def data(self) -> np.ndarray:
        """All variables side by side, shape (n_samples, sum(dims))."""
        return np.hstack(self.samples)


def sample_system(
    cov: np.ndarray,
    dims: Sequence[int],
    n_samples: int,
    *,
    nu: float | None = None,
    transform: str | None = None,
    rotate: bool = False,
    block_map: str | None = None,
    seed: Seed = 0,
    description: str = "custom system",
) -> System:
    """Draw samples of a zero-mean Gaussian or multivariate Student-t system with known truth.

    Parameters
    ----------
    cov : ndarray, shape (D, D)
        Covariance (Gaussian) or scale matrix (Student-t), positive definite.
    dims : sequence of int
        Dimension of each variable (contiguous blocks of coordinates), at least 2 variables.
    n_samples : int
    nu : float, optional
        Degrees of freedom of a multivariate Student-t (X = Z / sqrt(W / nu), Z ~ N(0, cov), W ~ chi2(nu),
        one W per sample shared by all coordinates); None for a Gaussian.
    transform : {"cube", "exp", "sinh", "sigmoid", "mixed"}, optional
        Strictly increasing map applied to every coordinate ("mixed" cycles through them by variable);
        the information terms are unchanged.
    rotate : bool
        Multiply each variable by a random orthogonal (d_i, d_i) matrix first (before ``transform``), so a
        per-coordinate transform no longer undoes the map; the information terms are unchanged.
    block_map : {"spiral"}, optional
        Smooth invertible map of each whole variable (after ``rotate``, before ``transform``; every
        variable needs d_i >= 2): ``"spiral"`` rotates the variable by an angle |x_i|^2 / d_i
        (:func:`spiral`). The dependence becomes nonlinear inside each variable, which no per-coordinate
        rank-to-normal can undo; the information terms are unchanged.
    seed : int or numpy Generator
    description : str

    Returns
    -------
    System
    """
    dims = tuple(int(d) for d in dims)
    cov = _check_system(cov, dims)
    n_samples = check_positive_int(n_samples, "n_samples")
    if nu is not None and (not np.isfinite(nu) or nu <= 0):
        raise ValueError(f"'nu' must be a positive number of degrees of freedom; got {nu!r}.")
    if transform is not None:
        check_in(transform, [*TRANSFORMS, "mixed"], "transform")
    if block_map is not None:
        check_in(block_map, BLOCK_MAPS, "block_map")
        if min(dims) < 2:
            raise ValueError(f"'block_map' needs variables of dimension >= 2; got dims {list(dims)}.")
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n_samples, cov.shape[0])) @ np.linalg.cholesky(cov).T
    if nu is not None:
        z = z / np.sqrt(rng.chisquare(nu, size=(n_samples, 1)) / nu)
    edges = np.cumsum([0, *dims])
    samples = [z[:, edges[i] : edges[i + 1]] for i in range(len(dims))]
    if rotate:
        samples = [x @ _random_orthogonal(x.shape[1], rng) for x in samples]
        description = f"{description}, randomly rotated within each variable"
    if block_map is not None:
        samples = [spiral(x, speed=1.0 / x.shape[1]) for x in samples]
        description = f"{description}, '{block_map}' map within each variable"
    if transform is not None:
        names = list(TRANSFORMS) if transform == "mixed" else [transform]
        samples = [TRANSFORMS[names[i % len(names)]](x) for i, x in enumerate(samples)]
        description = f"{description}, per-coordinate '{transform}' map"
    if nu is not None:
        description = f"{description}, Student-t nu={nu:g}"
    return System(
        samples=samples,
        truth=information_truth(cov, dims, nu),
        cov=cov,
        dims=dims,
        nu=None if nu is None else float(nu),
        transform=transform,
        description=description,
        block_map=block_map,
    )


def redundant(
    n_samples: int,
    n_vars: int = 3,
    dim: int = 1,
    *,
    noise: float = 0.25,
    nu: float | None = None,
    transform: str | None = None,
    rotate: bool = False,
    block_map: str | None = None,
    seed: Seed = 0,
) -> System:
    """Shared source: X_i = S + sqrt(noise) E_i, dim-dimensional; Omega > 0 (redundancy-dominated).

    See :func:`fmmi_neuro.engine.gaussian.closed_form.redundant_covariance`; ``nu``, ``transform``,
    ``rotate``, ``block_map`` and ``seed`` as in :func:`sample_system`. With ``nu=1`` the shared chi-square
    alone makes the variables redundant: ``redundant(n, 5, 1, noise=10, nu=1)`` has Omega = 0.641 nats
    (0.636 in the limit of infinite noise, i.e. an identity scale matrix).
    """
    cov, dims = redundant_covariance(n_vars, dim, noise=noise)
    text = f"redundant: {n_vars} variables of dim {dim} sharing one source, noise {noise:g}"
    return sample_system(
        cov,
        dims,
        n_samples,
        nu=nu,
        transform=transform,
        rotate=rotate,
        block_map=block_map,
        seed=seed,
        description=text,
    )


def synergistic(
    n_samples: int,
    n_vars: int = 3,
    dim: int = 1,
    *,
    noise: float = 0.1,
    nu: float | None = None,
    transform: str | None = None,
    rotate: bool = False,
    block_map: str | None = None,
    seed: Seed = 0,
) -> System:
    """Noisy sum: independent X_1..X_{n-1}, X_n = sum_i X_i + sqrt(noise) E; Omega < 0 (synergy-dominated).

    See :func:`fmmi_neuro.engine.gaussian.closed_form.synergistic_covariance`; ``nu``, ``transform``,
    ``rotate``, ``block_map`` and ``seed`` as in :func:`sample_system`.
    """
    cov, dims = synergistic_covariance(n_vars, dim, noise=noise)
    text = (
        f"synergistic: X_{n_vars} = sum of {n_vars - 1} independent variables of dim {dim} + noise {noise:g}"
    )
    return sample_system(
        cov,
        dims,
        n_samples,
        nu=nu,
        transform=transform,
        rotate=rotate,
        block_map=block_map,
        seed=seed,
        description=text,
    )


def mixed(
    n_samples: int,
    n_vars: int = 3,
    dim: int = 1,
    *,
    redundancy: float = 0.5,
    noise: float = 0.25,
    nu: float | None = None,
    transform: str | None = None,
    rotate: bool = False,
    block_map: str | None = None,
    seed: Seed = 0,
) -> System:
    """Shared source plus sum structure; ``redundancy`` in [0, 1] moves Omega from synergy to redundancy.

    See :func:`fmmi_neuro.engine.gaussian.closed_form.mixed_covariance`; ``nu``, ``transform``,
    ``rotate``, ``block_map`` and ``seed`` as in :func:`sample_system`. Six 5-dimensional variables with
    the default ``redundancy`` and ``noise`` are redundancy-dominated (Omega = 2.549 nats);
    ``mixed(n, 6, 5, redundancy=0.1, noise=0.125)`` is synergy-dominated, Omega = -0.860 nats.
    """
    cov, dims = mixed_covariance(n_vars, dim, redundancy=redundancy, noise=noise)
    text = f"mixed: {n_vars} variables of dim {dim}, redundancy {redundancy:g}, noise {noise:g}"
    return sample_system(
        cov,
        dims,
        n_samples,
        nu=nu,
        transform=transform,
        rotate=rotate,
        block_map=block_map,
        seed=seed,
        description=text,
    )


def closed_form_mi(cov: np.ndarray, dim_x: int, nu: float | None = None) -> float:
    """I(X; Y) in nats of a jointly Gaussian (``nu=None``) or multivariate Student-t (X, Y).

    Parameters
    ----------
    cov : ndarray, shape (d_x + d_y, d_x + d_y)
        Covariance (Gaussian) or scale matrix (Student-t); X is the first ``dim_x`` coordinates.
    dim_x : int
    nu : float, optional
        Student-t degrees of freedom.

    Examples
    --------
    >>> round(closed_form_mi(np.array([[1.0, 0.5], [0.5, 1.0]]), 1), 4)  # -1/2 log(1 - 0.25)
    0.1438
    """
    cov = np.asarray(cov, dtype=np.float64)
    dim_x = check_positive_int(dim_x, "dim_x")
    return information_truth(cov, [dim_x, cov.shape[0] - dim_x], nu).tc
