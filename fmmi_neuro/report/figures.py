"""Statistics figures: the Ω landscape by group size, fraction of synergistic groups, network × network
summaries, group contrasts with significance marks, surrogate null vs observed, estimator agreement and
region rankings.

Inputs are tidy DataFrames with the group-score columns (``size``, ``o_info``, ``unit``, ...) or plain
arrays. Sign convention everywhere: Omega = TC - DTC; Omega > 0 redundancy (red), Omega < 0 synergy (blue).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations_with_replacement
from pathlib import Path

import numpy as np
import pandas as pd

from .._validation import check_some_finite
from ._common import figure_and_axes, parse_regions, require_columns, save_figure, table_unit
from .style import (
    NEUTRAL_COLOR,
    OMEGA_SIGN_NOTE,
    REDUNDANCY_COLOR,
    SYNERGY_COLOR,
    add_caption,
    caption,
    color_limits,
    color_norm,
    omega_color,
    significance_stars,
    value_kind,
    value_label,
)


def _shade_sign(ax, horizontal: bool = True) -> None:
    """Light red above / blue below zero, with the words 'redundancy' and 'synergy'."""
    if horizontal:
        ax.axhline(0.0, color=NEUTRAL_COLOR, lw=0.8)
        lo, hi = ax.get_ylim()
        ax.axhspan(0, max(hi, 0), color=REDUNDANCY_COLOR, alpha=0.06, zorder=0)
        ax.axhspan(min(lo, 0), 0, color=SYNERGY_COLOR, alpha=0.06, zorder=0)
        ax.set_ylim(lo, hi)
        kw = dict(transform=ax.get_yaxis_transform(), fontsize=7, ha="right", rotation=90)
        if hi > 0:
            ax.text(1.0, hi, "redundancy ↑", color=REDUNDANCY_COLOR, va="top", **kw)
        if lo < 0:
            ax.text(1.0, lo, "synergy ↓", color=SYNERGY_COLOR, va="bottom", **kw)
    else:
        ax.axvline(0.0, color=NEUTRAL_COLOR, lw=0.8)
        lo, hi = ax.get_xlim()
        ax.axvspan(0, max(hi, 0), color=REDUNDANCY_COLOR, alpha=0.06, zorder=0)
        ax.axvspan(min(lo, 0), 0, color=SYNERGY_COLOR, alpha=0.06, zorder=0)
        ax.set_xlim(lo, hi)


def _wrap(label, width: int = 38) -> str:
    """Wrap a group label (region names joined by " · ") onto lines of about ``width`` characters."""
    import textwrap

    return textwrap.fill(str(label).replace(" · ", "\u00a0· "), width, break_long_words=False).replace(
        "\u00a0", " "
    )


def _rows_height(labels: Sequence[str]) -> float:
    """Figure height (inches) for one row per label, counting wrapped lines."""
    return 1.4 + 0.17 * sum(label.count("\n") + 1 for label in labels) + 0.05 * len(labels)


def _finish(fig, ax, title, default_title, text, output_file):
    ax.set_title(title if title is not None else default_title)
    add_caption(fig, text)
    save_figure(fig, output_file)
    return fig


def plot_landscape(
    table: pd.DataFrame,
    *,
    column: str = "o_info",
    unit: str | None = None,
    atlas: str | None = None,
    max_points: int = 1500,
    ax=None,
    title: str | None = None,
    output_file: str | Path | None = None,
):
    """Distribution of Ω (or another group quantity) by group size: violins, points and medians.

    Parameters
    ----------
    table : DataFrame
        Group scores with columns ``size`` and ``column`` (and ``unit`` unless ``unit`` is given).
    column : str
        Quantity to show (``"o_info"``, ``"tc"``, ``"dtc"``, ``"s_info"``).
    max_points : int
        At most this many points per size are drawn (an evenly spaced subset of the sorted values), the
        violin always uses all of them.

    Returns
    -------
    matplotlib.figure.Figure
    """
    require_columns(table, ["size", column], "table")
    unit = table_unit(table, unit)
    values = check_some_finite(table[column].to_numpy(), f"table[{column!r}]")
    sizes = table["size"].to_numpy()
    ok = np.isfinite(values)
    fig, ax = figure_and_axes(ax, (5.0, 3.6))
    levels = np.unique(sizes[ok])
    for pos, k in enumerate(levels):
        v = np.sort(values[ok & (sizes == k)])
        if v.size >= 5 and np.ptp(v) > 0:
            parts = ax.violinplot(v, positions=[pos], widths=0.8, showextrema=False)
            for body in parts["bodies"]:
                body.set_facecolor("#bdbdbd")
                body.set_alpha(0.6)
        shown = v[np.linspace(0, v.size - 1, min(v.size, max_points)).astype(int)]
        jitter = (np.arange(shown.size) * 0.618034 % 1.0 - 0.5) * 0.35
        ax.scatter(
            pos + jitter,
            shown,
            s=4,
            c=[omega_color(x) for x in shown] if column == "o_info" else "k",
            alpha=0.5,
            linewidths=0,
        )
        ax.plot([pos - 0.3, pos + 0.3], [np.median(v)] * 2, color="k", lw=1.5)
        ax.annotate(
            f"n={v.size}",
            (pos, 1.0),
            xycoords=("data", "axes fraction"),
            ha="center",
            va="bottom",
            fontsize=7,
        )
    ax.set_xticks(range(len(levels)), [str(int(k)) for k in levels])
    ax.set_xlabel("group size (regions)")
    ax.set_ylabel(value_label(column, unit))
    if column == "o_info":
        _shade_sign(ax)
    return _finish(
        fig,
        ax,
        title,
        f"{value_kind(column).label} by group size\n",
        caption(column, unit, atlas, "black bar: median"),
        output_file,
    )


def _wilson(successes: np.ndarray, n: np.ndarray, z: float = 1.959964) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score 95% interval of a binomial proportion."""
    p = successes / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return centre - half, centre + half


def plot_synergy_fraction(
    table: pd.DataFrame,
    *,
    q_column: str | None = None,
    alpha: float = 0.05,
    atlas: str | None = None,
    ax=None,
    title: str | None = None,
    output_file: str | Path | None = None,
):
    """Fraction of synergistic groups (Ω < 0) by group size, with Wilson 95% intervals.

    With ``q_column`` (FDR q-values of each group), the fractions significantly synergistic
    (Ω < 0, q < alpha) and significantly redundant (Ω > 0, q < alpha) are drawn beside it.

    Returns
    -------
    matplotlib.figure.Figure
    """
    require_columns(table, ["size", "o_info"] + ([q_column] if q_column else []), "table")
    omega = check_some_finite(table["o_info"].to_numpy(), "table['o_info']")
    ok = np.isfinite(omega)
    sizes = table["size"].to_numpy()[ok]
    omega = omega[ok]
    q = table[q_column].to_numpy()[ok] if q_column else None
    levels = np.unique(sizes)
    n = np.array([(sizes == k).sum() for k in levels], dtype=float)
    series = {
        "Ω < 0 (synergistic)": (np.array([(omega[sizes == k] < 0).sum() for k in levels]), SYNERGY_COLOR)
    }
    if q is not None:
        sig = q < alpha
        series[f"Ω < 0, q < {alpha:g}"] = (
            np.array([((omega < 0) & sig)[sizes == k].sum() for k in levels]),
            "#053061",
        )
        series[f"Ω > 0, q < {alpha:g}"] = (
            np.array([((omega > 0) & sig)[sizes == k].sum() for k in levels]),
            REDUNDANCY_COLOR,
        )
    fig, ax = figure_and_axes(ax, (5.0, 3.4))
    width = 0.8 / len(series)
    x = np.arange(levels.size)
    for j, (name, (counts, colour)) in enumerate(series.items()):
        lo, hi = _wilson(counts.astype(float), n)
        frac = counts / n
        pos = x - 0.4 + width * (j + 0.5)
        ax.bar(pos, frac, width=width * 0.95, color=colour, label=name)
        yerr = np.clip([frac - lo, hi - frac], 0, None)  # rounding can put the Wilson bound past the estimate
        ax.errorbar(pos, frac, yerr=yerr, fmt="none", ecolor="k", elinewidth=0.8, capsize=2)
    ax.axhline(0.5, color=NEUTRAL_COLOR, lw=0.7, ls="--")
    ax.set_xticks(x, [f"{int(k)}\n(n={int(m)})" for k, m in zip(levels, n, strict=True)])
    ax.set_xlabel("group size (regions)")
    ax.set_ylabel("fraction of groups")
    ax.set_ylim(0, 1.05)
    ax.legend(frameon=False, loc="upper left")
    return _finish(
        fig,
        ax,
        title,
        "Synergistic groups by size",
        f"{OMEGA_SIGN_NOTE} · bars: 95% Wilson interval" + (f" · atlas: {atlas}" if atlas else ""),
        output_file,
    )


def network_pair_summary(
    table: pd.DataFrame,
    networks: Sequence[str],
    *,
    column: str = "o_info",
    statistic: str = "mean",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Summarise group values over network pairs: every pair of regions of a group adds the group's value
    to the cell (network of region a, network of region b).

    Parameters
    ----------
    table : DataFrame
        Group scores with ``regions`` (or ``group_id``) and ``column``.
    networks : sequence of str, shape (n_regions,)
        Network of each region (index = region index used in ``regions``).
    statistic : {"mean", "median"}

    Returns
    -------
    summary : DataFrame, shape (n_networks, n_networks)
        Symmetric; NaN where no group links the two networks.
    counts : DataFrame, shape (n_networks, n_networks)
        Number of (group, region pair) contributions per cell.
    """
    key = "regions" if "regions" in table.columns else "group_id"
    require_columns(table, [key, column], "table")
    nets = [str(n) for n in networks]
    names = sorted(set(nets))
    cells: dict[tuple[str, str], list[float]] = {}
    for regions, value in zip(table[key], table[column], strict=True):
        if not np.isfinite(value):
            continue
        regs = parse_regions(regions)
        for i, a in enumerate(regs):
            for b in regs[i + 1 :]:
                if max(a, b) >= len(nets):
                    raise ValueError(
                        f"region {max(a, b)} has no network ('networks' has {len(nets)} entries)."
                    )
                pair = tuple(sorted((nets[a], nets[b])))
                cells.setdefault(pair, []).append(float(value))
    if not cells:
        raise ValueError(f"table[{column!r}] has no finite value: nothing to summarise.")
    reduce = {"mean": np.mean, "median": np.median}[statistic]
    summary = pd.DataFrame(np.nan, index=names, columns=names)
    counts = pd.DataFrame(0, index=names, columns=names)
    for a, b in combinations_with_replacement(names, 2):
        vals = cells.get((a, b), [])
        if vals:
            summary.loc[a, b] = summary.loc[b, a] = reduce(vals)
            counts.loc[a, b] = counts.loc[b, a] = len(vals)
    return summary, counts


def plot_network_matrix(
    matrix: pd.DataFrame,
    *,
    kind: str = "o_info",
    unit: str | None = None,
    atlas: str | None = None,
    annotate: bool | None = None,
    marks: pd.DataFrame | None = None,
    statistic_label: str = "mean over groups",
    ax=None,
    title: str | None = None,
    output_file: str | Path | None = None,
):
    """Network × network heatmap (e.g. mean Ω of groups linking two networks, or enrichment).

    Parameters
    ----------
    matrix : DataFrame, shape (n_networks, n_networks)
        Values, rows and columns named by network; NaN cells are left blank.
    kind : str
        Quantity (a key of ``style.KINDS``): colour map, label and sign note.
    annotate : bool, optional
        Write each cell's value (default: when there are at most 12 networks).
    marks : DataFrame of str, optional
        Same shape; text (e.g. significance stars) drawn in each cell under the value.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not isinstance(matrix, pd.DataFrame):
        raise TypeError(f"'matrix' must be a DataFrame (networks × networks); got {type(matrix).__name__}.")
    values = check_some_finite(matrix.to_numpy(dtype=float), "matrix", ndim=2)
    spec = value_kind(kind)
    norm = color_norm(values, kind)
    lo, hi = norm.vmin, norm.vmax
    n_rows, n_cols = values.shape
    fig, ax = figure_and_axes(ax, (min(11.0, 2.0 + 0.55 * n_cols), min(10.0, 1.5 + 0.5 * n_rows)))
    image = ax.imshow(np.ma.masked_invalid(values), cmap=spec.cmap, norm=norm)
    ax.set_xticks(range(n_cols), [str(c) for c in matrix.columns], rotation=45, ha="right")
    ax.set_yticks(range(n_rows), [str(r) for r in matrix.index])
    ax.spines[:].set_visible(False)
    if annotate or (annotate is None and max(n_rows, n_cols) <= 12):
        for i in range(n_rows):
            for j in range(n_cols):
                if np.isfinite(values[i, j]):
                    text = f"{values[i, j]:.2g}"
                    if marks is not None:
                        text += f"\n{marks.iloc[i, j]}" if str(marks.iloc[i, j]) else ""
                    dark = abs(values[i, j] - (lo + hi) / 2) > 0.35 * (hi - lo)
                    ax.text(j, i, text, ha="center", va="center", fontsize=6.5, color="w" if dark else "k")
    wide = n_cols >= 3 * n_rows
    bar = fig.colorbar(image, ax=ax, shrink=0.6 if wide else 0.8, location="bottom" if wide else "right")
    bar.set_label(value_label(kind, unit))
    return _finish(
        fig, ax, title, "Network × network summary", caption(kind, unit, atlas, statistic_label), output_file
    )


def plot_contrast(
    table: pd.DataFrame,
    *,
    effect: str = "effect",
    ci_low: str | None = None,
    ci_high: str | None = None,
    q_column: str | None = None,
    label: str = "label",
    kind: str = "o_info_difference",
    unit: str | None = None,
    atlas: str | None = None,
    contrast_name: str | None = None,
    top: int = 20,
    ax=None,
    title: str | None = None,
    output_file: str | Path | None = None,
):
    """Forest plot of a group contrast: effect per group (e.g. ΔΩ between two sets of subjects) with its
    interval and significance stars from FDR q-values (* < 0.05, ** < 0.01, *** < 0.001).

    Parameters
    ----------
    table : DataFrame
        One row per group with columns ``effect``, ``label`` and optionally ``ci_low``/``ci_high`` and
        ``q_column``. The ``top`` rows of largest ``|effect|`` are drawn.
    kind : str
        ``"o_info_difference"`` (ΔΩ in ``unit``) or ``"effect_size"`` (standardised, unitless).
    contrast_name : str, optional
        What ``effect > 0`` means, e.g. ``"adults − children"``; printed in the caption.

    Returns
    -------
    matplotlib.figure.Figure
    """
    cols = [effect, label] + [c for c in (ci_low, ci_high, q_column) if c]
    require_columns(table, cols, "table")
    eff = check_some_finite(table[effect].to_numpy(), f"table[{effect!r}]")
    rows = table.assign(_abs=np.abs(eff)).loc[np.isfinite(eff)].nlargest(top, "_abs").iloc[::-1]
    names = [_wrap(v) for v in rows[label]]
    fig, ax = figure_and_axes(ax, (6.0, _rows_height(names)))
    y = np.arange(len(rows))
    vals = rows[effect].to_numpy(dtype=float)
    colours = [omega_color(v) for v in vals]
    if ci_low and ci_high:
        lo, hi = rows[ci_low].to_numpy(dtype=float), rows[ci_high].to_numpy(dtype=float)
        ax.hlines(y, lo, hi, colors=colours, lw=1.2)
    ax.scatter(vals, y, c=colours, s=18, zorder=3, edgecolors="k", linewidths=0.3)
    if q_column:
        right = np.nanmax(np.abs(np.r_[vals, rows[ci_high].to_numpy(dtype=float)] if ci_high else vals))
        for yi, q in zip(y, rows[q_column].to_numpy(dtype=float), strict=True):
            ax.text(
                1.01, yi, significance_stars(q), transform=ax.get_yaxis_transform(), va="center", fontsize=8
            )
        ax.set_xlim(-1.1 * right, 1.1 * right)
    ax.set_yticks(y, names, fontsize=7)
    ax.set_xlabel(value_label(kind, unit) + (f"  ({contrast_name})" if contrast_name else ""))
    ax.set_ylim(-0.7, len(rows) - 0.3)
    _shade_sign(ax, horizontal=False)
    extra = "stars: FDR q < 0.05 / 0.01 / 0.001" if q_column else None
    if contrast_name:
        extra = f"effect = {contrast_name}" + (f"; {extra}" if extra else "")
    return _finish(
        fig,
        ax,
        title,
        f"Group contrast: top {len(rows)} groups by |effect|",
        caption(kind, unit, atlas, extra),
        output_file,
    )


def plot_null_vs_observed(
    null,
    observed,
    *,
    labels: Sequence[str] | None = None,
    p_values=None,
    unit: str,
    atlas: str | None = None,
    null_name: str = "surrogate null",
    ax=None,
    title: str | None = None,
    output_file: str | Path | None = None,
):
    """Observed Ω against its surrogate null distribution.

    Parameters
    ----------
    null : array-like, shape (n_surrogates,) or (n_groups, n_surrogates)
        Ω of surrogate data, in ``unit``.
    observed : float or array-like, shape (n_groups,)
        Ω of the real data, in ``unit``.
    labels : sequence of str, shape (n_groups,), optional
        Group names for the many-group view.
    p_values : float or array-like, shape (n_groups,), optional
        Printed (one group) or marked with stars (many groups).

    One group: histogram of the null with the observed value as a vertical line. Many groups: per group,
    the null's 2.5–97.5 % range (grey) and median (tick), and the observed value (red = redundancy,
    blue = synergy).

    Returns
    -------
    matplotlib.figure.Figure
    """
    null_arr = np.asarray(null, dtype=float)
    obs = np.atleast_1d(np.asarray(observed, dtype=float))
    if null_arr.ndim == 1:
        null_arr = null_arr[None, :]
    check_some_finite(null_arr, "null", ndim=2)
    check_some_finite(obs, "observed")
    if null_arr.shape[0] != obs.size:
        raise ValueError(f"'null' has {null_arr.shape[0]} groups but 'observed' has {obs.size} values.")
    pvals = None if p_values is None else np.atleast_1d(np.asarray(p_values, dtype=float))
    if obs.size == 1:
        fig, ax = figure_and_axes(ax, (4.5, 3.2))
        finite = null_arr[0][np.isfinite(null_arr[0])]
        ax.hist(
            finite,
            bins=max(10, min(50, finite.size // 5)),
            color="#bdbdbd",
            edgecolor="white",
            label=f"{null_name} (n={finite.size})",
        )
        ax.axvline(obs[0], color=omega_color(obs[0]), lw=2, label=f"observed Ω = {obs[0]:.3g}")
        ax.set_xlabel(value_label("o_info", unit))
        ax.set_ylabel("surrogates")
        if pvals is not None:
            ax.text(0.98, 0.95, f"p = {pvals[0]:.3g}", transform=ax.transAxes, ha="right", va="top")
        ax.legend(frameon=False, loc="upper left", fontsize=7)
        _shade_sign(ax, horizontal=False)
    else:
        names = [_wrap(v) for v in labels] if labels is not None else [f"group {i}" for i in range(obs.size)]
        fig, ax = figure_and_axes(ax, (6.0, _rows_height(names)))
        q = np.nanquantile(null_arr, [0.025, 0.5, 0.975], axis=1)
        stars = [significance_stars(p) for p in pvals] if pvals is not None else None
        _null_rows(ax, obs, q[0], q[1], q[2], names, stars)
        ax.set_xlabel(value_label("o_info", unit))
        key = f"grey bar: {null_name} 2.5–97.5 %; tick: null median; dot: observed Ω"
        if stars is not None:
            key += "; stars: p < 0.05 / 0.01 / 0.001"
        return _finish(
            fig, ax, title, f"Observed Ω vs {null_name}", caption("o_info", unit, atlas, key), output_file
        )
    return _finish(fig, ax, title, f"Observed Ω vs {null_name}", caption("o_info", unit, atlas), output_file)


def _null_rows(ax, observed, low, middle, high, names, stars) -> None:
    """One row per group, sorted by observed Ω: null range (grey), null centre (tick), observed dot."""
    order = np.argsort(observed)
    y = np.arange(observed.size)
    ax.hlines(y, low[order], high[order], colors="#bdbdbd", lw=4)
    ax.scatter(middle[order], y, marker="|", c="k", s=40)
    ax.scatter(
        observed[order],
        y,
        c=[omega_color(v) for v in observed[order]],
        s=20,
        zorder=3,
        edgecolors="k",
        linewidths=0.3,
    )
    ax.set_yticks(y, [names[i] for i in order], fontsize=7)
    if stars is not None:
        for yi, i in enumerate(order):
            ax.text(1.01, yi, stars[i], transform=ax.get_yaxis_transform(), va="center", fontsize=8)
    ax.set_ylim(-0.7, observed.size - 0.3)
    _shade_sign(ax, horizontal=False)


def plot_surrogate_test(
    table: pd.DataFrame,
    *,
    top: int = 20,
    label: str = "label",
    unit: str | None = None,
    atlas: str | None = None,
    ax=None,
    title: str | None = None,
    output_file: str | Path | None = None,
):
    """Observed Ω against the surrogate null summarised in a surrogate-test table.

    Parameters
    ----------
    table : DataFrame
        One row per group with ``o_info``, ``null_mean``, ``null_sd`` (in ``unit``), ``q_value`` and
        ``label`` (as written by ``fmmi_neuro.stats.nulls.surrogate_test`` plus a label column). The
        ``top`` groups of largest ``|o_info - null_mean| / null_sd`` are drawn with the null's mean
        ± 1.96 sd and stars from the FDR q-values (* < 0.05, ** < 0.01, *** < 0.001).

    Returns
    -------
    matplotlib.figure.Figure
    """
    require_columns(table, ["o_info", "null_mean", "null_sd", "q_value", label], "table")
    unit = table_unit(table, unit)
    obs = check_some_finite(table["o_info"].to_numpy(), "table['o_info']")
    mean = table["null_mean"].to_numpy(dtype=float)
    sd = table["null_sd"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.abs(obs - mean) / sd
    rows = np.argsort(np.where(np.isfinite(z), -z, np.inf))[:top]
    rows = rows[np.isfinite(obs[rows]) & np.isfinite(mean[rows])]
    if rows.size == 0:
        raise ValueError("no group has a finite observed Ω and null mean: nothing to plot.")
    names = [_wrap(v) for v in table[label].to_numpy()[rows]]
    fig, ax = figure_and_axes(ax, (6.0, _rows_height(names)))
    stars = [significance_stars(q) for q in table["q_value"].to_numpy(dtype=float)[rows]]
    _null_rows(
        ax,
        obs[rows],
        mean[rows] - 1.96 * sd[rows],
        mean[rows],
        mean[rows] + 1.96 * sd[rows],
        names,
        stars,
    )
    ax.set_xlabel(value_label("o_info", unit))
    method = table["null_method"].iloc[0] if "null_method" in table.columns else "surrogate"
    return _finish(
        fig,
        ax,
        title,
        f"Observed Ω vs {method} surrogates (top {rows.size} by |z|)",
        caption(
            "o_info",
            unit,
            atlas,
            "grey bar: surrogate null mean ± 1.96 sd; tick: null mean; dot: observed Ω; "
            "stars: FDR q < 0.05 / 0.01 / 0.001",
        ),
        output_file,
    )


def plot_estimator_agreement(
    x,
    y,
    *,
    unit: str,
    x_name: str = "gaussian_copula",
    y_name: str = "fmmi",
    y_se=None,
    column: str = "o_info",
    atlas: str | None = None,
    ax=None,
    title: str | None = None,
    output_file: str | Path | None = None,
):
    """Scatter of one quantity from two estimators on the same groups, with the identity line, Pearson r,
    Spearman ρ and the fraction of groups whose Ω sign agrees.

    Parameters
    ----------
    x, y : array-like, shape (n_groups,)
        Values from the two estimators, in ``unit`` (pairs with a NaN are dropped).
    y_se : array-like, shape (n_groups,), optional
        Standard errors of ``y``, drawn as vertical bars.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from scipy import stats

    xv = check_some_finite(x, "x")
    yv = check_some_finite(y, "y")
    if xv.shape != yv.shape:
        raise ValueError(f"'x' and 'y' must have the same length; got {xv.size} and {yv.size}.")
    ok = np.isfinite(xv) & np.isfinite(yv)
    if ok.sum() < 3:
        raise ValueError(
            f"only {ok.sum()} group(s) have finite values from both estimators; need at least 3."
        )
    xv, yv = xv[ok], yv[ok]
    fig, ax = figure_and_axes(ax, (4.2, 4.0))
    if y_se is not None:
        ax.errorbar(xv, yv, yerr=np.asarray(y_se, dtype=float)[ok], fmt="none", ecolor="#bdbdbd", lw=0.6)
    agree = np.sign(xv) == np.sign(yv)
    ax.scatter(
        xv,
        yv,
        s=10,
        c=[omega_color(v) for v in yv] if column == "o_info" else "k",
        edgecolors=np.where(agree, "none", "k"),
        linewidths=0.6,
        alpha=0.8,
    )
    lim = [min(xv.min(), yv.min()), max(xv.max(), yv.max())]
    pad = 0.05 * (lim[1] - lim[0] or 1.0)
    lim = [lim[0] - pad, lim[1] + pad]
    ax.plot(lim, lim, color=NEUTRAL_COLOR, lw=0.8, ls="--", label="identity")
    ax.set_xlim(lim)
    ax.set_ylim(lim)
    ax.set_aspect("equal")
    r = stats.pearsonr(xv, yv).statistic
    rho = stats.spearmanr(xv, yv).statistic
    ax.text(
        0.03,
        0.97,
        f"Pearson r = {r:.3f}\nSpearman ρ = {rho:.3f}\nsame sign: {agree.mean():.0%}\nn = {xv.size} groups",
        transform=ax.transAxes,
        va="top",
        fontsize=7,
    )
    ax.set_xlabel(f"{value_label(column, unit)} — {x_name}")
    ax.set_ylabel(f"{value_label(column, unit)} — {y_name}")
    return _finish(
        fig,
        ax,
        title,
        f"Estimator agreement: {x_name} vs {y_name}",
        caption(column, unit, atlas, "outlined: sign disagrees"),
        output_file,
    )


def plot_region_ranking(
    values,
    region_names: Sequence[str],
    *,
    kind: str = "synergy_minus_redundancy",
    unit: str | None = None,
    atlas: str | None = None,
    top: int = 15,
    ax=None,
    title: str | None = None,
    output_file: str | Path | None = None,
):
    """Horizontal bars of the ``top`` regions at each end of a per-region value (e.g. mean Ω, synergy −
    redundancy participation), coloured by the value's colour map.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib as mpl

    vals = check_some_finite(values, "values")
    names = list(region_names)
    if len(names) != vals.size:
        raise ValueError(f"'region_names' has {len(names)} entries but 'values' has {vals.size}.")
    spec = value_kind(kind)
    finite = np.flatnonzero(np.isfinite(vals))
    order = finite[np.argsort(vals[finite])]
    if order.size > 2 * top:
        order = np.r_[order[:top], order[-top:]]
    lo, hi = color_limits(vals[finite], kind)
    cmap = mpl.colormaps[spec.cmap]
    fig, ax = figure_and_axes(ax, (5.0, 1.0 + 0.18 * order.size))
    y = np.arange(order.size)
    ax.barh(
        y, vals[order], color=cmap(mpl.colors.Normalize(lo, hi)(vals[order])), edgecolor="k", linewidth=0.3
    )
    ax.set_yticks(y, [names[i] for i in order], fontsize=7)
    ax.set_xlabel(value_label(kind, unit))
    ax.axvline(0, color=NEUTRAL_COLOR, lw=0.8)
    return _finish(fig, ax, title, f"Regions ranked by {spec.label}", caption(kind, unit, atlas), output_file)
