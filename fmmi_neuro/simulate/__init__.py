"""Simulated data with known information, for validating estimators (ours or anyone's).

O-information systems (:mod:`~fmmi_neuro.simulate.systems`): :func:`redundant`, :func:`synergistic`,
:func:`mixed` and :func:`sample_system` return a :class:`System` (one (n_samples, d_i) array per variable)
with the closed-form TC, DTC and Omega in nats. Sign convention: Omega = TC - DTC; Omega > 0
redundancy-dominated, Omega < 0 synergy-dominated.

Examples
--------
>>> from fmmi_neuro import simulate
>>> system = simulate.redundant(500, n_vars=3, dim=2, seed=0)
>>> [x.shape for x in system.samples], system.truth.o_info > 0
([(500, 2), (500, 2), (500, 2)], True)
"""

from fmmi_neuro.simulate.systems import TRANSFORMS, System, mixed, redundant, sample_system, synergistic

__all__ = ["TRANSFORMS", "System", "mixed", "redundant", "sample_system", "synergistic"]
