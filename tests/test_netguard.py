"""The network guard stops traffic to anything but loopback."""

from __future__ import annotations

import socket

import pytest
from netguard import NonLoopbackTraffic


def test_guard_refuses_a_datagram_to_a_private_address() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s, pytest.raises(NonLoopbackTraffic):
        s.sendto(b"x", ("192.168.1.1", 54321))


def test_guard_refuses_broadcast() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        with pytest.raises(NonLoopbackTraffic):
            s.sendto(b"x", ("<broadcast>", 54321))
        with pytest.raises(NonLoopbackTraffic):
            s.sendto(b"x", ("255.255.255.255", 54321))


def test_guard_refuses_a_connection_to_a_public_address() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s, pytest.raises(NonLoopbackTraffic):
        s.connect(("8.8.8.8", 53))


def test_guard_lets_loopback_through() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx:
        rx.bind(("127.0.0.1", 0))
        rx.settimeout(2)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
            tx.sendto(b"ping", rx.getsockname())
        assert rx.recvfrom(16)[0] == b"ping"
