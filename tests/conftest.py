"""Shared fixtures: seeded generators, the real data in ../shared/data (skipped where absent), Agg plots."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("FMMI_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded numpy generator (never a global seed)."""
    return np.random.default_rng(20261126)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path to ``../shared/data``; the test is skipped cleanly where it is absent (a user's machine)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent (only on the developers' and CI machines)")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture(autouse=True)
def _no_network(monkeypatch, tmp_path_factory):
    """Tests never download: point HOME and nilearn's data dir at a fresh folder, block sockets."""
    import socket

    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("NILEARN_DATA", str(home / "nilearn_data"))

    def _refuse(*args, **kwargs):
        raise OSError("network access is disabled in tests")

    monkeypatch.setattr(socket.socket, "connect", _refuse)
