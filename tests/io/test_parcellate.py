"""parcellate: real HCP signals written into the AAL2 volume come back out; every bad input is named."""

from __future__ import annotations

import json
import logging

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from fmmi_neuro.io import Atlas, load_atlas, parcellate
from fmmi_neuro.io.confounds import scrub_mask


@pytest.fixture(scope="module")
def aal2_hcp(aal2_paths, hcp_regions):
    """AAL2 atlas restricted to the 94 regions of hcp7_aal2 (names and MNI centroids from regions.tsv)."""
    return load_atlas(aal2_paths[0], labels=hcp_regions)


@pytest.fixture(scope="module")
def image_2mm(aal2_labels_on_grid, build_image, hcp_signals):
    """100 volumes of subject 101309 written into the native 2 mm AAL2 volume (75 x 92 x 75 x 100)."""
    signals = hcp_signals(n_volumes=100)
    return build_image(aal2_labels_on_grid(2.0), signals), signals


@pytest.fixture(scope="module")
def image_4mm(aal2_labels_on_grid, build_image, hcp_signals):
    """150 volumes written into AAL2 resampled to 4 mm (another grid than the atlas: it gets resampled)."""
    signals = hcp_signals(n_volumes=150)
    return build_image(aal2_labels_on_grid(4.0), signals), signals


def _present(labels_img, hcp_regions) -> list[str]:
    values = set(np.unique(np.asarray(labels_img.dataobj)).tolist())
    return [n for v, n in zip(hcp_regions["label_value"], hcp_regions["name"], strict=True) if v in values]


def test_hcp_signals_recovered_from_aal2_image(image_2mm, aal2_hcp, hcp_regions):
    img, signals = image_2mm
    ts = parcellate(img, aal2_hcp, t_r=0.72, subject="101309")
    assert ts.region_names == list(signals.columns) == hcp_regions["name"].tolist()
    assert ts.shape == (100, 94)
    # the image stores float32 and every voxel of a region holds the same value: the mean is exact
    np.testing.assert_allclose(ts.data, signals.to_numpy(), rtol=2 * np.finfo(np.float32).eps, atol=0)
    np.testing.assert_allclose(ts.coordinates, hcp_regions[["x", "y", "z"]].to_numpy())
    assert ts.subject == "101309" and ts.t_r == 0.72 and ts.atlas == "aal2_2mm"
    assert ts.preprocessing["dropped_regions"] == []
    assert "atlas_resampled" not in ts.preprocessing


def test_atlas_resampled_to_image_with_logged_note(
    image_4mm, aal2_hcp, aal2_labels_on_grid, hcp_regions, caplog
):
    img, signals = image_4mm
    present = _present(aal2_labels_on_grid(4.0), hcp_regions)
    assert len(present) == 94  # every region keeps voxels at 4 mm
    with caplog.at_level(logging.INFO, logger="fmmi_neuro.io"):
        ts = parcellate(img, aal2_hcp, t_r=0.72)
    assert "resampled" in caplog.text and "nearest" in ts.preprocessing["atlas_resampled"]
    assert ts.region_names == present
    np.testing.assert_allclose(ts.data, signals[present].to_numpy(), rtol=2 * np.finfo(np.float32).eps)


def test_regions_without_voxels_are_reported_and_dropped(
    image_4mm, aal2_hcp, aal2_labels_on_grid, hcp_regions
):
    img, signals = image_4mm
    lab = np.asarray(aal2_labels_on_grid(4.0).dataobj)
    cut = 12  # keep the slices above the 12th: inferior regions lose every voxel
    cropped = nib.Nifti1Image(
        np.asarray(img.dataobj)[:, :, cut:],
        img.affine @ np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, cut], [0, 0, 0, 1]]),
    )
    kept_values = set(np.unique(lab[:, :, cut:]).tolist())
    gone = [
        n
        for v, n in zip(hcp_regions["label_value"], hcp_regions["name"], strict=True)
        if v not in kept_values
    ]
    assert gone, "the crop should remove some regions"
    with pytest.warns(UserWarning, match="no voxels") as record:
        ts = parcellate(cropped, aal2_hcp, t_r=0.72, min_overlap=0.3)
    message = str(record[0].message)
    assert all(n in ts.preprocessing["dropped_regions"] for n in gone)
    assert gone[0] in message
    assert not set(gone) & set(ts.region_names)
    np.testing.assert_allclose(
        ts.data, signals[ts.region_names].to_numpy(), rtol=2 * np.finfo(np.float32).eps
    )
    with pytest.raises(ValueError, match=gone[0]):
        parcellate(cropped, aal2_hcp, min_overlap=0.3, on_empty_region="raise")


def test_file_input_with_bids_name_and_sidecar(tmp_path, image_4mm, aal2_hcp):
    img, _ = image_4mm
    path = tmp_path / "sub-101309_ses-1_task-rest_run-2_space-MNI152NLin6Asym_desc-preproc_bold.nii"
    nib.save(nib.Nifti1Image(np.asarray(img.dataobj), img.affine), path)
    path.with_name(path.name.replace(".nii", ".json")).write_text(json.dumps({"RepetitionTime": 0.72}))
    ts = parcellate(path, aal2_hcp)
    assert (ts.subject, ts.session, ts.task, ts.run, ts.space) == (
        "101309",
        "1",
        "rest",
        "2",
        "MNI152NLin6Asym",
    )
    assert ts.t_r == 0.72 and ts.source == str(path)


def test_confounds_regressed_and_scrubbed(image_4mm, aal2_hcp, fmriprep_confounds_table, tmp_path):
    img, _ = image_4mm
    conf_path = tmp_path / "confounds.tsv"
    fmriprep_confounds_table.to_csv(conf_path, sep="\t", index=False, na_rep="n/a")
    columns = ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z", "csf", "white_matter"]
    keep = scrub_mask(fmriprep_confounds_table["framewise_displacement"], 0.2, n_discard=5)
    ts = parcellate(
        img,
        aal2_hcp,
        t_r=0.72,
        confounds=conf_path,
        confound_columns=columns,
        sample_mask=keep,
        min_volumes=50,
    )
    assert ts.n_timepoints == keep.size < 150
    assert ts.preprocessing["confounds"] == columns
    assert ts.preprocessing["scrubbed_volumes"][:5] == [0, 1, 2, 3, 4]
    # after regression the kept signals are orthogonal to the (centred) kept confounds
    conf = fmriprep_confounds_table[columns].to_numpy()[keep]
    conf = conf - conf.mean(axis=0)
    resid = ts.data - ts.data.mean(axis=0)
    proj = np.linalg.lstsq(conf, resid, rcond=None)[0]
    assert np.abs(conf @ proj).max() < 1e-6 * np.abs(resid).max()


def test_standardize_detrend_bandpass_match_nilearn(image_4mm, aal2_hcp):
    from nilearn.maskers import NiftiLabelsMasker

    img, _ = image_4mm
    kw = dict(standardize="zscore_sample", detrend=True, low_pass=0.1, high_pass=0.01, t_r=0.72)
    ours = parcellate(img, aal2_hcp, **kw)
    ref = NiftiLabelsMasker(aal2_hcp.labels_img, **kw).fit_transform(img)
    assert ref.shape == ours.shape
    np.testing.assert_allclose(ours.data, ref, atol=1e-5)
    np.testing.assert_allclose(ours.data.std(axis=0, ddof=1), 1.0, atol=1e-4)


def test_coordinate_atlas_spheres(image_4mm):
    img, _ = image_4mm
    atlas = load_atlas("dosenbach_2010")
    with pytest.warns(UserWarning, match="no voxels in the image or a constant"):
        ts = parcellate(img, atlas, t_r=0.72)  # the image is zero outside the 94 cerebral AAL2 regions
    assert ts.networks is not None and set(ts.networks) <= set(atlas.networks)
    assert ts.n_regions + len(ts.preprocessing["dropped_regions"]) == 160


def test_maps_atlas_binary_maps_recover_signals(image_4mm, aal2_labels_on_grid, hcp_regions):
    img, signals = image_4mm
    lab = np.asarray(aal2_labels_on_grid(4.0).dataobj)
    chosen = hcp_regions.iloc[[0, 10, 40, 70]]
    maps = np.stack([(lab == v).astype(np.float32) for v in chosen["label_value"]], axis=-1)
    atlas = Atlas.from_maps_img(nib.Nifti1Image(maps, img.affine), chosen["name"].tolist(), name="four")
    ts = parcellate(img, atlas, t_r=0.72)
    np.testing.assert_allclose(ts.data, signals[chosen["name"]].to_numpy(), rtol=1e-5)


class TestBadInput:
    def test_3d_image(self, tmp_path, image_4mm, aal2_hcp):
        img, _ = image_4mm
        path = tmp_path / "sub-07_T1w.nii"
        nib.save(nib.Nifti1Image(np.asarray(img.dataobj)[..., 0], img.affine), path)
        with pytest.raises(ValueError, match=r"sub-07_T1w\.nii.*3-D.*4-D"):
            parcellate(path, aal2_hcp)

    def test_space_mismatch(self, image_4mm, aal2_hcp):
        img, _ = image_4mm
        shifted = nib.Nifti1Image(
            np.asarray(img.dataobj),
            img.affine + np.array([[0, 0, 0, 400.0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]),
        )
        with pytest.raises(ValueError, match="do not overlap.*same space"):
            parcellate(shifted, aal2_hcp, subject="09")

    def test_confounds_missing(self, image_4mm, aal2_hcp, tmp_path):
        img, _ = image_4mm
        missing = tmp_path / "sub-01_desc-confounds_timeseries.tsv"
        with pytest.raises(ValueError, match="sub-01_desc-confounds_timeseries.tsv.*does not exist"):
            parcellate(img, aal2_hcp, confounds=missing, subject="01")

    def test_confounds_wrong_length(self, image_4mm, aal2_hcp, fmriprep_confounds_table):
        img, _ = image_4mm
        with pytest.raises(ValueError, match="subject '01'.*149 rows.*150 volumes"):
            parcellate(
                img,
                aal2_hcp,
                confounds=fmriprep_confounds_table.iloc[:149],
                subject="01",
                confound_columns=["csf"],
            )

    def test_confounds_with_nan_rows(self, image_4mm, aal2_hcp, fmriprep_confounds_table):
        img, _ = image_4mm
        with pytest.raises(ValueError, match="framewise_displacement.*rows \\[0\\]"):
            parcellate(img, aal2_hcp, confounds=fmriprep_confounds_table, subject="01")

    def test_nan_voxels_name_region(self, image_2mm, aal2_hcp, aal2_labels_on_grid, hcp_regions):
        img, _ = image_2mm
        data = np.array(img.dataobj)
        lab = np.asarray(aal2_labels_on_grid(2.0).dataobj)
        region = hcp_regions.iloc[5]
        idx = np.argwhere(lab == region["label_value"])[0]
        data[tuple(idx)][3] = np.nan
        with pytest.raises(ValueError, match=f"NaN.*{region['name']}"):
            parcellate(nib.Nifti1Image(data, img.affine), aal2_hcp, subject="03")

    def test_all_zero_region_dropped_or_raised(self, image_4mm, aal2_hcp, aal2_labels_on_grid, hcp_regions):
        img, _ = image_4mm
        data = np.array(img.dataobj)
        region = hcp_regions.iloc[20]
        data[np.asarray(aal2_labels_on_grid(4.0).dataobj) == region["label_value"]] = 0
        zeroed = nib.Nifti1Image(data, img.affine)
        with pytest.warns(UserWarning, match=region["name"]):
            ts = parcellate(zeroed, aal2_hcp)
        assert region["name"] in ts.preprocessing["dropped_regions"]
        assert region["name"] not in ts.region_names
        with pytest.raises(ValueError, match=region["name"]):
            parcellate(zeroed, aal2_hcp, on_empty_region="raise")

    def test_all_zero_image(self, image_4mm, aal2_hcp):
        img, _ = image_4mm
        zeros = nib.Nifti1Image(np.zeros(img.shape, np.float32), img.affine)
        with pytest.raises(ValueError, match="subject '05'.*all zeros"):
            parcellate(zeros, aal2_hcp, subject="05")

    def test_too_few_volumes_after_scrubbing(self, image_4mm, aal2_hcp, fmriprep_confounds_table):
        img, _ = image_4mm
        keep = scrub_mask(fmriprep_confounds_table["framewise_displacement"], 0.1)
        with pytest.raises(ValueError, match=f"subject '02' keeps {keep.size} of 150 volumes.*at least 140"):
            parcellate(img, aal2_hcp, sample_mask=keep, min_volumes=140, subject="02")

    def test_sample_mask_wrong_length(self, image_4mm, aal2_hcp):
        img, _ = image_4mm
        with pytest.raises(ValueError, match="length 10.*150 volumes"):
            parcellate(img, aal2_hcp, sample_mask=np.ones(10, bool))

    @pytest.mark.parametrize("content", [b"", b"not a nifti file at all" * 10])
    def test_unreadable_file(self, tmp_path, aal2_hcp, content):
        path = tmp_path / "sub-04_task-rest_bold.nii.gz"
        path.write_bytes(content)
        with pytest.raises(ValueError, match="sub-04_task-rest_bold.nii.gz.*cannot be read"):
            parcellate(path, aal2_hcp)

    def test_truncated_file(self, tmp_path, image_4mm, aal2_hcp):
        img, _ = image_4mm
        path = tmp_path / "sub-06_task-rest_bold.nii.gz"
        nib.save(nib.Nifti1Image(np.asarray(img.dataobj), img.affine), path)
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
        with pytest.raises(ValueError, match="subject '06'.*sub-06_task-rest_bold.nii.gz.*cannot be read"):
            parcellate(path, aal2_hcp)

    def test_missing_file(self, tmp_path, aal2_hcp):
        with pytest.raises(ValueError, match="nothere.nii.gz.*does not exist"):
            parcellate(tmp_path / "nothere.nii.gz", aal2_hcp)

    def test_filter_needs_t_r(self, image_4mm, aal2_hcp):
        img, _ = image_4mm
        stripped = nib.Nifti1Image(np.asarray(img.dataobj), img.affine)
        stripped.header.set_zooms((4.0, 4.0, 4.0, 0.0))
        with pytest.raises(ValueError, match="needs t_r"):
            parcellate(stripped, aal2_hcp, low_pass=0.1)


def test_confounds_given_twice_is_an_error(image_4mm, aal2_hcp):
    img, _ = image_4mm
    with pytest.raises(ValueError, match="either 'confounds' or 'confounds_strategy'"):
        parcellate(img, aal2_hcp, confounds=np.zeros((150, 1)), confounds_strategy="simple")


def test_result_is_a_dataframe_with_time_index(image_4mm, aal2_hcp):
    img, signals = image_4mm
    df = parcellate(img, aal2_hcp, t_r=0.72).to_dataframe()
    assert isinstance(df, pd.DataFrame) and df.index.name == "time_s"
    assert df.columns.tolist() == signals.columns.tolist()


def test_schaefer_image_from_brainfc_signals(shared_data):
    """brainfc's Schaefer-100 region means written into the offline Schaefer-100 volume come back with their
    Yeo-7 networks."""
    atlas = load_atlas("schaefer100", data_dir=shared_data / "nilearn_data")
    table = pd.read_csv(shared_data / "brainfc_rest01" / "timeseries.tsv", sep="\t").iloc[:40]
    rois = pd.read_csv(shared_data / "brainfc_rest01" / "rois.tsv", sep="\t")
    lab = np.asarray(atlas.labels_img.dataobj)
    values = np.zeros((40, lab.max() + 1), np.float32)
    values[:, table.columns.astype(int)] = table.to_numpy(np.float32)
    data = np.moveaxis(values[:, lab], 0, -1)
    ts = parcellate(nib.Nifti1Image(data, atlas.labels_img.affine), atlas, t_r=2.0)
    # same label values and networks; 19 parcel names differ because CBIG renamed them after brainfc's copy
    assert ts.networks == rois["network"].tolist() and ts.n_regions == 100
    assert sum(a != b for a, b in zip(ts.region_names, rois["name"], strict=True)) == 19
    np.testing.assert_allclose(ts.data, table.to_numpy(np.float32), rtol=2 * np.finfo(np.float32).eps)


def test_partly_zero_region_is_reported(image_4mm, aal2_hcp, aal2_labels_on_grid, hcp_regions):
    img, _ = image_4mm
    data = np.array(img.dataobj)
    region = hcp_regions.iloc[30]
    voxels = np.argwhere(np.asarray(aal2_labels_on_grid(4.0).dataobj) == region["label_value"])
    half = voxels[: len(voxels) // 2]
    data[half[:, 0], half[:, 1], half[:, 2]] = 0
    with pytest.warns(UserWarning, match=f"zero at every time point.*{region['name']}"):
        ts = parcellate(nib.Nifti1Image(data, img.affine), aal2_hcp)
    assert ts.preprocessing["zero_voxel_fraction"] == {region["name"]: round(len(half) / len(voxels), 4)}


def test_named_maps_atlas_through_nilearn_layout(tmp_path, image_4mm, aal2_labels_on_grid, hcp_regions):
    """The 'msdl' fetch path, offline: a test-made MSDL-shaped folder (three AAL2 regions as binary maps,
    made-up network names) is read by nilearn's fetcher; maps, names, networks and coordinates arrive."""
    img, signals = image_4mm
    lab = np.asarray(aal2_labels_on_grid(4.0).dataobj)
    chosen = hcp_regions.iloc[[2, 33, 60]]
    folder = tmp_path / "msdl_atlas" / "MSDL_rois"
    folder.mkdir(parents=True)
    maps = np.stack([(lab == v).astype(np.float32) for v in chosen["label_value"]], axis=-1)
    nib.save(nib.Nifti1Image(maps, img.affine), folder / "msdl_rois.nii")
    pd.DataFrame(
        {
            "x": chosen["x"],
            "y": chosen["y"],
            "z": chosen["z"],
            "name": chosen["name"],
            "net name": ["N1", "N2", "N1"],
        }
    ).to_csv(folder / "msdl_rois_labels.csv", index=False)
    atlas = load_atlas("msdl", data_dir=tmp_path)
    assert atlas.kind == "maps" and atlas.networks == ["N1", "N2", "N1"]
    np.testing.assert_allclose(atlas.coordinates, chosen[["x", "y", "z"]].to_numpy())
    ts = parcellate(img, atlas, t_r=0.72)
    np.testing.assert_allclose(ts.data, signals[chosen["name"]].to_numpy(), rtol=1e-5)


def test_confounds_strategy_needs_a_file(image_4mm, aal2_hcp):
    img, _ = image_4mm
    with pytest.raises(ValueError, match="needs the image as an fMRIPrep file path"):
        parcellate(img, aal2_hcp, confounds_strategy="simple")
