"""Batch tests talk to a local Dask cluster: allow loopback connections, still refuse the network."""

from __future__ import annotations

import socket

import pytest

_REAL_CONNECT = socket.socket.connect  # taken at collection, before any test patches it
_LOOPBACK = ("127.", "localhost", "::1")


@pytest.fixture(autouse=True)
def _allow_loopback(_no_network, monkeypatch):
    refuse = socket.socket.connect

    def _connect(self, address, *args, **kwargs):
        host = address[0] if isinstance(address, tuple) else str(address)
        if self.family == socket.AF_UNIX or str(host).startswith(_LOOPBACK):
            return _REAL_CONNECT(self, address, *args, **kwargs)
        return refuse(self, address, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", _connect)


@pytest.fixture(scope="session")
def dask_client():
    """A real ``dask.distributed.LocalCluster`` with 2 worker processes (shared by the batch tests)."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()
