"""The simulated household: the same code as a real one, with the fleet as its network."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from devices.fleet import Fleet


def check_loopback(address: str) -> None:
    """Refuse any simulated-fleet address outside 127.0.0.0/8."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise ValueError(f"not an IP address: {address!r}") from None
    if not ip.is_loopback or ip.version != 4:
        raise ValueError(f"the simulated fleet lives on 127.0.0.0/8 only, not {address}")


def load_fleet(name: str, *, seed: int | None = None) -> Fleet:
    """Load a shipped fleet by name or a fleet file by path."""
    from devices.fleet import Fleet

    return Fleet.load(name, seed=seed)


def token_file_for(fleet: Fleet) -> list[dict[str, Any]]:
    """The fleet's provisioned devices as `miiocli cloud list --raw` would list them."""
    return [
        {
            "did": str(d.did),
            "token": d.token,
            "localip": d.ip,
            "mac": d.mac.upper(),
            "model": d.model,
            "name": d.name,
            "isOnline": True,
        }
        for d in fleet.devices
        if d.provisioned
    ]
