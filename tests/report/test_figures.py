"""Every statistics figure draws a real (non-blank) image from a real table, and refuses empty input."""

from __future__ import annotations

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest

from fmmi_neuro.report import brain, figures
from fmmi_neuro.report.summaries import agreement_values, region_mean, size_summary


def assert_drawn(path):
    """The saved PNG exists and is not a blank canvas."""
    image = mpimg.imread(path)
    assert image.shape[0] > 100 and image.shape[1] > 100
    assert image[..., :3].std() > 0.05


def test_landscape_and_fraction(subject_scores, tmp_path):
    fig = figures.plot_landscape(subject_scores, atlas="AAL2", output_file=tmp_path / "a" / "landscape.png")
    assert_drawn(tmp_path / "a" / "landscape.png")
    assert fig.axes[0].get_ylabel() == "Ω (O-information) [bits]"
    fig = figures.plot_synergy_fraction(subject_scores, output_file=tmp_path / "fraction.svg")
    assert (tmp_path / "fraction.svg").stat().st_size > 1000
    # bar heights are the fractions of groups with Omega < 0, in size order
    heights = [p.get_height() for p in fig.axes[0].patches]
    expected = size_summary(subject_scores)["fraction Ω < 0 (synergy)"].to_numpy()
    np.testing.assert_allclose(heights, expected)
    assert sorted(subject_scores["size"].unique()) == [3, 4, 5]


def test_fraction_with_q_values_counts_significant_groups(subject_scores):
    q = np.linspace(0, 0.2, len(subject_scores))
    table = subject_scores.assign(q_value=q)
    fig = figures.plot_synergy_fraction(table, q_column="q_value", alpha=0.05)
    heights = np.array([p.get_height() for p in fig.axes[0].patches]).reshape(3, -1)
    size3 = table[table["size"] == 3]
    expected = ((size3["o_info"] < 0) & (size3["q_value"] < 0.05)).mean()
    assert heights[1, 0] == pytest.approx(expected)


def test_network_matrix_from_real_groups(subject_scores, aal2, tmp_path):
    summary, counts = figures.network_pair_summary(subject_scores, aal2.families)
    assert np.allclose(summary.to_numpy(), summary.to_numpy().T, equal_nan=True)
    # every region pair of every group lands in exactly one cell (upper triangle incl. diagonal)
    pairs = sum(len(r) * (len(r) - 1) // 2 for r in subject_scores["regions"])
    assert np.triu(counts.to_numpy()).sum() == pairs
    figures.plot_network_matrix(
        summary, unit="bits", atlas="AAL2 (anatomical families)", output_file=tmp_path / "net.png"
    )
    assert_drawn(tmp_path / "net.png")


def test_contrast_null_agreement_and_ranking(subject_scores, aal2, hcp, tmp_path, rng):
    from fmmi_neuro.scoring.score import score_groups

    tab = subject_scores.head(30).assign(label=lambda t: t["group_id"], q=0.5)
    strongest = int(np.argmax(tab["o_info"].abs()))
    tab.loc[strongest, "q"] = 1e-4
    fig = figures.plot_contrast(
        tab,
        effect="o_info",
        q_column="q",
        unit="bits",
        contrast_name="A − B",
        output_file=tmp_path / "contrast.png",
    )
    assert_drawn(tmp_path / "contrast.png")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts][-1] == "***"  # the top row is the largest |effect|
    assert ax.get_yticklabels()[-1].get_text() == tab["group_id"][strongest]

    null = rng.normal(0.0, 0.01, size=(8, 99))
    figures.plot_null_vs_observed(
        null,
        subject_scores["o_info"].to_numpy()[:8],
        unit="bits",
        labels=list(subject_scores["group_id"][:8]),
        output_file=tmp_path / "n8.png",
    )
    figures.plot_null_vs_observed(null[0], -0.02, p_values=0.03, unit="bits", output_file=tmp_path / "n1.png")
    assert_drawn(tmp_path / "n8.png")
    assert_drawn(tmp_path / "n1.png")

    # the same groups scored on another real subject stand in for a second estimator's table
    other = score_groups(
        hcp.load(hcp.subjects[1]),
        groups=list(subject_scores["regions"][:60]),
        estimator="gaussian_copula",
        unit="bits",
    )
    x, y, y_se, _, _ = agreement_values(subject_scores, other)
    assert x.size == 60
    figures.plot_estimator_agreement(x, y, y_se=y_se, unit="bits", output_file=tmp_path / "agree.png")
    assert_drawn(tmp_path / "agree.png")

    values = region_mean(subject_scores, 94)
    fig = figures.plot_region_ranking(
        values, aal2.region_names, kind="o_info", unit="bits", top=5, output_file=tmp_path / "rank.png"
    )
    assert_drawn(tmp_path / "rank.png")
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels[-1] == aal2.region_names[int(np.nanargmax(values))]
    assert labels[0] == aal2.region_names[int(np.nanargmin(values))]


def test_region_mean_is_the_mean_over_member_groups():
    table = pd.DataFrame({"regions": [(0, 1, 2), (1, 2, 3)], "o_info": [1.0, -3.0]})
    np.testing.assert_allclose(region_mean(table, 5), [1.0, -1.0, -1.0, -3.0, np.nan])


@pytest.mark.parametrize(
    "call",
    [
        lambda t: figures.plot_landscape(t, unit="bits"),
        lambda t: figures.plot_synergy_fraction(t),
        lambda t: figures.plot_estimator_agreement(t["o_info"], t["o_info"], unit="bits"),
        lambda t: figures.plot_null_vs_observed(t["o_info"], 0.1, unit="bits"),
        lambda t: figures.plot_region_ranking(t["o_info"], [str(i) for i in range(len(t))]),
        lambda t: figures.plot_contrast(t.assign(effect=t["o_info"], label="g")),
        lambda t: figures.plot_network_matrix(pd.DataFrame(np.full((2, 2), np.nan)).iloc[: len(t) // 2]),
        lambda t: figures.plot_surrogate_test(
            t.assign(null_mean=0.0, null_sd=1.0, q_value=0.5, label="g"), unit="bits"
        ),
        lambda t: brain.plot_hyperedges([(0, 1, 2)] * len(t), t["o_info"], np.zeros((3, 3)), unit="bits"),
    ],
)
@pytest.mark.parametrize("rows", [0, 4])
def test_empty_or_all_nan_inputs_raise(call, rows):
    table = pd.DataFrame({"size": [3] * rows, "o_info": [np.nan] * rows, "unit": ["bits"] * rows})
    with pytest.raises(ValueError, match="no rows|empty|no finite|nothing to"):
        call(table)
