"""Brain maps put each value on its own region: a planted extreme region is the one drawn extreme."""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import numpy as np
import pytest
from nilearn.image import load_img

from fmmi_neuro.report import brain
from fmmi_neuro.report.style import value_kind

PLANTED = 5  # AAL2 Frontal_Mid_2_R, a lateral right-hemisphere cortical region


@pytest.fixture
def planted(rng):
    values = rng.uniform(-0.5, 0.5, size=94)
    values[PLANTED] = 2.0
    return values


def _projections(point):
    x, y, z = point
    return [(y, z), (x, z), (x, y)]


def test_markers_planted_region_is_largest_and_reddest(planted, aal2, tmp_path):
    fig = brain.plot_region_markers(
        planted,
        aal2.coordinates,
        unit="bits",
        atlas="AAL2",
        region_names=aal2.region_names,
        output_file=tmp_path / "m.png",
    )
    fig.canvas.draw()
    extreme = np.array(mpl.colormaps[value_kind("o_info").cmap](1.0)[:3])
    views = 0
    for ax in fig.axes:
        for collection in ax.collections:
            if len(collection.get_offsets()) != 94:
                continue
            i = int(np.argmax(collection.get_sizes()))
            np.testing.assert_allclose(collection.get_facecolors()[i][:3], extreme, atol=1e-6)
            assert tuple(collection.get_offsets()[i]) in _projections(aal2.coordinates[PLANTED])
            views += 1
    assert views == 3
    texts = " ".join(t.get_text() for t in fig.texts)
    assert "atlas: AAL2" in texts and "Ω > 0 redundancy" in texts
    assert f"largest |value|: {aal2.region_names[PLANTED]} (2)" in " ".join(texts.split())
    assert mpimg.imread(tmp_path / "m.png")[..., :3].std() > 0.05


def test_label_image_round_trip(planted, aal2):
    img = brain.region_values_image(planted, aal2.labels_img, aal2.label_values)
    labels = np.asarray(load_img(aal2.labels_img).dataobj).astype(int)
    data = img.get_fdata()
    np.testing.assert_allclose(data[labels == aal2.label_values[PLANTED]], 2.0)
    assert data.max() == pytest.approx(2.0)
    assert np.all(data[labels == 0] == 0)
    for i in (0, 50, 93):
        np.testing.assert_allclose(data[labels == aal2.label_values[i]], planted[i], rtol=1e-6)
    with pytest.raises(ValueError, match="absent from 'labels_img'"):
        brain.region_values_image(planted, aal2.labels_img, [1] * 94)


def test_slices_and_surface_draw_the_planted_region(planted, aal2, tmp_path):
    brain.plot_region_slices(
        planted,
        aal2.labels_img,
        aal2.label_values,
        unit="bits",
        atlas="AAL2",
        output_file=tmp_path / "slices.png",
    )
    assert mpimg.imread(tmp_path / "slices.png")[..., :3].std() > 0.05
    surface = brain.region_values_surface(planted, aal2.labels_img, aal2.label_values)
    left, right = (np.asarray(surface.data.parts[h]) for h in ("left", "right"))
    # a lateral right-hemisphere region: its value lands on the right cortex only
    assert aal2.region_names[PLANTED] == "Frontal_Mid_2_R"
    assert right.max() == pytest.approx(2.0) and left.max() < 2.0
    assert (right == np.float32(2.0)).sum() > 50
    fig = brain.plot_region_surface(
        planted,
        aal2.labels_img,
        aal2.label_values,
        unit="bits",
        atlas="AAL2",
        output_file=tmp_path / "surface.png",
    )
    assert len(fig.axes) == 5  # four views and a colour bar
    assert mpimg.imread(tmp_path / "surface.png")[..., :3].std() > 0.05


def test_hyperedges_planted_group_gets_extreme_colour(aal2, tmp_path):
    groups = [(0, 1, 2), (17, 40, 60), (5, 30, 70, 90)]
    values = np.array([-0.3, 1.2, 0.4])
    fig = brain.plot_hyperedges(
        groups, values, aal2.coordinates, unit="bits", atlas="AAL2", output_file=tmp_path / "h.png"
    )
    extreme = np.array(mpl.colormaps[value_kind("o_info").cmap](1.0)[:3])
    found = 0
    for ax in fig.axes:
        for patch in ax.patches:
            if np.allclose(patch.get_facecolor()[:3], extreme, atol=1e-6):
                corners = {tuple(np.round(p, 6)) for p in patch.get_xy()}
                expected = {
                    tuple(np.round(p, 6))
                    for p in [q for r in groups[1] for q in _projections(aal2.coordinates[r])]
                }
                assert corners <= expected and len(corners) == 3
                found += 1
    assert found == 3  # one triangle in each of the three views
    assert mpimg.imread(tmp_path / "h.png")[..., :3].std() > 0.05
    with pytest.raises(ValueError, match="'groups' has 3 groups but 'values' has 2"):
        brain.plot_hyperedges(groups, values[:2], aal2.coordinates, unit="bits")


def test_interactive_views_name_the_regions(planted, aal2):
    view = brain.view_region_markers(planted, aal2.coordinates, region_names=aal2.region_names, unit="bits")
    assert aal2.region_names[PLANTED] in view.get_standalone()
    view = brain.view_hyperedges(
        [(0, 1, 2), (17, 40, 60)], [-0.3, 1.2], aal2.coordinates, region_names=aal2.region_names, unit="bits"
    )
    assert aal2.region_names[40] in view.get_standalone()


def test_drawing_into_given_axes(planted, aal2):
    fig, axes = plt.subplots(1, 2, figsize=(10, 3))
    out = brain.plot_region_markers(planted, aal2.coordinates, unit="bits", ax=axes[0], title="given axes")
    assert out is fig


@pytest.mark.parametrize("values", [np.array([]), np.full(94, np.nan)])
def test_empty_or_all_nan_maps_raise(values, aal2):
    with pytest.raises(ValueError, match="empty|no finite"):
        brain.plot_region_markers(values, aal2.coordinates[: values.size], unit="bits")
    with pytest.raises(ValueError, match="empty|no finite"):
        brain.region_values_image(values, aal2.labels_img)


def test_mismatched_coordinates_raise(planted, aal2):
    with pytest.raises(ValueError, match=r"'coordinates' has 93 rows"):
        brain.plot_region_markers(planted, aal2.coordinates[:93], unit="bits")
    with pytest.raises(ValueError, match="no region value passes threshold"):
        brain.plot_region_markers(planted, aal2.coordinates, unit="bits", threshold=5.0)
