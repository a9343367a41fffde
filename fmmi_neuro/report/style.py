"""One place for colours, colour bars, labels and the O-information sign convention of every figure.

Sign convention (Rosas et al. 2019): Omega = TC - DTC; Omega > 0 is redundancy-dominated (drawn red),
Omega < 0 is synergy-dominated (drawn blue). Every quantity a figure can show is a :class:`ValueKind`
that carries its colour map, whether its colour bar is centred on zero, its axis label and its sign note,
so two figures of the same quantity always look and read the same.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import check_in

REDUNDANCY_COLOR = "#b2182b"
SYNERGY_COLOR = "#2166ac"
NEUTRAL_COLOR = "#4d4d4d"
OMEGA_SIGN_NOTE = "Ω = TC − DTC; Ω > 0 redundancy (red), Ω < 0 synergy (blue)"
UNITS = ("nats", "bits")


@dataclass(frozen=True)
class ValueKind:
    """How one quantity is drawn.

    Attributes
    ----------
    label : str
        Axis / colour-bar label without the unit.
    cmap : str
        Matplotlib colour-map name.
    symmetric : bool
        Centre the colour bar on zero (signed quantities).
    sign_note : str
        The sign convention, printed in the caption of every figure showing it.
    has_unit : bool
        The quantity is information (nats or bits); otherwise it is a count, rank or effect size.
    center : float, optional
        Value drawn in the colour map's middle colour for a ratio (e.g. 1 for an enrichment).
    """

    label: str
    cmap: str
    symmetric: bool
    sign_note: str
    has_unit: bool
    center: float | None = None


KINDS: dict[str, ValueKind] = {
    "o_info": ValueKind("Ω (O-information)", "RdBu_r", True, OMEGA_SIGN_NOTE, True),
    "tc": ValueKind("TC (total correlation)", "YlOrRd", False, "TC ≥ 0; " + OMEGA_SIGN_NOTE, True),
    "dtc": ValueKind("DTC (dual total correlation)", "YlGnBu", False, "DTC ≥ 0; " + OMEGA_SIGN_NOTE, True),
    "s_info": ValueKind(
        "S-information (TC + DTC)", "viridis", False, "S = TC + DTC; " + OMEGA_SIGN_NOTE, True
    ),
    "synergy_minus_redundancy": ValueKind(
        "synergy rank − redundancy rank",
        "RdBu",
        True,
        "> 0 more synergistic (blue), < 0 more redundant (red); " + OMEGA_SIGN_NOTE,
        False,
    ),
    "redundant_participation": ValueKind(
        "redundant groups per region", "Reds", False, "counts of groups with Ω > 0; " + OMEGA_SIGN_NOTE, False
    ),
    "synergistic_participation": ValueKind(
        "synergistic groups per region",
        "Blues",
        False,
        "counts of groups with Ω < 0; " + OMEGA_SIGN_NOTE,
        False,
    ),
    "o_info_difference": ValueKind(
        "ΔΩ (difference in O-information)",
        "RdBu_r",
        True,
        "ΔΩ > 0: more redundant (red), ΔΩ < 0: more synergistic (blue); " + OMEGA_SIGN_NOTE,
        True,
    ),
    "o_info_slope": ValueKind(
        "slope of Ω per unit of covariate",
        "RdBu_r",
        True,
        "> 0: more redundant (red) as the covariate grows, < 0: more synergistic (blue); " + OMEGA_SIGN_NOTE,
        True,
    ),
    "enrichment": ValueKind(
        "enrichment (observed / permutation-null mean)",
        "PuOr_r",
        False,
        "memberships of the network's regions in significant groups, > 1 enriched (orange), < 1 depleted "
        "(purple); " + OMEGA_SIGN_NOTE,
        False,
        center=1.0,
    ),
    "effect_size": ValueKind(
        "effect size on Ω",
        "RdBu_r",
        True,
        "> 0: more redundant (red), < 0: more synergistic (blue); " + OMEGA_SIGN_NOTE,
        False,
    ),
}


def value_kind(kind: str) -> ValueKind:
    """Return the :class:`ValueKind` registered under ``kind`` (see ``KINDS``)."""
    check_in(kind, KINDS, "kind")
    return KINDS[kind]


def value_label(kind: str, unit: str | None = None) -> str:
    """Axis or colour-bar label of ``kind``, with the unit when the quantity is information.

    >>> value_label("o_info", "bits")
    'Ω (O-information) [bits]'
    """
    spec = value_kind(kind)
    if spec.has_unit:
        if unit is None:
            raise ValueError(f"'unit' must be given to label {kind!r} (one of {list(UNITS)}); got None.")
        check_in(unit, UNITS, "unit")
        return f"{spec.label} [{unit}]"
    return spec.label


def caption(kind: str, unit: str | None = None, atlas: str | None = None, extra: str | None = None) -> str:
    """One-line caption naming the quantity, its unit, the sign convention, the atlas and extras.

    >>> caption("o_info", "nats", atlas="AAL2")
    'Ω (O-information) [nats] · Ω = TC − DTC; Ω > 0 redundancy (red), Ω < 0 synergy (blue) · atlas: AAL2'
    """
    parts = [value_label(kind, unit), value_kind(kind).sign_note]
    if atlas:
        parts.append(f"atlas: {atlas}")
    if extra:
        parts.append(extra)
    return " · ".join(parts)


def color_limits(values: np.ndarray, kind: str, vmin: float | None = None, vmax: float | None = None):
    """Colour-bar limits for ``values``: symmetric around 0 for signed kinds, data range otherwise.

    Returns
    -------
    vmin, vmax : float
    """
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if value_kind(kind).symmetric:
        bound = float(np.max(np.abs(finite))) if finite.size else 1.0
        bound = bound if bound > 0 else 1.0
        return (-bound if vmin is None else vmin), (bound if vmax is None else vmax)
    lo = float(finite.min()) if vmin is None else vmin
    hi = float(finite.max()) if vmax is None else vmax
    return lo, (hi if hi > lo else lo + 1.0)


def color_norm(values: np.ndarray, kind: str, vmin: float | None = None, vmax: float | None = None):
    """Matplotlib norm for ``values`` of ``kind``: linear between :func:`color_limits`, or two-slope around
    the kind's ``center`` (so 1 is the middle colour of an enrichment whatever the range)."""
    import matplotlib as mpl

    spec = value_kind(kind)
    lo, hi = color_limits(values, kind, vmin, vmax)
    if spec.center is None:
        return mpl.colors.Normalize(lo, hi)
    return mpl.colors.TwoSlopeNorm(spec.center, min(lo, spec.center - 1e-9), max(hi, spec.center + 1e-9))


def omega_color(value: float) -> str:
    """Red for redundancy (Ω > 0), blue for synergy (Ω < 0), grey for 0 or NaN."""
    if not np.isfinite(value) or value == 0:
        return NEUTRAL_COLOR
    return REDUNDANCY_COLOR if value > 0 else SYNERGY_COLOR


def significance_stars(q: float) -> str:
    """``'***'`` for q < 0.001, ``'**'`` < 0.01, ``'*'`` < 0.05, else ``''``."""
    if not np.isfinite(q):
        return ""
    for bound, stars in ((0.001, "***"), (0.01, "**"), (0.05, "*")):
        if q < bound:
            return stars
    return ""


def add_caption(fig, text: str) -> None:
    """Write ``text`` as a small caption hanging below ``fig`` (kept by ``bbox_inches="tight"``)."""
    import textwrap

    width = max(40, int(fig.get_figwidth() * 17))
    fig.text(0.01, -0.01, textwrap.fill(text, width), fontsize=7, color=NEUTRAL_COLOR, ha="left", va="top")


PAPER_RC = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "svg.fonttype": "none",
}
"""Matplotlib rc settings used while drawing (``with matplotlib.rc_context(PAPER_RC): ...``)."""
