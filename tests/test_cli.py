"""The fmmi-neuro command line: help that teaches, the demo, a config run with a bad subject, the steps."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

from fmmi_neuro.batch.demo import make_synthetic_cohort
from fmmi_neuro.cli import app

runner = CliRunner()
COMMANDS = [
    ["demo"],
    ["run"],
    ["parcellate"],
    ["score"],
    ["stats"],
    ["report"],
    ["atlases", "list"],
    ["atlases", "show"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example(command):
    res = runner.invoke(app, [*command, "--help"])
    assert res.exit_code == 0, res.output
    assert "Example" in res.output
    assert "fmmi-neuro " + command[0] in res.output


def test_top_level_help_is_fast_to_import_and_shows_the_main_command():
    heavy = "('torch', 'nilearn', 'pandas')"
    code = f"import sys, fmmi_neuro.cli; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    res = runner.invoke(app, ["--help"])
    assert res.exit_code == 0 and "fmmi-neuro demo" in res.output and "Ω > 0 redundancy" in res.output


def test_demo_runs_offline_and_prints_where_the_report_is(tmp_path):
    out = tmp_path / "demo"
    res = runner.invoke(
        app, ["demo", "--out", str(out), "-j", "1", "--n-subjects", "4", "--n-surrogates", "19", "--quiet"]
    )
    assert res.exit_code == 0, res.output
    for line in ("real_rest01/report.html", "synthetic_cohort/report.html", "index.html"):
        assert str(out / line) in res.output
        assert (out / line).stat().st_size > 1000
    html = (out / "synthetic_cohort" / "report.html").read_text()
    assert "SYNTHETIC" in html and "data:image/png;base64" in html
    assert "REAL data" in (out / "real_rest01" / "report.html").read_text()
    assert (out / "synthetic_cohort" / "data_SYNTHETIC" / "README.md").read_text().startswith("# SYNTHETIC")


def test_demo_development_fmri_offline_fails_clearly(tmp_path):
    res = runner.invoke(app, ["demo", "--dataset", "development_fmri", "--out", str(tmp_path), "-q"])
    assert res.exit_code == 2
    assert "network access" in res.output and "fmmi-neuro demo" in res.output


@pytest.fixture
def cohort_with_a_bad_subject(tmp_path):
    folder = make_synthetic_cohort(tmp_path / "cohort", n_subjects=6, seed=4)
    bad = next(folder.glob("sub-synth03_*.tsv"))
    bad.write_text("this is not a region table\n")
    return folder


def test_run_config_finishes_the_others_names_the_bad_subject_and_resumes(
    tmp_path, cohort_with_a_bad_subject
):
    config = tmp_path / "study.yaml"
    config.write_text(
        "output: results\n"
        f"data: {{region_tables: {cohort_with_a_bad_subject.name}}}\n"
        "scoring: {n_surrogates: 9, unit: bits}\n"
        "stats: {by: group, levels: [B, A], n_permutations: 99}\n"
        "run: {seed: 2, n_jobs: 1}\n"
    )
    res = runner.invoke(app, ["run", str(config), "-q"])
    assert res.exit_code == 0, res.output
    assert "scored 5/6 jobs (0 finished before, 5 now)" in res.output
    assert "FAILED subject synth03" in res.output
    summary = json.loads((tmp_path / "results" / "scoring" / "summary.json").read_text())
    assert summary["failed_subjects"] == ["synth03"]
    scores = pd.read_parquet(tmp_path / "results" / "scoring" / "scores.parquet")
    assert sorted(scores["subject"].unique()) == ["synth01", "synth02", "synth04", "synth05", "synth06"]
    assert {"group", "p_value", "q_value"} <= set(scores.columns)
    assert (tmp_path / "results" / "report" / "report.html").is_file()
    assert (tmp_path / "results" / "stats" / "group_stats.parquet").is_file()

    again = runner.invoke(app, ["run", str(config), "-q"])
    assert again.exit_code == 0, again.output
    assert "scored 5/6 jobs (5 finished before, 0 now)" in again.output
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "results" / "scoring" / "scores.parquet"), scores
    )


def test_run_reports_every_config_problem_at_once(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text("output: x\ndata: {region_table: nowhere}\nscoring: {size: two}\nextra: 1\n")
    res = runner.invoke(app, ["run", str(config), "--check"])
    assert res.exit_code == 2
    assert "4 problem(s)" in res.output
    for text in (
        "extra: unknown key",
        "did you mean 'region_tables'",
        "scoring.size: must be an integer",
        "data: give 'region_tables'",
    ):
        assert text in res.output


def test_steps_score_stats_report_chain(tmp_path):
    folder = make_synthetic_cohort(tmp_path / "cohort", n_subjects=4, seed=5)
    scoring = tmp_path / "scoring"
    res = runner.invoke(
        app, ["score", str(folder), "--out", str(scoring), "--null", "none", "-q", "--seed", "1"]
    )
    assert res.exit_code == 0, res.output
    scores = pd.read_parquet(scoring / "scores.parquet")
    assert len(scores) == 4 * 220 and set(scores["unit"]) == {"bits"}
    res = runner.invoke(app, ["stats", str(scoring / "scores.parquet"), "--out", str(tmp_path / "stats")])
    assert res.exit_code == 0, res.output
    assert "220 groups tested" in res.output
    res = runner.invoke(
        app,
        [
            "report",
            str(scoring / "scores.parquet"),
            "--stats-dir",
            str(tmp_path / "stats"),
            "--out",
            str(tmp_path / "report"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert (tmp_path / "report" / "report.html").is_file()
    missing = runner.invoke(app, ["stats", str(tmp_path / "absent.parquet"), "--out", str(tmp_path / "s2")])
    assert missing.exit_code == 2 and "absent.parquet" in missing.output


def test_atlases_list_names_schaefer():
    res = runner.invoke(app, ["atlases", "list"])
    assert res.exit_code == 0, res.output
    assert "schaefer" in res.output.lower()
