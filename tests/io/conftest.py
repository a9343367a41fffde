"""Real pieces for the loader tests: HCP AAL2 signals written into the AAL2 volume, brainfc confounds."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

HCP_SUBJECT = "101309"
HCP_TR = 0.72


@pytest.fixture(scope="session")
def hcp_regions(shared_data: Path) -> pd.DataFrame:
    """The 94 AAL2 regions of hcp7_aal2 as an atlas table: label_value, name, x, y, z (MNI mm)."""
    table = pd.read_csv(shared_data / "hcp7_aal2" / "regions.tsv", sep="\t")
    return table.rename(columns={"aal2_label": "label_value"})[["label_value", "name", "x", "y", "z"]]


@pytest.fixture(scope="session")
def hcp_signals(shared_data: Path):
    """Return ``signals(subject, n_volumes, start)``: real HCP region signals (float32), time x 94 regions."""
    cache: dict[str, pd.DataFrame] = {}

    def signals(subject: str = HCP_SUBJECT, n_volumes: int = 100, start: int = 0) -> pd.DataFrame:
        if subject not in cache:
            path = shared_data / "hcp7_aal2" / f"sub-{subject}_task-rest_run-REST1LR_timeseries.tsv"
            cache[subject] = pd.read_csv(path, sep="\t").astype(np.float32)
        return cache[subject].iloc[start : start + n_volumes].reset_index(drop=True)

    return signals


@pytest.fixture(scope="session")
def aal2_paths(shared_data: Path) -> tuple[Path, Path]:
    folder = shared_data / "atlases" / "aal2"
    return folder / "aal2_2mm.nii.gz", folder / "aal2_labels.csv"


@pytest.fixture(scope="session")
def aal2_labels_on_grid(aal2_paths):
    """Return ``labels(voxel_mm)``: the AAL2 label volume on a grid of that voxel size (nearest neighbour),
    with the same origin, as an int32 Nifti1Image."""
    from nilearn.image import resample_img

    img = nib.load(aal2_paths[0])
    cache: dict[float, nib.Nifti1Image] = {}

    def labels(voxel_mm: float = 2.0) -> nib.Nifti1Image:
        if voxel_mm not in cache:
            if voxel_mm == 2.0:
                out = nib.Nifti1Image(np.asarray(img.dataobj).astype(np.int32), img.affine)
            else:
                affine = img.affine.copy()
                affine[:3, :3] = np.sign(affine[:3, :3]) * voxel_mm
                shape = tuple(int(np.ceil(s * 2.0 / voxel_mm)) for s in img.shape)
                out = resample_img(
                    img,
                    target_affine=affine,
                    target_shape=shape,
                    interpolation="nearest",
                    force_resample=True,
                    copy_header=True,
                )
                out = nib.Nifti1Image(np.asarray(out.dataobj).astype(np.int32), affine)
            cache[voxel_mm] = out
        return cache[voxel_mm]

    return labels


@pytest.fixture(scope="session")
def build_image(hcp_regions):
    """Return ``build(labels_img, signals)``: a 4-D float32 image whose voxels of region j carry column j of
    ``signals`` (the regions of ``hcp_regions``, in order); other voxels are 0."""

    def build(labels_img: nib.Nifti1Image, signals: pd.DataFrame) -> nib.Nifti1Image:
        lab = np.asarray(labels_img.dataobj)
        column = np.full(int(lab.max()) + 1, -1)
        column[hcp_regions["label_value"].to_numpy()] = np.arange(len(hcp_regions))
        col = column[lab]
        inside = col >= 0
        values = signals.to_numpy(dtype=np.float32)
        data = np.zeros(lab.shape + (values.shape[0],), dtype=np.float32)
        data[inside] = values.T[col[inside]]
        return nib.Nifti1Image(data, labels_img.affine)

    return build


@pytest.fixture(scope="session")
def fmriprep_confounds_table(shared_data: Path) -> pd.DataFrame:
    """The brainfc rest01 motion/FD/CSF/WM confounds renamed to fMRIPrep's column names (150 rows).

    Translations are the ANTs rigid offsets (mm); rotations (rad) are the Euler angles of the rigid matrix.
    """
    c = pd.read_csv(shared_data / "brainfc_rest01" / "confounds.tsv", sep="\t", na_values="n/a")
    return pd.DataFrame(
        {
            "trans_x": c["motion_offset_x"],
            "trans_y": c["motion_offset_y"],
            "trans_z": c["motion_offset_z"],
            "rot_x": np.arctan2(c["motion_matrix_21"], c["motion_matrix_22"]),
            "rot_y": np.arcsin(-c["motion_matrix_20"].clip(-1, 1)),
            "rot_z": np.arctan2(c["motion_matrix_10"], c["motion_matrix_00"]),
            "framewise_displacement": c["framewise_displacement"],
            "csf": c["csf"],
            "white_matter": c["white_matter"],
        }
    )
