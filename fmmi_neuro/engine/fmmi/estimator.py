"""``MultiTimeFMMI``: fit the multi-time fields once, then score any groups of variables through them.

``fit(X)`` maps the marginals to a copula scale (``gaussian.copula.copula_transform``), cuts the series
into contiguous cross-fitting folds and trains one field per fold (``training.train_field``) on random
groups of ``group_size`` variables and the paths their terms need (``paths.PathMixture``). ``score(groups)``
streams groups through the fitted fields: each group's Gaussian parts come in closed form from the
full-data scatter (``gaussian.terms``), and the correction ``-E[div r_theta]`` of each of its paths is
evaluated on the held-out block of every fold (``divergence``), with random numbers (path positions, source
rows, probes) drawn once per fold and shared by all groups, so a group's score does not depend on which
other groups are scored with it. ``terms.omega_terms`` assembles TC, DTC, Omega and S.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import combinations, islice
from math import comb
from typing import Any

import numpy as np
import torch

from fmmi_neuro._validation import (
    as_samples_array,
    check_in,
    check_positive_int,
    check_same_length,
    check_seed,
)
from fmmi_neuro.engine._device import resolve_device
from fmmi_neuro.engine.blocks import contiguous_folds, split_validation
from fmmi_neuro.engine.fmmi.divergence import hutchinson_divergence, rademacher
from fmmi_neuro.engine.fmmi.field import LEFT_OUT_FLAG_MAX_VARS, MultiTimeField
from fmmi_neuro.engine.fmmi.gaussianize import GAUSSIANIZE_MIN_DOF, gaussianize
from fmmi_neuro.engine.fmmi.paths import Path, PathMixture, cyclic_derangement, interpolate
from fmmi_neuro.engine.fmmi.settings import FMMISettings, resolve_budget, resolve_residual
from fmmi_neuro.engine.fmmi.terms import AUTO_SECOND_IDENTITY_MAX_VARS, PathTerms, omega_terms
from fmmi_neuro.engine.fmmi.training import TrainingReport, train_field
from fmmi_neuro.engine.gaussian.copula import copula_transform
from fmmi_neuro.engine.gaussian.marginals import whiten
from fmmi_neuro.engine.gaussian.student_t import influence_rows, resolve_dof, scatter, select_dof
from fmmi_neuro.engine.gaussian.terms import gaussian_term_influence, gaussian_terms

MIN_SAMPLES = 100
"""Fewest samples ``fit`` accepts (each cross-fitting fold needs training, validation and evaluation rows)."""
PATHS = ("terms", "diagonal", "last_moving")
EVAL_ROWS = {"cpu": 2**15, "cuda": 2**20}
"""Group-rows (groups x held-out samples) evaluated together by default, per device type (memory)."""


@dataclass
class FittedFold:
    """One cross-fitting fold: its held-out rows, trained field and the random numbers of its evaluation.

    ``positions`` (n_draws, n_test) are path positions s, stratified across draws; ``sources``
    (n_draws, R, n_test) a derangement of the held-out rows per variable; ``probes`` (n_draws, n_test, D)
    Rademacher signs for Hutchinson's estimator.
    """

    test: np.ndarray
    field: MultiTimeField
    positions: torch.Tensor
    sources: torch.Tensor
    probes: torch.Tensor
    report: TrainingReport | None = None


@dataclass(kw_only=True, eq=False)
class MultiTimeFMMI(FMMISettings):
    """Multi-time flow-matching estimator of TC, DTC, O-information and S-information of groups of variables.

    Omega = TC - DTC; Omega > 0 redundancy-dominated, Omega < 0 synergy-dominated. Values in nats.

    Parameters
    ----------
    group_size : int, optional
        Variables per scored group (k). ``None``: all variables form one group (one system).
    paths : {"terms", "diagonal", "last_moving"}
        What the fields are trained for and ``score_paths`` evaluates: every term of Omega (``"terms"``),
        only the diagonal (TC; with two variables the joint FMMI of their MI), or only the last member
        moving with the others fixed (I(X_k; X_<k); the conditional FMMI of an MI).
    seed : int
        Fixes every random choice (initialisation, training batches, evaluation draws).
    device : {"auto", "cpu", "cuda", "cuda:N"}
    **options
        ``FMMISettings`` (network, training, evaluation and marginal options).

    Attributes
    ----------
    n_samples_, dims_ : int, tuple of int
        Samples and the dimension of each variable seen by ``fit``.
    tail_dof_ : float or None
        ``gaussian.student_t.select_dof`` of the data: the best Student-t copula's degrees of freedom
        (``None``: the Gaussian copula fits best); decides ``copula="auto"`` and where ``gaussianize``
        applies.
    copula_dof_ : float or None
        Degrees of freedom of the Student-t copula used (``None``: the Gaussian copula).
    gaussianize_ : GaussianizeReport or None
        What the per-variable Gaussianizing maps did (``None``: not tried).
    residual_ : {"mlp", "radial"}
    budget_ : dict
        Resolved ``max_steps``, ``min_steps`` and ``n_draws``.
    scatter_ : ndarray, shape (D, D)
        Full-data scatter of the transformed coordinates (the Gaussian parts come from it).
    folds_ : list of FittedFold
    seconds_fit_ : float

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((400, 5))
    >>> est = MultiTimeFMMI(group_size=3, max_steps=20, min_steps=20, width=16, device="cpu").fit(x)
    >>> est.score([[0, 1, 2], [2, 3, 4]])["o_info"].shape
    (2,)
    """

    group_size: int | None = None
    paths: str = "terms"
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_in(self.paths, PATHS, "paths")
        check_seed(self.seed)
        if self.group_size is not None:
            check_positive_int(self.group_size, "group_size", minimum=2)
        resolve_device(self.device)

    def fit(
        self,
        X: np.ndarray | Sequence[np.ndarray],
        *,
        progress: bool = False,
        on_validation: Callable[[FittedFold, int, float], None] | None = None,
    ) -> MultiTimeFMMI:
        """Train one field per cross-fitting fold.

        Parameters
        ----------
        X : ndarray, shape (n_samples, n_variables), or list of ndarray, each (n_samples, d_i)
            Scalar variables as columns, or one (possibly multivariate) variable per list entry; rows in
            time order. Finite, no constant coordinate, at least ``MIN_SAMPLES`` rows.
        progress : bool
            Show a progress bar over the folds' training.
        on_validation : callable ``(fold, step, val_loss)``, optional
            Called at every validation of every fold while its field holds the weights being validated, for
            learning curves (``benchmarks/learning_curves.py``); ``fold_corrections`` evaluates it.

        Returns
        -------
        self
        """
        start = time.perf_counter()
        arrays = _check_data(X)
        dims = tuple(a.shape[1] for a in arrays)
        n, n_vars = arrays[0].shape[0], len(arrays)
        size = n_vars if self.group_size is None else self.group_size
        if size > n_vars:
            raise ValueError(f"'group_size' ({size}) exceeds the number of variables ({n_vars}).")
        if size < n_vars and len(set(dims)) > 1:
            raise ValueError(
                f"groups smaller than all variables need variables of one dimension; got {dims}."
            )
        if self.paths == "terms" and size < 3:
            raise ValueError(f"O-information needs groups of at least 3 variables; got {size}.")
        device = resolve_device(self.device)
        raw = np.hstack(arrays)
        enough = n > 2 * raw.shape[1]
        needs_tail = enough and (
            "auto" in (self.copula, self.residual) or (self.gaussianize and max(dims) > 1)
        )
        self.tail_dof_ = select_dof(raw) if needs_tail else None
        self.copula_dof_ = resolve_dof(self.copula, raw, list(dims), tail_dof=self.tail_dof_)
        x = copula_transform(arrays, self.copula_dof_)
        self.gaussianize_ = None
        light_tails = self.tail_dof_ is None or self.tail_dof_ >= GAUSSIANIZE_MIN_DOF
        if self.gaussianize and self.copula_dof_ is None and light_tails and max(dims) > 1:
            mapped, self.gaussianize_ = gaussianize(x, dims, seed=self.seed)
            if self.gaussianize_.best_step > 0:
                starts = np.concatenate([[0], np.cumsum(dims)])
                x = np.hstack([whiten(mapped[:, a:b]) for a, b in zip(starts[:-1], starts[1:], strict=True)])
        self.n_samples_, self.dims_, self.size_ = n, dims, size
        self.scatter_ = scatter(x, self.copula_dof_)
        rows, self.influence_factor_ = influence_rows(x - x.mean(axis=0), self.scatter_, self.copula_dof_)
        self.influence_rows_ = rows
        self.budget_ = resolve_budget(
            self, one_system=size == n_vars, mutual_information=self.paths != "terms"
        )
        folds = contiguous_folds(n, self.n_folds)
        fit_rows, _ = split_validation(folds[0].train, self.val_fraction)
        tails = self.tail_dof_ if self.paths == "terms" else None  # MI: the MLP was better on heavy tails
        self.residual_ = resolve_residual(
            self.residual, len(fit_rows), size * max(dims), tails, self.copula_dof_ is not None
        )
        padded = _pad(x, dims)
        x_t = torch.as_tensor(padded, dtype=torch.float32, device=device)
        generator = torch.Generator(device=device).manual_seed(int(self.seed))
        init = torch.Generator().manual_seed(int(self.seed) + 1)
        mixture = self._mixture(n_vars, size)
        self.folds_ = []
        bar = _bar(progress, len(folds), "training FMMI fields", "fold")
        for fold in folds:
            fit, val = split_validation(fold.train, self.val_fraction)
            sigma = torch.as_tensor(
                scatter(x[fold.train], self.copula_dof_), dtype=torch.float32, device=device
            )
            net = MultiTimeField(
                sigma,
                list(dims),
                residual=self.residual_,
                width=self.width,
                depth=self.depth,
                n_frequencies=self.n_frequencies,
                generator=init,
                left_out_flag=size <= LEFT_OUT_FLAG_MAX_VARS,
            ).to(device)
            fitted = self._fold(fold.test, net, x.shape[1], generator)
            self.x_ = x_t
            fitted.report = train_field(
                net,
                x_t[fit],
                x_t[val],
                mixture,
                max_steps=self.budget_["max_steps"],
                min_steps=self.budget_["min_steps"],
                batch_size=self.batch_size,
                lr=self.lr,
                weight_decay=self.weight_decay,
                ema_window=self.ema_window,
                eval_every=self.eval_every,
                patience=self.patience,
                max_val_rows=self.max_val_rows,
                generator=generator,
                on_validation=None if on_validation is None else partial(on_validation, fitted),
            )
            net.requires_grad_(False)
            self.folds_.append(fitted)
            if bar is not None:
                bar.update()
        if bar is not None:
            bar.close()
        self.seconds_fit_ = time.perf_counter() - start
        return self

    def decisions(self) -> dict[str, Any]:
        """What ``fit`` decided from the data, as plain values (for a result's ``settings``)."""
        self._check_fitted()
        flows = self.gaussianize_
        return {
            "tail_dof": self.tail_dof_,
            "copula_dof": self.copula_dof_,
            "gaussianize": None if flows is None else {"kept_step": flows.best_step, "gain": flows.gain},
            "residual": self.residual_,
            "left_out_flag": self.size_ <= LEFT_OUT_FLAG_MAX_VARS,
            **self.budget_,
            "best_step": [fold.report.best_step for fold in self.folds_],
            "steps": [fold.report.steps for fold in self.folds_],
        }

    def _mixture(self, n_vars: int, size: int) -> PathMixture:
        if self.paths == "diagonal":
            return PathMixture(n_vars, size, 1.0, 0.0, 0.0)
        if self.paths == "last_moving":
            return PathMixture(n_vars, size, 0.0, 0.0, 1.0, moving_member=size - 1)
        return PathMixture(
            n_vars, size, self.p_diagonal, self.p_leave_out, 1.0 - self.p_diagonal - self.p_leave_out
        )

    def _fold(self, test: np.ndarray, net: MultiTimeField, n_coords: int, generator) -> FittedFold:
        device = generator.device
        n_test, n_draws, n_vars = len(test), self.budget_["n_draws"], len(self.dims_)
        jitter = torch.rand(n_draws, n_test, generator=generator, device=device)
        positions = (torch.arange(n_draws, device=device)[:, None] + jitter) / n_draws
        sources = torch.stack(
            [
                torch.stack([cyclic_derangement(n_test, generator, device) for _ in range(n_vars)])
                for _ in range(n_draws)
            ]
        )
        probes = rademacher((n_draws, n_test, n_coords), generator=generator, device=device)
        return FittedFold(test, net, positions, sources, probes)

    def score(
        self,
        groups: Iterable[Sequence[int]] | np.ndarray | None = None,
        *,
        chunk_size: int | None = None,
        progress=False,
    ) -> dict[str, np.ndarray]:
        """TC, DTC, Omega (= TC - DTC; > 0 redundancy, < 0 synergy) and S of each group, with stderrs, nats.

        Parameters
        ----------
        groups : int array (n_groups, group_size) or iterable of index sequences, optional
            Groups of variable indices. ``None``: every group of ``group_size`` (one group when it is all
            the variables).
        chunk_size : int, optional
            Groups evaluated together (memory); default ``EVAL_ROWS`` / held-out samples per fold.
        progress : bool
            Show a progress bar with an ETA over the groups.

        Returns
        -------
        dict
            ``o_info, tc, dtc, s_info``, ``*_se`` and ``identity_weight`` (n_groups,), ``tc_minus`` and
            ``mi_one_rest`` (n_groups, group_size), and ``tc_gauss``, ``o_info_gauss`` (the closed-form
            Gaussian parts; the network added the rest). ``tc_minus`` and ``mi_one_rest`` follow each
            group's members in ascending order.
        """
        parts = [terms for _, terms in self.iter_scores(groups, chunk_size=chunk_size, progress=progress)]
        if not parts:
            raise ValueError("'groups' is empty: there is nothing to score.")
        return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}

    def iter_scores(
        self, groups: Iterable[Sequence[int]] | np.ndarray | None = None, *, chunk_size=None, progress=False
    ) -> Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]:
        """``score`` chunk by chunk: yields ``(groups (C, k), terms)``, so memory stays flat in the number of
        groups."""
        self._check_fitted()
        if self.paths != "terms":
            raise ValueError(
                f"score() needs paths='terms'; this estimator was fitted with paths={self.paths!r}."
            )
        chunk_size = self._chunk_size(chunk_size)
        chunks, total = self._chunks(groups, chunk_size)
        kinds = ("tc", "tc_minus") + (("mi_one_rest",) if self.size_ > AUTO_SECOND_IDENTITY_MAX_VARS else ())
        bar = _bar(progress, total, "scoring groups (fmmi)", "group")
        for chunk in chunks:
            yield chunk, omega_terms(self._path_terms(chunk, kinds))
            if bar is not None:
                bar.update(len(chunk))
        if bar is not None:
            bar.close()

    def score_paths(self, groups: np.ndarray | None = None) -> PathTerms:
        """The Gaussian parts, influences and corrections of the trained paths of ``groups`` (default: all
        variables): TC for ``paths="diagonal"``, I(X_k; X_<k) as ``mi_one_rest[..., -1]`` for
        ``"last_moving"``."""
        self._check_fitted()
        members = np.arange(len(self.dims_))[None] if groups is None else self._check_groups(groups)
        kinds = {
            "terms": ("tc", "tc_minus", "mi_one_rest"),
            "diagonal": ("tc",),
            "last_moving": ("mi_one_rest",),
        }
        return self._path_terms(members, kinds[self.paths])

    def _check_fitted(self) -> None:
        if not hasattr(self, "folds_"):
            raise ValueError("this MultiTimeFMMI is not fitted yet; call fit(X) first.")

    def _chunk_size(self, chunk_size: int | None) -> int:
        if chunk_size is not None:
            return check_positive_int(chunk_size, "chunk_size")
        n_test = max(len(f.test) for f in self.folds_)
        return max(1, EVAL_ROWS.get(self.x_.device.type, EVAL_ROWS["cpu"]) // n_test)

    def _check_groups(self, groups: Any) -> np.ndarray:
        arr = np.asarray(groups)
        n_vars, size = len(self.dims_), self.size_
        if arr.ndim != 2 or arr.shape[1] != size or not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(
                f"'groups' must be an int array of shape (n_groups, {size}); got {arr.dtype} {arr.shape}."
            )
        if arr.size and (arr.min() < 0 or arr.max() >= n_vars):
            raise ValueError(
                f"'groups' has indices outside 0..{n_vars - 1} (the estimator saw {n_vars} variables)."
            )
        repeated = np.flatnonzero((np.diff(np.sort(arr, axis=1), axis=1) == 0).any(axis=1))
        if repeated.size:
            raise ValueError(f"group {repeated[0]} ({arr[repeated[0]].tolist()}) repeats a variable.")
        return np.sort(arr, axis=1).astype(np.int64)

    def _chunks(self, groups: Any, chunk_size: int) -> tuple[Iterator[np.ndarray], int | None]:
        """Chunks of checked groups and their number (``None`` for a stream of unknown length)."""
        n_vars, size = len(self.dims_), self.size_
        if groups is None:
            source: Iterator = combinations(range(n_vars), size)
            total: int | None = comb(n_vars, size)
        elif hasattr(groups, "__len__"):
            if len(groups) == 0:
                raise ValueError("'groups' is empty: there is nothing to score.")
            checked = self._check_groups(groups)
            source, total = iter(checked), len(checked)
        else:
            source, total = iter(groups), None

        def chunks() -> Iterator[np.ndarray]:
            while True:
                block = list(islice(source, chunk_size))
                if not block:
                    return
                yield self._check_groups(block)

        return chunks(), total

    def _path_terms(self, members: np.ndarray, kinds: tuple[str, ...]) -> PathTerms:
        """Gaussian parts, influences and per-sample corrections of C groups ``members`` (C, k).

        ``kinds``: which corrections to evaluate, among ``"tc"`` (the diagonal), ``"tc_minus"`` (the diagonal
        of every distinct leave-one-out subset, once) and ``"mi_one_rest"`` (one-moving paths; only the
        last member for ``paths="last_moving"``).
        """
        n = self.n_samples_
        slot_dims = [self.dims_[v] for v in members[0]]
        starts = np.concatenate([[0], np.cumsum(self.dims_)])
        index = np.stack([np.concatenate([np.arange(starts[v], starts[v + 1]) for v in g]) for g in members])
        cov = self.scatter_[index[:, :, None], index[:, None, :]]
        gauss = gaussian_terms(cov, slot_dims, n_samples=n)
        rows = np.moveaxis(self.influence_rows_[:, index], 0, 1)
        influence = {
            key: value * self.influence_factor_
            for key, value in gaussian_term_influence(rows, cov, slot_dims).items()
        }
        correction = {key: [] for key in kinds}
        for fold in self.folds_:
            for key, value in self.fold_corrections(fold, members, kinds).items():
                correction[key].append(value)
        correction = {key: np.concatenate(parts, axis=1) for key, parts in correction.items()}
        return PathTerms(gauss, influence, correction)

    def fold_corrections(self, fold: FittedFold, members: np.ndarray, kinds: tuple[str, ...]) -> dict:
        """Per-sample corrections ``-div r_theta`` of groups ``members`` (C, k) on one fold's held-out rows.

        ``kinds`` among ``"tc"`` (the diagonal; (C, n_test)), ``"tc_minus"`` (the diagonal of every distinct
        leave-one-out subset, evaluated once; (C, n_test, k)) and ``"mi_one_rest"`` (one-moving paths, only
        the last member for ``paths="last_moving"``; (C, n_test, k), zero where not evaluated).
        """
        size, device = members.shape[1], self.x_.device
        members_t = torch.as_tensor(members, device=device)
        out = {}
        if "tc" in kinds:
            out["tc"] = self._correction(fold, members_t, Path.diagonal(size))
        if "tc_minus" in kinds:
            leave_out = np.stack([np.delete(members, i, axis=1) for i in range(size)], axis=1)
            subsets, which = np.unique(leave_out.reshape(-1, size - 1), axis=0, return_inverse=True)
            pieces = np.empty((len(subsets), len(fold.test)))
            shapes = np.asarray(self.dims_)[subsets]
            for shape in np.unique(shapes, axis=0):
                rows = np.flatnonzero((shapes == shape).all(axis=1))
                block = torch.as_tensor(subsets[rows], device=device)
                pieces[rows] = self._correction(fold, block, Path.diagonal(size - 1), left_out=True)
            out["tc_minus"] = np.moveaxis(pieces[which.reshape(len(members), size)], 1, 2)
        if "mi_one_rest" in kinds:
            out["mi_one_rest"] = np.zeros((len(members), len(fold.test), size))
            for i in range(size) if self.paths == "terms" else [size - 1]:
                out["mi_one_rest"][..., i] = self._correction(fold, members_t, Path.one_moving(size, i))
        return out

    def _correction(
        self, fold: FittedFold, members: torch.Tensor, path: Path, left_out: bool = False
    ) -> np.ndarray:
        """Per-sample ``-div r_theta`` along ``path`` for groups ``members`` (C, m) on the fold's held-out
        rows, averaged over the fold's draws; (C, n_test). Groups go through in blocks of at most
        ``EVAL_ROWS`` group-rows, so memory does not grow with C."""
        block = max(1, EVAL_ROWS.get(self.x_.device.type, EVAL_ROWS["cpu"]) // len(fold.test))
        parts = [
            self._block_correction(fold, members[i : i + block], path, left_out)
            for i in range(0, len(members), block)
        ]
        return np.concatenate(parts)

    def _block_correction(
        self, fold: FittedFold, members: torch.Tensor, path: Path, left_out: bool
    ) -> np.ndarray:
        net = fold.field
        x = self.x_[torch.as_tensor(fold.test, device=self.x_.device)]
        layout, index = net.layout(members)
        moving = torch.as_tensor(path.moving, device=x.device)[layout.owner]
        joint = x[:, members].transpose(0, 1)
        active = torch.ones(*joint.shape[:3], dtype=torch.bool, device=x.device)
        total = torch.zeros(joint.shape[:2], device=x.device)
        n_draws = fold.positions.shape[0]
        for r in range(n_draws):
            source = x[fold.sources[r][members], members[:, :, None]].permute(0, 2, 1, 3)
            tau = path.times(fold.positions[r]).expand(len(members), -1, -1)
            z, _ = interpolate(joint, source, tau)
            z = layout.to_flat(z)
            inputs = net.inputs(tau, active, members, layout, index, left_out)
            if int(moving.sum()) <= self.exact_max_dim:
                with torch.no_grad():
                    total += net.residual_divergence(z, inputs, layout, moving)
                continue
            probes = fold.probes[r][:, index].permute(1, 0, 2)[None]

            def residual(z: torch.Tensor, inputs=inputs) -> torch.Tensor:
                return net.residual_field(z, inputs, layout)

            total += hutchinson_divergence(residual, z, moving, probes=probes)
        return (-total / n_draws).cpu().double().numpy()


def _check_data(X: Any) -> list[np.ndarray]:
    """``X`` as a list of float64 (n_samples, d_i) arrays, checked (finite, no constant coordinate)."""
    if isinstance(X, (list, tuple)):
        arrays = [as_samples_array(v, f"variable {i}", min_samples=MIN_SAMPLES) for i, v in enumerate(X)]
        check_same_length(arrays, [f"variable {i}" for i in range(len(arrays))])
    else:
        arr = as_samples_array(X, "X", min_samples=MIN_SAMPLES)
        arrays = [arr[:, [j]] for j in range(arr.shape[1])]
    if len(arrays) < 2:
        raise ValueError(f"FMMI needs at least 2 variables; got {len(arrays)}.")
    n, total = arrays[0].shape[0], sum(a.shape[1] for a in arrays)
    if n < total + 2:
        raise ValueError(f"{total} coordinates need at least {total + 2} samples; got {n}.")
    return arrays


def _pad(x: np.ndarray, dims: Sequence[int]) -> np.ndarray:
    """(n, D) -> (n, R, d_max), each variable's coordinates zero-padded to the largest dimension."""
    starts = np.concatenate([[0], np.cumsum(dims)])
    out = np.zeros((x.shape[0], len(dims), max(dims)))
    for v, d in enumerate(dims):
        out[:, v, :d] = x[:, starts[v] : starts[v + 1]]
    return out


def _bar(progress: bool, total: int, desc: str, unit: str):
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit)
