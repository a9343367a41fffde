"""Fixtures of the engine tests: tiny training budgets, samplers of known systems, small fitted estimators.

Trained fixtures use budgets of a few dozen steps (about a second per fit on a 2-core CPU): they exercise
the machinery, not the accuracy of training (the accuracy checks are the ``slow`` tests).

Every engine test runs torch on one intra-op thread (restored afterwards): the tensors here are tiny, and on
the shared 2-core machine OpenMP's second thread made fits and scores 2-5 times slower. One thread also
makes training bitwise reproducible; the multi-threaded case is covered by
``fmmi/test_field.py::test_variable_mlp_gradients_are_bitwise_reproducible``, which sets its own threads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import pytest
import torch

TINY = {"max_steps": 30, "min_steps": 30, "eval_every": 10, "width": 16, "batch_size": 256, "n_draws": 1}
"""A budget that trains (validations at steps 10, 20, 30, so a trained step can be kept) in about a second."""


def sample_system(
    rng: np.random.Generator,
    cov: np.ndarray,
    n: int,
    dims: Sequence[int] | None = None,
    nu: float | None = None,
) -> np.ndarray | list[np.ndarray]:
    """n zero-mean Gaussian (or Student-t, ``nu``) samples of ``cov``; split into variables if ``dims``."""
    x = rng.standard_normal((n, cov.shape[0])) @ np.linalg.cholesky(cov).T
    if nu is not None:
        x = x / np.sqrt(rng.chisquare(nu, size=(n, 1)) / nu)
    if dims is None:
        return x
    edges = np.cumsum([0, *dims])
    return [x[:, edges[i] : edges[i + 1]] for i in range(len(dims))]


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run a block with ``n`` torch intra-op threads, then restore the previous number."""
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    with torch_threads(1):
        yield


@pytest.fixture
def tiny() -> dict:
    """A fresh copy of ``TINY`` (tests may add to it)."""
    return dict(TINY)


@pytest.fixture(scope="session")
def sample() -> Callable:
    """``sample(rng, cov, n, dims=None, nu=None)``: samples of a known Gaussian or Student-t system."""
    return sample_system


@pytest.fixture(scope="session")
def regions() -> tuple[np.ndarray, np.ndarray]:
    """6 regions, 400 samples: a redundant block (0-2) and a synergistic sum (3, 4 -> 5); (cov, data)."""
    cov = np.eye(6)
    cov[:3, :3] = 0.55 + 0.45 * np.eye(3)
    cov[3, 5] = cov[5, 3] = cov[4, 5] = cov[5, 4] = 0.6
    return cov, sample_system(np.random.default_rng(6), cov, 400)


@pytest.fixture(scope="session")
def fitted_groups(regions):
    """A ``MultiTimeFMMI`` with groups of 3 fitted (tiny budget) on ``regions``; do not modify it."""
    from fmmi_neuro.engine.fmmi import MultiTimeFMMI

    with torch_threads(1):  # session fixtures are set up before the module's thread fixture
        return MultiTimeFMMI(group_size=3, copula="gaussian", seed=0, device="cpu", **TINY).fit(regions[1])
