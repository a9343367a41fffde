"""Fixtures of the statistics tests (the helpers they use are in ``_cohorts.py``)."""

from __future__ import annotations

import numpy as np
import pytest
from _cohorts import planted_subject


@pytest.fixture
def make_cohort():
    """Factory: dict subject -> (n_samples, n_regions) array; the first ``n_planted`` carry the effects."""

    def make(
        *, n_subjects: int = 16, n_planted: int = 10, n_samples: int = 300, n_regions: int = 12, seed: int = 0
    ) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(seed)
        return {
            f"{i:02d}": planted_subject(rng, n_samples, n_regions, planted=i < n_planted)
            for i in range(n_subjects)
        }

    return make
