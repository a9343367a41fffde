"""Lazy public names for a package, so ``import fmmi_neuro`` and the command line stay fast."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any


def lazy_exports(
    package: str, names: dict[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Module-level ``__getattr__`` and ``__dir__`` that import each public name on first use.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    names : dict of str -> str
        Public name -> module defining it, absolute (``"fmmi_neuro.io.atlas"``) or relative to
        ``package`` (``"atlas"``).
    namespace : dict
        The package's ``globals()``; a resolved name is cached there.
    """

    def __getattr__(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        target = names[name]
        module = import_module(target if target.startswith("fmmi_neuro.") else f"{package}.{target}")
        value = getattr(module, name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted([*namespace, *names])

    return __getattr__, __dir__
