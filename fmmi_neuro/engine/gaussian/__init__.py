"""The Gaussian side of the engine (numpy only): marginal transforms, closed forms and the copulas.

- ``marginals``: rank-to-normal / rank-to-Student-t per coordinate, whitening within a variable.
- ``closed_form``: Gaussian and Student-t entropies, MI, TC, DTC, O-information (the ground truth), the
  assembly of the terms from entropies, and the covariances of the simulated systems.
- ``terms``: Gaussian TC, DTC, Omega, S of a covariance (values, bias correction, influence functions).
- ``copula``: the Gaussian-copula estimator of one system or of many groups.
- ``student_t``: the Student-t copula (degrees of freedom, scatter) behind FMMI's Gaussian part.
"""
