"""The networks and addresses a person names for discovery, checked without touching one.

Kept apart from discovery (which imports python-miio's protocol code, about a second) so that
settings can be checked at start-up at no cost.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Network, ip_address, ip_network

#: The largest range a sweep accepts: a /16 is 65,534 hellos.
MAX_PREFIX = 16


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def parse_networks(values: Iterable[str]) -> list[IPv4Network]:
    """Parse CIDR ranges to sweep; raise a one-line ValueError for a bad or huge one."""
    if isinstance(values, str):
        values = [values]
    networks: list[IPv4Network] = []
    for value in values:
        text = str(value).strip()
        try:
            network = ip_network(text, strict=False)
        except ValueError:
            raise ValueError(
                f"not a network: {_shown(value)} (expected CIDR like 192.168.1.0/24)"
            ) from None
        if not isinstance(network, IPv4Network):
            raise ValueError(f"not an IPv4 network: {_shown(value)} (miIO devices use IPv4)")
        if network.prefixlen < MAX_PREFIX:
            raise ValueError(
                f"network {network} is too large to sweep ({network.num_addresses:,} addresses);"
                f" split it into /{MAX_PREFIX} or smaller ranges"
            )
        if network not in networks:
            networks.append(network)
    return networks


def check_ip(ip: str) -> str:
    """Return *ip* as an IPv4 address; raise a one-line ValueError for anything else."""
    try:
        address = ip_address(str(ip).strip())
    except ValueError:
        raise ValueError(
            f"not an IP address: {_shown(ip)} (expected one like 192.168.1.20)"
        ) from None
    if not isinstance(address, IPv4Address):
        raise ValueError(f"not an IPv4 address: {_shown(ip)} (miIO devices use IPv4)")
    return str(address)
