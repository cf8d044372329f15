"""pytest fixtures for the fake Bot API; register with `pytest_plugins = ["tests.botapi.fixtures"]`
in `tests/conftest.py`.

- `botapi`: a started `FakeBotAPI` on 127.0.0.1, stopped after the test.
- `no_real_network` (autouse): fails any test that opens a connection or resolves a name beyond
  loopback, so nothing can reach api.telegram.org or tapi.bale.ai by mistake.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tests.botapi.server import FakeBotAPI


class RealNetworkBlocked(OSError):
    """Raised instead of connecting beyond loopback (an OSError, so clients fail as offline)."""


def _loopback(host: Any) -> bool:
    if host in (None, "", "localhost", b"localhost"):
        return True
    if isinstance(host, bytes):
        host = host.decode()
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def no_real_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    attempts: list[str] = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def allowed(sock: socket.socket, address: Any) -> bool:
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return True  # Unix sockets and the like never leave the machine
        return _loopback(address[0] if isinstance(address, tuple) else address)

    def connect(sock: socket.socket, address: Any) -> None:
        if not allowed(sock, address):
            attempts.append(f"connect {address!r}")
            raise RealNetworkBlocked(f"test tried to reach the real network: {address!r}")
        real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        if not allowed(sock, address):
            attempts.append(f"connect {address!r}")
            raise RealNetworkBlocked(f"test tried to reach the real network: {address!r}")
        return real_connect_ex(sock, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _loopback(host):
            attempts.append(f"resolve {host!r}")
            raise RealNetworkBlocked(f"test tried to resolve a real host name: {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield attempts
    # Client libraries may swallow the error into a retry or a log line: fail loudly anyway.
    assert not attempts, f"test tried to reach the real network: {attempts}"


@pytest.fixture
async def botapi() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as api:
        yield api
