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
