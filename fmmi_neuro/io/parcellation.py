"""``parcellate``: 4-D fMRI image + atlas -> ``RegionTimeSeries``, with nilearn maskers and signal cleaning.

Region signals are extracted with nilearn's ``NiftiLabelsMasker`` / ``NiftiMapsMasker`` /
``NiftiSpheresMasker``, checked (NaN, empty or constant regions), then cleaned by ``nilearn.signal.clean``
with the confounds, sample mask (scrubbing), detrending, filtering and standardisation asked for: the same
steps a masker runs with those arguments, split so that bad regions are caught before cleaning mixes them.
"""

from __future__ import annotations

import json
import logging
import re
import warnings
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np

from .._validation import check_in, check_positive_number
from .atlas import Atlas, load_image
from .atlases import load_atlas
from .cleaning import apply_clean, check_kept, normalise_standardize
from .confounds import fmriprep_confounds, normalise_sample_mask, prepare_confounds
from .timeseries import RegionTimeSeries, describe_source

logger = logging.getLogger("fmmi_neuro.io")

_BIDS_ENTITIES = {"sub": "subject", "ses": "session", "task": "task", "run": "run", "space": "space"}


def bids_entities(path: str | Path | None) -> dict[str, str]:
    """Parse ``sub``, ``ses``, ``task``, ``run`` and ``space`` from a BIDS-like file name.

    Examples
    --------
    >>> bids_entities("sub-01_ses-2_task-rest_run-1_space-MNI152NLin6Asym_desc-preproc_bold.nii.gz")["run"]
    '1'
    """
    if path is None:
        return {}
    out = {}
    for part in Path(str(path)).name.split(".")[0].split("_"):
        key, sep, value = part.partition("-")
        if sep and key in _BIDS_ENTITIES and value:
            out[_BIDS_ENTITIES[key]] = value
    return out


def sidecar_repetition_time(sidecar: Path) -> float | None:
    """``RepetitionTime`` (seconds) of a BIDS JSON sidecar; None if it is absent, zero or unreadable."""
    if not sidecar.is_file():
        return None
    try:
        value = json.loads(sidecar.read_text()).get("RepetitionTime")
    except (OSError, ValueError):
        return None
    return float(value) if value else None


def _sidecar_t_r(path: str | None) -> float | None:
    if path is None:
        return None
    return sidecar_repetition_time(Path(re.sub(r"\.nii(\.gz)?$", "", str(path)) + ".json"))


def _header_t_r(img: nib.spatialimages.SpatialImage) -> float | None:
    zooms = img.header.get_zooms()
    if len(zooms) < 4 or not zooms[3] or zooms[3] <= 0:
        return None
    unit = img.header.get_xyzt_units()[1] if hasattr(img.header, "get_xyzt_units") else "sec"
    scale = {"msec": 1e-3, "usec": 1e-6}.get(unit, 1.0)
    return float(zooms[3]) * scale


def _fov_fraction(points_world: np.ndarray, img: nib.spatialimages.SpatialImage) -> np.ndarray:
    """Boolean per point: does it fall inside the image's field of view (voxel grid, half-voxel margin)?"""
    ijk = nib.affines.apply_affine(np.linalg.inv(img.affine), points_world)
    shape = np.asarray(img.shape[:3])
    return np.all((ijk > -0.5) & (ijk < shape - 0.5), axis=1)


def _same_grid(a: nib.spatialimages.SpatialImage, b: nib.spatialimages.SpatialImage) -> bool:
    return a.shape[:3] == b.shape[:3] and np.allclose(a.affine, b.affine, atol=1e-3)


def _check_overlap(atlas: Atlas, img: nib.spatialimages.SpatialImage, where: str, min_overlap: float) -> None:
    """Raise if the atlas and the image hardly overlap in world space (different spaces or bad affines)."""
    if atlas.kind == "labels":
        atlas_img = atlas.labels_img
        ijk = np.argwhere(np.asarray(atlas_img.dataobj) != 0)
        if ijk.shape[0] > 200_000:
            ijk = ijk[:: ijk.shape[0] // 200_000 + 1]
        points = nib.affines.apply_affine(atlas_img.affine, ijk)
    elif atlas.kind == "maps":
        atlas_img = atlas.maps_img
        points = atlas.coordinates[np.isfinite(atlas.coordinates).all(axis=1)]
    else:
        points = atlas.coordinates
    inside = _fov_fraction(points, img).mean() if len(points) else 0.0
    if inside < min_overlap:
        centre = nib.affines.apply_affine(img.affine, (np.asarray(img.shape[:3]) - 1) / 2)
        raise ValueError(
            f"atlas {atlas.name!r} and the image of {where} do not overlap: only {inside:.0%} of the atlas "
            f"lies inside the image's field of view (image centre at {np.round(centre, 1).tolist()} mm). "
            f"Are they in the same space (atlas: {atlas.space or 'unknown'})? Check the image affine, or "
            "register the image to the atlas space first."
        )


def parcellate(
    img: Any,
    atlas: Any,
    *,
    confounds: Any = None,
    confound_columns: list[str] | None = None,
    confounds_strategy: str | dict[str, Any] | None = None,
    sample_mask: Any = None,
    min_volumes: int | None = None,
    standardize: Any = None,
    detrend: bool = False,
    low_pass: float | None = None,
    high_pass: float | None = None,
    t_r: float | None = None,
    smoothing_fwhm: float | None = None,
    mask_img: Any = None,
    on_empty_region: str = "drop",
    min_overlap: float = 0.5,
    data_dir: str | Path | None = None,
    subject: str | None = None,
    session: str | None = None,
    run: str | None = None,
    task: str | None = None,
    space: str | None = None,
) -> RegionTimeSeries:
    """Extract region time series from a 4-D fMRI image with an atlas.

    Parameters
    ----------
    img : str, Path or Nifti1Image
        4-D image (x, y, z, time). BIDS entities (sub, ses, task, run, space) are read from its file name
        unless given.
    atlas : str, Atlas, path or Nifti1Image
        Anything :func:`load_atlas` accepts (e.g. ``"schaefer200"``). A labels or maps atlas on another
        grid is resampled to the image (nearest neighbour for labels), with a logged note.
    confounds : str, Path, DataFrame or ndarray, optional
        Confound regressors, one row per volume (file: TSV/CSV with a header).
    confound_columns : list of str, optional
        Columns of ``confounds`` to use (default all).
    confounds_strategy : str or dict, optional
        fMRIPrep confounds found next to ``img``, loaded with nilearn's
        :func:`~nilearn.interfaces.fmriprep.load_confounds_strategy` (e.g. ``"simple"``, ``"scrubbing"``)
        or ``load_confounds`` (a dict with ``"strategy"``); its sample mask is combined with
        ``sample_mask``. Cannot be combined with ``confounds``.
    sample_mask : array-like, optional
        Volumes to keep: boolean (n_volumes,) or integer indices (see :func:`scrub_mask`).
    min_volumes : int, optional
        Raise ``ValueError`` if fewer volumes remain after scrubbing.
    standardize : {None, False, True, "zscore_sample", "zscore", "psc"}
        As in nilearn (True means ``"zscore_sample"``).
    detrend : bool
    low_pass, high_pass : float, optional
        Butterworth band edges in Hz; need ``t_r``.
    t_r : float, optional
        Repetition time in seconds; default from the BIDS JSON sidecar, else the NIfTI header.
    smoothing_fwhm : float, optional
        Spatial smoothing in mm before extraction.
    mask_img : str, Path or Nifti1Image, optional
        Brain mask; voxels outside it are ignored.
    on_empty_region : {"drop", "raise"}
        What to do with atlas regions with no voxels in the image (or mask) or a constant / all-zero signal:
        drop them with a warning listing them (recorded in ``preprocessing["dropped_regions"]``), or raise.
    min_overlap : float
        Minimum fraction of the atlas inside the image's field of view; below it the two are taken to be
        in different spaces and ``ValueError`` is raised.
    data_dir : str or Path, optional
        nilearn data dir for named atlases.
    subject, session, run, task, space : str, optional
        Labels stored on the result (default: parsed from the file name).

    Returns
    -------
    RegionTimeSeries
        ``data`` has shape (n_kept_volumes, n_regions_kept), float.

    Raises
    ------
    ValueError
        Naming the file/subject (and regions) for: an unreadable file, a 3-D image, no overlap with the
        atlas, confounds missing or of the wrong length, NaN voxels in a region, an all-zero image, too few
        volumes after scrubbing, all regions empty, or empty regions with ``on_empty_region="raise"``.
    """
    check_in(on_empty_region, ("drop", "raise"), "on_empty_region")
    if t_r is not None:
        t_r = check_positive_number(t_r, "t_r", " of seconds")
    if confounds is not None and confounds_strategy is not None:
        raise ValueError("give either 'confounds' or 'confounds_strategy', not both.")
    standardize = normalise_standardize(standardize)
    image, path = load_image(img, "fMRI image")
    entities = bids_entities(path)
    subject = subject if subject is not None else entities.get("subject")
    where = describe_source(subject, path)
    if image.ndim != 4:
        raise ValueError(
            f"the image of {where} is {image.ndim}-D (shape {image.shape}); a 4-D (x, y, z, time) "
            "fMRI series is needed."
        )
    n_volumes = int(image.shape[3])
    if path is not None:
        try:
            image = nib.Nifti1Image(np.asanyarray(image.dataobj), image.affine, image.header)
        except Exception as err:  # truncated or corrupt files fail here with zlib/EOF/OS errors
            raise ValueError(f"the image of {where} cannot be read: {type(err).__name__}: {err}") from err
    if t_r is None:
        t_r = _sidecar_t_r(path) or _header_t_r(image)
    if (low_pass is not None or high_pass is not None) and t_r is None:
        raise ValueError(f"band-pass filtering of {where} needs t_r (seconds): none was given or found.")
    atlas = load_atlas(atlas, data_dir=data_dir)
    record: dict[str, Any] = {
        "atlas": atlas.name,
        "atlas_parameters": atlas.parameters,
        "extraction": atlas.kind,
        "n_volumes_image": n_volumes,
    }

    strategy_mask = None
    if confounds_strategy is not None:
        if path is None:
            raise ValueError(
                "confounds_strategy= needs the image as an fMRIPrep file path, not an in-memory image."
            )
        confounds, strategy_mask, record["confounds_strategy"] = fmriprep_confounds(
            path, confounds_strategy, where
        )
    conf, conf_names = prepare_confounds(confounds, n_volumes, columns=confound_columns, where=where)
    keep = normalise_sample_mask(sample_mask, n_volumes, f"{where}")
    if strategy_mask is not None:
        strategy_mask = np.asarray(strategy_mask, dtype=int)
        keep = strategy_mask if keep is None else np.intersect1d(keep, strategy_mask)
    n_kept = check_kept(keep, n_volumes, min_volumes, where)

    _check_overlap(atlas, image, where, min_overlap)
    image_space = space if space is not None else entities.get("space")
    if image_space and atlas.space and image_space != atlas.space:
        note = f"the image of {where} is in {image_space!r}, atlas {atlas.name!r} in {atlas.space!r}"
        logger.info(note)
        record["space_note"] = note
    masker, names_idx, dropped = _build_masker(atlas, image, mask_img, smoothing_fwhm, where, record)
    data = np.asanyarray(image.dataobj)
    if not np.isfinite(data.sum()):  # one cheap pass; the per-voxel check runs only when it fails
        _check_finite_voxels(data, masker, atlas, where)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", category=FutureWarning)
        raw = masker.fit_transform(image).astype(np.float64)
    if atlas.kind == "labels":
        ids = masker.region_ids_
        values = [ids[i] for i in range(raw.shape[1])]
        index_of = {v: i for i, v in enumerate(atlas.label_values)}
        names_idx = [index_of[int(v)] for v in values]
        dropped += [
            atlas.region_names[i]
            for i in range(atlas.n_regions)
            if i not in set(names_idx) and atlas.region_names[i] not in dropped
        ]
        if mask_img is None:
            _report_zero_voxels(data, masker, atlas, where, record)
    raw, names_idx = _drop_empty_regions(raw, names_idx, dropped, atlas, where, on_empty_region)

    signals = apply_clean(
        raw,
        confounds=conf,
        keep=keep,
        detrend=detrend,
        standardize=standardize,
        low_pass=low_pass,
        high_pass=high_pass,
        t_r=t_r,
    )

    record.update(
        {
            "confounds": conf_names,
            "sample_mask_kept": n_kept,
            "standardize": standardize,
            "detrend": detrend,
            "low_pass": low_pass,
            "high_pass": high_pass,
            "smoothing_fwhm": smoothing_fwhm,
            "dropped_regions": dropped,
            "scrubbed_volumes": [] if keep is None else np.setdiff1d(np.arange(n_volumes), keep).tolist(),
        }
    )
    return RegionTimeSeries(
        data=signals,
        region_names=[atlas.region_names[i] for i in names_idx],
        networks=None if atlas.networks is None else [atlas.networks[i] for i in names_idx],
        coordinates=atlas.coordinates[names_idx],
        t_r=t_r,
        subject=subject,
        session=session if session is not None else entities.get("session"),
        run=run if run is not None else entities.get("run"),
        task=task if task is not None else entities.get("task"),
        atlas=atlas.name,
        space=space if space is not None else entities.get("space", atlas.space),
        preprocessing=record,
        source=path,
    )


def _drop_empty_regions(
    raw: np.ndarray, names_idx: list[int], dropped: list[str], atlas: Atlas, where: str, on_empty_region: str
) -> tuple[np.ndarray, list[int]]:
    """Check raw region signals (n_volumes, n_columns): NaN raises; constant (e.g. all-zero) columns and the
    regions already in ``dropped`` (no voxels) are reported and dropped, or raise with ``"raise"``.

    ``dropped`` is extended in place with the constant regions; returns the kept signals and atlas indices.
    """
    nan_cols = np.flatnonzero(~np.isfinite(raw).all(axis=0))
    if nan_cols.size:
        bad = [atlas.region_names[names_idx[j]] for j in nan_cols]
        raise ValueError(
            f"the image of {where} has NaN or infinite voxels in {len(bad)} region(s) of atlas "
            f"{atlas.name!r}, e.g. {bad[:5]}; fix them or exclude them with mask_img=."
        )
    if not np.any(raw):
        raise ValueError(f"the image of {where} is all zeros inside atlas {atlas.name!r}.")
    flat = np.flatnonzero(np.ptp(raw, axis=0) == 0)
    dropped += [atlas.region_names[names_idx[j]] for j in flat]
    if dropped:
        msg = (
            f"{where}: {len(dropped)} region(s) of atlas {atlas.name!r} have no voxels in the image or a "
            f"constant (e.g. all-zero) signal: {dropped[:10]}{' ...' if len(dropped) > 10 else ''}"
        )
        if on_empty_region == "raise":
            raise ValueError(msg + ".")
        warnings.warn(
            msg + "; they are dropped (on_empty_region='raise' makes this an error).",
            UserWarning,
            stacklevel=3,
        )
        logger.warning(msg)
    good = np.setdiff1d(np.arange(raw.shape[1]), flat)
    if good.size == 0:
        raise ValueError(f"no region of atlas {atlas.name!r} has signal in the image of {where}.")
    return raw[:, good], [names_idx[j] for j in good]


def _on_image_grid(
    atlas_img: nib.spatialimages.SpatialImage,
    interpolation: str,
    atlas: Atlas,
    image: nib.spatialimages.SpatialImage,
    where: str,
    record: dict[str, Any],
) -> nib.spatialimages.SpatialImage:
    """``atlas_img`` on the grid of ``image`` (resampled, and noted in ``record``, when it is not)."""
    from nilearn.image import resample_to_img

    if _same_grid(atlas_img, image):
        return atlas_img
    how = "nearest-neighbour" if interpolation == "nearest" else interpolation
    note = (
        f"atlas {atlas.name!r} (grid {atlas_img.shape[:3]}) resampled to the image of {where} "
        f"(grid {image.shape[:3]}) with {how} interpolation"
    )
    logger.info(note)
    record["atlas_resampled"] = note
    return resample_to_img(
        atlas_img, image, interpolation=interpolation, force_resample=True, copy_header=True
    )


def _build_masker(
    atlas: Atlas,
    image: nib.spatialimages.SpatialImage,
    mask_img: Any,
    smoothing_fwhm: Any,
    where: str,
    record: dict[str, Any],
) -> tuple[Any, list[int], list[str]]:
    """A nilearn masker for ``atlas`` on the image grid, the atlas index of each column, dropped names."""
    from nilearn.maskers import NiftiLabelsMasker, NiftiMapsMasker, NiftiSpheresMasker

    common = {"mask_img": mask_img, "smoothing_fwhm": smoothing_fwhm, "standardize": None, "detrend": False}
    if atlas.kind == "labels":
        labels_img = _on_image_grid(atlas.labels_img, "nearest", atlas, image, where, record)
        masker = NiftiLabelsMasker(labels_img=labels_img, background_label=0, **common)
        return masker, list(range(atlas.n_regions)), []
    if atlas.kind == "maps":
        maps_img = _on_image_grid(atlas.maps_img, "continuous", atlas, image, where, record)
        data = np.asarray(maps_img.dataobj)
        has = np.flatnonzero(np.abs(data).reshape(-1, data.shape[3]).max(axis=0) > 0)
        dropped = [atlas.region_names[i] for i in range(atlas.n_regions) if i not in set(has)]
        if dropped:
            maps_img = nib.Nifti1Image(data[..., has], maps_img.affine)
        masker = NiftiMapsMasker(maps_img=maps_img, resampling_target="data", **common)
        return masker, has.tolist(), dropped
    inside = np.flatnonzero(_fov_fraction(atlas.coordinates, image))
    dropped = [atlas.region_names[i] for i in range(atlas.n_regions) if i not in set(inside)]
    radius = atlas.radius if atlas.radius is not None else 5.0
    if np.ndim(radius):
        radii = np.asarray(radius)[inside]
        radius = float(radii[0])
        if not np.allclose(radii, radius):
            record["radius_note"] = (
                f"per-region radii {sorted(set(radii.tolist()))} mm; the first ({radius}) used"
            )
    masker = NiftiSpheresMasker(
        seeds=atlas.coordinates[inside].tolist(), radius=radius, allow_overlap=True, **common
    )
    return masker, inside.tolist(), dropped


def _check_finite_voxels(data: np.ndarray, masker: Any, atlas: Atlas, where: str) -> None:
    """Raise ``ValueError`` naming the regions that contain NaN/infinite voxels (nilearn would zero them)."""
    bad = ~np.isfinite(data).all(axis=-1)
    if not bad.any():
        return
    if atlas.kind == "labels":
        lab = np.asarray(masker.labels_img.dataobj)
        values = set(np.unique(lab[bad & (lab != 0)]).astype(int).tolist())
        names = [n for v, n in zip(atlas.label_values, atlas.region_names, strict=True) if v in values]
        if not names:
            return
        detail = f"in {len(names)} region(s) of atlas {atlas.name!r}, e.g. {names[:5]}"
    else:
        detail = f"({int(bad.sum())} voxels)"
    raise ValueError(
        f"the image of {where} has NaN or infinite voxels {detail}; fix them or exclude them with mask_img=."
    )


def _report_zero_voxels(
    data: np.ndarray, masker: Any, atlas: Atlas, where: str, record: dict[str, Any]
) -> None:
    """Warn about regions part of whose voxels are zero at every time point (their means include zeros)."""
    lab = np.asarray(masker.labels_img_.dataobj)
    n_t = data.shape[3]
    probe = np.all(data[..., [0, n_t // 2, n_t - 1]] == 0, axis=-1)
    candidates = probe & (lab != 0)
    if not candidates.any():
        return
    zero_labels = lab[candidates][~np.any(data[candidates] != 0, axis=-1)]
    if zero_labels.size == 0:
        return
    values, zero_counts = np.unique(zero_labels, return_counts=True)
    all_values, all_counts = np.unique(lab[lab != 0], return_counts=True)
    totals = dict(zip(all_values.tolist(), all_counts.tolist(), strict=True))
    name_of = dict(zip(atlas.label_values, atlas.region_names, strict=True))
    partial = {
        name_of[int(v)]: round(c / totals[int(v)], 4)
        for v, c in zip(values, zero_counts, strict=True)
        if c < totals[int(v)] and int(v) in name_of
    }
    if partial:
        record["zero_voxel_fraction"] = partial
        worst = sorted(partial.items(), key=lambda kv: -kv[1])[:5]
        msg = (
            f"{where}: {len(partial)} region(s) of atlas {atlas.name!r} include voxels that are zero at "
            f"every time point (fraction of the region: {worst}); their means include these zeros. "
            "Pass a brain mask (mask_img=) to leave them out."
        )
        warnings.warn(msg, UserWarning, stacklevel=3)
        logger.warning(msg)
