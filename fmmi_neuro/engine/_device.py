"""Pick the torch device: ``"auto"`` means CUDA when available, else CPU."""

from __future__ import annotations

import re

import torch


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """Return a ``torch.device`` for ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.

    Raises
    ------
    ValueError
        If the value is not one of those forms, or CUDA (or device N) is requested but not available.
    """
    if isinstance(device, torch.device):
        device = str(device)
    if not isinstance(device, str) or not re.fullmatch(r"auto|cpu|cuda(:\d+)?", device):
        raise ValueError(f"'device' must be 'auto', 'cpu', 'cuda' or 'cuda:N'; got {device!r}.")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(f"'device' is {device!r}: CUDA requested but not available on this machine.")
        index = int(device.split(":")[1]) if ":" in device else 0
        if index >= torch.cuda.device_count():
            raise ValueError(
                f"'device' is {device!r}: only {torch.cuda.device_count()} CUDA device(s) are available."
            )
    return torch.device(device)
