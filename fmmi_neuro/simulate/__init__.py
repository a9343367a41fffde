"""Simulated data with known information, for validating estimators (ours or anyone's).

- O-information systems (:mod:`~fmmi_neuro.simulate.systems`): :func:`redundant`, :func:`synergistic`,
  :func:`mixed` and :func:`sample_system` return a :class:`System` (one (n_samples, d_i) array per
  variable) with the closed-form TC, DTC and Omega in nats. Sign convention: Omega = TC - DTC; Omega > 0
  redundancy-dominated, Omega < 0 synergy-dominated. Per-coordinate maps (``transform``), random
  rotations (``rotate``) and within-variable spirals (``block_map="spiral"``) change the samples but not
  the truth.
- Mutual-information tasks (:mod:`~fmmi_neuro.simulate.mi_tasks`): :data:`MI_TASKS`, name -> :class:`MITask`,
  the bmi benchmark families (Czyz et al. 2023) with the true I(X; Y) in nats; :func:`mi_task` draws one.

Examples
--------
>>> from fmmi_neuro import simulate
>>> system = simulate.mixed(1200, n_vars=6, dim=5, redundancy=0.1, noise=0.125, block_map="spiral")
>>> len(system.samples), system.samples[0].shape, round(system.truth.o_info, 3)
(6, (1200, 5), -0.86)
>>> round(simulate.MI_TASKS["1v1-AI"].mi, 4) > 0
True
"""

from fmmi_neuro.simulate.mi_tasks import MI_TASKS, MIData, MITask, mi_task
from fmmi_neuro.simulate.systems import (
    BLOCK_MAPS,
    TRANSFORMS,
    System,
    closed_form_mi,
    mixed,
    redundant,
    sample_system,
    spiral,
    spiral_planes,
    synergistic,
)

__all__ = [
    "BLOCK_MAPS",
    "MI_TASKS",
    "MIData",
    "MITask",
    "System",
    "TRANSFORMS",
    "closed_form_mi",
    "mi_task",
    "mixed",
    "redundant",
    "sample_system",
    "spiral",
    "spiral_planes",
    "synergistic",
]
