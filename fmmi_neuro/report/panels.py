"""Which figures a report draws: resolve the run's inputs (atlas, names, cohort or one data set, q-values)
and list one :class:`Panel` per figure that the available tables allow.

Sign convention throughout: Omega = TC - DTC; Omega > 0 redundancy (red), Omega < 0 synergy (blue).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import brain, figures
from ._common import require_columns
from .summaries import (
    agreement_values,
    average_over_subjects,
    enrichment_matrix,
    group_labels,
    group_members,
    region_mean,
)

MAPS = ("glass", "slices", "surface")


@dataclass
class Panel:
    """One figure of the report: file stem, heading, one-line description and how to draw it."""

    key: str
    title: str
    description: str
    make: Callable[[], Any]


@dataclass
class Run:
    """The inputs of a report, resolved once (explicit arguments > atlas > table attrs)."""

    scores: pd.DataFrame
    table: pd.DataFrame
    unit: str
    atlas_name: str
    atlas_fields: dict[str, Any]
    coordinates: np.ndarray | None
    region_names: list[str] | None
    networks: Sequence[str] | None
    labels_img: Any
    label_values: Sequence[int] | None
    cohort: bool
    n_subjects: int
    n_regions: int
    regions_recorded: bool
    labels: list[str]
    q_column: str | None
    scope: str
    extremes: pd.DataFrame = field(default_factory=pd.DataFrame)


def atlas_fields(atlas: Any) -> dict[str, Any]:
    """Name, coordinates, region names, networks, labels image, label values, space and citation of an
    ``fmmi_neuro.io`` Atlas (or just the name when ``atlas`` is a string)."""
    if atlas is None or isinstance(atlas, str):
        return {"name": atlas}
    keys = (
        "name",
        "coordinates",
        "region_names",
        "networks",
        "labels_img",
        "label_values",
        "citation",
        "space",
    )
    return {key: getattr(atlas, key, None) for key in keys}


def extremes(table: pd.DataFrame, top: int) -> pd.DataFrame:
    """The ``top`` most synergistic groups with Ω < 0 and the ``top`` most redundant with Ω > 0."""
    syn = table[table["o_info"] < 0].nsmallest(top, "o_info")
    red = table[table["o_info"] > 0].nlargest(top, "o_info")
    return pd.concat([syn, red])


def _source_atlas(attrs: dict[str, Any]) -> str | None:
    """The atlas named in ``attrs["source"]`` (score_groups records its input's metadata there), if any."""
    source = attrs.get("source")
    return source.get("atlas") if isinstance(source, dict) else None


def _known_names(table: pd.DataFrame) -> dict[int, str]:
    """Region index -> name, from ``attrs["region_names"]`` or the ``regions``/``region_names`` columns."""
    listed = table.attrs.get("region_names")
    if listed:
        return {i: str(name) for i, name in enumerate(listed)}
    found: dict[int, str] = {}
    if {"regions", "region_names"} <= set(table.columns):
        for regions, names in zip(table["regions"], table["region_names"], strict=True):
            found.update(zip((int(r) for r in regions), map(str, names), strict=True))
    return found


def data_region_count(table: pd.DataFrame) -> int | None:
    """How many regions the scored data had (``attrs["n_regions"]`` or ``attrs["region_names"]``), or None
    when the table does not record it."""
    n = table.attrs.get("n_regions")
    if n is not None:
        return int(n)
    names = table.attrs.get("region_names")
    return len(names) if names else None


def _aligned_atlas(fields: dict[str, Any], known: dict[int, str], n_data: int | None) -> dict[str, Any]:
    """The atlas' per-region fields restricted, by name, to the regions of the data.

    An atlas often lists more regions than a parcellation kept (AAL2's 120 labels over 94 regions with
    signal): the data's region names pick the atlas rows. A name the atlas lacks is a ``ValueError`` (the
    atlas is not the data's); when the table does not name every region, the per-region fields are
    dropped with a warning (no brain maps rather than misplaced ones).
    """
    atlas_names = fields.get("region_names")
    if atlas_names is None or n_data is None or len(atlas_names) == n_data:
        return fields
    atlas_names = [str(n) for n in atlas_names]
    where = f"the atlas {fields.get('name')!r}" if fields.get("name") else "the atlas"
    where += f" lists {len(atlas_names)} regions"
    position = {name: j for j, name in enumerate(atlas_names)}
    missing = [name for _, name in sorted(known.items()) if name not in position]
    if missing:
        raise ValueError(
            f"{where} but the scores' regions {missing[:5]} are not among them; pass the atlas the data were "
            "parcellated with."
        )
    if not set(range(n_data)) <= set(known):
        warnings.warn(
            f"{where}, the scored data {n_data}, and the table names only the {len(known)} regions of its "
            "groups: the atlas' coordinates and labels cannot be matched to every region, so the brain maps "
            "are left out. Pass region_names and coordinates of the data's regions to draw them.",
            UserWarning,
            stacklevel=4,
        )
        per_region = ("region_names", "coordinates", "networks", "label_values", "labels_img")
        return {key: value for key, value in fields.items() if key not in per_region}
    index = [position[known[i]] for i in range(n_data)]
    aligned = dict(fields)
    for key in ("region_names", "coordinates", "networks", "label_values"):
        if fields.get(key) is not None:
            values = fields[key]
            aligned[key] = np.asarray(values)[index] if key == "coordinates" else [values[j] for j in index]
    return aligned


def _check_length(values: Any, name: str, n_regions: int) -> None:
    if values is not None and len(values) != n_regions:
        raise ValueError(
            f"'{name}' has {len(values)} entries but the scores come from data with {n_regions} regions."
        )


def resolve_run(
    scores: pd.DataFrame,
    unit: str,
    *,
    atlas: Any,
    coordinates,
    region_names,
    networks,
    labels_img,
    label_values,
    group_stats: pd.DataFrame | None,
    top: int,
) -> Run:
    """Resolve the atlas and naming inputs, average a cohort over subjects and find the q-values."""
    n_data = data_region_count(scores)
    known = _known_names(scores)
    fields = _aligned_atlas(atlas_fields(atlas), known, n_data)
    names = region_names if region_names is not None else fields.get("region_names")
    names = names if names is not None else scores.attrs.get("region_names")
    names = list(names) if names is not None and len(names) else None
    coordinates = coordinates if coordinates is not None else fields.get("coordinates")
    networks = networks if networks is not None else fields.get("networks") or scores.attrs.get("networks")
    if n_data is not None:
        for values, name in ((names, "region_names"), (coordinates, "coordinates"), (networks, "networks")):
            _check_length(values, name, n_data)
    n_regions = n_data
    if n_regions is None:
        n_regions = len(names) if names else len(coordinates) if coordinates is not None else None
    if names is None and n_regions is not None and set(range(n_regions)) <= set(known):
        names = [known[i] for i in range(n_regions)]
    cohort = "subject" in scores.columns
    table = average_over_subjects(scores) if cohort else scores.reset_index(drop=True)
    regions_recorded = n_regions is not None
    if n_regions is None:
        n_regions = max(max(g) for g in group_members(table)) + 1
    q_column = None
    if not cohort and "q_value" in table.columns:
        q_column = "q_value"
    elif group_stats is not None and "test" in group_stats and (group_stats["test"] == "one_sample").all():
        table = table.merge(group_stats[["group_id", "q_value"]], on="group_id", how="left")
        q_column = "q_value"
    n_subjects = int(scores["subject"].nunique()) if cohort else 1
    return Run(
        scores=scores,
        table=table,
        unit=unit,
        atlas_name=fields.get("name")
        or scores.attrs.get("atlas")
        or _source_atlas(scores.attrs)
        or "not named",
        atlas_fields=fields,
        coordinates=coordinates,
        region_names=names,
        networks=networks,
        labels_img=labels_img if labels_img is not None else fields.get("labels_img"),
        label_values=label_values if label_values is not None else fields.get("label_values"),
        cohort=cohort,
        n_subjects=n_subjects,
        n_regions=n_regions,
        regions_recorded=regions_recorded,
        labels=group_labels(table, names),
        q_column=q_column,
        scope=f"mean over {n_subjects} subjects" if cohort else "one data set",
        extremes=extremes(table, top),
    )


def _distribution_panels(run: Run, alpha: float) -> list[Panel]:
    table, unit, atlas = run.table, run.unit, run.atlas_name
    significance = f" and significant at FDR q < {alpha:g}" if run.q_column else ""
    return [
        Panel(
            "landscape",
            "Ω by group size",
            f"Distribution of Ω across groups of each size ({run.scope}).",
            lambda: figures.plot_landscape(table, unit=unit, atlas=atlas),
        ),
        Panel(
            "synergy_fraction",
            "Synergistic groups by size",
            f"Fraction of groups with Ω < 0{significance}.",
            lambda: figures.plot_synergy_fraction(table, q_column=run.q_column, alpha=alpha, atlas=atlas),
        ),
    ]


def _map_panels(run: Run, maps: set[str]) -> list[Panel]:
    mean_omega = region_mean(run.table, run.n_regions)
    common = dict(unit=run.unit, atlas=run.atlas_name, title="mean Ω of each region's groups")
    panels = []
    if run.coordinates is not None and "glass" in maps:
        panels.append(
            Panel(
                "region_mean_markers",
                "Mean Ω per region (glass brain)",
                "Mean Ω of the groups each region belongs to; marker size grows with |Ω|.",
                lambda: brain.plot_region_markers(
                    mean_omega, run.coordinates, region_names=run.region_names, **common
                ),
            )
        )
    if run.labels_img is not None and "slices" in maps:
        panels.append(
            Panel(
                "region_mean_slices",
                "Mean Ω per region (slices)",
                "The same per-region values painted on the atlas labels, MNI152 axial slices.",
                lambda: brain.plot_region_slices(mean_omega, run.labels_img, run.label_values, **common),
            )
        )
    if run.labels_img is not None and "surface" in maps:
        panels.append(
            Panel(
                "region_mean_surface",
                "Mean Ω per region (cortical surface)",
                "Projected on fsaverage5 (inflated); subcortical regions appear only on slices.",
                lambda: brain.plot_region_surface(mean_omega, run.labels_img, run.label_values, **common),
            )
        )
    return panels


def _region_panels(run: Run, region_table: pd.DataFrame | None, maps: set[str]) -> list[Panel]:
    atlas = run.atlas_name
    if region_table is None:
        mean_omega = region_mean(run.table, run.n_regions)
        names = run.region_names or [str(i) for i in range(run.n_regions)]
        return [
            Panel(
                "region_rank",
                "Regions ranked by mean Ω",
                "Most synergistic and most redundant regions.",
                lambda: figures.plot_region_ranking(
                    mean_omega, names, kind="o_info", unit=run.unit, atlas=atlas
                ),
            )
        ]
    lean = region_table["synergy_minus_redundancy_rank"].to_numpy(dtype=float)
    if "n_groups" in region_table:
        lean = np.where(region_table["n_groups"].to_numpy() > 0, lean, np.nan)
    names = region_table["region_name"].astype(str).tolist()
    panels = [
        Panel(
            "region_rank",
            "Synergy − redundancy rank per region",
            "Rank of a region's synergy strength minus its redundancy rank (> 0 leans synergistic).",
            lambda: figures.plot_region_ranking(lean, names, atlas=atlas),
        )
    ]
    if run.coordinates is not None and "glass" in maps:
        panels.append(
            Panel(
                "region_rank_markers",
                "Synergy − redundancy rank (glass brain)",
                "Blue: regions leaning synergistic; red: leaning redundant.",
                lambda: brain.plot_region_markers(
                    lean,
                    run.coordinates,
                    kind="synergy_minus_redundancy",
                    atlas=atlas,
                    title="synergy − redundancy rank",
                    region_names=names,
                ),
            )
        )
    return panels


def _group_panels(run: Run) -> list[Panel]:
    ext = run.extremes
    if run.coordinates is None or ext.empty:
        return []
    n_syn, n_red = int((ext["o_info"] < 0).sum()), int((ext["o_info"] > 0).sum())
    heading = f"The {n_syn} most synergistic and {n_red} most redundant groups"
    return [
        Panel(
            "top_groups",
            heading,
            "Each group is a polygon through its regions (a triangle for a triplet), coloured by Ω.",
            lambda: brain.plot_hyperedges(
                group_members(ext),
                ext["o_info"].to_numpy(),
                run.coordinates,
                unit=run.unit,
                atlas=run.atlas_name,
                title=heading,
            ),
        )
    ]


def _network_panels(run: Run, enrichment: pd.DataFrame | None) -> list[Panel]:
    panels = []
    if run.networks is not None:
        matrix, _ = figures.network_pair_summary(run.table, run.networks)
        panels.append(
            Panel(
                "network_matrix",
                "Network × network Ω",
                "Mean Ω over the groups linking two networks (each region pair of a group counts once).",
                lambda: figures.plot_network_matrix(
                    matrix,
                    unit=run.unit,
                    atlas=run.atlas_name,
                    statistic_label="mean over groups; blank: no group",
                ),
            )
        )
    values, stars = (None, None) if enrichment is None else enrichment_matrix(enrichment)
    # with no significant group there is nothing to enrich: every cell is NaN, so leave the panel out
    if values is not None and np.isfinite(values.to_numpy()).any():
        panels.append(
            Panel(
                "network_enrichment",
                "Network enrichment",
                "Memberships of each network in significant groups over a label-permutation null.",
                lambda: figures.plot_network_matrix(
                    values,
                    kind="enrichment",
                    marks=stars,
                    atlas=run.atlas_name,
                    statistic_label="stars: FDR q < 0.05 / 0.01 / 0.001",
                    title="Network enrichment",
                ),
            )
        )
    return panels


def _test_panels(run: Run, group_stats: pd.DataFrame | None, refined: pd.DataFrame | None, top: int):
    panels = []
    table = run.table
    if not run.cohort and {"null_mean", "null_sd", "q_value"} <= set(table.columns):
        panels.append(
            Panel(
                "surrogate_test",
                "Observed Ω vs surrogate null",
                "Groups furthest from their surrogate null, with its mean ± 1.96 sd.",
                lambda: figures.plot_surrogate_test(
                    table.assign(label=run.labels), top=2 * top, unit=run.unit, atlas=run.atlas_name
                ),
            )
        )
    if group_stats is not None:
        test = str(group_stats["test"].iloc[0])
        kind = {"two_group": "o_info_difference", "regression": "o_info_slope"}.get(test, "o_info")
        contrast = str(group_stats["contrast"].iloc[0]) if "contrast" in group_stats else test
        frame = group_stats.assign(label=group_labels(group_stats, run.region_names))
        panels.append(
            Panel(
                "contrast",
                f"Group-level test: {contrast}",
                f"{test} test per group across subjects; stars: FDR q-values.",
                lambda: figures.plot_contrast(
                    frame,
                    effect="estimate",
                    ci_low="ci_low",
                    ci_high="ci_high",
                    q_column="q_value",
                    kind=kind,
                    unit=run.unit,
                    atlas=run.atlas_name,
                    contrast_name=contrast,
                    top=2 * top,
                ),
            )
        )
    if refined is not None:
        pair = agreement_values(refined) if "o_info_gc" in refined else agreement_values(table, refined)
        x, y, y_se, x_name, y_name = pair
        panels.append(
            Panel(
                "estimator_agreement",
                f"Agreement: {x_name} vs {y_name}",
                "Ω of the same groups from both estimators; outlined points change sign.",
                lambda: figures.plot_estimator_agreement(
                    x, y, y_se=y_se, unit=run.unit, x_name=x_name, y_name=y_name, atlas=run.atlas_name
                ),
            )
        )
    return panels


def build_panels(
    run: Run,
    *,
    group_stats: pd.DataFrame | None,
    refined: pd.DataFrame | None,
    region_table: pd.DataFrame | None,
    enrichment: pd.DataFrame | None,
    top: int,
    alpha: float,
    maps: set[str],
) -> tuple[list[Panel], pd.DataFrame | None]:
    """Every figure the inputs allow, in report order, and the region table used (computed with
    ``stats.region_summary`` / ``network_enrichment`` when the groups carry q-values and none was given).
    """
    if group_stats is not None:
        require_columns(group_stats, ["estimate", "q_value", "test"], "group_stats")
    if run.q_column is not None:
        from ..stats.regions import network_enrichment, region_summary

        flagged = run.table.assign(significant=run.table[run.q_column] < alpha)
        if region_table is None:
            region_table = region_summary(flagged, region_names=run.region_names, networks=run.networks)
        if enrichment is None and run.networks is not None:
            enrichment = network_enrichment(flagged, run.networks)
    panels = [
        *_distribution_panels(run, alpha),
        *_map_panels(run, maps),
        *_region_panels(run, region_table, maps),
        *_group_panels(run),
        *_network_panels(run, enrichment),
        *_test_panels(run, group_stats, refined, top),
    ]
    return panels, region_table
