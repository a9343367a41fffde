"""The YAML run config: a small dataclass schema, validated up front with ONE message listing every problem.

Example (``fmmi-neuro run my_study.yaml``; relative paths are relative to the config file)::

    output: results/my_study          # run folder (created; a rerun resumes)
    data:
      region_tables: derivatives/region_tables   # or fmriprep: derivatives/fmriprep (then atlas: schaefer200)
      participants: auto              # participants.tsv next to the data, a path, or null
      clean: {detrend: true, standardize: zscore_sample, high_pass: 0.01, low_pass: 0.1}
    scoring:
      estimator: gaussian_copula      # or fmmi
      size: 3
      null_model: time_shift          # phase, or none
      n_surrogates: 99
      unit: bits
    stats:
      by: group                       # two-group contrast on this participants.tsv column
    report:
      title: My study
    run:
      seed: 0
      n_jobs: 2
      dask_scheduler: null            # e.g. tcp://scheduler:8786
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ESTIMATORS = ("gaussian_copula", "fmmi")
NULLS = ("time_shift", "phase", "none")
UNITS = ("nats", "bits")
TESTS = ("auto", "one_sample", "stouffer", "two_group", "regression")
VALUES = ("o_info", "tc", "dtc", "s_info")
DEVICES = ("auto", "cpu", "cuda")
MAPS = ("glass", "slices", "surface")
FORMATS = ("png", "svg", "pdf")


class ConfigError(ValueError):
    """A config with problems; the message lists every one of them."""


@dataclass
class DataConfig:
    """Where the subjects come from (exactly one of ``region_tables`` / ``fmriprep``)."""

    region_tables: Path | None = None
    fmriprep: Path | None = None
    atlas: str | None = None
    participants: str | None = "auto"
    t_r: float | None = None
    task: str | None = None
    space: str | None = None
    confounds_strategy: str | None = "simple"
    data_dir: Path | None = None
    subjects: list[str] | None = None
    clean: dict = field(default_factory=dict)


@dataclass
class ScoringConfig:
    """Which groups, which estimator, which per-subject null."""

    estimator: str = "gaussian_copula"
    size: int = 3
    groups: list[list[Any]] | None = None
    unit: str = "bits"
    null_model: str | None = "time_shift"
    n_surrogates: int = 99
    alpha: float = 0.05
    chunk_size: int | None = None
    device: str = "auto"
    estimator_settings: dict = field(default_factory=dict)


@dataclass
class StatsConfig:
    """The test across subjects (``by`` -> two groups, ``covariate`` -> regression, else one-sample)."""

    test: str = "auto"
    value: str = "o_info"
    by: str | None = None
    levels: list[str] | None = None
    covariate: str | None = None
    covariates: list[str] = field(default_factory=list)
    alpha: float = 0.05
    n_permutations: int = 1000


@dataclass
class ReportConfig:
    """The HTML report."""

    enabled: bool = True
    title: str = "fmmi_neuro cohort report: higher-order interactions"
    maps: list[str] = field(default_factory=lambda: ["glass"])
    formats: list[str] = field(default_factory=lambda: ["png"])


@dataclass
class RunConfig:
    """Where and how the jobs run."""

    seed: int = 0
    n_jobs: int = 1
    dask_scheduler: str | None = None
    progress: bool = True


@dataclass
class Config:
    """A whole run: ``output`` folder plus the sections above."""

    output: Path
    data: DataConfig
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    stats: StatsConfig = field(default_factory=StatsConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    run: RunConfig = field(default_factory=RunConfig)


CHOICES = {
    "scoring.estimator": ESTIMATORS,
    "scoring.null_model": NULLS,
    "scoring.unit": UNITS,
    "scoring.device": DEVICES,
    "stats.test": TESTS,
    "stats.value": VALUES,
    "report.maps": MAPS,
    "report.formats": FORMATS,
}
POSITIVE = {
    "scoring.size": 3,
    "scoring.n_surrogates": 1,
    "scoring.chunk_size": 1,
    "stats.n_permutations": 1,
    "run.n_jobs": 1,
    "run.seed": 0,
}


def _type_name(tp: Any) -> str:
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in args) + " or null"
    if typing.get_origin(tp) is list:
        return f"list of {_type_name(args[0]) if args else 'values'}"
    return {
        Path: "path",
        str: "string",
        int: "integer",
        float: "number",
        bool: "true/false",
        dict: "mapping",
        Any: "value",
    }.get(tp, getattr(tp, "__name__", str(tp)))


def _coerce(value: Any, tp: Any, where: str, problems: list[str], base: Path) -> Any:
    """``value`` converted to ``tp``, or a problem appended (and None returned)."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _coerce(value, args[0], where, problems, base)
    if origin is list:
        if not isinstance(value, list):
            problems.append(f"{where}: must be a {_type_name(tp)}; got {value!r}")
            return None
        (item_tp,) = typing.get_args(tp) or (Any,)
        return [_coerce(v, item_tp, f"{where}[{i}]", problems, base) for i, v in enumerate(value)]
    if tp is Any:
        return value
    if tp is Path:
        if not isinstance(value, str):
            problems.append(f"{where}: must be a path (string); got {value!r}")
            return None
        return (base / Path(value).expanduser()).resolve()
    if tp is bool:
        if not isinstance(value, bool):
            problems.append(f"{where}: must be true or false; got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{where}: must be an integer; got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append(f"{where}: must be a number; got {value!r}")
            return value
        return float(value)
    if tp is str:
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            problems.append(f"{where}: must be a string; got {value!r}")
        return str(value)
    if tp is dict:
        if not isinstance(value, dict):
            problems.append(f"{where}: must be a mapping (key: value lines); got {value!r}")
        return value
    return value


def _build(cls: type, raw: Any, where: str, problems: list[str], base: Path) -> Any:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        problems.append(f"{where or 'config'}: must be a mapping (key: value lines); got {raw!r}")
        raw = {}
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in raw:
        if key not in fields:
            close = difflib.get_close_matches(str(key), list(fields), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else f"; known keys: {', '.join(fields)}"
            problems.append(f"{where + '.' if where else ''}{key}: unknown key{hint}")
    kwargs = {}
    for name, f in fields.items():
        path = f"{where}.{name}" if where else name
        if dataclasses.is_dataclass(hints[name]):
            kwargs[name] = _build(hints[name], raw.get(name), path, problems, base)
        elif name in raw:
            kwargs[name] = _coerce(raw[name], hints[name], path, problems, base)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            problems.append(f"{path}: missing (required)")
            kwargs[name] = None
    return cls(**kwargs)


def _check_values(cfg: Config, problems: list[str]) -> None:
    for key, allowed in CHOICES.items():
        section, name = key.split(".")
        value = getattr(getattr(cfg, section), name)
        for v in value if isinstance(value, list) else [value]:
            if v is not None and isinstance(v, str) and v not in allowed:
                problems.append(f"{key}: must be one of {list(allowed)}; got {v!r}")
    for key, minimum in POSITIVE.items():
        section, name = key.split(".")
        value = getattr(getattr(cfg, section), name)
        if isinstance(value, int) and not isinstance(value, bool) and value < minimum:
            problems.append(f"{key}: must be >= {minimum}; got {value!r}")
    for key in ("scoring.alpha", "stats.alpha"):
        section, name = key.split(".")
        value = getattr(getattr(cfg, section), name)
        if isinstance(value, float) and not 0 < value < 1:
            problems.append(f"{key}: must be between 0 and 1; got {value!r}")
    data = cfg.data
    if data.region_tables is None and data.fmriprep is None:
        problems.append(
            "data: give 'region_tables' (a folder of region time series) or 'fmriprep' "
            "(an fMRIPrep derivatives folder)"
        )
    if data.region_tables is not None and data.fmriprep is not None:
        problems.append("data: give only one of 'region_tables' and 'fmriprep'")
    for name in ("region_tables", "fmriprep", "data_dir"):
        path = getattr(data, name)
        if isinstance(path, Path) and not path.is_dir():
            problems.append(f"data.{name}: folder {str(path)!r} does not exist")
    if data.fmriprep is not None and not data.atlas:
        problems.append(
            "data.atlas: required with 'fmriprep' (e.g. schaefer200; see 'fmmi-neuro atlases list')"
        )
    if isinstance(data.participants, str) and data.participants != "auto":
        if not data.participants.endswith((".tsv", ".csv")):
            problems.append(
                f"data.participants: must be 'auto', null or a .tsv/.csv file; got {data.participants!r}"
            )
    if isinstance(data.t_r, float) and not data.t_r > 0:
        problems.append(f"data.t_r: must be a positive number of seconds; got {data.t_r!r}")
    st = cfg.stats
    if st.by is not None and st.covariate is not None:
        problems.append("stats: give 'by' (two-group contrast) or 'covariate' (regression), not both")
    if st.test == "two_group" and st.by is None:
        problems.append("stats.test: 'two_group' needs stats.by, the participants.tsv column of the groups")
    if st.test == "regression" and st.covariate is None:
        problems.append("stats.test: 'regression' needs stats.covariate, the participants.tsv column")
    if st.test == "stouffer" and cfg.scoring.null_model in (None, "none"):
        problems.append("stats.test: 'stouffer' combines per-subject surrogate tests; set scoring.null_model")
    if isinstance(cfg.stats.levels, list) and len(cfg.stats.levels) != 2:
        problems.append(f"stats.levels: must list exactly two levels; got {cfg.stats.levels!r}")


def resolve_participants(cfg: Config, base: Path) -> Any:
    """The ``participants`` argument for the cohort: "auto", None or an absolute path."""
    p = cfg.data.participants
    if p is None or p == "auto":
        return p
    return str((base / p).resolve())


def parse_config(raw: Any, *, base_dir: str | os.PathLike = ".") -> Config:
    """Validate a config mapping (e.g. loaded from YAML) and return a :class:`Config`.

    Raises
    ------
    ConfigError
        Listing every problem at once: unknown keys (with a suggestion), wrong types, values out of
        range or not among the choices, missing required keys, folders that do not exist.
    """
    problems: list[str] = []
    base = Path(base_dir).expanduser().resolve()
    cfg = _build(Config, raw, "", problems, base)
    _check_values(cfg, problems)
    participants = cfg.data.participants
    if isinstance(participants, str) and participants != "auto" and participants.endswith((".tsv", ".csv")):
        path = Path(resolve_participants(cfg, base))
        if not path.is_file():
            problems.append(f"data.participants: file {str(path)!r} does not exist")
        cfg.data.participants = str(path)
    if problems:
        listing = "\n".join(f"  - {p}" for p in problems)
        raise ConfigError(f"the config has {len(problems)} problem(s):\n{listing}")
    return cfg


def load_config(path: str | os.PathLike) -> Config:
    """Read and validate a YAML config file (relative paths are taken from the file's folder)."""
    import yaml

    path = Path(path).expanduser()
    if not path.is_file():
        raise ConfigError(f"config file {str(path)!r} does not exist")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ConfigError(f"config file {str(path)!r} is not valid YAML: {err}") from err
    return parse_config(raw, base_dir=path.parent)
