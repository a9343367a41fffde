"""CUDA parity: the same seed gives the same estimates on the GPU as on the CPU, within their standard
errors (the random streams of the two devices differ, so the numbers are not bitwise equal).

Marked ``gpu``; skipped where CUDA is not available (``benchmarks/gpu_check.sh`` runs them).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fmmi_neuro import simulate
from fmmi_neuro.engine.fmmi import MultiTimeFMMI
from fmmi_neuro.engine.information import information
from fmmi_neuro.engine.mi import estimate_mi

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available"),
]

BUDGET = {"max_steps": 600, "min_steps": 600}


def _close(a: float, b: float, se_a: float, se_b: float, slack: float = 0.02) -> bool:
    """Within four combined standard errors (plus a little for the training's own variability), nats."""
    return abs(a - b) <= 4 * np.hypot(se_a, se_b) + slack


@pytest.mark.parametrize("variant", ["conditional", "joint"])
def test_mutual_information_cpu_and_gpu_agree(variant):
    task = simulate.MI_TASKS["asinh-student-identity-2-2-1"](3000, seed=0)
    cpu, gpu = (
        estimate_mi(task.x, task.y, variant=variant, seed=0, device=device, **BUDGET)
        for device in ("cpu", "cuda")
    )
    assert gpu.device.startswith("cuda") and cpu.device == "cpu"
    assert _close(cpu.value, gpu.value, cpu.stderr, gpu.stderr), (cpu, gpu)


def test_one_system_cpu_and_gpu_agree():
    system = simulate.synergistic(1200, n_vars=3, dim=2, nu=4, seed=1)
    cpu, gpu = (information(system.samples, seed=0, device=device, **BUDGET) for device in ("cpu", "cuda"))
    assert _close(cpu.o_info, gpu.o_info, cpu.o_info_se, gpu.o_info_se), (cpu, gpu)
    assert _close(cpu.tc, gpu.tc, cpu.tc_se, gpu.tc_se), (cpu, gpu)


@pytest.mark.parametrize("size", [3, 5])
def test_many_groups_cpu_and_gpu_agree(size):
    """One field per device over 10 regions, every group of ``size`` scored through it.

    The GPU's random stream differs from the CPU's, so its scores are compared with the spread between
    two CPU seeds: across these groups Omega varies about twice its standard error, so even two CPU
    seeds correlate only 0.8-0.9 (triplets) and a correlation bar would test the seeds, not the device.
    """
    data = simulate.mixed(1200, n_vars=10, redundancy=0.4, nu=5, seed=2).data
    runs = {
        (device, seed): MultiTimeFMMI(group_size=size, seed=seed, device=device, **BUDGET).fit(data).score()
        for device, seed in (("cpu", 0), ("cpu", 1), ("cuda", 0))
    }
    cpu, other_seed, gpu = runs["cpu", 0], runs["cpu", 1], runs["cuda", 0]
    close = [
        _close(a, b, sa, sb)
        for a, b, sa, sb in zip(cpu["o_info"], gpu["o_info"], cpu["o_info_se"], gpu["o_info_se"], strict=True)
    ]
    assert np.mean(close) >= 0.95, np.mean(close)
    device_gap = np.abs(cpu["o_info"] - gpu["o_info"]).mean()
    seed_gap = np.abs(cpu["o_info"] - other_seed["o_info"]).mean()
    assert device_gap <= 2 * seed_gap + 0.005, (device_gap, seed_gap)
