"""``Cohort``: the runs of many subjects (fMRIPrep derivatives or region tables), loaded lazily and cached.

A bad subject never stops the others: its error is recorded in ``Cohort.errors`` and it is skipped when
iterating; ``Cohort.get`` raises ``ValueError`` naming it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import __version__
from .._validation import check_positive_number
from .atlases import Atlas, load_atlas
from .confounds import read_table
from .parcellation import bids_entities, parcellate
from .tables import _TABLE_SUFFIXES, load_region_table
from .timeseries import RegionTimeSeries

logger = logging.getLogger("fmmi_neuro.io")

_CACHE_SCHEMA = 1
_METADATA_FILES = {"participants.tsv", "regions.tsv", "rois.tsv", "confounds.tsv"}


@dataclass(frozen=True)
class Run:
    """One run found on disk: its BIDS labels and file."""

    subject: str
    path: Path
    session: str | None = None
    task: str | None = None
    run: str | None = None
    space: str | None = None

    @property
    def key(self) -> tuple[str, str | None, str | None, str | None]:
        return (self.subject, self.session, self.task, self.run)


def default_cache_dir() -> Path:
    """``$FMMI_NEURO_CACHE``, else ``~/.cache/fmmi_neuro/parcellations``."""
    return Path(os.environ.get("FMMI_NEURO_CACHE", Path.home() / ".cache" / "fmmi_neuro" / "parcellations"))


class Cohort:
    """Subjects' region time series, discovered on disk and loaded on demand.

    Build one with :meth:`from_fmriprep` or :meth:`from_region_tables`.

    Examples
    --------
    >>> cohort = Cohort.from_region_tables("../shared/data/hcp7_aal2", t_r=0.72)  # doctest: +SKIP
    >>> for ts in cohort:  # doctest: +SKIP
    ...     print(ts.subject, ts.shape)

    Attributes
    ----------
    subjects : list of str
        Subject labels (without ``sub-``) discovered and not known to be bad.
    phenotype : DataFrame
        ``participants.tsv`` indexed by subject (empty when there is none).
    errors : dict
        Subject -> message for subjects that failed; filled as subjects are loaded (see :meth:`load_all`).
    runs : DataFrame
        One row per discovered run: subject, session, task, run, space, path.
    """

    def __init__(
        self,
        runs: list[Run],
        loader: Callable[[Run], RegionTimeSeries],
        *,
        phenotype: pd.DataFrame | None = None,
        source: str | None = None,
        errors: dict[str, str] | None = None,
    ) -> None:
        _check_duplicates(runs)
        self._runs = list(runs)
        self._loader = loader
        self.phenotype = (
            phenotype if phenotype is not None else pd.DataFrame(index=pd.Index([], name="subject"))
        )
        self.source = source
        self.errors: dict[str, str] = dict(errors or {})

    @property
    def subjects(self) -> list[str]:
        seen: list[str] = []
        for r in self._runs:
            if r.subject not in seen and r.subject not in self.errors:
                seen.append(r.subject)
        return seen

    @property
    def runs(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "subject": r.subject,
                    "session": r.session,
                    "task": r.task,
                    "run": r.run,
                    "space": r.space,
                    "path": str(r.path),
                }
                for r in self._runs
            ]
        )

    def __len__(self) -> int:
        return len(self.subjects)

    def __repr__(self) -> str:
        return (
            f"Cohort({len(self.subjects)} subjects, {len(self._runs)} runs, {len(self.errors)} errors, "
            f"source={self.source!r})"
        )

    def get(
        self, subject: str, *, session: str | None = None, task: str | None = None, run: str | None = None
    ) -> RegionTimeSeries:
        """Return one subject's region time series (runs concatenated in time when there are several).

        Each run is cleaned on its own first; with several runs, only regions present in every run are
        kept and ``preprocessing["runs"]`` lists the runs.

        Raises
        ------
        ValueError
            Naming the subject, if it is unknown or its data are bad (the error is also recorded in
            :attr:`errors`).
        """
        subject = str(subject).removeprefix("sub-")
        if subject in self.errors:
            raise ValueError(f"subject {subject!r} failed earlier: {self.errors[subject]}")
        runs = [
            r
            for r in self._runs
            if r.subject == subject
            and (session is None or r.session == session)
            and (task is None or r.task == task)
            and (run is None or r.run == run)
        ]
        if not runs:
            known = sorted({r.subject for r in self._runs})
            raise ValueError(
                f"subject {subject!r} (session={session}, task={task}, run={run}) is not in the "
                f"cohort; subjects are {known[:10]}{' ...' if len(known) > 10 else ''}."
            )
        try:
            parts = [self._loader(r) for r in runs]
            ts = parts[0] if len(parts) == 1 else _concatenate(parts, subject)
        except Exception as err:  # one bad subject must not stop the cohort: record it, raise ValueError
            message = f"{type(err).__name__}: {err}" if not isinstance(err, ValueError) else str(err)
            self.errors[subject] = message
            logger.warning("subject %r skipped: %s", subject, message)
            raise ValueError(f"subject {subject!r}: {message}") from err
        return ts

    def __iter__(self) -> Iterator[RegionTimeSeries]:
        """Yield each good subject's RegionTimeSeries; bad subjects are recorded in :attr:`errors`, warned
        about and skipped."""
        for subject in self.subjects:
            try:
                yield self.get(subject)
            except ValueError as err:
                warnings.warn(f"{err} (skipped; see Cohort.errors)", UserWarning, stacklevel=2)

    def load_all(self) -> dict[str, RegionTimeSeries]:
        """Load every subject now; return subject -> RegionTimeSeries for the good ones (bad ones in
        :attr:`errors`)."""
        return {ts.subject: ts for ts in self}

    @classmethod
    def from_fmriprep(
        cls,
        derivatives_dir: str | Path,
        atlas: Any,
        *,
        task: str | None = None,
        space: str | None = None,
        sessions: list[str] | None = None,
        subjects: list[str] | None = None,
        participants: Any = "auto",
        confounds_strategy: str | dict[str, Any] | None = "simple",
        standardize: Any = "zscore_sample",
        cache_dir: str | Path | None | bool = None,
        data_dir: str | Path | None = None,
        **parcellate_kwargs: Any,
    ) -> Cohort:
        """Discover preprocessed BOLD runs in an fMRIPrep (BIDS derivatives) folder.

        Runs are ``sub-<label>[/ses-<label>]/func/sub-*_desc-preproc_bold.nii[.gz]`` (found with
        :func:`nilearn.interfaces.bids.get_bids_files`); each is parcellated with :func:`parcellate` when
        first needed, and the result cached on disk keyed by the image, its confounds, the atlas and every
        setting, so a rerun does not recompute it.

        Parameters
        ----------
        derivatives_dir : str or Path
            The fMRIPrep output folder.
        atlas : str, Atlas, path
            Anything :func:`load_atlas` accepts (loaded once here).
        task, space : str, optional
            Keep only runs with these BIDS labels. If several spaces are present, ``space`` is required.
        sessions, subjects : list of str, optional
            Keep only these (labels without ``ses-``/``sub-``).
        participants : "auto", str, Path, DataFrame or None
            Phenotype table with a ``participant_id`` column; "auto" looks for ``participants.tsv`` in the
            derivatives folder and its two parents (the BIDS root).
        confounds_strategy : str, dict or None
            fMRIPrep denoising for each run (see :func:`parcellate`); None for none.
        standardize : see :func:`parcellate`.
        cache_dir : str, Path, None or False
            Where parcellations are cached (None: :func:`default_cache_dir`; False: no cache).
        data_dir : str or Path, optional
            nilearn data dir for a named atlas.
        **parcellate_kwargs
            Further :func:`parcellate` arguments (``detrend``, ``low_pass``, ``high_pass``, ``min_volumes``,
            ``sample_mask`` is not allowed here, ...).

        Raises
        ------
        ValueError
            If the folder does not exist or has no runs, two files claim the same subject/session/task/run,
            several spaces are found without ``space=``, or ``participants.tsv`` repeats a subject.
        """
        from nilearn.interfaces.bids import get_bids_files

        root = Path(derivatives_dir)
        if not root.is_dir():
            raise ValueError(f"derivatives folder {str(root)!r} does not exist.")
        if "sample_mask" in parcellate_kwargs:
            raise ValueError(
                "a cohort cannot take one sample_mask for all runs; use confounds_strategy "
                "(e.g. 'scrubbing') or min_volumes instead."
            )
        filters = (
            [("desc", "preproc")] + ([("task", task)] if task else []) + ([("space", space)] if space else [])
        )
        files = get_bids_files(
            root, file_tag="bold", file_type="nii*", modality_folder="func", filters=filters
        )
        runs = []
        for f in files:
            ent = bids_entities(f)
            if (
                "subject" not in ent
                or (subjects and ent["subject"] not in subjects)
                or (sessions and ent.get("session") not in sessions)
            ):
                continue
            runs.append(
                Run(
                    subject=ent["subject"],
                    path=Path(f),
                    session=ent.get("session"),
                    task=ent.get("task"),
                    run=ent.get("run"),
                    space=ent.get("space"),
                )
            )
        if not runs:
            raise ValueError(
                f"no preprocessed BOLD runs (sub-*/[ses-*/]func/*_desc-preproc_bold.nii[.gz]"
                f"{f', task {task!r}' if task else ''}{f', space {space!r}' if space else ''}) found in "
                f"{str(root)!r}."
            )
        spaces = sorted({str(r.space) for r in runs})
        if len(spaces) > 1:
            raise ValueError(
                f"runs in {str(root)!r} come in several spaces {spaces}; choose one with space=."
            )
        atlas_obj = load_atlas(atlas, data_dir=data_dir)
        settings = {"confounds_strategy": confounds_strategy, "standardize": standardize, **parcellate_kwargs}
        cache = (
            None if cache_dir is False else Path(cache_dir) if cache_dir is not None else default_cache_dir()
        )
        atlas_key = _atlas_fingerprint(atlas_obj)

        def loader(r: Run) -> RegionTimeSeries:
            kwargs = {
                **settings,
                "subject": r.subject,
                "session": r.session,
                "task": r.task,
                "run": r.run,
                "space": r.space,
            }
            if cache is None:
                return parcellate(r.path, atlas_obj, **kwargs)
            inputs = [r.path, *_sidecars(r.path)]
            key = _cache_key(
                {
                    "inputs": [_file_fingerprint(p) for p in inputs],
                    "atlas": atlas_key,
                    "settings": kwargs,
                    "schema": _CACHE_SCHEMA,
                    "version": __version__,
                }
            )
            target = cache / f"sub-{r.subject}" / f"{r.path.name.split('.')[0]}_{key[:20]}.tsv"
            if target.with_suffix(".json").is_file():  # the sidecar is written last: its presence = complete
                logger.info("cached parcellation of %s read from %s", r.path, target)
                return RegionTimeSeries.load(target)
            ts = parcellate(r.path, atlas_obj, **kwargs)
            _save_atomically(ts, target)
            return ts

        return cls(
            runs,
            loader,
            phenotype=load_phenotype(participants, [root, root.parent, root.parent.parent]),
            source=str(root),
        )

    @classmethod
    def from_region_tables(
        cls,
        folder: str | Path,
        *,
        pattern: str | None = None,
        regions: Any = "auto",
        participants: Any = "auto",
        t_r: float | None = None,
        atlas: str | None = None,
        **table_kwargs: Any,
    ) -> Cohort:
        """Gather region tables (TSV/CSV/NPY/MAT, one per run) from a folder, one subject per file.

        Parameters
        ----------
        folder : str or Path
        pattern : str, optional
            Glob for the files; default ``sub-*`` when such files exist, else every table file except
            ``participants.tsv``, ``regions.tsv``, ``rois.tsv`` and ``confounds.tsv``.
        regions : "auto", str, Path, DataFrame or None
            Region description table for every file (see :func:`load_region_table`); "auto" uses
            ``regions.tsv`` or ``rois.tsv`` in the folder if present.
        participants : "auto", str, Path, DataFrame or None
            Phenotype table (``participant_id`` column); "auto" uses the folder's ``participants.tsv``.
        t_r : float, optional
            Seconds (default: each file's JSON sidecar).
        atlas : str, optional
            Atlas name to record.
        **table_kwargs
            Further :func:`load_region_table` arguments (``key``, ``transpose``, ``region_names``).

        Raises
        ------
        ValueError
            If the folder is missing or holds no tables, or two files claim the same subject/session/task/run.
        """
        root = Path(folder)
        if t_r is not None:
            t_r = check_positive_number(t_r, "t_r", " of seconds")
        if root.is_file():
            raise ValueError(
                f"region-table folder {str(root)!r} is a file; give the folder that holds the tables."
            )
        if not root.is_dir():
            raise ValueError(f"region-table folder {str(root)!r} does not exist.")
        if pattern is None:
            pattern = "sub-*" if any(root.glob("sub-*")) else "*"
        files = sorted(
            p
            for p in root.glob(pattern)
            if p.is_file() and p.suffix.lower() in _TABLE_SUFFIXES and p.name not in _METADATA_FILES
        )
        if not files:
            raise ValueError(
                f"no region tables ({', '.join(_TABLE_SUFFIXES)}) matching {pattern!r} in {str(root)!r}."
            )
        if isinstance(regions, str) and regions == "auto":
            regions = next((root / n for n in ("regions.tsv", "rois.tsv") if (root / n).is_file()), None)
        runs = []
        for f in files:
            ent = bids_entities(f)
            runs.append(
                Run(
                    subject=ent.get("subject", f.name.split(".")[0]),
                    path=f,
                    session=ent.get("session"),
                    task=ent.get("task"),
                    run=ent.get("run"),
                    space=ent.get("space"),
                )
            )

        def loader(r: Run) -> RegionTimeSeries:
            return load_region_table(
                r.path, regions=regions, t_r=t_r, subject=r.subject, atlas=atlas, **table_kwargs
            )

        return cls(runs, loader, phenotype=load_phenotype(participants, [root]), source=str(root))


def _check_duplicates(runs: list[Run]) -> None:
    by_key: dict[tuple, list[str]] = {}
    for r in runs:
        by_key.setdefault(r.key, []).append(str(r.path))
    dups = {k: v for k, v in by_key.items() if len(v) > 1}
    if dups:
        lines = "; ".join(
            f"subject {k[0]!r} (session={k[1]}, task={k[2]}, run={k[3]}): {v}"
            for k, v in list(dups.items())[:5]
        )
        raise ValueError(f"duplicate subject IDs: several files for the same run: {lines}.")


def load_phenotype(participants: Any, search: list[Path]) -> pd.DataFrame | None:
    """The participants table indexed by subject label (without "sub-"), or None when there is none.

    Parameters
    ----------
    participants : "auto", str, Path, DataFrame or None
        "auto" takes the first ``participants.tsv`` found in ``search``.
    search : list of Path
        Folders searched for "auto".

    Raises
    ------
    ValueError
        The table cannot be read, has no ``participant_id`` (or ``subject``) column, or repeats a subject.
    """
    if participants is None:
        return None
    if isinstance(participants, str) and participants == "auto":
        found = next((d / "participants.tsv" for d in search if (d / "participants.tsv").is_file()), None)
        if found is None:
            return None
        participants = found
    where = "participants table"
    if isinstance(participants, (str, Path)):
        where = f"participants table {str(participants)!r}"
        participants = read_table(participants, "participants table")
    table = participants.copy()
    id_col = next((c for c in ("participant_id", "subject", "subject_id") if c in table.columns), None)
    if id_col is None:
        raise ValueError(f"{where} needs a 'participant_id' column; it has {list(table.columns)}.")
    ids = table[id_col].astype(str).str.removeprefix("sub-")
    dups = sorted(set(ids[ids.duplicated()]))
    if dups:
        raise ValueError(f"duplicate subject IDs in {where}: {dups[:10]}.")
    table = table.drop(columns=[id_col])
    table.index = pd.Index(ids, name="subject")
    return table


def _concatenate(parts: list[RegionTimeSeries], subject: str) -> RegionTimeSeries:
    common = [n for n in parts[0].region_names if all(n in p.region_names for p in parts[1:])]
    if not common:
        raise ValueError(f"the runs of subject {subject!r} share no region.")
    t_rs = {p.t_r for p in parts}
    if len(t_rs) > 1:
        raise ValueError(f"the runs of subject {subject!r} have different t_r {sorted(map(str, t_rs))}.")
    selected = [p.select(common) for p in parts]
    first = selected[0]
    return replace(
        first,
        data=np.vstack([p.data for p in selected]),
        run=None,
        session=first.session if len({p.session for p in parts}) == 1 else None,
        preprocessing={
            "concatenated_runs": [p.source for p in parts],
            "runs": [p.preprocessing for p in parts],
            "regions_dropped_to_match_runs": sorted({n for p in parts for n in p.region_names} - set(common)),
        },
    )


def _sidecars(img_path: Path) -> list[Path]:
    """Files that change a run's parcellation besides the image: its JSON sidecar and fMRIPrep confounds."""
    stem = img_path.name.split("_space-")[0].split("_desc-")[0]
    sidecar = img_path.with_name(img_path.name.split(".")[0] + ".json")
    return [p for p in [sidecar] if p.is_file()] + sorted(img_path.parent.glob(f"{stem}_desc-confounds_*"))


def _save_atomically(ts: RegionTimeSeries, target: Path) -> None:
    """Save to temporary names, then move the TSV and, last, the JSON sidecar into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.stem}.{os.getpid()}.tsv")
    ts.save(tmp)
    os.replace(tmp, target)
    os.replace(tmp.with_suffix(".json"), target.with_suffix(".json"))


def _file_fingerprint(path: Path) -> list[Any]:
    stat = path.stat()
    return [str(path.resolve()), stat.st_size, stat.st_mtime_ns]


def _atlas_fingerprint(atlas: Atlas) -> str:
    h = hashlib.sha256()
    h.update(
        json.dumps(
            [atlas.name, atlas.kind, atlas.region_names, atlas.networks, atlas.parameters], default=str
        ).encode()
    )
    for img in (atlas.labels_img, atlas.maps_img):
        if img is not None:
            h.update(np.ascontiguousarray(np.asarray(img.dataobj)).tobytes())
            h.update(np.asarray(img.affine).tobytes())
    h.update(np.ascontiguousarray(atlas.coordinates).tobytes())
    h.update(np.asarray(atlas.radius if atlas.radius is not None else 0.0, dtype=float).tobytes())
    return h.hexdigest()


def _cache_key(content: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()
