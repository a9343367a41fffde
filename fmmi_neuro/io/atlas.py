"""``Atlas``: regions of a brain atlas (labels image, probabilistic maps or sphere centres) with names,
network labels, MNI centroids, space and citation; built from user files here, from nilearn in
:mod:`fmmi_neuro.io.atlases`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pandas as pd

from .._validation import check_in


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
        img, path = load_image(labels_img, "labels image")
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
        img, path = load_image(maps_img, "maps image")
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


def load_image(img: Any, what: str) -> tuple[nib.spatialimages.SpatialImage, str | None]:
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
