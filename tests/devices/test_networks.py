"""What a person names for discovery, checked before a packet leaves: ranges, addresses, mDNS names, merging."""

from __future__ import annotations

from ipaddress import IPv4Network

import pytest

from devices import discovery
from devices.discovery import Discovered, discover, parse_networks
from devices.mdns import parse_mdns_name

TOKEN = "00112233445566778899aabbccddeeff"


def _merged(records: list[Discovered]) -> list[Discovered]:
    found: dict[int, Discovered] = {}
    for record in records:
        discovery._keep(found, record)
    return list(found.values())


def test_keep_prefers_a_known_token_and_fills_in_the_model() -> None:
    hidden = Discovered("127.0.0.5", 7, None, "mdns", model="zhimi.fan.za4")
    revealed = Discovered("127.0.0.5", 7, TOKEN, "sweep")
    for order in ([hidden, revealed], [revealed, hidden]):
        (merged,) = _merged(order)
        assert merged.token == TOKEN and merged.source == "sweep"
        assert merged.model == "zhimi.fan.za4"


def test_discover_checks_every_input_before_sending_anything() -> None:
    # Were anything sent, the network guard would fail this test with NonLoopbackTraffic.
    with pytest.raises(ValueError, match="too large"):
        discover(["127.0.0.0/24", "10.0.0.0/8"], ips=["192.168.1.20"])
    with pytest.raises(ValueError, match="not an IP address"):
        discover(["192.168.1.0/24"], ips=["not-an-ip"])
    assert discover() == []


def test_discovered_never_shows_its_token() -> None:
    record = Discovered("127.0.0.9", 9, TOKEN, "sweep")
    for text in (repr(record), str(record), f"{record!r}", f"{[record]}"):
        assert TOKEN not in text
    assert "token_known=True" in repr(record)
    assert record.token_known and not Discovered("127.0.0.9", 9, None, "sweep").token_known


def test_parse_networks_accepts_cidr_and_single_addresses() -> None:
    assert parse_networks(["192.168.1.0/24", " 10.1.0.0/16 ", "192.168.1.7/24", "172.16.5.9"]) == [
        IPv4Network("192.168.1.0/24"),
        IPv4Network("10.1.0.0/16"),
        IPv4Network("172.16.5.9/32"),
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("kitchen", "not a network: 'kitchen' (expected CIDR like 192.168.1.0/24)"),
        ("192.168.1.0/33", "not a network: '192.168.1.0/33'"),
        ("fd00::/64", "not an IPv4 network"),
        ("10.0.0.0/8", "too large to sweep"),
        ("172.16.0.0/15", "too large to sweep"),
        ("x" * 500 + "\nmore", "not a network"),
    ],
)
def test_parse_networks_explains_a_bad_range_in_one_line(value: str, expected: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_networks([value])
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message and len(message) < 160


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("zhimi-fan-za4_miio123456789._miio._udp.local.", ("zhimi.fan.za4", 123456789)),
        ("yeelink-light-color1_miio55._miio._udp.local.", ("yeelink.light.color1", 55)),
        ("chuangmi-plug-m1_mibt5F3A._miio._udp.local.", ("chuangmi.plug.m1", None)),
        ("My Device._miio._udp.local.", (None, None)),
    ],
)
def test_parse_mdns_name(name: str, expected: tuple[str | None, int | None]) -> None:
    assert parse_mdns_name(name) == expected
