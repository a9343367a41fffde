"""Reporting: brain maps, statistics figures and a self-contained HTML report.

Sign convention in every figure: Omega = TC - DTC; Omega > 0 redundancy (red), Omega < 0 synergy (blue).
``fmmi_neuro.write_report`` is the top-level name of :func:`report` (``fmmi_neuro.report`` itself is this
package, so the function cannot also be called ``fmmi_neuro.report``).
"""

from .brain import (
    plot_hyperedges,
    plot_region_markers,
    plot_region_slices,
    plot_region_surface,
    region_values_image,
    region_values_surface,
    view_hyperedges,
    view_region_markers,
)
from .figures import (
    network_pair_summary,
    plot_contrast,
    plot_estimator_agreement,
    plot_landscape,
    plot_network_matrix,
    plot_null_vs_observed,
    plot_region_ranking,
    plot_surrogate_test,
    plot_synergy_fraction,
)
from .html import report

write_report = report

__all__ = [
    "network_pair_summary",
    "plot_contrast",
    "plot_estimator_agreement",
    "plot_hyperedges",
    "plot_landscape",
    "plot_network_matrix",
    "plot_null_vs_observed",
    "plot_region_markers",
    "plot_region_ranking",
    "plot_region_slices",
    "plot_region_surface",
    "plot_surrogate_test",
    "plot_synergy_fraction",
    "region_values_image",
    "region_values_surface",
    "report",
    "view_hyperedges",
    "view_region_markers",
    "write_report",
]
