"""The simulated household: the same code as a real one, with the fleet as its network."""

from __future__ import annotations

import ipaddress
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from devices.fleet import Fleet
    from edu.cli_common import Context


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


@contextmanager
def demo_fleet(
    ctx: Context, *, fleet_name: str, base: str, folder: str, **settings: Any
) -> Iterator[Fleet]:
    """Run a fleet for a demo in a fresh instance sub-folder; the context's settings follow it.

    The demo's settings sweep the fleet's own network and get a random session secret;
    keyword arguments override other settings (a shorter poll interval for a shop ...).
    """
    from devices.fleet import FleetBindError

    check_loopback(base)
    home = ctx.settings.instance / folder
    shutil.rmtree(home, ignore_errors=True)
    ctx.overrides = {**ctx.overrides, "instance": home, "database_url": None}
    ctx._settings = ctx._engine = None
    fleet = load_fleet(fleet_name)
    try:
        fleet.start(base=base)
    except FleetBindError:
        fleet.start_in_free_block()  # another run holds the first block
    try:
        ctx._settings = replace(
            ctx.settings, networks=(fleet.network,), secret_key=secrets.token_hex(32), **settings
        )
        yield fleet
    finally:
        fleet.stop()
