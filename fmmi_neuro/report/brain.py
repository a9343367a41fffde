"""Brain maps: per-region values as glass-brain markers, region-valued images on slices and on the cortical
surface, top groups drawn as hyperedges, and interactive views for notebooks.

Every function takes plain arrays (values per region, MNI coordinates in mm, a labels image with the label
value of each region), so it works with any atlas. Colours follow :mod:`fmmi_neuro.report.style`:
Omega = TC - DTC, red = redundancy (Omega > 0), blue = synergy (Omega < 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .._validation import check_some_finite
from ._common import save_figure
from .style import add_caption, caption, color_limits, value_kind, value_label

_ORTHO_AXES = {"x": (1, 2), "y": (0, 2), "z": (0, 1), "l": (1, 2), "r": (1, 2)}


def _coordinates(coordinates, n_regions: int | None = None, name: str = "coordinates") -> np.ndarray:
    """MNI coordinates as a finite (n_regions, 3) float array; the row count is checked against n_regions."""
    coords = np.asarray(coordinates, dtype=np.float64)
    if coords.ndim != 2 or coords.shape[1] != 3:
        raise ValueError(f"'{name}' must have shape (n_regions, 3) in MNI mm; got {coords.shape}.")
    if n_regions is not None and coords.shape[0] != n_regions:
        raise ValueError(f"'{name}' has {coords.shape[0]} rows but there are {n_regions} region values.")
    if not np.isfinite(coords).all():
        raise ValueError(
            f"'{name}' contains NaN or infinite coordinates; every region needs an MNI position."
        )
    return coords


def _canvas(ax, figsize: tuple[float, float]):
    """Figure, rectangle for the brain and rectangle for the colour bar (figure fractions)."""
    import matplotlib.pyplot as plt

    if ax is None:
        fig = plt.figure(figsize=figsize, facecolor="white")
        return fig, [0.0, 0.1, 0.88, 0.8], [0.9, 0.2, 0.018, 0.6]
    fig = ax.figure
    x0, y0, w, h = ax.get_position().bounds
    ax.remove()
    return fig, [x0, y0, w * 0.9, h], [x0 + w * 0.92, y0 + h * 0.15, w * 0.02, h * 0.7]


def _colorbar(fig, rect, cmap: str, vmin: float, vmax: float, label: str):
    import matplotlib as mpl

    cax = fig.add_axes(rect)
    mappable = mpl.cm.ScalarMappable(norm=mpl.colors.Normalize(vmin, vmax), cmap=cmap)
    bar = fig.colorbar(mappable, cax=cax)
    bar.set_label(label, fontsize=8)
    bar.ax.tick_params(labelsize=7)
    return bar


def _threshold_note(threshold: float | None, kind: str) -> str | None:
    if threshold is None:
        return None
    return (
        f"shown where |value| ≥ {threshold:g}"
        if value_kind(kind).symmetric
        else f"shown where ≥ {threshold:g}"
    )


def _map_threshold(threshold: float | None, lo: float, hi: float) -> float:
    """nilearn's threshold for a painted map: ``threshold``, or a tiny one that hides the zero background."""
    return threshold if threshold is not None else 1e-12 * max(abs(lo), abs(hi))


def _shown(values: np.ndarray, threshold: float | None, kind: str) -> np.ndarray:
    keep = np.isfinite(values)
    if threshold is not None:
        keep &= (np.abs(values) if value_kind(kind).symmetric else values) >= threshold
    if not keep.any():
        raise ValueError(f"no region value passes threshold={threshold!r}: nothing to draw.")
    return keep


def plot_region_markers(
    values,
    coordinates,
    *,
    kind: str = "o_info",
    unit: str | None = None,
    atlas: str | None = None,
    threshold: float | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    region_names: Sequence[str] | None = None,
    n_named: int = 3,
    display_mode: str = "ortho",
    ax=None,
    title: str | None = None,
    output_file: str | Path | None = None,
):
    """Per-region values as coloured markers on a glass brain (any atlas with coordinates).

    Marker colour follows ``kind`` (for Ω: red = redundancy, Ω > 0; blue = synergy, Ω < 0) and marker
    area grows with ``|value|``, so the most extreme region is the largest, most saturated marker.

    Parameters
    ----------
    values : array-like, shape (n_regions,)
        One value per region; NaN regions are not drawn.
    coordinates : array-like, shape (n_regions, 3)
        MNI coordinates of the regions, in mm.
    kind : str
        Quantity shown, a key of ``style.KINDS`` (sets colours, label and sign note).
    unit : {"nats", "bits"}, optional
        Required when ``kind`` is an information quantity.
    atlas : str, optional
        Atlas name, printed in the caption.
    threshold : float, optional
        Draw only regions with ``|value| >= threshold`` (signed kinds) or ``value >= threshold``.
    vmin, vmax : float, optional
        Colour-bar limits (default: symmetric around 0 for signed kinds, data range otherwise).
    region_names : sequence of str, shape (n_regions,), optional
        With names, the caption names the ``n_named`` regions of largest ``|value|`` and their values.
    n_named : int
        How many extreme regions the caption names.
    display_mode : str
        nilearn glass-brain display mode (``"ortho"``, ``"lzry"``, ...).
    ax : matplotlib Axes, optional
        Draw in the area of this axes instead of a new figure.
    title : str, optional
    output_file : str or Path, optional
        Save the figure there (PNG, SVG, PDF by suffix), creating parent folders.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from nilearn import plotting

    vals = check_some_finite(values, "values")
    coords = _coordinates(coordinates, vals.size)
    keep = _shown(vals, threshold, kind)
    spec = value_kind(kind)
    lo, hi = color_limits(vals[keep], kind, vmin, vmax)
    scale = np.nanmax(np.abs(vals[keep])) or 1.0
    sizes = 15.0 + 110.0 * np.abs(vals[keep]) / scale
    order = np.argsort(np.abs(vals[keep]))
    fig, brain_rect, cbar_rect = _canvas(ax, (8.0, 3.4))
    plotting.plot_markers(
        vals[keep][order],
        coords[keep][order],
        node_size=sizes[order],
        node_cmap=spec.cmap,
        node_vmin=lo,
        node_vmax=hi,
        alpha=0.9,
        display_mode=display_mode,
        figure=fig,
        axes=brain_rect,
        title=title,
        colorbar=False,
        node_kwargs={"edgecolors": "k", "linewidths": 0.4},
    )
    _colorbar(fig, cbar_rect, spec.cmap, lo, hi, value_label(kind, unit))
    notes = [_threshold_note(threshold, kind), _named_extremes(vals, keep, region_names, n_named)]
    add_caption(fig, caption(kind, unit, atlas, "; ".join(n for n in notes if n) or None))
    save_figure(fig, output_file)
    return fig


def _named_extremes(values: np.ndarray, keep: np.ndarray, names: Sequence[str] | None, n: int) -> str | None:
    """ "largest |value|: A (v), B (v), ..." for the ``n`` shown regions of largest magnitude."""
    if names is None or n < 1:
        return None
    if len(names) != values.size:
        raise ValueError(
            f"'region_names' has {len(names)} entries but there are {values.size} region values."
        )
    shown = np.flatnonzero(keep)
    top = shown[np.argsort(-np.abs(values[shown]))[:n]]
    return "largest |value|: " + ", ".join(f"{names[i]} ({values[i]:.3g})" for i in top)


def region_values_image(values, labels_img, label_values: Sequence[int] | None = None):
    """Paint one value per region onto a labels image.

    Parameters
    ----------
    values : array-like, shape (n_regions,)
        Value of each region; NaN regions stay 0 (not drawn).
    labels_img : Niimg-like (path or nibabel image)
        3-D integer labels image (0 = background).
    label_values : sequence of int, shape (n_regions,), optional
        The label of region i in the image (e.g. AAL2's 2001, 2002, ...). Default ``1..n_regions``.

    Returns
    -------
    nibabel.Nifti1Image
        Float32 image on the labels grid: voxel value = value of the region it belongs to, else 0.
    """
    import nibabel as nib
    from nilearn.image import load_img

    vals = check_some_finite(values, "values")
    img = load_img(labels_img)
    labels = np.asarray(img.dataobj)
    if labels.ndim != 3:
        raise ValueError(f"'labels_img' must be a 3-D labels image; got shape {labels.shape}.")
    labels = np.rint(labels).astype(np.int64)
    ids = np.arange(1, vals.size + 1) if label_values is None else np.asarray(label_values, dtype=np.int64)
    if ids.shape != vals.shape:
        raise ValueError(f"'label_values' has {ids.size} entries but there are {vals.size} region values.")
    present = np.isin(ids, labels)
    if not present.all():
        raise ValueError(
            f"labels {ids[~present][:10].tolist()} of 'label_values' are absent from 'labels_img'."
        )
    lookup = np.zeros(int(max(labels.max(), ids.max())) + 1, dtype=np.float32)
    lookup[ids] = np.where(np.isfinite(vals), vals, 0.0)
    out = lookup[np.clip(labels, 0, None)]
    out[labels <= 0] = 0.0
    return nib.Nifti1Image(out, img.affine)


def plot_region_slices(
    values,
    labels_img,
    label_values: Sequence[int] | None = None,
    *,
    kind: str = "o_info",
    unit: str | None = None,
    atlas: str | None = None,
    threshold: float | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    display_mode: str = "z",
    cut_coords=(-30, -15, 0, 15, 30, 45, 60),
    ax=None,
    title: str | None = None,
    output_file: str | Path | None = None,
):
    """Region values painted on a labels atlas, shown on MNI152 slices.

    Parameters are those of :func:`region_values_image` and :func:`plot_region_markers`;
    ``display_mode`` and ``cut_coords`` are nilearn's (default: seven axial slices, z in mm).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from nilearn import datasets, plotting

    img = region_values_image(values, labels_img, label_values)
    vals = check_some_finite(values, "values")
    spec = value_kind(kind)
    lo, hi = color_limits(vals, kind, vmin, vmax)
    fig, brain_rect, cbar_rect = _canvas(ax, (10.0, 2.4))
    plotting.plot_stat_map(
        img,
        bg_img=datasets.load_mni152_template(resolution=2),
        display_mode=display_mode,
        cut_coords=cut_coords,
        cmap=spec.cmap,
        vmin=lo,
        vmax=hi,
        symmetric_cbar=spec.symmetric,
        threshold=_map_threshold(threshold, lo, hi),
        colorbar=False,
        figure=fig,
        axes=brain_rect,
        title=title,
        black_bg=False,
        annotate=True,
        draw_cross=False,
        resampling_interpolation="nearest",
    )
    _colorbar(fig, cbar_rect, spec.cmap, lo, hi, value_label(kind, unit))
    add_caption(fig, caption(kind, unit, atlas, _threshold_note(threshold, kind)))
    save_figure(fig, output_file)
    return fig


def _grow_labels(labels_img, max_voxels: float = 2.0):
    """Labels image whose background voxels within ``max_voxels`` of a region take that region's label.

    The fsaverage pial surface runs along the grey-matter edge, where a volumetric atlas often has
    background; growing each region by a couple of voxels keeps the surface free of holes without
    changing which region any atlas voxel belongs to.
    """
    import nibabel as nib
    from nilearn.image import load_img
    from scipy import ndimage

    img = load_img(labels_img)
    labels = np.rint(np.asarray(img.dataobj)).astype(np.int64)
    distance, nearest = ndimage.distance_transform_edt(labels <= 0, return_indices=True)
    grown = labels[tuple(nearest)]
    grown[distance > max_voxels] = 0
    return nib.Nifti1Image(np.where(labels > 0, labels, grown).astype(np.int32), img.affine)


def region_values_surface(values, labels_img, label_values: Sequence[int] | None = None):
    """Region values on the fsaverage5 cortex (shipped with nilearn): each vertex takes the value of the
    atlas region found at its pial position (most frequent label nearby; regions grown by 2 voxels into
    background so the cortical ribbon has no holes).

    Returns
    -------
    nilearn.surface.SurfaceImage
        On the inflated fsaverage5 mesh; ``.data.parts["left"|"right"]`` has shape (10242,); 0 where the
        surface meets no region.
    """
    from nilearn import datasets
    from nilearn.surface import SurfaceImage

    img = region_values_image(values, _grow_labels(labels_img), label_values)
    mesh = datasets.load_fsaverage("fsaverage5")
    surf = SurfaceImage.from_volume(mesh=mesh["pial"], volume_img=img, interpolation="nearest_most_frequent")
    return SurfaceImage(mesh=mesh["inflated"], data={h: surf.data.parts[h] for h in ("left", "right")})


def _rasterize_meshes(ax) -> None:
    """Keep the 20,000-triangle meshes as pixels in vector outputs (an SVG of them is ~15 MB)."""
    for collection in ax.collections:
        collection.set_rasterized(True)


def plot_region_surface(
    values,
    labels_img,
    label_values: Sequence[int] | None = None,
    *,
    kind: str = "o_info",
    unit: str | None = None,
    atlas: str | None = None,
    threshold: float | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    ax=None,
    hemi: str = "left",
    view: str = "lateral",
    title: str | None = None,
    output_file: str | Path | None = None,
):
    """Region values painted on a labels atlas, projected on the fsaverage5 inflated cortex.

    Uses the fsaverage5 mesh that ships with nilearn (no download). With ``ax=None`` draws four views
    (left/right × lateral/medial); with a 3-D ``ax`` draws the one view ``hemi``/``view`` into it.
    Subcortical regions have no cortical surface and appear only on slices.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from nilearn import datasets, plotting

    vals = check_some_finite(values, "values")
    shown = region_values_surface(vals, labels_img, label_values)
    spec = value_kind(kind)
    lo, hi = color_limits(vals, kind, vmin, vmax)
    mesh = datasets.load_fsaverage("fsaverage5")
    sulcal = datasets.load_fsaverage_data(mesh="fsaverage5", mesh_type="inflated", data_type="sulcal")
    common = dict(
        surf_mesh=mesh["inflated"],
        stat_map=shown,
        bg_map=sulcal,
        cmap=spec.cmap,
        vmin=lo,
        vmax=hi,
        symmetric_cbar=spec.symmetric,
        threshold=_map_threshold(threshold, lo, hi),
        colorbar=False,
        bg_on_data=True,
    )
    if ax is not None:
        plotting.plot_surf_stat_map(hemi=hemi, view=view, axes=ax, figure=ax.figure, **common)
        _rasterize_meshes(ax)
        fig = ax.figure
        if title:
            ax.set_title(title)
    else:
        fig = plt.figure(figsize=(8.0, 2.6), facecolor="white")
        views = [("left", "lateral"), ("left", "medial"), ("right", "medial"), ("right", "lateral")]
        for i, (h, v) in enumerate(views):
            sub = fig.add_axes([i * 0.215, 0.12, 0.215, 0.78], projection="3d")
            plotting.plot_surf_stat_map(hemi=h, view=v, axes=sub, figure=fig, **common)
            _rasterize_meshes(sub)
            sub.set_title(f"{h} {v}", fontsize=8)
        _colorbar(fig, [0.89, 0.2, 0.015, 0.6], spec.cmap, lo, hi, value_label(kind, unit))
        if title:
            fig.suptitle(title, fontsize=10)
    add_caption(fig, caption(kind, unit, atlas, _threshold_note(threshold, kind)))
    save_figure(fig, output_file)
    return fig


def _polygon_order(points: np.ndarray) -> np.ndarray:
    """Order 2-D points by angle around their centroid (a simple, non-crossing polygon)."""
    centred = points - points.mean(axis=0)
    return np.argsort(np.arctan2(centred[:, 1], centred[:, 0]))


def _check_groups(groups, values, n_regions: int) -> tuple[list[tuple[int, ...]], np.ndarray]:
    group_list = [tuple(int(r) for r in g) for g in groups]
    vals = check_some_finite(values, "values")
    if len(group_list) != vals.size:
        raise ValueError(f"'groups' has {len(group_list)} groups but 'values' has {vals.size} entries.")
    for g in group_list:
        if len(g) < 2 or min(g) < 0 or max(g) >= n_regions:
            raise ValueError(f"group {g} must list >= 2 region indices in [0, {n_regions}).")
    keep = np.isfinite(vals)
    return [g for g, k in zip(group_list, keep, strict=True) if k], vals[keep]


def plot_hyperedges(
    groups,
    values,
    coordinates,
    *,
    kind: str = "o_info",
    unit: str | None = None,
    atlas: str | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    display_mode: str = "ortho",
    ax=None,
    title: str | None = None,
    output_file: str | Path | None = None,
):
    """Groups of regions drawn as filled hyperedges (triangles for triplets) on a glass brain.

    Each group is a polygon through its regions' projected positions, filled with the colour of its value
    (for Ω: red = redundancy, Ω > 0; blue = synergy, Ω < 0); groups with larger ``|value|`` are drawn on
    top. The regions of the groups are black dots.

    Parameters
    ----------
    groups : sequence of sequence of int, length n_groups
        Region indices (rows of ``coordinates``) of each group.
    values : array-like, shape (n_groups,)
        Value of each group (e.g. Ω in ``unit``); NaN groups are skipped.
    coordinates : array-like, shape (n_regions, 3)
        MNI coordinates of all regions, in mm.
    display_mode : str
        Glass-brain views made of ``"x"``, ``"y"``, ``"z"``, ``"l"``, ``"r"`` (e.g. ``"ortho"``, ``"xz"``).

    Other parameters are as in :func:`plot_region_markers`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib as mpl
    from matplotlib.patches import Polygon
    from nilearn import plotting

    coords = _coordinates(coordinates)
    group_list, vals = _check_groups(groups, values, coords.shape[0])
    spec = value_kind(kind)
    lo, hi = color_limits(vals, kind, vmin, vmax)
    cmap = mpl.colormaps[spec.cmap]
    norm = mpl.colors.Normalize(lo, hi)
    fig, brain_rect, cbar_rect = _canvas(ax, (8.0, 3.4))
    display = plotting.plot_glass_brain(
        None, display_mode=display_mode, figure=fig, axes=brain_rect, title=title, black_bg=False
    )
    used = sorted({r for g in group_list for r in g})
    order = np.argsort(np.abs(vals))
    for brain_ax in display.axes.values():
        if brain_ax.direction not in _ORTHO_AXES:
            raise ValueError(f"display_mode={display_mode!r} has a view hyperedges cannot be drawn on.")
        dims = list(_ORTHO_AXES[brain_ax.direction])
        for i in order:
            pts = coords[list(group_list[i])][:, dims]
            colour = cmap(norm(vals[i]))
            if len(pts) == 2:
                brain_ax.ax.plot(pts[:, 0], pts[:, 1], color=colour, lw=2.0, zorder=3)
            else:
                poly = Polygon(
                    pts[_polygon_order(pts)],
                    closed=True,
                    facecolor=colour,
                    alpha=0.45,
                    edgecolor=colour,
                    linewidth=1.2,
                    zorder=3,
                )
                brain_ax.ax.add_patch(poly)
    display.add_markers(coords[used], marker_color="k", marker_size=8, zorder=4)
    _colorbar(fig, cbar_rect, spec.cmap, lo, hi, value_label(kind, unit))
    add_caption(fig, caption(kind, unit, atlas, f"{len(group_list)} groups"))
    save_figure(fig, output_file)
    return fig


def _hex_colors(values: np.ndarray, kind: str, vmin=None, vmax=None) -> list[str]:
    import matplotlib as mpl

    spec = value_kind(kind)
    lo, hi = color_limits(values, kind, vmin, vmax)
    cmap = mpl.colormaps[spec.cmap]
    norm = mpl.colors.Normalize(lo, hi)
    return [mpl.colors.to_hex(cmap(norm(v))) for v in values]


def view_region_markers(
    values,
    coordinates,
    *,
    region_names: Sequence[str] | None = None,
    kind: str = "o_info",
    unit: str | None = None,
    threshold: float | None = None,
    title: str | None = None,
):
    """Interactive 3-D view of region values for notebooks (nilearn ``view_markers``).

    Colours follow ``kind`` (for Ω: red = redundancy, blue = synergy); hovering a marker shows the region
    name and value. Returns nilearn's view (``.save_as_html(path)``, displays itself in Jupyter).
    """
    from nilearn import plotting

    vals = check_some_finite(values, "values")
    coords = _coordinates(coordinates, vals.size)
    keep = _shown(vals, threshold, kind)
    names = list(region_names) if region_names is not None else [f"region {i}" for i in range(vals.size)]
    label = value_label(kind, unit)
    labels = [f"{names[i]}: {label} = {vals[i]:.3g}" for i in np.flatnonzero(keep)]
    scale = np.max(np.abs(vals[keep])) or 1.0
    return plotting.view_markers(
        coords[keep],
        marker_color=_hex_colors(vals[keep], kind),
        marker_labels=labels,
        marker_size=4.0 + 8.0 * np.abs(vals[keep]) / scale,
        title=title or label,
    )


def view_hyperedges(
    groups,
    values,
    coordinates,
    *,
    region_names: Sequence[str] | None = None,
    kind: str = "o_info",
    unit: str | None = None,
    title: str | None = None,
):
    """Interactive 3-D view of groups as cliques for notebooks (nilearn ``view_connectome``).

    Every pair of regions in a group is an edge carrying the group's value; an edge shared by several
    groups carries the value of largest magnitude. Colours follow ``kind`` (for Ω: red = redundancy,
    blue = synergy).
    """
    from nilearn import plotting

    coords = _coordinates(coordinates)
    group_list, vals = _check_groups(groups, values, coords.shape[0])
    used = sorted({r for g in group_list for r in g})
    index = {r: i for i, r in enumerate(used)}
    adjacency = np.zeros((len(used), len(used)))
    for g, v in zip(group_list, vals, strict=True):
        for a in g:
            for b in g:
                if a != b and abs(v) > abs(adjacency[index[a], index[b]]):
                    adjacency[index[a], index[b]] = v
    names = list(region_names) if region_names is not None else [f"region {i}" for i in range(len(coords))]
    spec = value_kind(kind)
    return plotting.view_connectome(
        adjacency,
        coords[used],
        edge_cmap=spec.cmap,
        symmetric_cmap=spec.symmetric,
        node_labels=[names[r] for r in used],
        title=title or value_label(kind, unit),
        node_color="black",
    )
