"""Atlases: named ones fetched through nilearn (described by the manifests in ``atlases/``) and user atlases.

An :class:`Atlas` is one of three kinds: ``"labels"`` (a 3-D image of integer labels), ``"maps"`` (a 4-D
image of probabilistic maps, one per region) or ``"coords"`` (sphere centres in MNI mm). It carries region
names, network labels where the atlas defines them, MNI centroids, its space and its citation.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pandas as pd

from .._validation import check_in

_REPO_ATLASES = Path(__file__).resolve().parents[2] / "atlases"
_YEO_NAME = re.compile(r"^(?:7|17)Networks_(?:LH|RH)_([A-Za-z]+)(?:_|$)")


class AtlasFetchError(OSError):
    """A named atlas could not be fetched or the fetch returned nothing usable."""


@dataclass
class Atlas:
    """A brain atlas: regions with names, optional network labels and MNI centroids.

    Examples
    --------
    >>> import numpy as np
    >>> atlas = Atlas.from_coordinates(np.array([[0.0, -52, 26], [-46, 10, 14]]), ["PCC", "IFG"], radius=6)
    >>> atlas.kind, atlas.n_regions
    ('coords', 2)

    Attributes
    ----------
    name : str
    kind : {"labels", "maps", "coords"}
    region_names : list of str, length n_regions
    networks : list of str or None
        Network label of each region (e.g. Yeo-7 for Schaefer), None when the atlas defines none.
    coordinates : ndarray, shape (n_regions, 3)
        MNI centroids in mm.
    labels_img : Nifti1Image or None
        3-D integer image (``kind="labels"``); region ``i`` is the voxels equal to ``label_values[i]``.
    label_values : list of int or None
    maps_img : Nifti1Image or None
        4-D image, one map per region (``kind="maps"``).
    radius : float or ndarray of shape (n_regions,) or None
        Sphere radius in mm (``kind="coords"``).
    space : str or None
        Template space, e.g. ``"MNI152NLin6Asym"``.
    citation, licence, source : str or None
    parameters : dict
        The parameters the atlas was fetched with (e.g. ``{"n_rois": 200}``).
    """

    name: str
    kind: str
    region_names: list[str]
    coordinates: np.ndarray
    networks: list[str] | None = None
    labels_img: nib.Nifti1Image | None = None
    label_values: list[int] | None = None
    maps_img: nib.Nifti1Image | None = None
    radius: float | np.ndarray | None = None
    space: str | None = None
    citation: str | None = None
    licence: str | None = None
    source: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_in(self.kind, ("labels", "maps", "coords"), "kind")
        n = len(self.region_names)
        self.region_names = [str(r) for r in self.region_names]
        if n == 0:
            raise ValueError(f"atlas {self.name!r} has no regions.")
        if len(set(self.region_names)) != n:
            dup = sorted({r for r in self.region_names if self.region_names.count(r) > 1})
            raise ValueError(f"atlas {self.name!r} repeats region names {dup[:5]}; names must be unique.")
        self.coordinates = np.asarray(self.coordinates, dtype=np.float64).reshape(-1, 3)
        if self.coordinates.shape[0] != n:
            raise ValueError(
                f"atlas {self.name!r} has {n} regions but {self.coordinates.shape[0]} coordinates."
            )
        if self.networks is not None:
            self.networks = [str(x) for x in self.networks]
            if len(self.networks) != n:
                raise ValueError(
                    f"atlas {self.name!r} has {n} regions but {len(self.networks)} network labels."
                )
        if self.kind == "labels" and (
            self.labels_img is None or self.label_values is None or len(self.label_values) != n
        ):
            raise ValueError(
                f"labels atlas {self.name!r} needs a labels image and one label value per region."
            )
        if self.kind == "maps" and (self.maps_img is None or self.maps_img.shape[3:4] != (n,)):
            raise ValueError(
                f"maps atlas {self.name!r} needs a 4-D maps image with one map per region ({n})."
            )

    @property
    def n_regions(self) -> int:
        return len(self.region_names)

    def __repr__(self) -> str:
        nets = f", {len(set(self.networks))} networks" if self.networks is not None else ""
        return (
            f"Atlas({self.name!r}, kind={self.kind!r}, {self.n_regions} regions{nets}, space={self.space!r})"
        )

    def regions_table(self) -> pd.DataFrame:
        """One row per region: ``name``, ``network``, ``x``, ``y``, ``z`` (MNI mm) and ``label_value``."""
        table = pd.DataFrame({"name": self.region_names})
        table["network"] = self.networks if self.networks is not None else None
        table[["x", "y", "z"]] = self.coordinates
        if self.label_values is not None:
            table["label_value"] = self.label_values
        return table

    @classmethod
    def from_labels_img(
        cls,
        labels_img: Any,
        labels: Any = None,
        *,
        name: str | None = None,
        space: str | None = None,
        citation: str | None = None,
    ) -> Atlas:
        """Build a labels atlas from a 3-D integer image and (optionally) a table of region names.

        Parameters
        ----------
        labels_img : str, Path or Nifti1Image
            3-D image; 0 is background, every other integer value is one region.
        labels : str, Path, DataFrame, list of str or None
            Region names. A table (TSV/CSV path or DataFrame) maps label values to names: the value column
            is the first of ``label_value``, ``value``, ``index``, ``label_id``, ``id``; the name column the
            first of ``name``, ``label_name``, ``region``, ``label``; optional ``network`` and MNI ``x``,
            ``y``, ``z`` columns are used. A list gives names in ascending label-value order. None names
            regions ``region_<value>``.
        name, space, citation : str, optional

        Raises
        ------
        ValueError
            If the image is not 3-D, is not integer-valued, names a value missing from the table, or the
            table lists values absent from the image (named).
        """
        img, path = _load_img(labels_img, "labels image")
        name = name or (Path(path).name.split(".")[0] if path else "user_atlas")
        if img.ndim == 4 and img.shape[3] == 1:
            img = nib.Nifti1Image(np.asarray(img.dataobj)[..., 0], img.affine, img.header)
        if img.ndim != 3:
            raise ValueError(f"labels image of atlas {name!r} must be 3-D; got shape {img.shape}.")
        data = np.asarray(img.dataobj)
        if not np.allclose(data, np.round(data)):
            raise ValueError(
                f"labels image of atlas {name!r} is not integer-valued: is it a probabilistic map? "
                "Use Atlas.from_maps_img for maps."
            )
        data = np.round(data).astype(np.int64)
        present = [int(v) for v in np.unique(data) if v != 0]
        if not present:
            raise ValueError(f"labels image of atlas {name!r} has no non-zero label.")
        table = _labels_table(labels, present, name)
        values = table["label_value"].astype(int).tolist()
        missing = sorted(set(values) - set(present))
        if missing:
            raise ValueError(
                f"atlas {name!r}: label values {missing[:10]} of the table are absent from the image."
            )
        data[~np.isin(data, values)] = 0
        img = nib.Nifti1Image(data.astype(np.int32), img.affine)
        coords = _table_coords(table)
        if coords is None:
            coords = label_centroids(img, values)
        networks = table["network"].astype(str).tolist() if "network" in table else None
        return cls(
            name=name,
            kind="labels",
            region_names=table["name"].astype(str).tolist(),
            coordinates=coords,
            networks=networks,
            labels_img=img,
            label_values=values,
            space=space,
            citation=citation,
            source=str(path) if path else None,
        )

    @classmethod
    def from_maps_img(
        cls,
        maps_img: Any,
        region_names: list[str] | None = None,
        *,
        networks: list[str] | None = None,
        name: str | None = None,
        space: str | None = None,
        citation: str | None = None,
    ) -> Atlas:
        """Build a maps atlas from a 4-D image (one probabilistic map per region, last axis)."""
        img, path = _load_img(maps_img, "maps image")
        name = name or (Path(path).name.split(".")[0] if path else "user_maps")
        if img.ndim != 4:
            raise ValueError(f"maps image of atlas {name!r} must be 4-D (x, y, z, region); got {img.shape}.")
        n = img.shape[3]
        names = list(region_names) if region_names is not None else [f"map_{i:03d}" for i in range(n)]
        return cls(
            name=name,
            kind="maps",
            region_names=names,
            coordinates=map_centroids(img),
            networks=networks,
            maps_img=img,
            space=space,
            citation=citation,
            source=str(path) if path else None,
        )

    @classmethod
    def from_coordinates(
        cls,
        coordinates: Any,
        region_names: list[str] | None = None,
        *,
        radius: float | np.ndarray | None = 5.0,
        networks: list[str] | None = None,
        name: str = "user_spheres",
        space: str | None = "MNI152",
        citation: str | None = None,
    ) -> Atlas:
        """Build a sphere atlas from MNI coordinates (n_regions, 3) in mm and a radius in mm."""
        coords = np.asarray(coordinates, dtype=np.float64)
        if coords.ndim != 2 or coords.shape[1] != 3:
            raise ValueError(
                f"coordinates of atlas {name!r} must have shape (n_regions, 3); got {coords.shape}."
            )
        names = (
            list(region_names)
            if region_names is not None
            else [f"sphere_{i:03d}" for i in range(len(coords))]
        )
        return cls(
            name=name,
            kind="coords",
            region_names=names,
            coordinates=coords,
            networks=networks,
            radius=radius,
            space=space,
            citation=citation,
        )


def label_centroids(labels_img: nib.Nifti1Image, values: list[int]) -> np.ndarray:
    """Centroid (MNI mm) of each label value's voxels, shape (n_values, 3); NaN for an absent value."""
    from scipy import ndimage

    data = np.asarray(labels_img.dataobj)
    with np.errstate(invalid="ignore", divide="ignore"):
        centres = np.array(ndimage.center_of_mass(np.ones(data.shape), data, values), dtype=np.float64)
    return nib.affines.apply_affine(labels_img.affine, centres.reshape(-1, 3))


def map_centroids(maps_img: nib.Nifti1Image) -> np.ndarray:
    """Weighted centroid (MNI mm) of each map's positive part, shape (n_maps, 3)."""
    data = np.asarray(maps_img.dataobj, dtype=np.float64)
    grid = np.stack(np.meshgrid(*[np.arange(s) for s in data.shape[:3]], indexing="ij"), axis=-1).reshape(
        -1, 3
    )
    weights = np.clip(data.reshape(-1, data.shape[3]), 0, None)
    total = weights.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        centres = (weights.T @ grid) / total[:, None]
    return nib.affines.apply_affine(maps_img.affine, centres)


def parse_yeo_network(region_name: str) -> str:
    """Return the Yeo network of a Schaefer parcel name.

    Examples
    --------
    >>> parse_yeo_network("7Networks_LH_Vis_1")
    'Vis'
    >>> parse_yeo_network("17Networks_RH_DefaultA_PFCm_3")
    'DefaultA'
    """
    match = _YEO_NAME.match(region_name)
    if match is None:
        raise ValueError(f"region name {region_name!r} is not a Schaefer/Yeo name like '7Networks_LH_Vis_1'.")
    return match.group(1)


def manifest_dir() -> Path:
    """Folder of the atlas manifests: ``$FMMI_NEURO_ATLASES`` if set, else the repository's ``atlases/``."""
    return Path(os.environ.get("FMMI_NEURO_ATLASES", _REPO_ATLASES))


def _manifests() -> dict[str, dict[str, Any]]:
    folder = manifest_dir()
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if not files:
        raise FileNotFoundError(
            f"no atlas manifests found in {str(folder)!r}; install fmmi_neuro from its source tree "
            "(pip install -e .) or set FMMI_NEURO_ATLASES to the 'atlases' folder."
        )
    out = {}
    for f in files:
        manifest = json.loads(f.read_text())
        out[manifest["name"]] = manifest
    return out


def list_atlases() -> pd.DataFrame:
    """Return the named atlases as a table (one row each): name, kind, fetcher, space, resolution, networks,
    licence, citation, whether it works offline, and its parameters with defaults."""
    rows = []
    for name, m in _manifests().items():
        rows.append(
            {
                "name": name,
                "kind": m["kind"],
                "title": m["title"],
                "fetcher": m["fetcher"],
                "space": m["space"],
                "resolution": m["resolution"],
                "networks": m["networks"],
                "licence": m["licence"],
                "citation": m["citation"],
                "offline": bool(m["offline"]),
                "parameters": {k: v.get("default") for k, v in m["parameters"].items()},
                "aliases": list(m.get("aliases", [])),
            }
        )
    return pd.DataFrame(rows)


def resolve_data_dir(data_dir: str | Path | None) -> str:
    """nilearn data dir used for fetching: ``data_dir``, else ``$NILEARN_DATA``, else nilearn's default."""
    if data_dir is not None:
        return str(Path(data_dir).expanduser())
    from nilearn.datasets import get_data_dirs

    return get_data_dirs()[0]


def load_atlas(
    name: Any,
    data_dir: str | Path | None = None,
    *,
    labels: Any = None,
    space: str | None = None,
    **params: Any,
) -> Atlas:
    """Return an :class:`Atlas` by name (fetched through nilearn), from a user image, or as given.

    Parameters
    ----------
    name : str, Path, Nifti1Image or Atlas
        A named atlas (see :func:`list_atlases`; e.g. ``"schaefer_2018"``, ``"harvard_oxford"``,
        ``"difumo"``, ``"power_2011"``), a shorthand ``"schaefer<n_rois>[_<networks>]"`` (e.g.
        ``"schaefer200_17"``), a path to a labels image (3-D) or maps image (4-D), or an Atlas (returned).
    data_dir : str or Path, optional
        nilearn data dir for fetched atlases; default ``$NILEARN_DATA``, then ``~/nilearn_data``.
    labels : str, Path, DataFrame or list, optional
        For a user labels image: table of names (and networks, coordinates); see
        :meth:`Atlas.from_labels_img`. For a maps image: list of region names.
    space : str, optional
        Template space of a user atlas.
    **params
        Parameters of the named atlas (e.g. ``n_rois=200, yeo_networks=17, resolution_mm=2``); see
        ``list_atlases()["parameters"]``.

    Raises
    ------
    AtlasFetchError
        If nilearn cannot fetch the atlas (e.g. offline) or the fetch returned missing or empty files; the
        message says where a local copy must go.
    ValueError
        For an unknown name or parameter.
    """
    if isinstance(name, Atlas):
        return name
    if isinstance(name, nib.spatialimages.SpatialImage) or (
        isinstance(name, (str, Path)) and str(name).endswith((".nii", ".nii.gz"))
    ):
        img, _ = _load_img(name, "atlas image")
        if img.ndim == 4 and img.shape[3] > 1:
            return Atlas.from_maps_img(
                img,
                labels,
                space=space,
                name=Path(str(name)).name.split(".")[0] if isinstance(name, (str, Path)) else None,
            )
        return Atlas.from_labels_img(name, labels, space=space)
    if not isinstance(name, str):
        raise TypeError(
            f"'name' must be an atlas name, an image path, a Nifti1Image or an Atlas; got {type(name)}."
        )
    key, params = _resolve_name(name, params)
    manifest = _manifests()[key]
    return _load_named(manifest, data_dir, params)


def _resolve_name(name: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    manifests = _manifests()
    params = dict(params)
    lowered = name.lower()
    known = {k for k, m in manifests.items() for k in (k, *m.get("aliases", []))}
    match = None if lowered in known else re.fullmatch(r"schaefer(?:_?2018)?_?(\d+)(?:_(7|17))?", lowered)
    if match:
        params.setdefault("n_rois", int(match.group(1)))
        if match.group(2):
            params.setdefault("yeo_networks", int(match.group(2)))
        lowered = "schaefer_2018"
    for key, m in manifests.items():
        if lowered == key or lowered in m.get("aliases", []):
            allowed = m["parameters"]
            for p, value in params.items():
                if p not in allowed:
                    raise ValueError(f"atlas {key!r} takes parameters {sorted(allowed)}; got {p!r}.")
                if "allowed" in allowed[p]:
                    check_in(value, allowed[p]["allowed"], f"{key}.{p}")
            full = {p: spec.get("default") for p, spec in allowed.items()}
            full.update(params)
            return key, full
    names = sorted(manifests)
    raise ValueError(f"unknown atlas {name!r}; named atlases are {names} (or give a labels/maps image path).")


def _fetch_error(
    manifest: dict[str, Any], data_dir: str | None, params: dict[str, Any], why: str
) -> AtlasFetchError:
    where = (
        f"{data_dir}/{manifest['data_subdir']}/"
        if manifest.get("data_subdir") and data_dir
        else "nilearn's data dir"
    )
    shown = ", ".join(f"{k}={v!r}" for k, v in params.items())
    return AtlasFetchError(
        f"could not load atlas {manifest['name']!r} ({shown}) with {manifest['fetcher']}"
        f"{f' into data_dir {data_dir!r}' if data_dir else ''}: {why}. Without internet access, copy the "
        "atlas "
        f"files (as nilearn lays them out) into {where!r} and pass data_dir='<that nilearn data dir>' "
        "or set the NILEARN_DATA environment variable."
    )


def _load_named(manifest: dict[str, Any], data_dir: str | Path | None, params: dict[str, Any]) -> Atlas:
    from nilearn import datasets

    fetcher = getattr(datasets, manifest["fetcher"].rsplit(".", 1)[1])
    fetch_params = {k: v for k, v in params.items() if k != "radius"}
    resolved = resolve_data_dir(data_dir) if manifest["kind"] != "coords" else None
    if resolved is not None:
        fetch_params = {**fetch_params, "data_dir": resolved, "verbose": 0}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bunch = fetcher(**fetch_params)
    except Exception as err:  # nilearn raises many kinds (OSError, requests errors, ValueError) when offline
        raise _fetch_error(manifest, resolved, params, f"{type(err).__name__}: {err}") from err
    common = dict(
        name=manifest["name"],
        space=bunch.get("template") or manifest["space"],
        citation=manifest["citation"],
        licence=manifest["licence"],
        parameters=dict(params),
    )
    try:
        if manifest["kind"] == "coords":
            return _coords_atlas(bunch, params, manifest, common)
        if manifest["kind"] == "maps" or bunch.get("atlas_type") == "probabilistic":
            return _maps_atlas(bunch, manifest, common)
        return _labels_atlas(bunch, manifest, common)
    except (OSError, ValueError, KeyError, TypeError, nib.filebasedimages.ImageFileError) as err:
        raise _fetch_error(manifest, resolved, params, f"the fetch returned unusable files ({err})") from err


def _labels_atlas(bunch: Any, manifest: dict[str, Any], common: dict[str, Any]) -> Atlas:
    img, path = _load_img(bunch["maps"], f"atlas {manifest['name']!r} image")
    lut = bunch.get("lut")
    if lut is not None and len(lut):
        table = pd.DataFrame({"label_value": lut["index"].astype(int), "name": lut["name"].astype(str)})
    else:
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in bunch["labels"]]
        values = [int(v) for v in bunch.get("indices", range(len(names)))]
        table = pd.DataFrame({"label_value": values, "name": names})
    table = table[(table["label_value"] != 0) & (table["name"] != "Background")]
    if table.empty:
        raise ValueError("the labels table is empty")
    data = np.asarray(img.dataobj)
    present = set(np.unique(data[data != 0]).astype(int).tolist())
    if not present:
        raise ValueError(f"the labels image {str(path)!r} is empty (all zero)")
    table = table[table["label_value"].isin(present)]
    atlas = Atlas.from_labels_img(
        img, table, name=common["name"], space=common["space"], citation=common["citation"]
    )
    if manifest["name"] == "schaefer_2018":
        atlas.networks = [parse_yeo_network(n) for n in atlas.region_names]
    atlas.licence, atlas.parameters, atlas.source = common["licence"], common["parameters"], str(path)
    return atlas


def _maps_atlas(bunch: Any, manifest: dict[str, Any], common: dict[str, Any]) -> Atlas:
    img, path = _load_img(bunch["maps"], f"atlas {manifest['name']!r} maps")
    if img.ndim != 4 or img.shape[3] == 0:
        raise ValueError(f"the maps image {str(path)!r} is not 4-D (shape {img.shape})")
    labels = bunch["labels"]
    networks = None
    if isinstance(labels, pd.DataFrame):
        name_col = next(c for c in ("difumo_names", "name", "names") if c in labels)
        if "yeo_networks7" in labels:
            networks = labels["yeo_networks7"].astype(str).tolist()
        names = labels[name_col].astype(str).tolist()
    else:
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in labels]
    if len(names) == img.shape[3] + 1 and names[0] == "Background":
        names = names[1:]
    if bunch.get("networks") is not None:
        networks = [str(n) for n in bunch["networks"]]
    coords = bunch.get("region_coords")
    atlas = Atlas.from_maps_img(
        img, names, networks=networks, name=common["name"], space=common["space"], citation=common["citation"]
    )
    if coords is not None:
        atlas.coordinates = np.asarray(coords, dtype=np.float64)
    atlas.licence, atlas.parameters, atlas.source = common["licence"], common["parameters"], str(path)
    return atlas


def _coords_atlas(
    bunch: Any, params: dict[str, Any], manifest: dict[str, Any], common: dict[str, Any]
) -> Atlas:
    rois = bunch["rois"]
    coords = rois[["x", "y", "z"]].to_numpy(dtype=np.float64)
    if coords.size == 0:
        raise ValueError("no coordinates returned")
    networks = bunch.get("networks")
    networks = None if networks is None else [str(n) for n in np.asarray(networks)]
    if bunch.get("labels") is not None:
        names = [str(n) for n in bunch["labels"]]
    elif "roi" in rois:
        names = [f"{manifest['name']}_{int(r)}" for r in rois["roi"]]
    else:
        names = [f"{manifest['name']}_{int(i)}" for i in rois.index]
    if len(set(names)) != len(names):
        names = [f"{n}_{i}" for i, n in enumerate(names)]
    radius = params.get("radius")
    if radius is None:
        radius = np.asarray(bunch["radius"], dtype=np.float64) if bunch.get("radius") is not None else 5.0
    return Atlas(
        kind="coords",
        region_names=names,
        coordinates=coords,
        networks=networks,
        radius=radius,
        source=manifest["source"],
        **common,
    )


def _load_img(img: Any, what: str) -> tuple[nib.spatialimages.SpatialImage, str | None]:
    """Load a NIfTI path (or pass an image through); unreadable files raise ValueError naming them."""
    if isinstance(img, nib.spatialimages.SpatialImage):
        return img, img.get_filename()
    path = Path(img)
    if not path.is_file():
        raise ValueError(f"{what} {str(path)!r} does not exist.")
    try:
        return nib.load(path), str(path)
    except Exception as err:  # nibabel raises ImageFileError, OSError, EOFError, zlib errors...
        raise ValueError(f"{what} {str(path)!r} cannot be read as NIfTI: {err}") from err


def _labels_table(labels: Any, present: list[int], name: str) -> pd.DataFrame:
    """Normalise a labels argument to a DataFrame with ``label_value`` and ``name`` (+ network, x, y, z)."""
    if labels is None:
        return pd.DataFrame({"label_value": present, "name": [f"region_{v}" for v in present]})
    if isinstance(labels, (list, tuple)):
        if len(labels) != len(present):
            raise ValueError(
                f"atlas {name!r}: {len(labels)} names given for {len(present)} labels in the image."
            )
        return pd.DataFrame({"label_value": present, "name": [str(x) for x in labels]})
    if isinstance(labels, (str, Path)):
        path = Path(labels)
        if not path.is_file():
            raise ValueError(f"labels table {str(path)!r} of atlas {name!r} does not exist.")
        sep = "," if path.suffix.lower() == ".csv" else "\t"
        try:
            labels = pd.read_csv(path, sep=sep)
        except (OSError, ValueError, pd.errors.ParserError) as err:
            raise ValueError(f"labels table {str(path)!r} of atlas {name!r} cannot be read: {err}") from err
    if not isinstance(labels, pd.DataFrame):
        raise TypeError(
            f"'labels' of atlas {name!r} must be a table path, a DataFrame or a list; got {type(labels)}."
        )
    cols = {c.lower(): c for c in labels.columns}
    value_col = next(
        (cols[c] for c in ("label_value", "value", "index", "label_id", "id") if c in cols), None
    )
    name_col = next(
        (cols[c] for c in ("name", "label_name", "region", "label") if c in cols and cols[c] != value_col),
        None,
    )
    if name_col is None:
        raise ValueError(
            f"labels table of atlas {name!r} needs a 'name' column; it has {list(labels.columns)}."
        )
    table = pd.DataFrame({"name": labels[name_col].astype(str).to_numpy()})
    if value_col is None:
        if len(table) != len(present):
            raise ValueError(
                f"labels table of atlas {name!r} has no label-value column and {len(table)} rows "
                f"for {len(present)} labels in the image."
            )
        table.insert(0, "label_value", present)
    else:
        table.insert(0, "label_value", labels[value_col].astype(int).to_numpy())
    for extra in ("network", "x", "y", "z"):
        if extra in cols:
            table[extra] = labels[cols[extra]].to_numpy()
    return table


def _table_coords(table: pd.DataFrame) -> np.ndarray | None:
    if {"x", "y", "z"} <= set(table.columns):
        coords = table[["x", "y", "z"]].to_numpy(dtype=np.float64)
        if np.isfinite(coords).all():
            return coords
    return None
