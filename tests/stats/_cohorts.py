"""Synthetic subjects for the statistics tests: BOLD-like AR(1) regions with planted synergistic and
redundant triplets.

Test modules import these directly (``from _cohorts import ar1``; ``tests/stats`` is on pytest's
``pythonpath``); the fixtures built on them live in ``conftest.py``.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

SYNERGY = (0, 1, 2)
REDUNDANCY = (3, 4, 5)


def ar1(rng: np.random.Generator, n_samples: int, n_series: int, phi: float = 0.6) -> np.ndarray:
    """Independent unit-variance AR(1) series, shape (n_samples, n_series), burn-in discarded."""
    burn = 50
    e = rng.standard_normal((n_samples + burn, n_series)) * np.sqrt(1.0 - phi**2)
    return lfilter([1.0], [1.0, -phi], e, axis=0)[burn:]


def planted_subject(
    rng: np.random.Generator, n_samples: int, n_regions: int, *, planted: bool, strength: float = 1.0
) -> np.ndarray:
    """AR(1) regions; if planted, regions 0-2 form a synergistic and 3-5 a redundant triplet.

    Synergy: x2 = b (x0 + x1) / sqrt(2) + noise with x0, x1 independent (Omega < 0). Redundancy: x3, x4,
    x5 share one AR(1) source with loading a (Omega > 0). ``strength`` scales b and a. Regions >= 6 stay
    independent (null regions).
    """
    x = ar1(rng, n_samples, n_regions)
    if planted:
        b, a = 0.9 * strength, 0.75 * strength
        source = ar1(rng, n_samples, 1)[:, 0]
        for i in REDUNDANCY:
            x[:, i] = a * source + np.sqrt(1.0 - a**2) * x[:, i]
        x[:, 2] = b * (x[:, 0] + x[:, 1]) / np.sqrt(2.0) + np.sqrt(1.0 - b**2) * x[:, 2]
    return x
