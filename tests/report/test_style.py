"""Labels, colour limits and the sign convention are set in one place and say what they show."""

from __future__ import annotations

import numpy as np
import pytest

from fmmi_neuro.report import style


def test_omega_caption_names_unit_sign_and_atlas():
    text = style.caption("o_info", "bits", atlas="AAL2", extra="threshold 0.1")
    for part in (
        "[bits]",
        "Ω = TC − DTC",
        "Ω > 0 redundancy (red)",
        "Ω < 0 synergy (blue)",
        "atlas: AAL2",
        "threshold 0.1",
    ):
        assert part in text


def test_information_kinds_need_a_valid_unit():
    with pytest.raises(ValueError, match="'unit'"):
        style.value_label("o_info")
    with pytest.raises(ValueError, match="'unit' must be one of"):
        style.value_label("tc", "bans")
    assert style.value_label("synergy_minus_redundancy") == "synergy rank − redundancy rank"
    with pytest.raises(ValueError, match="'kind' must be one of"):
        style.value_kind("omega")


def test_signed_limits_are_symmetric_and_colours_follow_the_sign():
    assert style.color_limits(np.array([-0.2, 0.5, np.nan]), "o_info") == (-0.5, 0.5)
    assert style.color_limits(np.array([1.0, 3.0]), "tc") == (1.0, 3.0)
    assert style.omega_color(0.3) == style.REDUNDANCY_COLOR
    assert style.omega_color(-0.3) == style.SYNERGY_COLOR
    assert style.omega_color(np.nan) == style.NEUTRAL_COLOR
    # blue = synergy whichever way the quantity is signed
    import matplotlib as mpl

    omega = mpl.colormaps[style.value_kind("o_info").cmap]
    lean = mpl.colormaps[style.value_kind("synergy_minus_redundancy").cmap]
    assert omega(0.0)[2] > omega(0.0)[0] and lean(1.0)[2] > lean(1.0)[0]


def test_significance_stars():
    assert [style.significance_stars(q) for q in (0.0005, 0.005, 0.04, 0.2, np.nan)] == [
        "***",
        "**",
        "*",
        "",
        "",
    ]
