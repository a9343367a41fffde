"""Atlases: manifests, Schaefer offline with Yeo networks, coordinate and user atlases, failed fetches."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from fmmi_neuro.io import Atlas, AtlasFetchError, list_atlases, load_atlas, parse_yeo_network
from fmmi_neuro.io.atlases import manifest_dir

YEO7 = {"Vis", "SomMot", "DorsAttn", "SalVentAttn", "Limbic", "Cont", "Default"}
REQUIRED = {
    "name",
    "title",
    "kind",
    "fetcher",
    "parameters",
    "space",
    "resolution",
    "networks",
    "licence",
    "citation",
    "source",
    "offline",
}


def test_manifests_complete_and_small():
    files = sorted(manifest_dir().glob("*.json"))
    assert {f.stem for f in files} >= {
        "schaefer_2018",
        "harvard_oxford",
        "aal",
        "difumo",
        "msdl",
        "power_2011",
        "dosenbach_2010",
        "seitzman_2018",
    }
    for f in files:
        manifest = json.loads(f.read_text())
        assert REQUIRED <= set(manifest), f"{f.name} lacks {REQUIRED - set(manifest)}"
        assert manifest["name"] == f.stem
    assert sum(p.stat().st_size for p in manifest_dir().iterdir()) < 100_000  # no atlas files shipped


def test_list_atlases_table():
    table = list_atlases()
    assert set(table["kind"]) == {"labels", "maps", "coords"}
    assert table.set_index("name").loc["schaefer_2018", "parameters"] == {
        "n_rois": 100,
        "yeo_networks": 7,
        "resolution_mm": 2,
    }
    assert table.set_index("name").loc["power_2011", "offline"]


@pytest.mark.parametrize("n_rois", [100, 200])
def test_schaefer_offline_with_yeo_networks(shared_data, n_rois):
    atlas = load_atlas("schaefer_2018", data_dir=shared_data / "nilearn_data", n_rois=n_rois)
    assert atlas.kind == "labels" and atlas.n_regions == n_rois
    assert set(atlas.networks) == YEO7
    assert atlas.region_names[0] == "7Networks_LH_Vis_1"
    assert all(parse_yeo_network(r) == n for r, n in zip(atlas.region_names, atlas.networks, strict=True))
    lh = np.array(["_LH_" in r for r in atlas.region_names])
    assert (atlas.coordinates[lh, 0] < 0).all() and (atlas.coordinates[~lh, 0] > 0).all()
    assert atlas.space == "MNI152NLin6Asym" and "Schaefer" in atlas.citation
    assert atlas.labels_img.shape == (91, 109, 91)
    assert sorted(atlas.label_values) == list(range(1, n_rois + 1))


def test_schaefer_shorthand_and_nilearn_data_env(shared_data, monkeypatch):
    monkeypatch.setenv("NILEARN_DATA", str(shared_data / "nilearn_data"))
    atlas = load_atlas("schaefer200_7")
    assert atlas.n_regions == 200 and atlas.parameters["yeo_networks"] == 7


def test_parse_yeo_17_networks():
    assert parse_yeo_network("17Networks_LH_SomMotA_1") == "SomMotA"
    assert parse_yeo_network("17Networks_RH_DefaultA_PFCm_3") == "DefaultA"
    with pytest.raises(ValueError, match="not a Schaefer"):
        parse_yeo_network("Precentral_L")


@pytest.mark.parametrize(
    ("name", "n", "has_networks"),
    [("power_2011", 264, False), ("dosenbach_2010", 160, True), ("seitzman_2018", 300, True)],
)
def test_coordinate_atlases_offline(name, n, has_networks):
    atlas = load_atlas(name)
    assert atlas.kind == "coords" and atlas.n_regions == n and atlas.coordinates.shape == (n, 3)
    assert (atlas.networks is not None) == has_networks
    assert np.abs(atlas.coordinates).max() < 100  # MNI mm
    assert atlas.citation


def test_user_atlas_from_labels_image_and_table(aal2_paths):
    atlas = load_atlas(aal2_paths[0], labels=aal2_paths[1])
    assert atlas.n_regions == 120 and atlas.region_names[:2] == ["Precentral_L", "Precentral_R"]
    assert atlas.coordinates[0, 0] < 0 < atlas.coordinates[1, 0]  # left / right precentral
    with pytest.raises(ValueError, match="repeats region names"):
        Atlas.from_labels_img(aal2_paths[0], ["a", "b"] * 60, name="renamed")


def test_user_atlas_table_with_unknown_label(aal2_paths, tmp_path):
    table = tmp_path / "labels.tsv"
    table.write_text("index\tname\n2001\tPrecentral_L\n77\tNowhere\n")
    with pytest.raises(ValueError, match=r"\[77\].*absent from the image"):
        load_atlas(aal2_paths[0], labels=table)


def test_user_atlas_rejects_maps_as_labels(tmp_path):
    img = nib.Nifti1Image(np.linspace(0, 1, 60, dtype=np.float32).reshape(3, 4, 5), np.eye(4))
    with pytest.raises(ValueError, match="not integer-valued"):
        Atlas.from_labels_img(img)


def test_failed_fetch_says_how_to_point_at_a_local_copy(tmp_path):
    with pytest.raises(AtlasFetchError, match=r"schaefer_2018.*data_dir.*NILEARN_DATA"):
        load_atlas("schaefer_2018", data_dir=tmp_path, n_rois=300)


def test_empty_fetch_is_an_error(tmp_path):
    """nilearn returns files it finds without checking them: empty files must not pass silently."""
    folder = tmp_path / "schaefer_2018"
    folder.mkdir()
    (folder / "Schaefer2018_100Parcels_7Networks_order.txt").write_text("")
    (folder / "Schaefer2018_100Parcels_7Networks_order_FSLMNI152_2mm.nii.gz").write_bytes(b"")
    with pytest.raises(AtlasFetchError, match=str(Path(tmp_path))):
        load_atlas("schaefer_2018", data_dir=tmp_path)


def test_all_zero_atlas_image_is_an_error(tmp_path):
    folder = tmp_path / "schaefer_2018"
    folder.mkdir()
    rows = "".join(f"{i}\t7Networks_LH_Vis_{i}\t1\t2\t3\t0\n" for i in range(1, 101))
    (folder / "Schaefer2018_100Parcels_7Networks_order.txt").write_text(rows)
    nib.save(
        nib.Nifti1Image(np.zeros((5, 6, 7), np.int32), np.eye(4)),
        folder / "Schaefer2018_100Parcels_7Networks_order_FSLMNI152_2mm.nii.gz",
    )
    with pytest.raises(AtlasFetchError, match="empty"):
        load_atlas("schaefer_2018", data_dir=tmp_path)


def test_unknown_name_and_parameter():
    with pytest.raises(ValueError, match="unknown atlas 'yeo_2099'"):
        load_atlas("yeo_2099")
    with pytest.raises(ValueError, match="n_rois"):
        load_atlas("schaefer_2018", n_rois=150)
    with pytest.raises(ValueError, match="takes parameters"):
        load_atlas("power_2011", n_rois=3)


def test_difumo_networks_from_labels_table(tmp_path):
    """The 'difumo' fetch path, offline, on a test-made DiFuMo-shaped folder (three tiny maps): names come
    from 'Difumo_names', networks from 'Yeo_networks7', centroids from the maps."""
    root = tmp_path / "difumo_atlases"
    (root / "64" / "2mm").mkdir(parents=True)
    (root / "README.md").write_text("test-made")
    maps = np.zeros((6, 5, 4, 3), np.float32)
    maps[1, 1, 1, 0] = maps[4, 3, 2, 1] = maps[2, 2, 2, 2] = 1.0
    nib.save(nib.Nifti1Image(maps, np.diag([2.0, 2.0, 2.0, 1.0])), root / "64" / "2mm" / "maps.nii.gz")
    pd.DataFrame(
        {
            "Component": [1, 2, 3],
            "Difumo_names": ["m1", "m2", "m3"],
            "Yeo_networks7": ["DefaultB", "VisCent", "No network found"],
        }
    ).to_csv(root / "64" / "labels_64_dictionary.csv", index=False)
    atlas = load_atlas("difumo", data_dir=tmp_path)
    assert atlas.kind == "maps" and atlas.region_names == ["m1", "m2", "m3"]
    assert atlas.networks == ["DefaultB", "VisCent", "No network found"]
    np.testing.assert_allclose(atlas.coordinates, [[2, 2, 2], [8, 6, 4], [4, 4, 4]])


def test_missing_manifests_say_where_to_look(tmp_path, monkeypatch):
    monkeypatch.setenv("FMMI_NEURO_ATLASES", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="no atlas manifests found.*FMMI_NEURO_ATLASES"):
        list_atlases()
    assert load_atlas(Atlas.from_coordinates([[0, 0, 0]], ["c"])).n_regions == 1  # no manifest needed
