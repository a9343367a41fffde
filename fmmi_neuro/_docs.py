"""Parameter descriptions shared by several public functions, written once (nilearn's ``docdict`` habit).

A docstring names a shared entry as ``%(seed)s`` and the function is decorated with ``@fill_doc``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable)

DOCDICT = {
    "seed": """seed : int
        Fixes every random choice (network initialisation, training batches, Monte-Carlo draws); the same
        seed on the same machine gives the same numbers.""",
    "device": """device : {"auto", "cpu", "cuda", "cuda:N"}
        Where FMMI runs; ``"auto"`` uses CUDA when available, else the CPU.""",
    "unit": """unit : {"nats", "bits"}
        Unit of every information value returned.""",
    "fmmi_options": """**options
        FMMI options (``fmmi_neuro.engine.fmmi.FMMISettings``): network (``width``, ``depth``,
        ``n_frequencies``, ``residual``), training (``max_steps``, ``min_steps``, ``batch_size``, ``lr``,
        ``weight_decay``, ``ema_window``, ``eval_every``, ``patience``, ``val_fraction``, ``max_val_rows``,
        ``p_diagonal``, ``p_leave_out``), evaluation (``n_folds``, ``n_draws``, ``exact_max_dim``) and
        marginals (``copula``). Each is validated before any work; an unknown name is a ``TypeError``.""",
    "estimator": """estimator : {"fmmi", "gaussian_copula"}
        ``"fmmi"``: neural multi-time flow matching (learns non-Gaussian dependence; standard errors).
        ``"gaussian_copula"``: the closed-form Gaussian-copula baseline (fast, blind to non-Gaussian
        dependence).""",
}


def fill_doc(func: F) -> F:
    """Replace ``%(name)s`` in ``func``'s docstring with ``DOCDICT[name]``."""
    if func.__doc__:
        func.__doc__ = func.__doc__ % DOCDICT
    return func
