"""A guard that fails any test which sends traffic to a non-loopback address.

These machines have no Xiaomi devices and their network is watched: tests aim only
at 127.0.0.0/8 (the simulated fleet) or at network namespaces the tests create
themselves (those run in child processes under `ip netns exec`, outside this guard).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest


class NonLoopbackTraffic(AssertionError):
    """Raised when code under test addresses something beyond loopback."""


def _is_loopback_host(host: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    if not isinstance(host, str):
        return False
    if host in ("", "localhost"):
        # "" means INADDR_ANY for bind; for sendto it is the local host.
        return True
    if host == "<broadcast>":
        return False
    try:
        addr = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, None)
        except OSError:
            return False
        return all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos)
    return addr.is_loopback


def check_address(family: int, address: Any) -> None:
    """Raise NonLoopbackTraffic when *address* leaves the loopback range."""
    if family == getattr(socket, "AF_UNIX", None) or family == getattr(socket, "AF_NETLINK", -1):
        return
    if family not in (socket.AF_INET, socket.AF_INET6):
        return
    host = address[0] if isinstance(address, tuple) else address
    if not _is_loopback_host(host):
        raise NonLoopbackTraffic(f"test tried to reach non-loopback address {host!r}")


@pytest.fixture(autouse=True)
def network_guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail the test on any datagram or connection to a non-loopback address."""
    real_sendto = socket.socket.sendto
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_sendmsg = socket.socket.sendmsg

    def sendto(self: socket.socket, data: Any, *args: Any) -> int:
        address = args[-1]
        check_address(self.family, address)
        return real_sendto(self, data, *args)

    def connect(self: socket.socket, address: Any) -> None:
        check_address(self.family, address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        check_address(self.family, address)
        return real_connect_ex(self, address)

    def sendmsg(
        self: socket.socket, buffers: Any, ancdata: Any = (), flags: int = 0, address: Any = None
    ) -> int:
        if address is not None:
            check_address(self.family, address)
            return real_sendmsg(self, buffers, ancdata, flags, address)
        return real_sendmsg(self, buffers, ancdata, flags)

    monkeypatch.setattr(socket.socket, "sendto", sendto)
    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket.socket, "sendmsg", sendmsg)
    yield
