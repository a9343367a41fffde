"""Device resolution: ``"auto"`` is CUDA when available, else the CPU; anything else is checked."""

from __future__ import annotations

import pytest
import torch

from fmmi_neuro.engine._device import resolve_device


def test_resolve_device():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    for bad in ("gpu", "cuda:x", 0, None):
        with pytest.raises(ValueError, match="'device'"):
            resolve_device(bad)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA requested but not available"):
            resolve_device("cuda:0")
