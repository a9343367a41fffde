"""``load_atlas`` / ``list_atlases``: named atlases fetched through nilearn, described by the manifests in
the repository's ``atlases/`` folder, and user atlases from a labels or maps image (see :mod:`.atlas`).

A failed or empty fetch raises :class:`AtlasFetchError` saying where a local copy must go.
"""

from __future__ import annotations

import json
import os
import re
import sys
import warnings
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pandas as pd

from .._validation import check_in
from .atlas import Atlas, load_image

_REPO_ATLASES = Path(__file__).resolve().parents[2] / "atlases"
_YEO_NAME = re.compile(r"^(?:7|17)Networks_(?:LH|RH)_([A-Za-z]+)(?:_|$)")


class AtlasFetchError(OSError):
    """A named atlas could not be fetched or the fetch returned nothing usable."""


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
    """Folder of the atlas manifests: ``$FMMI_NEURO_ATLASES`` if set, else the source tree's ``atlases/``
    (editable install), else ``<sys.prefix>/share/fmmi_neuro/atlases`` (installed as data files)."""
    if "FMMI_NEURO_ATLASES" in os.environ:
        return Path(os.environ["FMMI_NEURO_ATLASES"])
    installed = Path(sys.prefix) / "share" / "fmmi_neuro" / "atlases"
    return _REPO_ATLASES if _REPO_ATLASES.is_dir() or not installed.is_dir() else installed


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
        img, _ = load_image(name, "atlas image")
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
    img, path = load_image(bunch["maps"], f"atlas {manifest['name']!r} image")
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
    img, path = load_image(bunch["maps"], f"atlas {manifest['name']!r} maps")
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
