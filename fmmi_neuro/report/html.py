"""``report(...)``: one self-contained HTML file (figures embedded as base64 PNG, inline CSS, no script, no
network) with provenance, summary tables, figures and the top groups, plus PNG and SVG files of every
figure.

Sign convention throughout: Omega = TC - DTC; Omega > 0 redundancy (red), Omega < 0 synergy (blue).
"""

from __future__ import annotations

import base64
import html
import io
import platform
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_in, check_positive_int
from . import brain, figures
from ._common import require_columns, table_unit
from .style import OMEGA_SIGN_NOTE, PAPER_RC
from .summaries import (
    agreement_values,
    average_over_subjects,
    enrichment_matrix,
    group_labels,
    group_members,
    region_mean,
    size_summary,
)

_CSS = """
body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;margin:2em auto;max-width:1100px;
color:#222;line-height:1.45;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;border-bottom:1px solid #ddd;padding-bottom:.2em;
margin-top:2em}.sign{background:#f6f6f6;border-left:4px solid #888;padding:.5em .8em;font-size:.95em}
.red{color:#b2182b;font-weight:600}.blue{color:#2166ac;font-weight:600}
table{border-collapse:collapse;font-size:.85em;margin:.6em 0}th,td{border:1px solid #ddd;padding:.25em .5em;
text-align:left;vertical-align:top}th{background:#f2f2f2}figure{margin:1.2em 0}
figure img{max-width:100%;height:auto;border:1px solid #eee}figcaption{font-size:.85em;color:#555}
.note{color:#8a4b00;font-size:.9em}
"""

_PACKAGES = (
    "fmmi-neuro",
    "numpy",
    "scipy",
    "pandas",
    "torch",
    "nilearn",
    "nibabel",
    "matplotlib",
    "statsmodels",
)


@dataclass
class _Figure:
    key: str
    title: str
    description: str
    png: str


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def _atlas_fields(atlas: Any) -> dict[str, Any]:
    """Name, coordinates, region names, networks, labels image and label values of an Atlas or a name."""
    if atlas is None or isinstance(atlas, str):
        return {"name": atlas}
    return {
        "name": getattr(atlas, "name", None),
        "coordinates": getattr(atlas, "coordinates", None),
        "region_names": getattr(atlas, "region_names", None),
        "networks": getattr(atlas, "networks", None),
        "labels_img": getattr(atlas, "labels_img", None),
        "label_values": getattr(atlas, "label_values", None),
        "citation": getattr(atlas, "citation", None),
        "space": getattr(atlas, "space", None),
    }


def _png_bytes(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=150, bbox_inches="tight", facecolor="white")
    return buffer.getvalue()


def _table_html(frame: pd.DataFrame, float_format: str = "{:.4g}") -> str:
    shown = frame.copy()
    for col in shown.columns:
        if pd.api.types.is_float_dtype(shown[col]):
            shown[col] = shown[col].map(lambda v: "" if pd.isna(v) else float_format.format(v))
    return shown.to_html(index=False, escape=True, border=0)


def _kv_table(items: Mapping[str, Any]) -> str:
    rows = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in items.items()
    )
    return f"<table>{rows}</table>"


def _extremes(table: pd.DataFrame, top: int) -> pd.DataFrame:
    """The ``top`` most synergistic groups with Ω < 0 and the ``top`` most redundant with Ω > 0."""
    syn = table[table["o_info"] < 0].nsmallest(top, "o_info")
    red = table[table["o_info"] > 0].nlargest(top, "o_info")
    return pd.concat([syn, red])


def _top_groups(
    table: pd.DataFrame, labels: list[str], top: int, q_column: str | None, unit: str, cohort: bool
) -> pd.DataFrame:
    extremes = _extremes(table.assign(_label=labels), top)
    out = pd.DataFrame(
        {
            "group_id": extremes["group_id"] if "group_id" in extremes else "",
            "regions": extremes["_label"],
            "size": extremes["size"],
            f"Ω ({unit})": extremes["o_info"],
            ("se across subjects" if cohort else "se"): extremes.get("o_info_se", np.nan),
            "direction": np.where(extremes["o_info"] < 0, "synergy (Ω < 0)", "redundancy (Ω > 0)"),
        }
    )
    if q_column:
        out["FDR q"] = extremes[q_column]
    return out.reset_index(drop=True)


def report(
    scores: pd.DataFrame,
    output_dir: str | Path,
    *,
    atlas: Any = None,
    coordinates: np.ndarray | None = None,
    region_names: Sequence[str] | None = None,
    networks: Sequence[str] | None = None,
    labels_img: Any = None,
    label_values: Sequence[int] | None = None,
    group_stats: pd.DataFrame | None = None,
    refined: pd.DataFrame | None = None,
    region_table: pd.DataFrame | None = None,
    enrichment: pd.DataFrame | None = None,
    title: str = "fmmi_neuro report: higher-order interactions",
    data_description: str | None = None,
    provenance: Mapping[str, Any] | None = None,
    top: int = 10,
    alpha: float = 0.05,
    formats: Sequence[str] = ("png", "svg"),
    maps: Sequence[str] = ("glass", "slices", "surface"),
    filename: str = "report.html",
) -> Path:
    """Write a self-contained HTML report of a scoring run and the figures as PNG/SVG files.

    Parameters
    ----------
    scores : DataFrame
        A group score table (``fmmi_neuro.score_groups``, or ``stats.surrogate_test`` with ``null_mean``,
        ``q_value``), or a subject-level table with a ``subject`` column (``stats.score_cohort``); the
        latter is averaged over subjects for the maps and landscapes.
    output_dir : str or Path
        Created if needed; receives ``filename`` and ``figures/<name>.<format>``.
    atlas : Atlas or str, optional
        An ``fmmi_neuro.io`` Atlas (its coordinates, names, networks and labels image are used) or a name.
    coordinates : ndarray, shape (n_regions, 3), optional
        MNI coordinates in mm (overrides the atlas'); needed for the glass-brain maps.
    region_names, networks : sequence of str, optional
        One per region (override the atlas' and ``scores.attrs``).
    labels_img, label_values : optional
        Labels image and the label of each region, for slice and surface maps.
    group_stats : DataFrame, optional
        ``stats.group_statistics`` output: a contrast (``two_group``/``regression``) is drawn as a forest
        plot; a ``one_sample`` test gives the q-values of the cohort's groups.
    refined : DataFrame, optional
        ``scoring.two_stage.two_stage_score`` output, or a score table of the other estimator on the same
        groups: drawn as the gaussian_copula vs fmmi agreement.
    region_table, enrichment : DataFrame, optional
        ``stats.region_summary`` / ``stats.network_enrichment`` outputs; computed here when the scores
        carry q-values (and networks are known) and they are not given.
    data_description : str, optional
        What the data are (dataset, subjects, preprocessing), printed under provenance.
    provenance : mapping, optional
        Extra provenance entries (e.g. the command line, the config file).
    top : int
        Number of top synergistic and top redundant groups listed and drawn.
    alpha : float
        FDR level for "significant".
    formats : sequence of {"png", "svg", "pdf"}
        Files written for each figure.
    maps : sequence of {"glass", "slices", "surface"}
        Brain views of the per-region values: glass-brain markers (needs coordinates), MNI152 slices and
        the fsaverage5 cortical surface (need a labels image). The surface takes a few seconds per format.

    Returns
    -------
    Path
        The HTML file.
    """
    import matplotlib
    import matplotlib.pyplot as plt

    require_columns(scores, ["o_info", "size"], "scores")
    top = check_positive_int(top, "top")
    unit = table_unit(scores)
    out = Path(output_dir)
    fig_dir = out / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)

    fields = _atlas_fields(atlas)
    atlas_name = fields.get("name") or scores.attrs.get("atlas")
    coordinates = coordinates if coordinates is not None else fields.get("coordinates")
    region_names = (
        list(
            region_names
            if region_names is not None
            else fields.get("region_names") or scores.attrs.get("region_names") or []
        )
        or None
    )
    networks = networks if networks is not None else fields.get("networks") or scores.attrs.get("networks")
    labels_img = labels_img if labels_img is not None else fields.get("labels_img")
    label_values = label_values if label_values is not None else fields.get("label_values")

    cohort = "subject" in scores.columns
    n_subjects = int(scores["subject"].nunique()) if cohort else 1
    table = average_over_subjects(scores) if cohort else scores.reset_index(drop=True)
    members = group_members(table)
    n_regions = (
        len(region_names)
        if region_names
        else len(coordinates)
        if coordinates is not None
        else max(max(g) for g in members) + 1
    )
    labels = group_labels(table, region_names)
    q_column = None
    if not cohort and "q_value" in table.columns:
        q_column = "q_value"
    elif group_stats is not None and "test" in group_stats and (group_stats["test"] == "one_sample").all():
        table = table.merge(group_stats[["group_id", "q_value"]], on="group_id", how="left")
        q_column = "q_value"
    scope = f"mean over {n_subjects} subjects" if cohort else "one data set"

    panels: list[tuple[str, str, str, Callable[[], Any]]] = [
        (
            "landscape",
            "Ω by group size",
            f"Distribution of Ω across groups of each size ({scope}).",
            lambda: figures.plot_landscape(table, unit=unit, atlas=atlas_name),
        ),
        (
            "synergy_fraction",
            "Synergistic groups by size",
            "Fraction of groups with Ω < 0"
            + (f" and significant at FDR q < {alpha:g}" if q_column else "")
            + ".",
            lambda: figures.plot_synergy_fraction(table, q_column=q_column, alpha=alpha, atlas=atlas_name),
        ),
    ]
    mean_omega = region_mean(table, n_regions)
    maps = {check_in(m, ("glass", "slices", "surface"), "maps") for m in maps}
    for fmt in formats:
        check_in(fmt, ("png", "svg", "pdf"), "formats")
    if coordinates is not None and "glass" in maps:
        panels.append(
            (
                "region_mean_markers",
                "Mean Ω per region (glass brain)",
                "Mean Ω of the groups each region belongs to; marker size grows with |Ω|.",
                lambda: brain.plot_region_markers(
                    mean_omega,
                    coordinates,
                    unit=unit,
                    atlas=atlas_name,
                    title="mean Ω of each region's groups",
                ),
            )
        )
    if labels_img is not None and "slices" in maps:
        panels.append(
            (
                "region_mean_slices",
                "Mean Ω per region (slices)",
                "The same per-region values painted on the atlas labels, MNI152 axial slices.",
                lambda: brain.plot_region_slices(
                    mean_omega,
                    labels_img,
                    label_values,
                    unit=unit,
                    atlas=atlas_name,
                    title="mean Ω per region",
                ),
            )
        )
    if labels_img is not None and "surface" in maps:
        panels.append(
            (
                "region_mean_surface",
                "Mean Ω per region (cortical surface)",
                "Projected on fsaverage5 (inflated); subcortical regions appear only on slices.",
                lambda: brain.plot_region_surface(
                    mean_omega,
                    labels_img,
                    label_values,
                    unit=unit,
                    atlas=atlas_name,
                    title="mean Ω per region",
                ),
            )
        )
    if region_table is None and q_column is not None:
        from ..stats.regions import region_summary

        region_table = region_summary(
            table.assign(significant=table[q_column] < alpha), region_names=region_names, networks=networks
        )
    if region_table is not None:
        sm = region_table["synergy_minus_redundancy_rank"].to_numpy(dtype=float)
        if "n_groups" in region_table:
            sm = np.where(region_table["n_groups"].to_numpy() > 0, sm, np.nan)
        names = region_table["region_name"].astype(str).tolist()
        panels.append(
            (
                "region_rank",
                "Synergy − redundancy rank per region",
                "Rank of a region's synergy strength minus its redundancy rank (> 0 leans synergistic).",
                lambda: figures.plot_region_ranking(sm, names, atlas=atlas_name),
            )
        )
        if coordinates is not None and "glass" in maps:
            panels.append(
                (
                    "region_rank_markers",
                    "Synergy − redundancy rank (glass brain)",
                    "Blue: regions leaning synergistic; red: leaning redundant.",
                    lambda: brain.plot_region_markers(
                        sm,
                        coordinates,
                        kind="synergy_minus_redundancy",
                        atlas=atlas_name,
                        title="synergy − redundancy rank",
                    ),
                )
            )
    else:
        panels.append(
            (
                "region_rank",
                "Regions ranked by mean Ω",
                "Most synergistic and most redundant regions.",
                lambda: figures.plot_region_ranking(
                    mean_omega,
                    region_names or [str(i) for i in range(n_regions)],
                    kind="o_info",
                    unit=unit,
                    atlas=atlas_name,
                ),
            )
        )
    extremes = _extremes(table, top)
    n_syn, n_red = int((extremes["o_info"] < 0).sum()), int((extremes["o_info"] > 0).sum())
    if coordinates is not None and len(extremes):
        panels.append(
            (
                "top_groups",
                f"The {n_syn} most synergistic and {n_red} most redundant groups",
                "Each group is a polygon through its regions (a triangle for a triplet), coloured by Ω.",
                lambda: brain.plot_hyperedges(
                    group_members(extremes),
                    extremes["o_info"].to_numpy(),
                    coordinates,
                    unit=unit,
                    atlas=atlas_name,
                    title=f"{n_syn} most synergistic and {n_red} most redundant groups",
                ),
            )
        )
    if networks is not None:
        matrix, _ = figures.network_pair_summary(table, networks)
        panels.append(
            (
                "network_matrix",
                "Network × network Ω",
                "Mean Ω over the groups linking two networks (each region pair of a group counts once).",
                lambda: figures.plot_network_matrix(matrix, unit=unit, atlas=atlas_name),
            )
        )
        if enrichment is None and q_column is not None:
            from ..stats.regions import network_enrichment

            enrichment = network_enrichment(table.assign(significant=table[q_column] < alpha), networks)
    if enrichment is not None:
        values, stars = enrichment_matrix(enrichment)
        panels.append(
            (
                "network_enrichment",
                "Network enrichment",
                "Memberships of each network in significant groups over a label-permutation null.",
                lambda: figures.plot_network_matrix(
                    values,
                    kind="enrichment",
                    marks=stars,
                    atlas=atlas_name,
                    statistic_label="stars: FDR q < 0.05 / 0.01 / 0.001",
                    title="Network enrichment",
                ),
            )
        )
    if not cohort and {"null_mean", "null_sd", "q_value"} <= set(table.columns):
        panels.append(
            (
                "surrogate_test",
                "Observed Ω vs surrogate null",
                "Groups furthest from their surrogate null, with its mean ± 1.96 sd.",
                lambda: figures.plot_surrogate_test(
                    table.assign(label=labels), top=2 * top, unit=unit, atlas=atlas_name
                ),
            )
        )
    contrast_rows = None
    if group_stats is not None:
        require_columns(group_stats, ["estimate", "q_value", "test"], "group_stats")
        test = str(group_stats["test"].iloc[0])
        kind = {"two_group": "o_info_difference", "regression": "o_info_slope"}.get(test, "o_info")
        contrast = str(group_stats["contrast"].iloc[0]) if "contrast" in group_stats else test
        stats_frame = group_stats.assign(label=group_labels(group_stats, region_names))
        contrast_rows = stats_frame
        panels.append(
            (
                "contrast",
                f"Group-level test: {contrast}",
                f"{test} test per group across subjects; stars: FDR q-values.",
                lambda: figures.plot_contrast(
                    stats_frame,
                    effect="estimate",
                    ci_low="ci_low",
                    ci_high="ci_high",
                    q_column="q_value",
                    kind=kind,
                    unit=unit,
                    atlas=atlas_name,
                    contrast_name=contrast,
                    top=2 * top,
                ),
            )
        )
    if refined is not None:
        x, y, y_se, x_name, y_name = (
            agreement_values(refined)
            if "o_info_gc" in refined
            else agreement_values(scores if not cohort else table, refined)
        )
        panels.append(
            (
                "estimator_agreement",
                f"Agreement: {x_name} vs {y_name}",
                "Ω of the same groups from both estimators; outlined points change sign.",
                lambda: figures.plot_estimator_agreement(
                    x, y, y_se=y_se, unit=unit, x_name=x_name, y_name=y_name, atlas=atlas_name
                ),
            )
        )

    rendered: list[_Figure] = []
    skipped: list[str] = []
    with matplotlib.rc_context(PAPER_RC):
        for key, fig_title, description, make in panels:
            try:
                fig = make()
            except ValueError as err:
                skipped.append(f"{fig_title}: {err}")
                warnings.warn(f"report: figure {key!r} skipped: {err}", stacklevel=2)
                continue
            png = _png_bytes(fig)
            for fmt in formats:
                if fmt == "png":
                    (fig_dir / f"{key}.png").write_bytes(png)
                else:
                    fig.savefig(fig_dir / f"{key}.{fmt}", dpi=150, bbox_inches="tight", facecolor="white")
            rendered.append(_Figure(key, fig_title, description, base64.b64encode(png).decode("ascii")))
            plt.close(fig)

    settings = scores.attrs.get("estimator_settings")
    prov = {
        "created (UTC)": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
        "data": data_description or scores.attrs.get("data", "not given"),
        "subjects": n_subjects if cohort else scores.attrs.get("subject", "one data set"),
        "atlas": atlas_name or "not given",
        "atlas space / citation": " / ".join(
            str(v) for v in (fields.get("space"), fields.get("citation")) if v
        )
        or "not given",
        "regions": n_regions,
        "groups scored": len(table),
        "estimator": ", ".join(map(str, pd.unique(scores["estimator"])))
        if "estimator" in scores
        else scores.attrs.get("estimator", "not given"),
        "estimator settings": settings if settings else "not recorded",
        "unit": unit,
        "sign convention": OMEGA_SIGN_NOTE,
        "seed": scores.attrs.get("seed", "not recorded"),
        "surrogate null": f"{scores.attrs['null_method']} ({scores.attrs.get('n_surrogates')} surrogates)"
        if "null_method" in scores.attrs
        else "none",
        **dict(provenance or {}),
    }
    versions = {**_versions(), **{k: v for k, v in (scores.attrs.get("versions") or {}).items()}}
    errors = scores.attrs.get("errors") or {}

    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        "<p class='sign'>O-information Ω = TC − DTC (in " + html.escape(unit) + "). "
        "<span class='red'>Ω &gt; 0: redundancy-dominated (red)</span>; "
        "<span class='blue'>Ω &lt; 0: synergy-dominated (blue)</span> (Rosas et al. 2019). "
        f"Atlas: {html.escape(str(atlas_name or 'not given'))}.</p>",
        "<h2>Provenance</h2>",
        _kv_table(prov),
        "<h3>Package versions</h3>",
        _kv_table(versions),
        "<h2>Summary by group size</h2>",
        _table_html(size_summary(table, q_column=q_column, alpha=alpha)),
        f"<h2>Top {top} synergistic and redundant groups</h2>",
        f"<p>{n_syn} group(s) with Ω &lt; 0 (synergy) and {n_red} with Ω &gt; 0 (redundancy) listed, at most "
        f"{top} of each ({scope}).</p>",
        _table_html(_top_groups(table, labels, top, q_column, unit, cohort)),
    ]
    if contrast_rows is not None:
        cols = [
            c
            for c in (
                "label",
                "size",
                "contrast",
                "n_subjects",
                "estimate",
                "ci_low",
                "ci_high",
                "effect_size",
                "p_value",
                "q_value",
            )
            if c in contrast_rows
        ]
        shown = contrast_rows.assign(_abs=contrast_rows["estimate"].abs()).nlargest(top, "_abs")[cols]
        parts += [
            f"<h2>Group-level test (top {top} by |estimate|, in {html.escape(unit)})</h2>",
            _table_html(shown.rename(columns={"label": "regions"})),
        ]
    if region_table is not None:
        cols = [
            c
            for c in (
                "region_name",
                "network",
                "n_groups",
                "n_significant_synergy",
                "n_significant_redundancy",
                "synergy_minus_redundancy_rank",
            )
            if c in region_table
        ]
        shown = region_table.sort_values("synergy_minus_redundancy_rank", ascending=False)[cols]
        parts += [
            "<h2>Regions leaning synergistic (top) and redundant (bottom)</h2>",
            _table_html(pd.concat([shown.head(top), shown.tail(top)]).drop_duplicates()),
        ]
    parts.append("<h2>Figures</h2>")
    for item in rendered:
        parts.append(
            f"<figure id='{item.key}'><img alt='{html.escape(item.title)}' "
            f"src='data:image/png;base64,{item.png}'><figcaption><b>{html.escape(item.title)}.</b> "
            f"{html.escape(item.description)} Files: figures/{item.key}."
            f"{{{','.join(map(html.escape, formats))}}}</figcaption></figure>"
        )
    for message in skipped:
        parts.append(f"<p class='note'>Figure not drawn — {html.escape(message)}</p>")
    if errors:
        parts += ["<h2>Subjects that failed</h2>", _kv_table(errors)]
    parts.append("</body></html>")
    path = out / filename
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
