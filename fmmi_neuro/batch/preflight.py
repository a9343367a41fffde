"""Checks a batch run makes before its first job, so a bad setting fails at once and never per subject.

Each ``*_problems`` function returns ``(argument, what is wrong)`` pairs; :func:`raise_problems` lists them
all in one error, named as API arguments (``'size' must be ...``) or as config keys
(``scoring.size: must be ...``). :func:`check_pipeline` runs every check of a config: options and values,
the ``data.clean`` options, the group size and groups against the data's regions, the phenotype columns
``stats`` names, and whether the output folder can be written.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tempfile
import uuid
from pathlib import Path
from typing import Any

from fmmi_neuro._validation import check_positive_int, check_seed

ESTIMATORS = ("gaussian_copula", "fmmi")
NULLS = ("time_shift", "phase", "aaft", "member_shift")
UNITS = ("nats", "bits")
COPULA_OPTIONS = ("bias_correct",)
CONFIG_KEYS = {
    "estimator": "scoring.estimator",
    "null": "scoring.null_model",
    "unit": "scoring.unit",
    "size": "scoring.size",
    "n_surrogates": "scoring.n_surrogates",
    "alpha": "scoring.alpha",
    "chunk_size": "scoring.chunk_size",
    "device": "scoring.device",
    "estimator_kwargs": "scoring.estimator_settings",
    "groups": "scoring.groups",
    "seed": "run.seed",
    "source": "data",
    "subjects": "data.subjects",
    "clean": "data.clean",
    "by": "stats.by",
    "levels": "stats.levels",
    "covariate": "stats.covariate",
    "covariates": "stats.covariates",
    "output": "output",
}
"""API argument -> config key, for messages about a config."""

Problems = list[tuple[str, str]]


def raise_problems(problems: Problems, *, config: bool = False, error: type[ValueError] = ValueError) -> None:
    """Raise ``error`` listing every problem (nothing when there is none).

    With ``config=True`` each problem is named by its config key (see :data:`CONFIG_KEYS`).
    """
    if not problems:
        return
    lines = []
    for name, message in problems:
        head, _, rest = name.partition(".")
        if config:
            key = CONFIG_KEYS.get(head, head) + (f".{rest}" if rest else "")
            lines.append(f"  - {key}: {message}")
        elif name == "source":  # the cohort itself: its message names the file or argument
            lines.append(f"  - the cohort: {message}")
        else:
            lines.append(f"  - '{name}' {message}")
    raise error(f"{len(problems)} problem(s), found before any job started:\n" + "\n".join(lines))


def _choice(value: Any, allowed: tuple, name: str) -> Problems:
    return [] if value in allowed else [(name, f"must be one of {list(allowed)}; got {value!r}")]


def _integer(value: Any, name: str, minimum: int) -> Problems:
    try:
        check_positive_int(value, name, minimum=minimum)
    except ValueError:
        return [(name, f"must be an integer >= {minimum}; got {value!r}")]
    return []


def scoring_problems(
    *,
    estimator: Any,
    null: Any,
    unit: Any,
    size: Any,
    n_surrogates: Any,
    alpha: Any,
    chunk_size: Any,
    device: Any,
    seed: Any,
    estimator_kwargs: dict,
) -> Problems:
    """Problems of the scoring settings of :func:`~fmmi_neuro.batch.pipeline.score_cohort_batch`.

    Checks the choices (estimator, null, unit), the integers (size >= 3, n_surrogates >= 1, chunk_size
    >= 1, seed >= 0), alpha in (0, 1), the device's form (``auto``, ``cpu``, ``cuda`` or ``cuda:N``;
    whether CUDA is there is the workers' business) and the estimator options (``bias_correct`` for
    the copula; ``mode``, ``chunk`` and the training settings for fmmi).
    """
    problems = _choice(estimator, ESTIMATORS, "estimator") + _choice(unit, UNITS, "unit")
    if null is not None:
        problems += _choice(null, NULLS, "null")
        if null == "member_shift" and estimator != "gaussian_copula":
            problems.append(("null", "'member_shift' is implemented for the gaussian_copula estimator only"))
        problems += _integer(n_surrogates, "n_surrogates", 1)
    problems += _integer(size, "size", 3)
    if chunk_size is not None:
        problems += _integer(chunk_size, "chunk_size", 1)
    try:
        check_seed(seed)
    except ValueError:
        problems.append(("seed", f"must be a non-negative integer; got {seed!r}"))
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        problems.append(("alpha", f"must be a number between 0 and 1; got {alpha!r}"))
    if not isinstance(device, str) or not re.fullmatch(r"auto|cpu|cuda(:\d+)?", device):
        problems.append(("device", f"must be 'auto', 'cpu', 'cuda' or 'cuda:N'; got {device!r}"))
    if estimator == "gaussian_copula":
        known: tuple[str, ...] = COPULA_OPTIONS
    elif estimator == "fmmi":
        from fmmi_neuro.engine.fmmi import FMMISettings

        known = tuple(FMMISettings().options())
    else:
        known = tuple(estimator_kwargs)
    unknown = sorted(k for k in estimator_kwargs if k not in known)
    if unknown:
        problems.append(
            (
                "estimator_kwargs",
                f"has option(s) {unknown} that {estimator} does not take; known: {sorted(known)}",
            )
        )
    elif estimator == "fmmi":
        try:
            FMMISettings.from_options(**estimator_kwargs)
        except ValueError as err:
            problems.append(("estimator_kwargs", str(err).rstrip(".")))
    return problems


def output_problems(path: Any, name: str = "output") -> Problems:
    """Whether a folder can be created or written at ``path``: not a file, and writable (tried for real,
    with a temporary file in the nearest existing folder)."""
    path = Path(path).expanduser().resolve()
    if path.exists() and not path.is_dir():
        return [(name, f"{str(path)!r} is a file, not a folder")]
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        return [(name, f"{str(existing)!r} is a file, so no folder can be made below it")]
    try:
        fd, probe = tempfile.mkstemp(prefix=".fmmi_neuro_write_test_", dir=existing)
    except OSError as err:
        return [(name, f"{str(path)!r} cannot be written ({str(existing)!r}: {err.strerror})")]
    os.close(fd)
    os.unlink(probe)
    return []


def data_problems(source: Any, subjects: list[str] | None, *, size: Any, groups: Any) -> Problems:
    """Problems that one look at the cohort shows: the ``clean`` options, unknown subjects, and the group
    size or groups against the regions of the first subject that loads.

    ``source`` is a :class:`~fmmi_neuro.batch.pipeline.CohortSource`; its subjects are loaded without
    cleaning (a subject that does not load is left to its job, which records the error).
    """
    from fmmi_neuro.io.cleaning import clean_option_problems
    from fmmi_neuro.scoring.groups import check_groups

    problems = [
        (f"clean.{key}" if key else "clean", message) for key, message in clean_option_problems(source.clean)
    ]
    try:
        cohort = source.cohort()
    except (ValueError, OSError) as err:
        return [*problems, ("source", str(err))]
    names = list(cohort.subjects)
    if subjects is not None:
        unknown = [s for s in subjects if s not in names]
        if unknown:
            problems.append(
                ("subjects", f"names subject(s) {unknown[:5]} that the cohort lacks (it has {names[:5]}...)")
            )
        names = [s for s in names if s in subjects]
    first, failures = None, []
    for subject in names:
        try:
            first = cohort.get(subject)
            break
        except (ValueError, OSError) as err:
            failures.append(str(err))
    if first is None:
        return [*problems, ("source", f"no subject could be loaded; first errors: {failures[:3]}")]
    where = f"{first.n_regions} in subject {first.subject!r}"
    if groups is None:
        if isinstance(size, int) and not isinstance(size, bool) and size > first.n_regions:
            problems.append(("size", f"must be at most the number of regions ({where}); got {size}"))
    else:
        try:
            check_groups(groups, n_regions=first.n_regions, region_names=first.region_names)
        except (ValueError, TypeError) as err:
            problems.append(("groups", f"do not fit the regions ({where}): {err}"))
    clean = source.clean if isinstance(source.clean, dict) else {}
    band = [k for k in ("low_pass", "high_pass") if clean.get(k) is not None]
    if band and clean.get("t_r") is None and first.t_r is None:
        problems.append(
            (
                f"clean.{band[0]}",
                f"needs the repetition time, and subject {first.subject!r} has none: set data.t_r (or "
                "t_r in clean), or give the tables JSON sidecars with RepetitionTime",
            )
        )
    return problems


def check_pipeline(config: Any, *, seed: int | None = None, device: str | None = None) -> None:
    """Every check of :func:`~fmmi_neuro.batch.pipeline.run_pipeline` that needs no job: the scoring
    settings, the output folder, the ``data.clean`` options, the group size and groups against the first
    subject's regions (region tables), and the phenotype columns that ``stats`` names.

    Parameters
    ----------
    config : Config
        A validated config (:func:`fmmi_neuro.batch.config.parse_config`).
    seed, device : optional
        Overrides (the CLI's ``--seed`` and ``--device``).

    Raises
    ------
    ConfigError
        Listing every problem, named by its config key.
    """
    from fmmi_neuro.batch.config import ConfigError
    from fmmi_neuro.batch.source import config_source
    from fmmi_neuro.io.cohort import load_phenotype
    from fmmi_neuro.stats.group_level import phenotype_problems

    sc, data, st = config.scoring, config.data, config.stats
    problems = scoring_problems(
        estimator=sc.estimator,
        null=None if sc.null_model in (None, "none") else sc.null_model,
        unit=sc.unit,
        size=sc.size,
        n_surrogates=sc.n_surrogates,
        alpha=sc.alpha,
        chunk_size=sc.chunk_size,
        device=sc.device if device is None else device,
        seed=config.run.seed if seed is None else seed,
        estimator_kwargs=sc.estimator_settings,
    )
    problems += output_problems(config.output)
    phenotype = None
    if data.fmriprep is not None:
        try:
            phenotype = load_phenotype(data.participants, [data.fmriprep, data.fmriprep.parent])
        except ValueError as err:
            problems.append(("source", str(err)))
    else:
        source = dataclasses.replace(config_source(config), token=uuid.uuid4().hex)  # a fresh look
        problems += data_problems(source, data.subjects, size=sc.size, groups=sc.groups)
        try:
            phenotype = source.cohort().phenotype
        except (ValueError, OSError):
            phenotype = None  # reported by data_problems
    problems += phenotype_problems(
        phenotype, by=st.by, levels=st.levels, covariate=st.covariate, covariates=st.covariates
    )
    raise_problems(problems, config=True, error=ConfigError)
