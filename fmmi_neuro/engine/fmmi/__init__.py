"""FMMI, the neural side of the engine (torch): one multi-time flow-matching core.

Where each piece of the estimator lives:

- ``paths``: the multi-time paths ``tau(s) = base + s * moving`` and the points on them,
  ``z = (1 - tau) x_source + tau x_joint`` (which entropy change each path measures).
- ``gaussian_field``: the closed-form velocity ``(Sigma T - Dm (I - T)) S_tau^{-1} z`` of a Gaussian system
  and its divergence integral (the analytic anchor).
- ``field``: the velocity field ``u = u_Gauss + r_theta`` (residual networks with per-variable weights).
- ``training``: the flow-matching loss ``|u(z, tau) - (x_joint - x_source)|^2`` and early stopping.
- ``divergence``: ``sum_c du_c / dz_c`` over moving coordinates (exact or Hutchinson).
- ``terms``: entropy changes -> TC, DTC, Omega, S and their standard errors.
- ``estimator``: ``MultiTimeFMMI``, fitted once per data set and scored on any groups.
- ``settings``: every option, validated in one place, and the rules behind the ``"auto"`` values.
"""

from fmmi_neuro.engine.fmmi.estimator import MultiTimeFMMI
from fmmi_neuro.engine.fmmi.settings import FMMISettings

__all__ = ["FMMISettings", "MultiTimeFMMI"]
