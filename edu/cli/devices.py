"""`edu init`, `discover`, `scan`, `add`, `tokens import` and `poll`: the devices on the network."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from ipaddress import IPv4Network

from edu.cli.common import (
    Context,
    allow_public_option,
    emit,
    expected_errors,
    ip_order,
    network_options,
    pass_ctx,
    progress_bar,
    render_devices,
)


def chosen_networks(
    ctx: Context,
    networks: tuple[str, ...],
    ips: tuple[str, ...],
    broadcast: bool,
    mdns: bool,
    allow_public: bool,
) -> list[IPv4Network]:
    """Parse the --network ranges once (else EDU_NETWORKS, parsed at start-up): private,
    link-local, shared and loopback ranges only, unless public ones are allowed."""
    from devices.networks import parse_networks

    parsed = (
        parse_networks(networks, allow_public=allow_public)
        if networks
        else list(ctx.settings.networks)
    )
    if not parsed and not ips and not broadcast and not mdns:
        raise ValueError(
            "nothing to search: give --network CIDR, --ip, --broadcast or --mdns (or set EDU_NETWORKS)"
        )
    return parsed


@click.command()
@click.option("--name", default="Home", show_default=True, help="The household's name.")
@click.option(
    "--timezone", "tz", default="UTC", show_default=True, help="IANA time zone, e.g. Europe/Berlin."
)
@click.option("--language", type=click.Choice(["en", "zh-CN"]), default="en", show_default=True)
@click.option("--store", is_flag=True, help="A shop (store demo) instead of a home.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@expected_errors
def init(ctx: Context, name: str, tz: str, language: str, store: bool, as_json: bool) -> None:
    """Create the instance folder, the database and the household."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from sqlmodel import select

    from edu.db import unit_of_work
    from edu.models import Household

    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {tz!r} (use an IANA name like Europe/Berlin)"
        ) from None
    if not name.strip():
        raise ValueError("the household needs a name")
    with unit_of_work(ctx.engine) as session:
        household = session.exec(select(Household)).first()
        created = household is None
        if household is None:
            household = Household(name=name.strip())
            session.add(household)
        household.name, household.timezone, household.language = name.strip(), tz, language
        household.kind = "store" if store else "home"
        data = {
            "household": household.name,
            "kind": household.kind,
            "timezone": tz,
            "language": language,
            "instance": str(ctx.settings.instance),
            "created": created,
        }
    emit(
        data,
        as_json,
        lambda d: click.echo(
            f"{'Created' if d['created'] else 'Updated'} {d['kind']} {d['household']!r} in {d['instance']}"
        ),
    )


@click.command()
@network_options
@pass_ctx
@expected_errors
def discover(
    ctx: Context,
    networks: tuple[str, ...],
    ips: tuple[str, ...],
    broadcast: bool,
    mdns: bool,
    timeout: float | None,
    allow_public: bool,
    as_json: bool,
) -> None:
    """Find miIO devices on the network (nothing is stored)."""
    from devices.discovery import discover

    allow_public = allow_public or ctx.settings.allow_public
    found = discover(
        chosen_networks(ctx, networks, ips, broadcast, mdns, allow_public),
        broadcast=broadcast,
        mdns=mdns,
        ips=ips,
        timeout=timeout or ctx.settings.discovery_timeout,
        allow_public=allow_public,
    )
    rows = [
        {"ip": f.ip, "did": f.did, "token_known": f.token_known, "source": f.source}
        for f in sorted(found, key=lambda f: ip_order(f.ip))
    ]

    def render(data: list[dict[str, Any]]) -> None:
        click.echo(f"{len(data)} device(s) found")
        for row in data:
            token = "token revealed" if row["token_known"] else "token hidden"
            click.echo(f"  {row['ip']:<16} did {row['did']:<12} {token:<15} via {row['source']}")

    emit(rows, as_json, render)


@click.command()
@network_options
@pass_ctx
@expected_errors
def scan(
    ctx: Context,
    networks: tuple[str, ...],
    ips: tuple[str, ...],
    broadcast: bool,
    mdns: bool,
    timeout: float | None,
    allow_public: bool,
    as_json: bool,
) -> None:
    """Discover, identify, read capabilities and store every device found."""
    from edu.services.scans import scan_networks

    allow_public = allow_public or ctx.settings.allow_public
    parsed = chosen_networks(ctx, networks, ips, broadcast, mdns, allow_public)
    with progress_bar("Scanning", as_json) as bar:
        rows = scan_networks(
            ctx.inventory(),
            parsed,
            ips=ips,
            broadcast=broadcast,
            mdns=mdns,
            timeout=timeout,
            allow_public=allow_public,
            found=bar.start,
            progress=bar.advance,
        )
    rows.sort(key=lambda r: ip_order(r["ip"]))
    emit(rows, as_json, render_devices)


@click.command()
@click.option("--ip", required=True, help="The device's IP address.")
@click.option("--token", required=True, help="The device's 32-hex-digit token.")
@click.option("--name", default=None, help="A name people will recognise.")
@allow_public_option
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@expected_errors
def add(
    ctx: Context, ip: str, token: str, name: str | None, allow_public: bool, as_json: bool
) -> None:
    """Add a device by address and token, then scan it."""
    from devices.networks import check_ip
    from devices.tokens import normalize_token

    normalize_token(token)  # validate before touching the network
    allow_public = allow_public or ctx.settings.allow_public
    check_ip(ip, allow_public=allow_public)
    row = ctx.inventory().add(ip, token, name=name, allow_public=allow_public)
    emit(row, as_json, lambda r: render_devices([r]))


@click.group()
def tokens() -> None:
    """Device tokens."""


@tokens.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@expected_errors
def tokens_import(ctx: Context, file: Path, as_json: bool) -> None:
    """Import tokens: miiocli cloud JSON, token-extractor CSV/text, Home Assistant's config entries."""
    rows = ctx.inventory().import_tokens(file)

    def render(data: list[dict[str, Any]]) -> None:
        stored = sum(1 for r in data if r["stored"])
        click.echo(f"{stored} token(s) stored, {len(data) - stored} skipped")
        for r in data:
            if not r["stored"]:
                click.echo(f"  skipped {r.get('ip') or '?'}: {r['reason']}")

    emit(rows, as_json, render)


@click.command()
@click.option("--json", "as_json", is_flag=True)
@click.option(
    "--due", is_flag=True, help="Only devices whose next poll is due (back-off respected)."
)
@pass_ctx
@expected_errors
def poll(ctx: Context, as_json: bool, due: bool) -> None:
    """Read every stored device once, store what changed and detect feature use."""
    inventory = ctx.inventory()
    total = inventory.device_count()
    with progress_bar("Polling", as_json, total) as bar:
        rows = inventory.poll(due_only=due, progress=bar.advance)

    def render(data: list[dict[str, Any]]) -> None:
        for row in data:
            used = ", ".join(row["in_use"]) or "-"
            click.echo(f"  did {row['did']:<12} {row['status']:<12} in use: {used}")
            if row["detail"]:
                click.echo(f"      {row['detail']}")

    emit(rows, as_json, render)


def register(main: click.Group) -> None:
    """Attach the device commands to the `edu` group."""
    for command in (init, discover, scan, add, tokens, poll):
        main.add_command(command)
