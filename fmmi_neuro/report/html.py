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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_in, check_positive_int, check_some_finite
from ..scoring.frames import STATUSES
from ._common import require_columns, table_unit
from .panels import MAPS, Panel, Run, build_panels, resolve_run
from .style import OMEGA_SIGN_NOTE, PAPER_RC
from .summaries import group_labels, size_summary

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
_FORMATS = ("png", "svg", "pdf")


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


def _draw(panels: list[Panel], fig_dir: Path, formats: Sequence[str]) -> tuple[list[_Figure], list[str]]:
    """Draw every panel, save its files and keep its PNG; a panel whose data cannot be drawn (ValueError)
    is reported, with a warning, instead of stopping the report."""
    import matplotlib
    import matplotlib.pyplot as plt

    rendered, skipped = [], []
    with matplotlib.rc_context(PAPER_RC):
        for panel in panels:
            try:
                fig = panel.make()
            except ValueError as err:
                skipped.append(f"{panel.title}: {err}")
                warnings.warn(f"report: figure {panel.key!r} skipped: {err}", stacklevel=3)
                continue
            png = _png_bytes(fig)
            for fmt in formats:
                if fmt == "png":
                    (fig_dir / f"{panel.key}.png").write_bytes(png)
                else:
                    fig.savefig(
                        fig_dir / f"{panel.key}.{fmt}", dpi=150, bbox_inches="tight", facecolor="white"
                    )
            rendered.append(
                _Figure(panel.key, panel.title, panel.description, base64.b64encode(png).decode())
            )
            plt.close(fig)
    return rendered, skipped


def _provenance(run: Run, data_description: str | None, extra: Mapping[str, Any] | None) -> dict[str, Any]:
    attrs = run.scores.attrs
    fields = run.atlas_fields
    settings = attrs.get("estimator_settings")
    if "estimator" in run.scores:
        estimator = ", ".join(map(str, pd.unique(run.scores["estimator"])))
    else:
        estimator = attrs.get("estimator", "not given")
    null = (
        f"{attrs['null_method']} ({attrs.get('n_surrogates')} surrogates)"
        if "null_method" in attrs
        else "none"
    )
    space_citation = " / ".join(str(v) for v in (fields.get("space"), fields.get("citation")) if v)
    regions = (
        run.n_regions
        if run.regions_recorded
        else f"at least {run.n_regions} (largest region index + 1; the table does not record the count)"
    )
    if run.cohort:
        groups = {"groups scored per subject": len(run.table)}
    elif "p_value" in run.table.columns:
        groups = {"groups tested against surrogates": len(run.table)}
    else:
        groups = {"groups scored": len(run.table)}
    return {
        "created (UTC)": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
        "data": data_description or attrs.get("data", "not given"),
        "subjects": run.n_subjects if run.cohort else attrs.get("subject", "one data set"),
        "atlas": run.atlas_name,
        "atlas space / citation": space_citation or "not given",
        "regions": regions,
        **groups,
        "estimator": estimator,
        "estimator settings": settings or ("defaults" if "estimator_settings" in attrs else "not recorded"),
        "unit": run.unit,
        "sign convention": OMEGA_SIGN_NOTE,
        "seed": attrs.get("seed", "not recorded"),
        "surrogate null": null,
        **dict(extra or {}),
    }


def _fdr_floor_note(run: Run, alpha: float) -> str:
    """A warning paragraph when the surrogate count keeps every BH q above ``alpha`` (single data set)."""
    from ..stats.multitest import fdr_floor

    table, attrs = run.table, run.scores.attrs
    if run.cohort or "p_value" not in table.columns:
        return ""
    n_surrogates = attrs.get("n_surrogates")
    if n_surrogates is None and "n_surrogates" in table.columns:
        n_surrogates = table["n_surrogates"].iloc[0]
    if not n_surrogates:
        return ""
    alternative = attrs.get("alternative", "two-sided")
    floor = fdr_floor(
        table["p_value"].to_numpy(dtype=float), int(n_surrogates), alternative=alternative, alpha=alpha
    )
    if floor.smallest_q <= alpha:
        return ""
    return (
        f"<p class='note'><b>No group can reach FDR q &lt; {alpha:g} here.</b> With {int(n_surrogates)} "
        f"surrogates the smallest possible p-value is {floor.smallest_p:.3g} ({html.escape(alternative)}); "
        f"over {floor.n_tests} tests, the {floor.n_at_floor} group(s) whose Ω lies beyond every surrogate "
        f"get q = {floor.smallest_q:.3g} at best, the smallest attainable q. Use at least "
        f"{floor.surrogates_needed} surrogates, or test fewer groups.</p>"
    )


def _left_out_html(run: Run, group_stats: pd.DataFrame | None) -> str:
    """What the tables hold without an estimate or a p-value, and why (status columns), and the group
    statistics' notes (e.g. a two-group test with very few subjects)."""
    scores, parts = run.scores, []
    status = (
        scores["status"]
        if "status" in scores
        else pd.Series(
            np.where(np.isfinite(scores["o_info"].to_numpy(dtype=float)), "ok", "nonfinite"),
            index=scores.index,
        )
    )
    bad = scores.loc[status != "ok"].assign(status=status[status != "ok"])
    if len(bad):
        if run.cohort:
            counts = bad.groupby(["subject", "status"]).size()
            listing = ", ".join(f"subject {s!r}: {n} group(s) {k}" for (s, k), n in counts.items())
            what = f"{len(bad)} (subject, group) row(s) have no usable estimate or null ({listing})"
        else:
            ids = ", ".join(map(str, bad["group_id"].head(10)))
            more = " ..." if len(bad) > 10 else ""
            what = f"{len(bad)} group(s) have no usable estimate or null ({ids}{more})"
        meanings = "; ".join(f"'{k}': {STATUSES.get(k, 'not ok')}" for k in sorted(set(bad["status"])))
        parts.append(
            f"<p class='note'>{html.escape(what)}. {html.escape(meanings)}. They stay out of the FDR and "
            "of the group statistics (which count them in 'n_excluded').</p>"
        )
    for note in (group_stats.attrs.get("notes") or []) if group_stats is not None else []:
        parts.append(f"<p class='note'>{html.escape(str(note))}</p>")
    if group_stats is not None and "status" in group_stats:
        short = group_stats.loc[group_stats["status"] != "ok", "group_id"]
        if len(short):
            ids = ", ".join(map(str, short.head(10)))
            parts.append(
                f"<p class='note'>{len(short)} group(s) have no group-level p-value: too few subjects with a "
                f"finite value (status 'too_few_subjects'): {html.escape(ids)}"
                f"{' ...' if len(short) > 10 else ''}.</p>"
            )
    if not parts:
        return ""
    return "<h2>Left out and caveats</h2>" + "".join(parts)


def _top_groups(run: Run) -> pd.DataFrame:
    """The run's most synergistic and most redundant groups as a table with region names."""
    ext = run.extremes
    labels = dict(zip(run.table.index, run.labels, strict=True))
    out = pd.DataFrame(
        {
            "group_id": ext["group_id"] if "group_id" in ext else "",
            "regions": [labels[i] for i in ext.index],
            "size": ext["size"],
            f"Ω ({run.unit})": ext["o_info"],
            ("se across subjects" if run.cohort else "se"): ext.get("o_info_se", np.nan),
            "direction": np.where(ext["o_info"] < 0, "synergy (Ω < 0)", "redundancy (Ω > 0)"),
        }
    )
    if run.q_column:
        out["FDR q"] = ext[run.q_column]
    return out.dropna(axis=1, how="all").reset_index(drop=True)


def _contrast_table(run: Run, group_stats: pd.DataFrame, top: int) -> pd.DataFrame:
    columns = (
        "size",
        "contrast",
        "n_subjects",
        "n_excluded",
        "estimate",
        "ci_low",
        "ci_high",
        "effect_size",
        "p_value",
        "q_value",
    )
    frame = group_stats.assign(regions=group_labels(group_stats, run.region_names))
    frame = frame.assign(_abs=frame["estimate"].abs()).nlargest(top, "_abs")
    return frame[["regions", *[c for c in columns if c in frame]]]


def _region_rows(region_table: pd.DataFrame, top: int) -> pd.DataFrame:
    columns = (
        "region_name",
        "network",
        "n_groups",
        "n_significant_synergy",
        "n_significant_redundancy",
        "synergy_minus_redundancy_rank",
    )
    shown = region_table.sort_values("synergy_minus_redundancy_rank", ascending=False)
    if "n_groups" in shown:
        shown = shown[shown["n_groups"] > 0]
    shown = shown[[c for c in columns if c in shown]]
    return pd.concat([shown.head(top), shown.tail(top)]).drop_duplicates()


def _page(
    run: Run,
    *,
    title: str,
    provenance: dict[str, Any],
    rendered: list[_Figure],
    skipped: list[str],
    formats: Sequence[str],
    group_stats: pd.DataFrame | None,
    region_table: pd.DataFrame | None,
    top: int,
    alpha: float,
) -> str:
    n_syn = int((run.extremes["o_info"] < 0).sum())
    n_red = int((run.extremes["o_info"] > 0).sum())
    versions = {**_versions(), **(run.scores.attrs.get("versions") or {})}
    unit = html.escape(run.unit)
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p class='sign'>O-information Ω = TC − DTC (in {unit}). "
        "<span class='red'>Ω &gt; 0: redundancy-dominated (red)</span>; "
        "<span class='blue'>Ω &lt; 0: synergy-dominated (blue)</span> (Rosas et al. 2019). "
        f"Atlas: {html.escape(run.atlas_name)}.</p>",
        "<h2>Provenance</h2>",
        _kv_table(provenance),
        "<h3>Package versions (at scoring time where the table records them)</h3>",
        _kv_table(versions),
        "<h2>Summary by group size</h2>",
        _table_html(size_summary(run.table, q_column=run.q_column, alpha=alpha)),
        _fdr_floor_note(run, alpha),
        _left_out_html(run, group_stats),
        f"<h2>Top {top} synergistic and redundant groups</h2>",
        f"<p>{n_syn} group(s) with Ω &lt; 0 (synergy) and {n_red} with Ω &gt; 0 (redundancy) listed, at most "
        f"{top} of each ({run.scope}).</p>",
        _table_html(_top_groups(run)),
    ]
    if group_stats is not None:
        parts += [
            f"<h2>Group-level test (top {top} by |estimate|, in {unit})</h2>",
            _table_html(_contrast_table(run, group_stats, top)),
        ]
    if region_table is not None:
        parts += [
            "<h2>Regions leaning synergistic (top) and redundant (bottom)</h2>",
            _table_html(_region_rows(region_table, top)),
        ]
    parts.append("<h2>Figures</h2>")
    files = ",".join(map(html.escape, formats))
    for item in rendered:
        parts.append(
            f"<figure id='{item.key}'><img alt='{html.escape(item.title)}' "
            f"src='data:image/png;base64,{item.png}'><figcaption><b>{html.escape(item.title)}.</b> "
            f"{html.escape(item.description)} Files: figures/{item.key}.{{{files}}}</figcaption></figure>"
        )
    parts += [f"<p class='note'>Figure not drawn — {html.escape(message)}</p>" for message in skipped]
    errors = run.scores.attrs.get("errors") or {}
    if errors:
        parts += ["<h2>Subjects that failed</h2>", _kv_table(errors)]
    parts.append("</body></html>")
    return "\n".join(parts)


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
    require_columns(scores, ["o_info", "size"], "scores")
    check_some_finite(scores["o_info"].to_numpy(dtype=float), "scores['o_info']")
    top = check_positive_int(top, "top")
    maps = {check_in(m, MAPS, "maps") for m in maps}
    for fmt in formats:
        check_in(fmt, _FORMATS, "formats")
    run = resolve_run(
        scores,
        table_unit(scores),
        atlas=atlas,
        coordinates=coordinates,
        region_names=region_names,
        networks=networks,
        labels_img=labels_img,
        label_values=label_values,
        group_stats=group_stats,
        top=top,
    )
    panels, region_table = build_panels(
        run,
        group_stats=group_stats,
        refined=refined,
        region_table=region_table,
        enrichment=enrichment,
        top=top,
        alpha=alpha,
        maps=maps,
    )
    out = Path(output_dir)
    fig_dir = out / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    rendered, skipped = _draw(panels, fig_dir, formats)
    page = _page(
        run,
        title=title,
        provenance=_provenance(run, data_description, provenance),
        rendered=rendered,
        skipped=skipped,
        formats=formats,
        group_stats=group_stats,
        region_table=region_table,
        top=top,
        alpha=alpha,
    )
    path = out / filename
    path.write_text(page, encoding="utf-8")
    return path
