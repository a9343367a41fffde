"""The YAML config is validated up front, with one message listing every problem."""

from __future__ import annotations

import pytest

from fmmi_neuro.batch.config import ConfigError, load_config, parse_config


def test_valid_config_resolves_paths_relative_to_the_file(tmp_path):
    (tmp_path / "tables").mkdir()
    (tmp_path / "participants.tsv").write_text("participant_id\tgroup\nsub-01\tA\n")
    path = tmp_path / "study.yaml"
    path.write_text(
        "output: out\n"
        "data: {region_tables: tables, participants: participants.tsv, t_r: 2}\n"
        "scoring: {estimator: gaussian_copula, size: 4, null_model: none}\n"
        "stats: {by: group, levels: [B, A]}\n"
        "run: {seed: 3, n_jobs: 2}\n"
    )
    cfg = load_config(path)
    assert cfg.output == (tmp_path / "out").resolve()
    assert cfg.data.region_tables == (tmp_path / "tables").resolve()
    assert cfg.data.participants == str((tmp_path / "participants.tsv").resolve())
    assert cfg.data.t_r == 2.0 and isinstance(cfg.data.t_r, float)
    assert cfg.scoring.size == 4 and cfg.scoring.null_model == "none"
    assert cfg.run.seed == 3 and cfg.report.enabled


def test_every_problem_is_listed_in_one_message(tmp_path):
    raw = {
        "output": "out",
        "data": {"region_table": "tables", "t_r": "fast", "fmriprep": "nowhere"},
        "scoring": {"estimator": "fmi", "size": "two", "n_surrogates": 0},
        "stats": {"alpha": 2.0, "levels": ["A"]},
        "report": {"maps": ["glass", "3d"]},
        "extra": 1,
    }
    with pytest.raises(ConfigError) as info:
        parse_config(raw, base_dir=tmp_path)
    message = str(info.value)
    expected = [
        "extra: unknown key",
        "data.region_table: unknown key (did you mean 'region_tables'?)",
        "data.t_r: must be a number; got 'fast'",
        "scoring.size: must be an integer; got 'two'",
        "scoring.estimator: must be one of ['gaussian_copula', 'fmmi']; got 'fmi'",
        "scoring.n_surrogates: must be >= 1; got 0",
        "stats.alpha: must be between 0 and 1; got 2.0",
        "stats.levels: must list exactly two levels",
        "report.maps: must be one of ['glass', 'slices', 'surface']; got '3d'",
        "data.fmriprep: folder",
        "data.atlas: required with 'fmriprep'",
    ]
    for item in expected:
        assert item in message, item
    assert message.startswith(f"the config has {len(expected)} problem(s):")


def test_missing_required_and_bad_files(tmp_path):
    with pytest.raises(ConfigError, match="output: missing") as info:
        parse_config(
            {"data": {"region_tables": str(tmp_path), "participants": "nope.tsv"}}, base_dir=tmp_path
        )
    assert "data.participants: file" in str(info.value)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("output: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
    top = tmp_path / "list.yaml"
    top.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="config: must be a mapping"):
        load_config(top)


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)
