"""The fmmi-neuro command line: help that teaches, the demo, a config run with a bad subject, the steps."""

from __future__ import annotations

import json
import re
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
    """The demo's surrogate design could never reach q < 0.05 (99 surrogates, 300 tests: q >= 0.077), its
    provenance called 300 tested groups 'groups scored', and index.html showed raw JSON."""
    out = tmp_path / "demo"
    args = ["--out", str(out), "-j", "1", "--n-subjects", "4", "--cohort-surrogates", "19", "--quiet"]
    res = runner.invoke(app, ["demo", *args])
    assert res.exit_code == 0, res.output
    for line in ("real_rest01/report.html", "synthetic_cohort/report.html", "index.html"):
        assert str(out / line) in res.output
        assert (out / line).stat().st_size > 1000
    html = (out / "synthetic_cohort" / "report.html").read_text()
    assert "SYNTHETIC" in html and "data:image/png;base64" in html
    real = (out / "real_rest01" / "report.html").read_text()
    assert "REAL data" in real and "No group can reach" not in real
    assert "<th>groups tested against surrogates</th><td>300</td>" in real
    assert "<th>groups scored</th><td>161,700 (every triplet of the 100 regions)</td>" in real
    index = (out / "index.html").read_text()
    assert "{" not in index.split("<h2>Findings</h2>", 1)[1]
    found = re.search(r"smallest attainable BH q[^<]*</th><td>([0-9.]+)</td>", index)
    assert found and float(found.group(1)) < 0.05
    assert re.search(r"significant at FDR q &lt; 0.05</th><td>[1-9][0-9]*</td>", index)
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
    assert res.exit_code == 1, res.output  # finished, but a subject failed: not 0 for batch users
    assert "scored 5/6 jobs (0 finished before, 5 now)" in res.output
    assert "FAILED subject synth03" in res.output
    summary = json.loads((tmp_path / "results" / "scoring" / "summary.json").read_text())
    assert summary["failed_subjects"] == ["synth03"]
    scores = pd.read_parquet(tmp_path / "results" / "scoring" / "scores.parquet")
    assert sorted(scores["subject"].unique()) == ["synth01", "synth02", "synth04", "synth05", "synth06"]
    assert {"group", "p_value", "q_value"} <= set(scores.columns)
    report = (tmp_path / "results" / "report" / "report.html").read_text()
    assert "Subjects that failed" in report and "synth03" in report
    assert (tmp_path / "results" / "stats" / "group_stats.parquet").is_file()

    again = runner.invoke(app, ["run", str(config), "-q"])
    assert again.exit_code == 1, again.output
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


@pytest.fixture
def small_cohort(tmp_path):
    return make_synthetic_cohort(tmp_path / "cohort", n_subjects=4, seed=6)


def test_run_check_finds_every_late_problem_before_any_job(tmp_path, small_cohort):
    """These were found only when each subject failed, or after scoring; a bad run.json then blocked the
    corrected rerun, and --check passed an output path that is a file."""
    (tmp_path / "taken").write_text("a file, not a folder")
    config = tmp_path / "study.yaml"
    config.write_text(
        "output: taken\n"
        f"data: {{region_tables: {small_cohort.name}, t_r: -1,"
        " clean: {detrnd: true, standardize: zscore_samples, high_pass: 0.2, low_pass: 0.1}}\n"
        "scoring: {estimator: foo, size: 20, null_model: foo, unit: foo, n_surrogates: 9}\n"
        "stats: {by: sex}\n"
    )
    for extra in (["--check"], []):
        res = runner.invoke(app, ["run", str(config), *extra])
        assert res.exit_code == 2, res.output
        for text in (
            "scoring.estimator: must be one of",
            "scoring.null_model: must be one of",
            "scoring.unit: must be one of",
            "data.t_r: must be a positive number of seconds; got -1.0",
        ):
            assert text in res.output
    assert not (tmp_path / "results").exists()
    config.write_text(
        "output: taken\n"
        f"data: {{region_tables: {small_cohort.name},"
        " clean: {detrnd: true, standardize: zscore_samples, high_pass: 0.2, low_pass: 0.1}}\n"
        "scoring: {size: 20, n_surrogates: 9, estimator_settings: {bias_corect: false}}\n"
        "stats: {by: sex}\n"
    )
    res = runner.invoke(app, ["run", str(config), "--check"])
    assert res.exit_code == 2, res.output
    assert "7 problem(s), found before any job started" in res.output
    assert (
        "scoring.estimator_settings: has option(s) ['bias_corect'] that gaussian_copula does not take"
        in res.output
    )
    for text in (
        "data.clean.detrnd: is not a cleaning option (did you mean 'detrend'?)",
        "data.clean.standardize: must be",
        "data.clean.high_pass: must be below low_pass (0.1 Hz); got 0.2",
        "scoring.size: must be at most the number of regions (12 in subject 'synth01'); got 20",
        "stats.by: names column 'sex', which the participants table lacks (its columns are ['group', "
        "'synthetic'])",
        "output: '" + str(tmp_path / "taken") + "' is a file, not a folder",
    ):
        assert text in res.output
    config.write_text(f"output: /sys/fmmi_neuro_out\ndata: {{region_tables: {small_cohort.name}}}\n")
    res = runner.invoke(app, ["run", str(config), "--check"])
    assert res.exit_code == 2 and "output: '/sys/fmmi_neuro_out' cannot be written" in res.output


def test_score_checks_every_option_before_any_job(tmp_path, small_cohort):
    out = tmp_path / "scoring"
    res = runner.invoke(
        app,
        [
            "score",
            str(small_cohort),
            "--out",
            str(out),
            "--unit",
            "foo",
            "--estimator",
            "foo",
            "--null",
            "foo",
        ]
        + ["--size", "13", "-q"],
    )
    assert res.exit_code == 2, res.output
    assert "4 problem(s), found before any job started" in res.output
    for text in (
        "'estimator' must be one of",
        "'unit' must be one of",
        "'null' must be one of",
        "'size' must be at most",
    ):
        assert text in res.output
    assert not (out / "run.json").exists() and not (out / "results").exists()
    res = runner.invoke(app, ["score", str(small_cohort), "--out", str(out), "--t-r", "-1", "-q"])
    assert res.exit_code == 2 and "'t_r' must be a positive number of seconds; got -1.0" in res.output
    res = runner.invoke(app, ["score", str(small_cohort), "--out", str(out), "--null", "none", "-q"])
    assert res.exit_code == 0, res.output
    assert "scored 4/4 jobs" in res.output
