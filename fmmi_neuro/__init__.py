"""fmmi_neuro: higher-order interactions in fMRI with flow-matching mutual information.

Layers (data flows one way): ``io`` -> ``engine`` -> ``scoring`` / ``stats`` -> ``report`` -> ``cli``.
The public names below are imported lazily, so ``import fmmi_neuro`` stays fast and the command line
does not pay for torch or nilearn until it needs them.

Sign convention: O-information Omega = TC - DTC; Omega > 0 means redundancy-dominated, Omega < 0
synergy-dominated (Rosas et al. 2019). Information is in nats unless ``unit="bits"`` is asked for.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_PUBLIC: dict[str, str] = {
    # engine
    "estimate_mi": "fmmi_neuro.engine.mi",
    "MIResult": "fmmi_neuro.engine.mi",
    "information": "fmmi_neuro.engine.information",
    "InfoResult": "fmmi_neuro.engine.information",
    # scoring
    "score_groups": "fmmi_neuro.scoring.score",
}


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        value = getattr(import_module(_PUBLIC[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'fmmi_neuro' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])


__all__ = sorted(_PUBLIC)
