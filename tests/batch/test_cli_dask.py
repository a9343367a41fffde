"""``fmmi-neuro run --dask-scheduler`` against a real LocalCluster (worker processes) equals the local run."""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from fmmi_neuro.batch.demo import make_synthetic_cohort
from fmmi_neuro.cli import app


def test_cli_run_on_a_dask_cluster_writes_the_tables_of_the_local_run(tmp_path, dask_client):
    """It scored every subject, then crashed reading the closed client's address: no tables, no report."""
    make_synthetic_cohort(tmp_path / "cohort", n_subjects=4, seed=3)
    runs = {}
    for name, options in (
        ("local", ["-j", "1"]),
        ("dask", ["--dask-scheduler", dask_client.scheduler.address]),
    ):
        config = tmp_path / f"{name}.yaml"
        config.write_text(
            f"output: {name}\n"
            "data: {region_tables: cohort}\n"
            "scoring: {n_surrogates: 9, unit: bits}\n"
            "stats: {n_permutations: 99}\n"
            f"report: {{enabled: {str(name == 'dask').lower()}}}\n"  # the report writes no table
            "run: {seed: 5}\n"
        )
        res = CliRunner().invoke(app, ["run", str(config), "-q", *options])
        assert res.exit_code == 0, res.output
        assert "scored 4/4 jobs (0 finished before, 4 now)" in res.output
        runs[name] = tmp_path / name
    summary = json.loads((runs["dask"] / "scoring" / "summary.json").read_text())
    assert summary["executor"] == f"DaskExecutor({dask_client.scheduler.address!r})"
    assert (runs["dask"] / "report" / "report.html").is_file()
    tables = sorted(p.relative_to(runs["local"]) for p in runs["local"].rglob("*.parquet"))
    assert sorted(p.relative_to(runs["dask"]) for p in runs["dask"].rglob("*.parquet")) == tables
    assert {"scoring/scores.parquet", "stats/group_stats.parquet", "stats/regions.parquet"} <= set(
        map(str, tables)
    )
    for table in tables:
        local, dask = pd.read_parquet(runs["local"] / table), pd.read_parquet(runs["dask"] / table)
        pd.testing.assert_frame_equal(local, dask, check_exact=True, obj=str(table))
