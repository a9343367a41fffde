"""Real resting-state data (HCP, 7 subjects x 94 AAL2 regions x 1,200 TRs): calibration and end to end."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from fmmi_neuro.stats.cohort import NULL_COLUMNS, SUBJECT_COLUMNS, score_cohort
from fmmi_neuro.stats.group_level import GROUP_COLUMNS, group_statistics
from fmmi_neuro.stats.nulls import surrogate_test
from fmmi_neuro.stats.regions import region_summary
from fmmi_neuro.stats.tables import load_table, save_table


@pytest.fixture(scope="module")
def hcp(shared_data):
    from fmmi_neuro.io import Cohort

    return Cohort.from_region_tables(shared_data / "hcp7_aal2", t_r=0.72)


@pytest.mark.filterwarnings("ignore:.*have the same ranks:UserWarning")
def test_time_shift_p_values_uniform_on_shuffled_hcp(hcp):
    """Each triplet takes 3 regions from 3 different subjects (independent, real BOLD autocorrelation
    and drift): the time-shift null must give ~uniform p-values (KS) and the nominal FPR."""
    data = np.stack([hcp.get(s).data for s in hcp.subjects])
    rng = np.random.default_rng(7)
    n_groups = 150
    columns = []
    for _ in range(n_groups):
        subjects = rng.choice(data.shape[0], 3, replace=False)
        regions = rng.choice(data.shape[2], 3, replace=False)
        columns += [data[s, :, r] for s, r in zip(subjects, regions, strict=True)]
    shuffled = np.column_stack(columns)
    table = surrogate_test(shuffled, np.arange(3 * n_groups).reshape(n_groups, 3), n_surrogates=99, seed=1)
    p = table["p_value"].to_numpy()
    assert sps.kstest(p, "uniform").pvalue > 1e-3
    assert (p <= 0.05).sum() <= sps.binom.ppf(0.999, n_groups, 0.05)
    assert abs(table["null_quantile"].mean() - 0.5) < 4 * np.sqrt(1 / 12 / n_groups)


def test_cohort_to_group_tables_end_to_end(hcp, tmp_path):
    groups = [["Precentral_L", "Precentral_R", "Frontal_Sup_2_L"], [10, 40, 80], [3, 50, 90]]
    subject_table = score_cohort(hcp, groups=groups, n_surrogates=19, seed=0, unit="bits")
    assert list(subject_table.columns) == [*SUBJECT_COLUMNS, *NULL_COLUMNS]
    assert subject_table["subject"].nunique() == 7 and not subject_table.attrs["errors"]
    assert subject_table["region_names"].iloc[0] == ("Precentral_L", "Precentral_R", "Frontal_Sup_2_L")
    group_table = group_statistics(subject_table)
    assert list(group_table.columns) == list(GROUP_COLUMNS) and len(group_table) == 3
    assert group_table["n_subjects"].eq(7).all() and group_table["unit"].eq("bits").all()
    summary = region_summary(group_table)
    assert summary["region_name"].iloc[0] == "Precentral_L" and len(summary) == 94
    back = load_table(save_table(group_table, tmp_path / "groups.parquet"))
    assert back.attrs["n_subjects"] == 7 and back["regions"].iloc[0] == (0, 1, 2)
