"""FMMI terms of many groups of scalar variables (regions) at once: ``fmmi_group_terms``.

Two ways to amortise the networks over groups:

- ``mode="system"`` (default): one Gaussian-aware multi-time network over all the regions the groups
  use is trained once per cross-fitting fold on random subsets of the groups' size (regions outside a
  subset sit at time 0, i.e. independently shuffled); every group's TC and I(X_i; X_{S-i}) are then
  read off the same field (``engine.system``). Training cost does not grow with the number of groups;
  evaluation is one batched pass per group and path.
- ``mode="batched"``: one small multi-time network per group, all groups of a chunk trained together
  as one stacked model (weights of shape (G, in, out), ``torch.baddbmm``), with early stopping per group
  (``engine.multitime_estimate``). Its cost grows linearly with the number of groups, so it runs with a
  reduced per-group budget (``BATCHED_DEFAULTS``).

In both modes the Gaussian part of every term is the bias-corrected closed form of the full-data copula
scatter (the sample covariance after rank-to-normal, or the Student-t scatter after rank-to-Student-t when
``copula`` resolves to a Student-t: ``student_t_copula``; one choice for all the regions used), the
network adds the non-Gaussian correction ``-E[div r_theta]`` on held-out contiguous blocks, and standard
errors are batch means of the per-sample contributions. ``benchmarks/oinfo_accuracy.py`` measures both
modes (accuracy against closed forms and cost); see ``benchmarks/RESULTS.md``.

Sign convention: Omega = TC - DTC; Omega > 0 redundancy-dominated, Omega < 0 synergy-dominated.
"""

from __future__ import annotations

import numpy as np

from fmmi_neuro._validation import as_samples_array, check_in

MODES = ("system", "batched")
BATCHED_DEFAULTS = {"width": 32, "batch_size": 256, "max_steps": 800, "min_steps": 300, "n_draws": 2}
"""Per-group budget of ``mode="batched"`` (overridable through ``**training``)."""
SYSTEM_DEFAULTS = {"width": 128, "batch_size": 1024, "max_steps": 2000, "min_steps": 600, "n_draws": 1}
"""Budget of the one system-level network of ``mode="system"`` (overridable through ``**training``)."""


def check_groups(groups: np.ndarray, n_regions: int) -> np.ndarray:
    """Validate ``groups`` (int, shape (n_groups, size >= 3), distinct in-range indices per row)."""
    arr = np.asarray(groups)
    if arr.ndim != 2 or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(
            f"'groups' must be an int array of shape (n_groups, size); got {arr.dtype} {arr.shape}."
        )
    if arr.shape[0] == 0:
        raise ValueError("'groups' is empty.")
    if arr.shape[1] < 3:
        raise ValueError(f"O-information needs groups of at least 3 variables; got size {arr.shape[1]}.")
    if arr.min() < 0 or arr.max() >= n_regions:
        raise ValueError(f"'groups' has indices outside 0..{n_regions - 1} (data has {n_regions} columns).")
    repeated = np.flatnonzero((np.diff(np.sort(arr, axis=1), axis=1) == 0).any(axis=1))
    if repeated.size:
        raise ValueError(f"group {repeated[0]} ({arr[repeated[0]].tolist()}) repeats a region.")
    return arr.astype(np.int64)


def fmmi_group_terms(
    data: np.ndarray,
    groups: np.ndarray,
    *,
    seed: int = 0,
    device: str = "auto",
    mode: str = "system",
    chunk: int = 128,
    **training,
) -> dict[str, np.ndarray]:
    """TC, DTC, O-information and S-information of many groups of regions by multi-time FMMI, in nats.

    Omega = TC - DTC; Omega > 0 redundancy-dominated, Omega < 0 synergy-dominated.

    Parameters
    ----------
    data : ndarray, shape (n_samples, n_regions)
        One column per region, time-ordered rows; finite, no constant column.
    groups : int ndarray, shape (n_groups, size)
        Column indices of each group (size >= 3, all groups the same size).
    seed : int
        Fixes every random choice.
    device : {"auto", "cpu", "cuda", "cuda:N"}
    mode : {"system", "batched"}
        One network for all regions trained once (default; cheaper and at least as accurate in our
        benchmark), or one small network per group trained together as a stacked model.
    chunk : int
        Groups processed together (memory scales with it).
    **training
        Overrides of ``multitime_net.TrainSettings`` on top of ``SYSTEM_DEFAULTS`` / ``BATCHED_DEFAULTS``.

    Returns
    -------
    dict of str to ndarray, each shape (n_groups,)
        ``o_info, tc, dtc, s_info`` and ``o_info_se, tc_se, dtc_se, s_info_se`` (batch-means stderrs),
        in nats.
    """
    from fmmi_neuro.engine._device import resolve_device
    from fmmi_neuro.engine.multitime import gaussian_path_influence, gaussian_path_terms
    from fmmi_neuro.engine.multitime_estimate import (
        TERM_KEYS,
        PathEstimate,
        crossfit_path_terms,
        standardise_groups,
        terms_with_stderr,
    )
    from fmmi_neuro.engine.multitime_net import make_settings
    from fmmi_neuro.engine.student_t_copula import influence_rows, resolve_dof, scatter
    from fmmi_neuro.engine.system import system_corrections
    from fmmi_neuro.engine.transforms import rank_to_student_t

    check_in(mode, MODES, "mode")
    arr = as_samples_array(data, "data", min_samples=100)
    groups = check_groups(groups, arr.shape[1])
    torch_device = resolve_device(device)
    defaults = SYSTEM_DEFAULTS if mode == "system" else BATCHED_DEFAULTS
    settings = make_settings(**{**defaults, **training})
    used, local = np.unique(groups, return_inverse=True)
    local = local.reshape(groups.shape)
    dof = resolve_dof(settings.copula, arr[:, used], [1] * len(used))
    x = standardise_groups(rank_to_student_t(arr[:, used], dof))
    n, size = x.shape[0], groups.shape[1]
    dims = [1] * size
    if mode == "system":
        correction, _ = system_corrections(
            x, local, settings, seed=seed, device=torch_device, chunk=chunk, dof=dof
        )
        cov_all = scatter(x, dof)
        rows, factor = influence_rows(x - x.mean(axis=0), cov_all, dof)
    out: dict[str, list[np.ndarray]] = {key: [] for key in TERM_KEYS + tuple(f"{k}_se" for k in TERM_KEYS)}
    for index, start in enumerate(range(0, groups.shape[0], chunk)):
        block = local[start : start + chunk]
        xg = np.ascontiguousarray(np.moveaxis(x[:, block], 0, 1))
        if mode == "system":
            cov = cov_all[block[:, :, None], block[:, None, :]]
            influence = gaussian_path_influence(np.moveaxis(rows[:, block], 0, 1), cov, dims) * factor
            part = correction[start : start + chunk]
            estimate = PathEstimate(
                gauss=gaussian_path_terms(cov, dims, n_samples=n),
                correction=part.mean(axis=1),
                series=influence + part,
                settings=settings,
            )
        else:
            estimate = crossfit_path_terms(
                xg, dims, settings, seed=seed + index, device=torch_device, dof=dof
            )
        terms = terms_with_stderr(estimate)
        for key in out:
            out[key].append(terms[key])
    return {key: np.concatenate(values) for key, values in out.items()}
