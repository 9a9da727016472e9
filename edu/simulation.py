"""The simulated household: the same code as a real one, with the fleet as its network."""

from __future__ import annotations

import ipaddress
import json
import shutil
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from devices.fleet import Fleet
    from edu.cli import Context


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


def run_demo(
    ctx: Context, *, fleet_name: str = "household", base: str = "127.0.0.10", quiet: bool = False
) -> list[dict[str, Any]]:
    """Run the fleet, sweep its /24, import the hidden tokens, scan and poll once."""
    import click

    from devices.discovery import discover

    check_loopback(base)
    demo_home = ctx.settings.instance / "demo"
    shutil.rmtree(demo_home, ignore_errors=True)
    ctx.overrides = {**ctx.overrides, "instance": demo_home, "database_url": None}
    ctx._settings = ctx._engine = None
    fleet = load_fleet(fleet_name)
    network = str(ipaddress.ip_network(f"{base}/24", strict=False))
    with fleet.running(base=base):
        if not quiet:
            click.echo(
                f"Simulated {len(fleet.devices)} devices on {network}; sweeping ...", err=True
            )
        found = discover([network], timeout=ctx.settings.discovery_timeout)
        inventory = ctx.inventory()
        token_path = ctx.settings.instance / "demo-tokens.json"
        token_path.write_text(json.dumps(token_file_for(fleet)))
        token_path.chmod(0o600)
        inventory.import_tokens(token_path)
        token_path.unlink()
        inventory.scan(found)
        inventory.poll()
        rows = inventory.devices()
    if not quiet:
        click.echo(
            f"Found {len(found)} devices; the demo database is in {ctx.settings.instance}", err=True
        )
    return rows
