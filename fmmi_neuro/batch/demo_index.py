"""What every demo returns (:class:`DemoResult`) and its ``index.html``: links to the reports and the
findings as readable tables.

Both demos (:mod:`fmmi_neuro.batch.demo` and :mod:`fmmi_neuro.batch.development`) build on this module;
it imports neither of them.

Sign convention: O-information Omega = TC - DTC; Omega > 0 redundancy, Omega < 0 synergy.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FINDING_LABELS = {
    "n_triplets": "triplets scored",
    "fraction_synergistic": "fraction of triplets with Ω < 0 (synergy)",
    "n_tested": "triplets tested against surrogates",
    "n_surrogates": "surrogates per test",
    "smallest_possible_p": "smallest possible p-value",
    "smallest_attainable_q": "smallest attainable BH q (groups beyond every surrogate)",
    "n_significant": "significant at FDR q < 0.05",
    "planted_redundant": "planted redundant triplet",
    "planted_synergistic": "planted synergistic triplet (group B only)",
    "redundant_q_all_subjects": "redundant triplet: q across all subjects (Stouffer)",
    "redundant_estimate": "redundant triplet: mean Ω − surrogate mean",
    "synergistic_contrast_q": "synergistic triplet: q of the contrast B − A",
    "synergistic_contrast_estimate": "synergistic triplet: Ω difference B − A",
    "null_groups_significant_contrast": "other triplets significant in the contrast (false positives)",
    "n_groups": "triplets in the contrast",
    "n_subjects": "subjects scored",
    "n_significant_contrast": "triplets significant in the contrast",
    "failed_subjects": "subjects that failed",
}
PART_TITLES = {
    "real_rest01": "Real resting-state run (BrainFC rest01)",
    "synthetic_cohort": "SYNTHETIC cohort with planted effects",
    "development_fmri": "Children vs adults (development_fmri)",
}


@dataclass
class DemoResult:
    """Where a demo wrote its outputs, and what it found.

    Attributes
    ----------
    out_dir : Path
        The output folder.
    index : Path
        ``out_dir/index.html``: links to the reports and the findings.
    reports : dict of str -> Path
        Report title -> HTML file.
    findings : dict of str -> dict
        Part of the demo -> named numbers (see :data:`FINDING_LABELS`).
    """

    out_dir: Path
    index: Path
    reports: dict[str, Path]
    findings: dict[str, Any] = field(default_factory=dict)


def _value_html(value: Any) -> str:
    if isinstance(value, float):
        return html.escape(f"{value:.4g}")
    if isinstance(value, dict):
        if not value:
            return "none"
        items = "".join(
            f"<li><b>{html.escape(str(k))}</b>: {html.escape(str(v))}</li>" for k, v in value.items()
        )
        return f"<ul>{items}</ul>"
    return html.escape(str(value))


def findings_html(findings: dict[str, Any]) -> str:
    """The findings as one titled table per part (readable labels, numbers to 4 significant digits)."""
    parts = []
    for part, values in findings.items():
        title = PART_TITLES.get(part, part.replace("_", " "))
        rows = "".join(
            f"<tr><th>{html.escape(FINDING_LABELS.get(key, key.replace('_', ' ')))}</th>"
            f"<td>{_value_html(value)}</td></tr>"
            for key, value in values.items()
        )
        parts.append(f"<h3>{html.escape(title)}</h3><table>{rows}</table>")
    return "".join(parts)


def write_index(out: Path, reports: dict[str, Path], findings: dict[str, Any]) -> Path:
    """Write ``out/index.html`` (links to ``reports``, then the findings) and return its path."""
    items = "".join(
        f'<li><a href="{html.escape(str(p.relative_to(out)))}">{html.escape(name)}</a></li>'
        for name, p in reports.items()
    )
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>fmmi_neuro demo</title>"
        "<style>body{font-family:sans-serif;max-width:900px;margin:2em auto}table{border-collapse:collapse}"
        "th,td{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}"
        "th{background:#f4f4f4;font-weight:normal}</style></head><body>"
        "<h1>fmmi_neuro demo</h1><p>O-information Ω = TC − DTC; Ω &gt; 0 redundancy, Ω &lt; 0 synergy.</p>"
        f"<h2>Reports</h2><ul>{items}</ul><h2>Findings</h2>{findings_html(findings)}"
        "</body></html>"
    )
    path = out / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
