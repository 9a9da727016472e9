"""The networks and addresses a person names for discovery, checked without touching one.

Kept apart from discovery (which imports python-miio's protocol code, about a second) so that
settings can be checked at start-up at no cost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from ipaddress import IPv4Address, IPv4Network, IPv6Network, ip_address, ip_network
from typing import Any

#: The largest range a sweep accepts: a /16 is 65,534 hellos.
MAX_PREFIX = 16

#: Where a household's own devices live: RFC 1918, link-local, shared (CGNAT) and loopback.
LOCAL_RANGES: tuple[IPv4Network, ...] = tuple(
    IPv4Network(text)
    for text in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "169.254.0.0/16",
        "100.64.0.0/10",
        "127.0.0.0/8",
    )
)

#: The limited broadcast address: it never leaves the local segment.
LIMITED_BROADCAST = "255.255.255.255"


def is_local(target: IPv4Network | IPv4Address) -> bool:
    """Tell whether *target* lies wholly inside one of LOCAL_RANGES."""
    network = IPv4Network(target) if isinstance(target, IPv4Address) else target
    return any(network.subnet_of(local) for local in LOCAL_RANGES)


def _refuse_public(target: IPv4Network | IPv4Address, allow_public: bool) -> None:
    if allow_public or is_local(target):
        return
    raise ValueError(
        f"{target} is not a private, link-local, shared or loopback range, so it is not searched"
        " (pass --allow-public, or set EDU_ALLOW_PUBLIC=1, for a network that needs it)"
    )


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _ipv4(value: object, parse: Callable[[str], Any], what: str, kind: str, example: str) -> Any:
    """Parse *value* with *parse* (an ipaddress constructor); refuse what is not IPv4."""
    try:
        parsed = parse(str(value).strip())
    except ValueError:
        raise ValueError(f"not {what}: {_shown(value)} (expected {example})") from None
    if parsed.version != 4:
        raise ValueError(f"not an IPv4 {kind}: {_shown(value)} (miIO devices use IPv4)")
    return parsed


def parse_networks(
    values: Iterable[str | IPv4Network] | str | IPv4Network, *, allow_public: bool = False
) -> list[IPv4Network]:
    """Parse CIDR ranges to sweep (text, or ranges parsed before: only checked again, not
    re-read); raise a one-line ValueError for a bad, huge or public one."""
    if isinstance(values, str | IPv4Network):
        values = [values]
    networks: list[IPv4Network] = []
    for value in values:
        network = (
            value
            if isinstance(value, IPv4Network)
            else _ipv4(value, _cidr, "a network", "network", "CIDR like 192.168.1.0/24")
        )
        if network.prefixlen < MAX_PREFIX:
            raise ValueError(
                f"network {network} is too large to sweep ({network.num_addresses:,} addresses);"
                f" split it into /{MAX_PREFIX} or smaller ranges"
            )
        _refuse_public(network, allow_public)
        if network not in networks:
            networks.append(network)
    return networks


def _cidr(text: str) -> IPv4Network | IPv6Network:
    return ip_network(text, strict=False)


def check_ip(ip: str, *, allow_public: bool = False) -> str:
    """Return *ip* as an IPv4 address; raise a one-line ValueError for anything else.

    A public address is refused unless *allow_public*.
    """
    address = _ipv4(ip, ip_address, "an IP address", "address", "one like 192.168.1.20")
    _refuse_public(address, allow_public)
    return str(address)
