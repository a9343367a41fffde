"""Statistics: null models that keep BOLD autocorrelation, confidence intervals, group-level tests.

Entry points: :func:`~fmmi_neuro.stats.cohort.score_cohort` (Cohort -> one row per subject and group, with
per-subject surrogate p-values) and :func:`~fmmi_neuro.stats.group_level.group_statistics` (-> one row per
group: Stouffer / one-sample / two-group / regression tests, effect sizes, BH-FDR). Then
:func:`~fmmi_neuro.stats.regions.region_summary`, :func:`~fmmi_neuro.stats.regions.network_enrichment`,
and :func:`~fmmi_neuro.stats.tables.save_table` / ``load_table`` (Parquet with metadata).
Sign convention: Omega = TC - DTC; Omega > 0 redundancy, Omega < 0 synergy.
"""
