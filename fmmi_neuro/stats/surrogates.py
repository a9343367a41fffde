"""Surrogate time series that keep what BOLD noise has and break what a test asks about.

- ``time_shift``: every region is circularly shifted by its own random lag. Each region keeps its
  values (marginal distribution) and its autocorrelation exactly (up to the wrap-around point); the
  dependence between regions is broken. Null hypothesis: the regions are independent.
- ``phase``: one set of random Fourier phases is added to every region (Prichard & Theiler 1994). Each
  region keeps its power spectrum, and the cross-spectra (hence the linear, lagged cross-correlation
  structure) are kept; everything beyond a stationary linear Gaussian process is broken. Null
  hypothesis: the data are a linear Gaussian process, so a surrogate test asks what is beyond linear.
- ``aaft``: amplitude-adjusted phase randomisation (Theiler et al. 1992): the normal scores of each
  region are phase-randomised (same phases for all regions) and the region's own values are put back in
  the new rank order. Each region keeps its values exactly and, approximately, its spectrum and the
  cross-correlations; use it instead of ``phase`` when marginals are non-Gaussian (BOLD is), since plain
  phase randomisation Gaussianises the marginals and a rank-based estimator then sees a difference that
  is not about dependence.
  With ``estimator="gaussian_copula"``, which sees only the (copula) covariance, ``phase``/``aaft``
  surrogates keep what the estimator measures: those nulls are informative for ``fmmi`` (dependence
  beyond linear), not for the copula.
- Moving-block bootstrap (Kuensch 1989): resample contiguous blocks of time points (the same blocks
  for every region), keeping the dependence within blocks, for confidence intervals.

All arrays are (n_samples, n_regions): time points by regions.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .._validation import as_samples_array, check_in, check_positive_int

SURROGATE_METHODS = ("time_shift", "phase", "aaft")


def time_shift_surrogate(
    data: np.ndarray, *, min_shift: int | None = None, seed: int | np.random.Generator | None = 0
) -> np.ndarray:
    """Circularly shift each region by its own random lag, the lags at least ``min_shift`` apart.

    The lags are random points on the circle of length ``n_samples`` whose pairwise circular distances
    are all >= ``min_shift`` (random gaps: ``min_shift`` plus a uniform multinomial share of the
    slack, then a random assignment to regions), so no two regions keep their original alignment.

    Parameters
    ----------
    data : ndarray, shape (n_samples, n_regions)
    min_shift : int, optional
        Smallest relative lag between any two regions, in samples. Default
        ``max(1, min(n_samples // 10, n_samples // n_regions))`` (12 for 94 regions x 1,200 TRs). With
        more regions than samples and no ``min_shift``, lags are drawn independently and uniformly.
    seed : int or numpy Generator

    Returns
    -------
    ndarray, shape (n_samples, n_regions)
        Column j is ``np.roll(data[:, j], shift_j)``.
    """
    data = as_samples_array(data, "data", min_samples=3, allow_constant=True)
    n, n_regions = data.shape
    rng = np.random.default_rng(seed)
    if min_shift is None and n_regions > n:
        shifts = rng.integers(n, size=n_regions)
    else:
        if min_shift is None:
            min_shift = max(1, min(n // 10, n // n_regions))
        min_shift = check_positive_int(min_shift, "min_shift", 0)
        if min_shift * n_regions > n:
            raise ValueError(
                f"'min_shift' ({min_shift}) times the number of regions ({n_regions}) exceeds the series "
                f"length ({n}); lags that far apart do not fit."
            )
        gaps = min_shift + rng.multinomial(n - min_shift * n_regions, np.full(n_regions, 1.0 / n_regions))
        shifts = (rng.integers(n) + np.cumsum(gaps))[rng.permutation(n_regions)] % n
    rows = (np.arange(n)[:, None] - shifts[None, :]) % n
    return np.take_along_axis(data, rows, axis=0)


def phase_randomized_surrogate(data: np.ndarray, *, seed: int | np.random.Generator | None = 0) -> np.ndarray:
    """Add the same random Fourier phases to every region (keeps spectra and cross-spectra).

    Parameters
    ----------
    data : ndarray, shape (n_samples, n_regions)
    seed : int or numpy Generator

    Returns
    -------
    ndarray, shape (n_samples, n_regions)
        Same mean, same periodogram per region and same cross-periodogram per pair as ``data``.
    """
    data = as_samples_array(data, "data", min_samples=3, allow_constant=True)
    n = data.shape[0]
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(data, axis=0)
    phases = rng.uniform(0.0, 2.0 * np.pi, size=spectrum.shape[0])
    phases[0] = 0.0
    if n % 2 == 0:
        phases[-1] = 0.0
    return np.fft.irfft(spectrum * np.exp(1j * phases)[:, None], n=n, axis=0)


def aaft_surrogate(data: np.ndarray, *, seed: int | np.random.Generator | None = 0) -> np.ndarray:
    """Amplitude-adjusted Fourier-transform surrogate (Theiler et al. 1992), one phase set for all regions.

    Parameters
    ----------
    data : ndarray, shape (n_samples, n_regions)
    seed : int or numpy Generator

    Returns
    -------
    ndarray, shape (n_samples, n_regions)
        Each column is a reordering of the same column of ``data`` (identical values), following the
        ranks of a phase-randomised copy of its normal scores.
    """
    from ..engine.gaussian.marginals import rank_to_normal

    data = as_samples_array(data, "data", min_samples=3, allow_constant=True)
    gaussian = phase_randomized_surrogate(rank_to_normal(data), seed=seed)
    order = np.argsort(np.argsort(gaussian, axis=0, kind="stable"), axis=0, kind="stable")
    return np.take_along_axis(np.sort(data, axis=0), order, axis=0)


def surrogates(
    data: np.ndarray,
    n_surrogates: int,
    *,
    method: str = "time_shift",
    seed: int | np.random.Generator | None = 0,
    min_shift: int | None = None,
) -> Iterator[np.ndarray]:
    """Yield ``n_surrogates`` surrogate data sets of ``data`` (one at a time, never all in memory).

    Parameters
    ----------
    data : ndarray, shape (n_samples, n_regions)
    n_surrogates : int
    method : {"time_shift", "phase", "aaft"}
        See the module docstring for what each keeps and breaks.
    seed : int or numpy Generator
        The same seed gives the same surrogates.
    min_shift : int, optional
        For ``time_shift`` only; see :func:`time_shift_surrogate`.
    """
    check_in(method, SURROGATE_METHODS, "method")
    n_surrogates = check_positive_int(n_surrogates, "n_surrogates")
    data = as_samples_array(data, "data", min_samples=3, allow_constant=True)
    rng = np.random.default_rng(seed)
    for _ in range(n_surrogates):
        if method == "time_shift":
            yield time_shift_surrogate(data, min_shift=min_shift, seed=rng)
        elif method == "phase":
            yield phase_randomized_surrogate(data, seed=rng)
        else:
            yield aaft_surrogate(data, seed=rng)


def default_block_length(n_samples: int) -> int:
    """Block length for the moving-block bootstrap: ``ceil(sqrt(n_samples))`` (35 for 1,200 TRs)."""
    return int(np.ceil(np.sqrt(n_samples)))


def moving_block_indices(
    n_samples: int, *, block_length: int | None = None, seed: int | np.random.Generator | None = 0
) -> np.ndarray:
    """Time indices of one circular moving-block bootstrap resample.

    Parameters
    ----------
    n_samples : int
        Length of the series.
    block_length : int, optional
        Length of each block of consecutive time points; default :func:`default_block_length`.
    seed : int or numpy Generator

    Returns
    -------
    int ndarray, shape (n_samples,)
        Concatenated blocks with uniformly drawn starts (wrapping around the end), cut to length.
    """
    n_samples = check_positive_int(n_samples, "n_samples", minimum=2)
    block_length = default_block_length(n_samples) if block_length is None else block_length
    block_length = check_positive_int(block_length, "block_length")
    if block_length > n_samples:
        raise ValueError(f"'block_length' ({block_length}) exceeds the series length ({n_samples}).")
    rng = np.random.default_rng(seed)
    n_blocks = -(-n_samples // block_length)
    starts = rng.integers(0, n_samples, size=n_blocks)
    return ((starts[:, None] + np.arange(block_length)[None, :]) % n_samples).reshape(-1)[:n_samples]
