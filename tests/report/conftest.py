"""Small real tables for the report tests: HCP AAL2 subjects scored with the Gaussian copula."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy.signal import detrend

SUBJECTS = ("101309", "102311", "102816", "131217", "211619", "213522", "377451")


def load_hcp(shared: Path, subject: str) -> pd.DataFrame:
    """Linearly detrended region time series (1200 × 94) of one HCP subject, columns = AAL2 names."""
    frame = pd.read_csv(next((shared / "hcp7_aal2").glob(f"sub-{subject}_*timeseries.tsv")), sep="\t")
    return pd.DataFrame(detrend(frame.to_numpy(dtype=float), axis=0), columns=frame.columns)


def sample_groups(n_regions: int, sizes: dict[int, int], seed: int) -> list[tuple[int, ...]]:
    """Distinct sorted groups: ``sizes`` maps a group size to how many groups of it, among ``n_regions``."""
    rng = np.random.default_rng(seed)
    out: list[tuple[int, ...]] = []
    for size, count in sizes.items():
        seen: set[tuple[int, ...]] = set()
        while len(seen) < count:
            seen.add(tuple(sorted(rng.choice(n_regions, size, replace=False).tolist())))
        out.extend(sorted(seen))
    return out


@pytest.fixture(scope="session")
def hcp(shared_data):
    """Loaders of the HCP sample: ``.subjects``, ``.load(subject)``, ``.groups(n_regions, sizes, seed)``."""
    return SimpleNamespace(
        subjects=SUBJECTS, load=lambda subject: load_hcp(shared_data, subject), groups=sample_groups
    )


@pytest.fixture(scope="session")
def aal2(shared_data):
    """AAL2 atlas of the HCP sample: coordinates (94, 3) in MNI mm, names, label values, labels image."""
    regions = pd.read_csv(shared_data / "hcp7_aal2" / "regions.tsv", sep="\t")
    return SimpleNamespace(
        coordinates=regions[["x", "y", "z"]].to_numpy(dtype=float),
        region_names=regions["name"].tolist(),
        label_values=regions["aal2_label"].astype(int).tolist(),
        labels_img=shared_data / "atlases" / "aal2" / "aal2_2mm.nii.gz",
        families=[n.split("_")[0] for n in regions["name"]],
    )


@pytest.fixture(scope="session")
def subject_scores(shared_data):
    """Gaussian-copula scores (bits) of 240 triplets, 120 quadruplets and 80 quintuplets, one subject."""
    from fmmi_neuro.scoring.score import score_groups

    data = load_hcp(shared_data, SUBJECTS[0])
    groups = sample_groups(data.shape[1], {3: 240, 4: 120, 5: 80}, seed=1)
    return score_groups(data, groups=groups, estimator="gaussian_copula", unit="bits")
