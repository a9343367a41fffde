"""Contiguous-block cross-fitting and an autocorrelation-robust standard error.

Time series are autocorrelated, so a model is never trained on samples interleaved with those it is
evaluated on. ``contiguous_folds`` cuts the series into K contiguous blocks; fold k evaluates block k
and trains on the rest, optionally leaving ``gap`` samples out on each side of the evaluation block so
that training and evaluation samples are at least ``gap`` steps apart. Every sample is evaluated once.

The standard error of a mean of per-sample contributions uses **batch means**: the series (in time
order) is cut into B contiguous batches of about ``sqrt(n)`` samples, and the spread of the batch
means gives the variance of the overall mean. For an autocorrelated series whose correlation time is
shorter than a batch this is consistent, needs no kernel or lag choice beyond the batch length, and
reduces to the usual ``sd / sqrt(n)`` for independent samples (up to the loss of degrees of freedom).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fmmi_neuro._validation import check_positive_int


@dataclass(frozen=True)
class Fold:
    """One cross-fitting fold.

    Attributes
    ----------
    train : ndarray of int, shape (n_train,)
        Sorted sample indices used to fit the model.
    test : ndarray of int, shape (n_test,)
        Sorted, contiguous sample indices the model is evaluated on.
    """

    train: np.ndarray
    test: np.ndarray


def contiguous_folds(n_samples: int, n_folds: int = 2, *, gap: int = 0) -> list[Fold]:
    """Split ``range(n_samples)`` into ``n_folds`` contiguous evaluation blocks.

    Parameters
    ----------
    n_samples : int
        Length of the series.
    n_folds : int, >= 2
        Number of blocks; fold k evaluates block k and trains on the other blocks.
    gap : int, >= 0
        Samples dropped from training on each side of the evaluation block.

    Returns
    -------
    list of Fold, length ``n_folds``; the ``test`` blocks partition ``range(n_samples)`` in order.

    Examples
    --------
    >>> [f.test.tolist() for f in contiguous_folds(5, 2)]
    [[0, 1, 2], [3, 4]]
    >>> contiguous_folds(6, 3, gap=1)[1].train.tolist()
    [0, 5]
    """
    n_samples = check_positive_int(n_samples, "n_samples")
    n_folds = check_positive_int(n_folds, "n_folds", minimum=2)
    gap = check_positive_int(gap, "gap", minimum=0)
    if n_folds > n_samples:
        raise ValueError(f"'n_folds' ({n_folds}) exceeds the number of samples ({n_samples}).")
    index = np.arange(n_samples)
    folds = []
    for test in np.array_split(index, n_folds):
        keep = (index < test[0] - gap) | (index > test[-1] + gap)
        if not keep.any():
            raise ValueError(
                f"'gap' ({gap}) leaves no training samples for a fold of {n_samples} samples "
                f"in {n_folds} blocks."
            )
        folds.append(Fold(train=index[keep], test=test))
    return folds


def split_validation(
    train: np.ndarray, fraction: float = 0.1, *, gap: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Carve a contiguous validation block from the end of a training fold.

    Parameters
    ----------
    train : ndarray of int, shape (n_train,)
        Sorted training indices of one fold (never the evaluation block).
    fraction : float in (0, 1)
        Share of ``train`` used for validation (at least one sample).
    gap : int, >= 0
        Training samples dropped just before the validation block.

    Returns
    -------
    fit, validation : ndarray of int
        Disjoint index arrays; ``validation`` is the last ``ceil(fraction * n_train)`` entries of ``train``.
    """
    if not 0 < fraction < 1:
        raise ValueError(f"'fraction' must be in (0, 1); got {fraction!r}.")
    train = np.asarray(train)
    n_val = max(1, int(np.ceil(fraction * train.size)))
    n_fit = train.size - n_val - gap
    if n_fit < 1:
        raise ValueError(
            f"a training fold of {train.size} samples is too small to hold out {n_val} for validation."
        )
    return train[:n_fit], train[train.size - n_val :]


def batch_means_stderr(values: np.ndarray, batch_size: int | None = None) -> np.ndarray | float:
    """Standard error of the mean of a time-ordered series, robust to autocorrelation (batch means).

    Parameters
    ----------
    values : ndarray, shape (n,) or (n, k)
        Per-sample contributions in time order (columns are treated separately).
    batch_size : int, optional
        Length of each contiguous batch; default ``ceil(sqrt(n))`` (at most ``n // 2`` so that there are
        at least two batches).

    Returns
    -------
    float or ndarray of shape (k,)
        Estimated standard deviation of ``values.mean(axis=0)``.
    """
    arr = np.asarray(values, dtype=np.float64)
    n = arr.shape[0]
    if n < 2:
        raise ValueError(f"a standard error needs at least 2 values; got {n}.")
    if batch_size is None:
        batch_size = int(np.ceil(np.sqrt(n)))
    batch_size = min(check_positive_int(batch_size, "batch_size"), n // 2)
    n_batches = n // batch_size
    batches = np.array_split(arr, n_batches, axis=0)
    sizes = np.array([b.shape[0] for b in batches], dtype=np.float64)
    means = np.stack([b.mean(axis=0) for b in batches])
    grand = arr.mean(axis=0)
    dev = (means - grand) * sizes.reshape((-1,) + (1,) * (arr.ndim - 1))
    var = (dev**2).sum(axis=0) / n**2 * n_batches / (n_batches - 1)
    se = np.sqrt(var)
    return float(se) if np.ndim(se) == 0 else se
