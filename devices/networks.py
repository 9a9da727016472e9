"""The networks and addresses a person names for discovery, checked without touching one.

Kept apart from discovery (which imports python-miio's protocol code, about a second) so that
settings can be checked at start-up at no cost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from typing import Any

#: The largest range a sweep accepts: a /16 is 65,534 hellos.
MAX_PREFIX = 16


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


def parse_networks(values: Iterable[str | IPv4Network] | str | IPv4Network) -> list[IPv4Network]:
    """Parse CIDR ranges to sweep (text, or ranges parsed before: only checked again, not
    re-read); raise a one-line ValueError for a bad or huge one."""
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
        if network not in networks:
            networks.append(network)
    return networks


def _cidr(text: str) -> IPv4Network | IPv6Network:
    return ip_network(text, strict=False)


def check_ip(ip: str) -> str:
    """Return *ip* as an IPv4 address; raise a one-line ValueError for anything else."""
    return str(_ipv4(ip, ip_address, "an IP address", "address", "one like 192.168.1.20"))
