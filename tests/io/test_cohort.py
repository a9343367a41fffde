"""Cohort discovery from an fMRIPrep-shaped folder built from real pieces, region-table folders, caching."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from fmmi_neuro.io import Cohort, load_atlas, parcellate

N_VOLUMES = 60
SPACE = "MNI152NLin6Asym"
MOTION_WM_CSF = {"strategy": ["motion", "wm_csf"], "motion": "basic", "wm_csf": "basic"}


def _bold_name(subject: str, run: int) -> str:
    return f"sub-{subject}_task-rest_run-{run}_space-{SPACE}_desc-preproc_bold.nii.gz"


@pytest.fixture(scope="module")
def fmriprep_dir(tmp_path_factory, aal2_labels_on_grid, build_image, hcp_signals, fmriprep_confounds_table):
    """An fMRIPrep-shaped derivatives folder: HCP region signals written into AAL2 at 4 mm, brainfc motion /
    WM / CSF confounds under fMRIPrep column names, BOLD JSON sidecars, and a participants.tsv whose ``group``
    column is made up for the test. Subject 102311 has two runs; subject 131217's image is truncated."""
    root = tmp_path_factory.mktemp("derivatives") / "fmriprep"
    labels = aal2_labels_on_grid(4.0)
    plan = {"101309": [(1, 0)], "102311": [(1, 0), (2, N_VOLUMES)], "102816": [(1, 0)], "131217": [(1, 0)]}
    truth = {}
    for subject, runs in plan.items():
        func = root / f"sub-{subject}" / "func"
        func.mkdir(parents=True)
        for run, start in runs:
            signals = hcp_signals(subject, N_VOLUMES, start)
            truth[(subject, run)] = signals
            bold = func / _bold_name(subject, run)
            nib.save(build_image(labels, signals), bold)
            (func / bold.name.replace(".nii.gz", ".json")).write_text(json.dumps({"RepetitionTime": 0.72}))
            conf = fmriprep_confounds_table.iloc[start : start + N_VOLUMES]
            conf.to_csv(
                func / f"sub-{subject}_task-rest_run-{run}_desc-confounds_timeseries.tsv",
                sep="\t",
                index=False,
                na_rep="n/a",
            )
    broken = root / "sub-131217" / "func" / _bold_name("131217", 1)
    broken.write_bytes(broken.read_bytes()[:4096])
    pd.DataFrame({"participant_id": [f"sub-{s}" for s in plan], "group": ["a", "b", "a", "b"]}).to_csv(
        root / "participants.tsv", sep="\t", index=False
    )
    return root, truth


@pytest.fixture(scope="module")
def aal2_hcp(aal2_paths, hcp_regions):
    return load_atlas(aal2_paths[0], labels=hcp_regions)


def test_discovery_phenotype_and_bad_subject_skipped(fmriprep_dir, aal2_hcp, tmp_path):
    root, truth = fmriprep_dir
    cohort = Cohort.from_fmriprep(
        root, aal2_hcp, confounds_strategy=None, standardize=None, cache_dir=tmp_path / "cache"
    )
    assert cohort.subjects == ["101309", "102311", "102816", "131217"]
    assert len(cohort.runs) == 5 and set(cohort.runs["space"]) == {SPACE}
    assert cohort.phenotype.loc["102311", "group"] == "b" and cohort.phenotype.index.name == "subject"
    with pytest.warns(UserWarning, match="131217"):
        loaded = list(cohort)
    assert [ts.subject for ts in loaded] == ["101309", "102311", "102816"]
    assert set(cohort.errors) == {"131217"} and _bold_name("131217", 1) in cohort.errors["131217"]
    assert cohort.subjects == ["101309", "102311", "102816"]
    with pytest.raises(ValueError, match="subject '131217'"):
        cohort.get("131217")
    tol = 2 * np.finfo(np.float32).eps
    for ts in loaded:
        assert ts.t_r == 0.72 and ts.task == "rest" and ts.space == SPACE
        if ts.subject == "102311":  # two runs, concatenated in time
            expected = pd.concat([truth[("102311", 1)], truth[("102311", 2)]]).to_numpy()
            assert ts.run is None and len(ts.preprocessing["concatenated_runs"]) == 2
        else:
            expected = truth[(ts.subject, 1)].to_numpy()
            assert ts.run == "1"
        np.testing.assert_allclose(ts.data, expected, rtol=tol)
    single = cohort.get("102311", run="2")
    np.testing.assert_allclose(single.data, truth[("102311", 2)].to_numpy(), rtol=tol)


def test_fmriprep_confounds_through_nilearn(fmriprep_dir, aal2_hcp, fmriprep_confounds_table):
    root, _ = fmriprep_dir
    cohort = Cohort.from_fmriprep(
        root, aal2_hcp, subjects=["101309"], confounds_strategy=MOTION_WM_CSF, cache_dir=False
    )
    ts = cohort.get("101309")
    assert ts.preprocessing["confounds_strategy"]["strategy"] == ["motion", "wm_csf"]
    assert len(ts.preprocessing["confounds"]) == 8
    columns = ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z", "csf", "white_matter"]
    direct = parcellate(
        root / "sub-101309" / "func" / _bold_name("101309", 1),
        aal2_hcp,
        standardize=True,
        confounds=fmriprep_confounds_table.iloc[:N_VOLUMES],
        confound_columns=columns,
    )
    np.testing.assert_allclose(ts.data, direct.data, atol=1e-8)


def test_missing_confounds_file_is_reported(fmriprep_dir, aal2_hcp, tmp_path):
    root, _ = fmriprep_dir
    copy = tmp_path / "fmriprep"
    shutil.copytree(root / "sub-101309", copy / "sub-101309")
    next((copy / "sub-101309" / "func").glob("*confounds*")).unlink()
    cohort = Cohort.from_fmriprep(copy, aal2_hcp, confounds_strategy=MOTION_WM_CSF, cache_dir=False)
    with pytest.raises(ValueError, match="subject '101309'.*confounds"):
        cohort.get("101309")
    assert "101309" in cohort.errors and cohort.subjects == []


def test_cache_skips_recomputation(fmriprep_dir, aal2_hcp, tmp_path, monkeypatch):
    root, _ = fmriprep_dir
    cache = tmp_path / "cache"
    kwargs = dict(subjects=["101309", "102816"], confounds_strategy=MOTION_WM_CSF, cache_dir=cache)
    first = Cohort.from_fmriprep(root, aal2_hcp, **kwargs).load_all()
    assert len(list(cache.rglob("*.tsv"))) == 2

    def refuse(*args, **kw):
        raise AssertionError("parcellate was called again")

    monkeypatch.setattr("fmmi_neuro.io.cohort.parcellate", refuse)
    second = Cohort.from_fmriprep(root, aal2_hcp, **kwargs)
    again = second.load_all()
    assert second.errors == {} and sorted(again) == ["101309", "102816"]
    for subject, ts in again.items():
        np.testing.assert_array_equal(ts.data, first[subject].data)
        assert ts.region_names == first[subject].region_names
        assert ts.preprocessing == json.loads(json.dumps(first[subject].preprocessing))
    changed = Cohort.from_fmriprep(root, aal2_hcp, detrend=True, **kwargs)  # new settings -> new key
    with pytest.raises(ValueError, match="called again"):
        changed.get("101309")


def test_discovery_errors(fmriprep_dir, aal2_hcp, tmp_path):
    root, _ = fmriprep_dir
    with pytest.raises(ValueError, match="does not exist"):
        Cohort.from_fmriprep(tmp_path / "nope", aal2_hcp)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no preprocessed BOLD runs"):
        Cohort.from_fmriprep(tmp_path / "empty", aal2_hcp)
    two = tmp_path / "two_spaces"
    shutil.copytree(root / "sub-101309", two / "sub-101309")
    bold = next((two / "sub-101309" / "func").glob("*_bold.nii.gz"))
    shutil.copy(bold, bold.with_name(bold.name.replace(SPACE, "MNI152NLin2009cAsym")))
    with pytest.raises(ValueError, match="several spaces.*space="):
        Cohort.from_fmriprep(two, aal2_hcp)
    assert Cohort.from_fmriprep(two, aal2_hcp, space=SPACE).subjects == ["101309"]
    shutil.copy(bold, bold.with_name(bold.name.replace(".nii.gz", ".nii")))
    with pytest.raises(ValueError, match="duplicate subject IDs.*'101309'"):
        Cohort.from_fmriprep(two, aal2_hcp, space=SPACE)


def test_duplicate_participants(fmriprep_dir, aal2_hcp):
    root, _ = fmriprep_dir
    table = pd.DataFrame({"participant_id": ["sub-101309", "101309"], "group": ["a", "b"]})
    with pytest.raises(ValueError, match=r"duplicate subject IDs in participants table.*101309"):
        Cohort.from_fmriprep(root, aal2_hcp, participants=table)


def test_region_tables_folder(shared_data):
    cohort = Cohort.from_region_tables(shared_data / "hcp7_aal2", t_r=0.72, atlas="aal2")
    assert len(cohort.subjects) == 7 and "regions" not in cohort.subjects
    ts = cohort.get("sub-377451")
    assert ts.shape == (1200, 94) and ts.coordinates is not None and ts.atlas == "aal2"


def test_region_tables_bad_and_duplicate(shared_data, tmp_path):
    src = shared_data / "hcp7_aal2"
    for name in (
        "sub-101309_task-rest_run-REST1LR_timeseries.tsv",
        "sub-102311_task-rest_run-REST1LR_timeseries.tsv",
        "regions.tsv",
    ):
        shutil.copy(src / name, tmp_path / name)
    (tmp_path / "sub-999_task-rest_run-REST1LR_timeseries.tsv").write_text(
        "Precentral_L\tPrecentral_R\n1\tx\n"
    )
    pd.DataFrame({"participant_id": ["sub-101309", "sub-102311", "sub-999"], "age": [30, 31, 32]}).to_csv(
        tmp_path / "participants.tsv", sep="\t", index=False
    )
    cohort = Cohort.from_region_tables(tmp_path, t_r=0.72)
    with pytest.warns(UserWarning, match="999"):
        good = cohort.load_all()
    assert sorted(good) == ["101309", "102311"] and list(cohort.errors) == ["999"]
    assert "sub-999_task-rest_run-REST1LR_timeseries.tsv" in cohort.errors["999"]
    assert cohort.phenotype.loc["102311", "age"] == 31
    shutil.copy(
        tmp_path / "sub-101309_task-rest_run-REST1LR_timeseries.tsv",
        tmp_path / "sub-101309_task-rest_run-REST1LR_timeseries.csv",
    )
    with pytest.raises(ValueError, match="duplicate subject IDs.*'101309'"):
        Cohort.from_region_tables(tmp_path)


def test_unknown_subject(shared_data):
    cohort = Cohort.from_region_tables(shared_data / "hcp7_aal2")
    with pytest.raises(ValueError, match="subject 'nobody'.*not in the cohort"):
        cohort.get("nobody")
    assert isinstance(Path(cohort.source), Path)


def test_sessions_discovered_and_selected(fmriprep_dir, aal2_hcp, tmp_path):
    root, truth = fmriprep_dir
    layout = tmp_path / "with_sessions"
    for session, (subject, run) in (("1", ("101309", 1)), ("2", ("102311", 2))):
        func = layout / "sub-01" / f"ses-{session}" / "func"
        func.mkdir(parents=True)
        for f in (root / f"sub-{subject}" / "func").glob(f"sub-{subject}_task-rest_run-{run}_*"):
            new = f.name.replace(f"sub-{subject}_", f"sub-01_ses-{session}_").replace(f"_run-{run}", "_run-1")
            shutil.copy(f, func / new)
    cohort = Cohort.from_fmriprep(
        layout, aal2_hcp, confounds_strategy=None, standardize=None, cache_dir=False
    )
    assert cohort.subjects == ["01"] and sorted(cohort.runs["session"]) == ["1", "2"]
    both = cohort.get("01")
    assert both.n_timepoints == 2 * N_VOLUMES and both.session is None
    second = cohort.get("01", session="2")
    assert second.session == "2"
    np.testing.assert_allclose(
        second.data, truth[("102311", 2)].to_numpy(), rtol=2 * np.finfo(np.float32).eps
    )


def test_parcellate_command_exit_codes(fmriprep_dir, aal2_paths, tmp_path):
    """Exit 0 hid failed subjects and an empty result: 1 when some failed (the others kept), 2 when none."""
    from typer.testing import CliRunner

    from fmmi_neuro.cli import app

    args = ["--atlas", str(aal2_paths[0]), "--task", "rest", "-q"]
    # the default 'simple' strategy needs motion derivatives and squares, which these tables lack
    res = CliRunner().invoke(
        app, ["parcellate", str(fmriprep_dir[0]), "--out", str(tmp_path / "none"), *args]
    )
    assert res.exit_code == 2, res.output
    assert "no subject was parcellated (of 4)" in res.output and "FAILED sub-101309" in res.output
    root = tmp_path / "fmriprep"
    shutil.copytree(fmriprep_dir[0], root)
    for path in root.glob("sub-*/func/*_desc-confounds_timeseries.tsv"):
        table = pd.read_csv(path, sep="\t", na_values="n/a")
        for column in [c for c in table if c.startswith(("trans_", "rot_"))]:
            table[f"{column}_derivative1"] = table[column].diff()
            table[f"{column}_power2"] = table[column] ** 2
            table[f"{column}_derivative1_power2"] = table[column].diff() ** 2
        table.to_csv(path, sep="\t", index=False, na_rep="n/a")
    res = CliRunner().invoke(app, ["parcellate", str(root), "--out", str(tmp_path / "some"), *args])
    assert res.exit_code == 1, res.output
    assert "FAILED sub-131217" in res.output and "(3 subjects)" in res.output
    assert len(list((tmp_path / "some" / "region_tables").glob("sub-*.tsv"))) == 3
