"""Across subjects: one row per group with a test, an effect size and FDR across groups.

Input is a subject-level table from :func:`~fmmi_neuro.stats.cohort.score_cohort` (one row per subject and
group). Tests are vectorised over groups:

- ``one_sample``: is the mean of ``value`` (or ``value - null_mean`` with ``against="surrogate"``) across
  subjects different from 0? Student's t; Cohen's d = mean / sd, Hedges' g.
- ``stouffer``: fixed-effects combination of the per-subject surrogate tests: z_i = Phi^-1(null_quantile_i)
  (the mid-rank position of subject i's value among its surrogates), Z = sum z_i / sqrt(n). Under the
  surrogate null every z_i is symmetric with variance <= 1, so the test is valid whatever the shape of
  the null; it is the powerful choice when an effect is strong in only part of the cohort (it asks
  "do subjects deviate from their null, consistently in one direction?", not "is the population mean
  non-zero?"). Needs a subject table scored with ``null=...``.
- ``two_group``: does ``value`` differ between two levels of a phenotype column (e.g. children vs
  adults)? Welch's t by default; Cohen's d with the pooled sd, Hedges' g.
- ``regression``: slope of ``value`` on a covariate (e.g. age), adjusting for other covariates; OLS t;
  effect size the partial correlation.

Sign convention for Omega: Omega = TC - DTC; > 0 redundancy, < 0 synergy. A positive one-sample
``estimate`` of ``o_info`` means the group is redundancy-dominated across subjects.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from .._validation import check_in
from .cohort import join_phenotype
from .multitest import fdr_bh

TESTS = ("one_sample", "stouffer", "two_group", "regression")
MIN_SUBJECTS_PER_LEVEL = 5
"""Below this many subjects in a level, a two-group test warns (below 2 it is an error)."""
GROUP_COLUMNS = (
    "group_id",
    "regions",
    "region_names",
    "size",
    "test",
    "value",
    "contrast",
    "n_subjects",
    "n_excluded",
    "estimate",
    "se",
    "statistic",
    "df",
    "p_value",
    "q_value",
    "significant",
    "status",
    "direction",
    "effect_size",
    "effect_size_kind",
    "hedges_g",
    "ci_low",
    "ci_high",
    "unit",
    "estimator",
)


def cohens_d(x: np.ndarray, y: np.ndarray | None = None, *, axis: int = 0) -> np.ndarray:
    """Cohen's d: mean / sd for one sample, (mean_x - mean_y) / pooled sd for two (NaNs ignored).

    Parameters
    ----------
    x, y : ndarray, subjects along ``axis``
    """
    x = np.asarray(x, dtype=np.float64)
    if y is None:
        return np.nanmean(x, axis=axis) / np.nanstd(x, axis=axis, ddof=1)
    y = np.asarray(y, dtype=np.float64)
    nx, ny = np.sum(np.isfinite(x), axis=axis), np.sum(np.isfinite(y), axis=axis)
    pooled = ((nx - 1) * np.nanvar(x, axis=axis, ddof=1) + (ny - 1) * np.nanvar(y, axis=axis, ddof=1)) / (
        nx + ny - 2
    )
    return (np.nanmean(x, axis=axis) - np.nanmean(y, axis=axis)) / np.sqrt(pooled)


def hedges_correction(df: np.ndarray | float) -> np.ndarray:
    """Small-sample correction J = 1 - 3 / (4 df - 1) that turns Cohen's d into Hedges' g."""
    return 1.0 - 3.0 / (4.0 * np.asarray(df, dtype=np.float64) - 1.0)


def hedges_g(x: np.ndarray, y: np.ndarray | None = None, *, axis: int = 0) -> np.ndarray:
    """Hedges' g: Cohen's d times J (df = n - 1 for one sample, n_x + n_y - 2 for two)."""
    x = np.asarray(x, dtype=np.float64)
    n = np.sum(np.isfinite(x), axis=axis)
    if y is None:
        return cohens_d(x, axis=axis) * hedges_correction(n - 1)
    m = np.sum(np.isfinite(np.asarray(y, dtype=np.float64)), axis=axis)
    return cohens_d(x, y, axis=axis) * hedges_correction(n + m - 2)


def _wide(
    subject_table: pd.DataFrame, value: str, against: Any, *, uses_null: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Subjects x groups matrix of the tested quantity, and the per-group descriptor columns.

    Entries are NaN where the subject has no row for the group, where the value is not finite, and where
    the row's ``status`` says it has no estimate (or, when the quantity ``uses_null``, no finite null).
    """
    for column in ("subject", "group_id", value):
        if column not in subject_table.columns:
            raise ValueError(f"the subject table has no column {column!r} (columns: {list(subject_table)}).")
    values = subject_table[value].astype(np.float64)
    if isinstance(against, str):
        check_in(against, ("surrogate",), "against")
        if "null_mean" not in subject_table.columns:
            raise ValueError(
                "against='surrogate' needs the 'null_mean' column: run score_cohort with null='time_shift' "
                "or 'phase'."
            )
        if "value" in subject_table.columns and (subject_table["value"] != value).any():
            raise ValueError(
                f"the surrogate null was computed for {subject_table['value'].iloc[0]!r}, not {value!r}."
            )
        values = values - subject_table["null_mean"].astype(np.float64)
    else:
        values = values - float(against)
    frame = pd.DataFrame(
        {"subject": subject_table["subject"].astype(str), "group_id": subject_table["group_id"]}
    )
    y = values.to_numpy(dtype=np.float64, copy=True)
    y[~np.isfinite(y)] = np.nan
    if "status" in subject_table.columns:
        status = subject_table["status"].to_numpy()
        y[(status != "ok") if uses_null or isinstance(against, str) else (status == "nonfinite")] = np.nan
    frame["y"] = y
    if frame.duplicated(["subject", "group_id"]).any():
        raise ValueError("the subject table has more than one row for some (subject, group_id).")
    wide = frame.pivot(index="subject", columns="group_id", values="y")
    describe = [
        c for c in ("group_id", "regions", "region_names", "size", "unit", "estimator") if c in subject_table
    ]
    info = subject_table.loc[:, describe].drop_duplicates("group_id").set_index("group_id")
    wide = wide.loc[:, info.index]
    return wide, info


def _subject_covariates(subject_table: pd.DataFrame, phenotype: pd.DataFrame | None) -> pd.DataFrame:
    """One row per subject (index = subject label) with the phenotype columns."""
    table = subject_table if phenotype is None else join_phenotype(subject_table, phenotype)
    per_subject = table.drop_duplicates("subject").copy()
    per_subject.index = per_subject["subject"].astype(str)
    return per_subject


def group_statistics(
    subject_table: pd.DataFrame,
    *,
    test: str = "auto",
    value: str = "o_info",
    against: float | str = 0.0,
    by: str | None = None,
    levels: Sequence[Any] | None = None,
    covariate: str | None = None,
    covariates: Sequence[str] = (),
    phenotype: pd.DataFrame | None = None,
    alternative: str = "two-sided",
    equal_var: bool = False,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """One test per group across subjects, with effect sizes and Benjamini-Hochberg FDR across groups.

    Parameters
    ----------
    subject_table : DataFrame
        From :func:`score_cohort`: columns ``subject``, ``group_id``, ``value`` (and ``null_mean`` for
        ``against="surrogate"``; phenotype columns for contrasts, or pass ``phenotype``).
    test : {"auto", "one_sample", "stouffer", "two_group", "regression"}
        ``auto`` (default): ``stouffer`` when the subject table carries a surrogate null
        (``null_quantile``) and ``value`` is the tested term, else ``one_sample``. Contrasts and
        regressions are never chosen automatically. The test run is in the ``test`` column.
    value : str
        Column tested, default ``"o_info"``.
    against : float or "surrogate"
        One-sample reference: a number, or each subject's surrogate mean (``null_mean``). For the other
        tests it is subtracted first (so contrasts of ``o_info - null_mean`` are possible too).
    by : str
        Phenotype column defining the two groups (``two_group``).
    levels : pair of values, optional
        The two levels of ``by``, compared as ``levels[0] - levels[1]``; default the two sorted levels.
    covariate : str
        Phenotype column whose slope is tested (``regression``).
    covariates : sequence of str
        Nuisance columns in the regression (categorical ones are dummy-coded).
    phenotype : DataFrame indexed by subject, optional
        Joined on ``subject`` when the columns are not already in ``subject_table``.
    alternative : {"two-sided", "greater", "less"}
        For the one-sample and two-group t tests.
    equal_var : bool
        Student's instead of Welch's two-sample t.
    alpha : float
        FDR level for ``significant``.

    Returns
    -------
    DataFrame
        One row per group: ``group_id, regions, region_names, size, test, value, contrast, n_subjects,
        n_excluded, estimate, se, statistic, df, p_value, q_value, significant, status, direction,
        effect_size, effect_size_kind, hedges_g, ci_low, ci_high, unit, estimator``. ``estimate``: mean
        difference from ``against`` (one_sample), ``mean[levels[0]] - mean[levels[1]]`` (two_group) or the
        slope per unit of ``covariate`` (regression), in the unit of ``value``; ``ci_*`` its (1 - alpha)
        interval. ``direction``: for ``o_info`` one-sample, "redundancy" (estimate > 0) or "synergy";
        otherwise "positive" / "negative". Omega = TC - DTC; > 0 redundancy, < 0 synergy.
        ``n_subjects`` counts the subjects used for the group; ``n_excluded`` those of the table left out
        because their value is missing, not finite, or its row's ``status`` is not "ok" (a warning names
        them; ``attrs["excluded"]``: subject -> number of groups). ``status`` is "ok", or
        "too_few_subjects" when too few values remain for the test (then no p-value). ``attrs["notes"]``
        holds caveats such as a two-group test with fewer than 5 subjects in a level.

    Raises
    ------
    ValueError
        A missing column, fewer than 2 subjects (one-sample, regression), a two-group level with fewer
        than 2 subjects, or levels that ``by`` does not hold.
    """
    check_in(test, ("auto", *TESTS), "test")
    if test == "auto":
        tested = (
            subject_table["value"].iloc[0]
            if "value" in subject_table.columns and len(subject_table)
            else None
        )
        usable = (
            "null_quantile" in subject_table.columns and tested == value and against in (0, 0.0, "surrogate")
        )
        test = "stouffer" if usable else "one_sample"
    check_in(alternative, ("two-sided", "greater", "less"), "alternative")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"'alpha' must be in (0, 1); got {alpha!r}.")
    wide, info = _wide(subject_table, value, against)
    notes: list[str] = []
    if test in ("one_sample", "regression") and len(wide) < 2:
        raise ValueError(f"test={test!r} needs at least 2 subjects; the subject table has {len(wide)}.")
    if test == "one_sample":
        result, contrast = _one_sample(wide.to_numpy(), alternative, alpha), f"{value} vs {against}"
    elif test == "stouffer":
        if "null_quantile" not in subject_table.columns:
            raise ValueError(
                "test='stouffer' needs 'null_quantile': run score_cohort with null='time_shift'."
            )
        wide, _ = _wide(subject_table, "null_quantile", 0.0, uses_null=True)
        difference, _ = _wide(subject_table, value, "surrogate")
        result = _stouffer(wide.to_numpy(), difference.to_numpy(), alternative, alpha)
        contrast = f"{value} vs surrogate (Stouffer)"
    elif test == "two_group":
        if by is None:
            raise ValueError("test='two_group' needs 'by', the phenotype column that defines the two groups.")
        per_subject = _subject_covariates(subject_table, phenotype)
        labels = _column(per_subject, by).reindex(wide.index)
        levels = _levels(labels, by, levels)
        notes += _check_level_sizes(labels, by, levels)
        a = wide.to_numpy()[(labels == levels[0]).to_numpy()]
        b = wide.to_numpy()[(labels == levels[1]).to_numpy()]
        result = _two_group(a, b, alternative, equal_var, alpha)
        contrast = f"{by}: {levels[0]} - {levels[1]}"
    else:
        if covariate is None:
            raise ValueError(
                "test='regression' needs 'covariate', the phenotype column whose slope is tested."
            )
        per_subject = _subject_covariates(subject_table, phenotype).reindex(wide.index)
        design, names = _design(per_subject, covariate, list(covariates))
        result = _regression(wide.to_numpy(), design, alpha)
        contrast = f"{value} ~ {' + '.join(names[1:])}"
    excluded = _excluded(wide)
    out = info.reset_index()
    out["test"] = test
    out["value"] = value
    out["contrast"] = contrast
    for key in ("n_subjects", "estimate", "se", "statistic", "df"):
        out[key] = result[key]
    out["n_excluded"] = (~np.isfinite(wide.to_numpy())).sum(axis=0)
    out["p_value"] = np.where(result["enough"], result["p_value"], np.nan)
    reject, q = fdr_bh(out["p_value"].to_numpy(), alpha=alpha)
    out["q_value"] = q
    out["significant"] = reject
    out["status"] = np.where(result["enough"], "ok", "too_few_subjects")
    positive = out["estimate"] > 0
    if test in ("one_sample", "stouffer") and value == "o_info":
        out["direction"] = np.where(positive, "redundancy", "synergy")
    else:
        out["direction"] = np.where(positive, "positive", "negative")
    out["effect_size"] = result["effect_size"]
    out["effect_size_kind"] = result["effect_size_kind"]
    out["hedges_g"] = result["hedges_g"]
    out["ci_low"] = result["ci_low"]
    out["ci_high"] = result["ci_high"]
    for column in ("unit", "estimator"):
        if column not in out:
            out[column] = subject_table.attrs.get(column)
    out = out.loc[:, list(GROUP_COLUMNS)]
    out["n_subjects"] = out["n_subjects"].astype(np.int64)
    out.attrs = {
        **{k: v for k, v in subject_table.attrs.items() if k != "errors"},
        "test": test,
        "value": value,
        "against": against,
        "contrast": contrast,
        "alternative": alternative,
        "alpha": alpha,
        "multiple_comparisons": "Benjamini-Hochberg FDR across groups",
        "n_subjects_total": len(wide),
        "excluded": excluded,
        "notes": notes,
    }
    return out


def _excluded(wide: pd.DataFrame) -> dict[str, int]:
    """Subject -> number of groups without a finite value; a warning names them (they are left out)."""
    missing = (~np.isfinite(wide.to_numpy())).sum(axis=1)
    excluded = {str(s): int(n) for s, n in zip(wide.index, missing, strict=True) if n}
    if excluded:
        listing = ", ".join(f"{s!r} ({n} of {wide.shape[1]})" for s, n in list(excluded.items())[:5])
        warnings.warn(
            f"group statistics: {sum(excluded.values())} (subject, group) value(s) are missing or not finite "
            f"and are left out: subject(s) {listing}{' and more' if len(excluded) > 5 else ''}. "
            "'n_subjects' and 'n_excluded' count, per group, the subjects used and left out.",
            UserWarning,
            stacklevel=3,
        )
    return excluded


def _check_level_sizes(labels: pd.Series, by: str, levels: tuple[Any, Any]) -> list[str]:
    """``ValueError`` if a level has fewer than 2 subjects; below 5, a warning whose text is returned (for
    ``attrs["notes"]``, which the report shows)."""
    counts = {level: int((labels == level).sum()) for level in levels}
    listing = " vs ".join(f"{n} ({level!r})" for level, n in counts.items())
    if min(counts.values()) < 2:
        raise ValueError(
            f"a two-group test on {by!r} needs at least 2 subjects per level (a variance per group); "
            f"got {listing}."
        )
    if min(counts.values()) >= MIN_SUBJECTS_PER_LEVEL:
        return []
    note = (
        f"two-group test on {by!r} with {listing} subjects: with fewer than {MIN_SUBJECTS_PER_LEVEL} per "
        "level the test has little power and its p-values lean on normality; read them with care."
    )
    warnings.warn(note, UserWarning, stacklevel=3)
    return [note]


def _column(per_subject: pd.DataFrame, name: str) -> pd.Series:
    if name not in per_subject.columns:
        raise ValueError(
            f"phenotype column {name!r} is missing; pass 'phenotype' or join it "
            f"(columns: {list(per_subject)})."
        )
    return per_subject[name]


def _levels(labels: pd.Series, by: str, levels: Sequence[Any] | None) -> tuple[Any, Any]:
    present = sorted(labels.dropna().unique().tolist())
    if levels is None:
        if len(present) != 2:
            raise ValueError(f"column {by!r} has levels {present}; pass 'levels' to choose two of them.")
        return present[0], present[1]
    if len(levels) != 2 or any(level not in present for level in levels):
        raise ValueError(f"'levels' must be two of the levels {present} of {by!r}; got {list(levels)}.")
    return levels[0], levels[1]


def _p_from_t(t: np.ndarray, df: np.ndarray, alternative: str) -> np.ndarray:
    if alternative == "greater":
        return sps.t.sf(t, df)
    if alternative == "less":
        return sps.t.cdf(t, df)
    return 2.0 * sps.t.sf(np.abs(t), df)


def _t_result(
    n: np.ndarray,
    estimate: np.ndarray,
    se: np.ndarray,
    df: np.ndarray,
    d: np.ndarray,
    *,
    hedges_df: np.ndarray,
    alternative: str,
    alpha: float,
) -> dict[str, Any]:
    """Result columns of a t-test of ``estimate`` (t = estimate / se, ``df`` degrees of freedom).

    ``d`` is Cohen's d; Hedges' g corrects it with ``hedges_df`` degrees of freedom.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        t = estimate / se
        crit = sps.t.ppf(1.0 - alpha / 2.0, df)
    return {
        "n_subjects": n,
        "estimate": estimate,
        "se": se,
        "statistic": t,
        "df": df,
        "p_value": _p_from_t(t, df, alternative),
        "effect_size": d,
        "effect_size_kind": "cohen_d",
        "hedges_g": d * hedges_correction(hedges_df),
        "ci_low": estimate - crit * se,
        "ci_high": estimate + crit * se,
    }


def _one_sample(y: np.ndarray, alternative: str, alpha: float) -> dict[str, Any]:
    n = np.sum(np.isfinite(y), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN groups: reported as too_few_subjects
        mean = np.nanmean(y, axis=0)
        sd = np.nanstd(y, axis=0, ddof=1)
        se = sd / np.sqrt(n)
        df = n - 1.0
        d = mean / sd
    result = _t_result(n, mean, se, df, d, hedges_df=df, alternative=alternative, alpha=alpha)
    return {**result, "enough": n >= 2}


def _stouffer(quantiles: np.ndarray, difference: np.ndarray, alternative: str, alpha: float) -> dict:
    """Stouffer's Z from per-subject mid-rank quantiles; estimate and CI from the mean difference."""
    z = sps.norm.ppf(quantiles)
    n = np.sum(np.isfinite(z), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        statistic = np.nansum(z, axis=0) / np.sqrt(n)
    if alternative == "greater":
        p = sps.norm.sf(statistic)
    elif alternative == "less":
        p = sps.norm.cdf(statistic)
    else:
        p = 2.0 * sps.norm.sf(np.abs(statistic))
    means = _one_sample(difference, alternative, alpha)
    return {
        **means,
        "enough": n >= 1,
        "n_subjects": n,
        "statistic": statistic,
        "df": np.full(z.shape[1], np.nan),
        "p_value": p,
        "effect_size": statistic / np.sqrt(n),
        "effect_size_kind": "mean_z",
        "hedges_g": np.full(z.shape[1], np.nan),
    }


def _two_group(a: np.ndarray, b: np.ndarray, alternative: str, equal_var: bool, alpha: float) -> dict:
    na, nb = np.sum(np.isfinite(a), axis=0), np.sum(np.isfinite(b), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # < 2 values in a level: too_few_subjects
        ma, mb = np.nanmean(a, axis=0), np.nanmean(b, axis=0)
        va, vb = np.nanvar(a, axis=0, ddof=1), np.nanvar(b, axis=0, ddof=1)
        pooled = ((na - 1) * va + (nb - 1) * vb) / (na + nb - 2)
        if equal_var:
            se = np.sqrt(pooled * (1.0 / na + 1.0 / nb))
            df = na + nb - 2.0
        else:
            se = np.sqrt(va / na + vb / nb)
            df = (va / na + vb / nb) ** 2 / ((va / na) ** 2 / (na - 1) + (vb / nb) ** 2 / (nb - 1))
        diff = ma - mb
        d = diff / np.sqrt(pooled)
    result = _t_result(
        na + nb, diff, se, df, d, hedges_df=na + nb - 2.0, alternative=alternative, alpha=alpha
    )
    return {**result, "enough": (na >= 2) & (nb >= 2)}


def _design(per_subject: pd.DataFrame, covariate: str, covariates: list[str]) -> tuple[np.ndarray, list[str]]:
    """Design matrix (n_subjects, p): intercept, the tested covariate, then nuisance columns."""
    columns = [covariate, *covariates]
    for name in columns:
        _column(per_subject, name)
    tested = pd.to_numeric(per_subject[covariate], errors="coerce")
    if tested.isna().any():
        missing = per_subject.index[tested.isna().to_numpy()].tolist()
        raise ValueError(f"covariate {covariate!r} is missing or not numeric for subjects {missing[:5]}.")
    nuisance = (
        pd.get_dummies(per_subject[covariates], drop_first=True, dtype=np.float64) if covariates else None
    )
    parts = [np.ones(len(per_subject)), tested.to_numpy(dtype=np.float64)]
    names = ["intercept", covariate]
    if nuisance is not None:
        if nuisance.isna().any().any():
            raise ValueError(f"nuisance covariates {covariates} have missing values.")
        parts.extend(nuisance.to_numpy().T)
        names.extend(nuisance.columns)
    design = np.column_stack(parts)
    if np.linalg.matrix_rank(design) < design.shape[1]:
        raise ValueError(f"the design {names} is rank deficient (a covariate is constant or collinear).")
    return design, names


def _regression(y: np.ndarray, design: np.ndarray, alpha: float) -> dict[str, Any]:
    """OLS of every column of y on the design; coefficient 1 is tested. Columns with NaN use their rows."""
    n_groups = y.shape[1]
    out = {k: np.full(n_groups, np.nan) for k in ("estimate", "se", "statistic", "df", "n_subjects")}
    complete = np.isfinite(y).all(axis=0)
    batches = [(np.flatnonzero(complete), np.ones(y.shape[0], dtype=bool))]
    batches += [(np.array([j]), np.isfinite(y[:, j])) for j in np.flatnonzero(~complete)]
    for cols, rows in batches:
        if cols.size == 0:
            continue
        x, yy = design[rows], y[np.ix_(rows, cols)]
        n, p = x.shape
        if n <= p:
            continue
        xtx_inv = np.linalg.inv(x.T @ x)
        beta = xtx_inv @ x.T @ yy
        resid = yy - x @ beta
        sigma2 = (resid**2).sum(axis=0) / (n - p)
        se = np.sqrt(sigma2 * xtx_inv[1, 1])
        out["estimate"][cols] = beta[1]
        out["se"][cols] = se
        out["statistic"][cols] = beta[1] / se
        out["df"][cols] = n - p
        out["n_subjects"][cols] = n
    t, df = out["statistic"], out["df"]
    with np.errstate(invalid="ignore", divide="ignore"):
        crit = sps.t.ppf(1.0 - alpha / 2.0, df)
        partial_r = t / np.sqrt(t**2 + df)
    n_used = np.nan_to_num(out["n_subjects"]).astype(np.int64)
    return {
        **out,
        "n_subjects": n_used,
        "enough": n_used > design.shape[1],
        "p_value": 2.0 * sps.t.sf(np.abs(t), df),
        "effect_size": partial_r,
        "effect_size_kind": "partial_r",
        "hedges_g": np.full(n_groups, np.nan),
        "ci_low": out["estimate"] - crit * out["se"],
        "ci_high": out["estimate"] + crit * out["se"],
    }


def phenotype_problems(
    phenotype: pd.DataFrame | None,
    *,
    by: str | None = None,
    levels: Sequence[Any] | None = None,
    covariate: str | None = None,
    covariates: Sequence[str] = (),
) -> list[tuple[str, str]]:
    """What keeps a contrast or regression of :func:`group_statistics` from running, found before scoring.

    Parameters
    ----------
    phenotype : DataFrame indexed by subject, or None
        The participants table (None or empty: there is none).
    by, levels, covariate, covariates
        As in :func:`group_statistics`; levels are compared as text (a config gives strings).

    Returns
    -------
    list of (str, str)
        ``(argument, what is wrong)``: a column the table lacks, levels it does not hold (or a ``by``
        column without exactly two levels and no ``levels``), a covariate that is not numeric.
    """
    named = [("by", by), ("covariate", covariate), *(("covariates", c) for c in covariates)]
    named = [(arg, column) for arg, column in named if column is not None]
    if not named:
        return []
    columns = [] if phenotype is None else [str(c) for c in phenotype.columns]
    problems = []
    for arg, column in named:
        if column not in columns:
            where = f"its columns are {columns}" if columns else "no participants table was found"
            problems.append((arg, f"names column {column!r}, which the participants table lacks ({where})"))
    if by is not None and by in columns:
        present = sorted({str(v) for v in phenotype[by].dropna()})
        if levels is None and len(present) != 2:
            problems.append(("by", f"column {by!r} has levels {present}; give stats levels to choose two"))
        missing = [str(v) for v in levels or () if str(v) not in present]
        if missing:
            problems.append(("levels", f"{missing} are not levels of {by!r} (it has {present})"))
    if covariate is not None and covariate in columns:
        values = pd.to_numeric(phenotype[covariate], errors="coerce")
        if values.isna().all():
            problems.append(("covariate", f"column {covariate!r} holds no numbers"))
    return problems
