"""`edu demo` and `edu simulate`: the simulated household (or shop) on loopback, served for real.

The same services as a real home or shop, given other inputs: the fleet is the network, the
people (or the shop's staff and manager) get fresh PINs, printed once with the addresses.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import click

from edu.cli.common import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    Context,
    check_demo,
    emit,
    expected_errors,
    fleet_options,
    lines,
    render_devices,
    run_server,
)
from edu.cli.demo_hub import DEFAULT_HOMES, DemoHub, announce, check_hub_port, demo_hub
from edu.cli.hub import DEFAULT_HUB_PORT

if TYPE_CHECKING:
    from devices.fleet import Fleet
    from edu.config import Settings
    from edu.store.seed import Shop

logger = logging.getLogger(__name__)

SHOP_NAME = "Feature Coach demo store"
# A shop wants its board fresh: poll the table every half minute (a home: every 5 minutes).
STORE_POLL_SECONDS = 30.0


@contextmanager
def demo_fleet(
    ctx: Context, *, fleet_name: str, base: str, folder: str, **settings: Any
) -> Iterator[Fleet]:
    """Run a fleet for a demo in a fresh instance sub-folder; the context's settings follow it.

    The demo's settings sweep the fleet's own network and get a random session secret;
    keyword arguments override other settings (a shorter poll interval for a shop ...).
    """
    from devices.fleet import FleetBindError
    from edu.simulated.fleet import check_loopback, load_fleet

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


def store_demo(
    ctx: Context,
    *,
    fleet_name: str,
    base: str,
    host: str,
    port: int,
    serve: bool = True,
    as_json: bool = False,
) -> None:
    """Seed a shop with the simulated fleet as its demo table, serve it, print PIN and kiosk URL."""
    from edu.simulated.household import find_and_scan
    from edu.store.seed import seed_people

    check_demo(base, host, port, serve=serve)
    poll_interval = min(ctx.settings.poll_interval, STORE_POLL_SECONDS)
    with demo_fleet(
        ctx, fleet_name=fleet_name, base=base, folder="store-demo", poll_interval=poll_interval
    ) as fleet:
        inventory = ctx.inventory()
        if not as_json:
            click.echo(
                f"Simulated {len(fleet.devices)} devices on {fleet.network}; "
                "putting them on the demo table ...",
                err=True,
            )
        rows = find_and_scan(inventory, fleet)
        shop = seed_people(inventory, name=SHOP_NAME)
        if not serve:
            emit(rows, as_json, render_devices)
            return
        _serve(ctx, shop, host, port, as_json)


def urls(host: str, port: int) -> dict[str, str]:
    """Return the board's and the kiosk's full addresses."""
    root = f"http://{host}:{port}"
    return {"board": f"{root}/demo/", "kiosk": f"{root}/demo/kiosk", "signin": f"{root}/signin"}


def _serve(ctx: Context, shop: Shop, host: str, port: int, as_json: bool) -> None:
    from edu import create_app

    app = create_app({"EDU_SETTINGS": ctx.settings, "EDU_ENGINE": ctx.engine})
    where = urls(host, port)
    _announce(shop, where, ctx.settings, as_json)
    run_server(app, host, port)  # with the demo timeout, device polls and tips running


def _announce(shop: Shop, where: dict[str, str], settings: Settings, as_json: bool) -> None:
    data: dict[str, Any] = {
        "shop": shop.name,
        "devices": shop.devices,
        "board": where["board"],
        "kiosk": where["kiosk"],
        "staff": {"name": shop.staff, "pin": shop.staff_pin},
        "manager": {"name": shop.manager, "pin": shop.manager_pin},
        "timeout_seconds": settings.demo_timeout,
    }
    if as_json:
        emit(data, True, lambda _: None)
    else:
        minutes = settings.demo_timeout / 60
        click.echo(f"\n{shop.name}: {shop.devices} simulated devices on the demo table")
        click.echo(f"  Staff board (tablet): {where['board']}")
        click.echo(f"  Kiosk (customer screen): {where['kiosk']}")
        click.echo(f"  Staff PIN: {shop.staff_pin}  ({shop.staff})")
        click.echo(f"  Manager PIN: {shop.manager_pin}  ({shop.manager}, admin)")
        click.echo(f"  A demo left alone for {minutes:g} minutes puts its device back by itself.")
        click.echo("Press Ctrl-C to stop.")
    sys.stdout.flush()


@click.command()
@fleet_options
@click.option(
    "--host", default=DEFAULT_HOST, show_default=True, help="Address to serve the page on."
)
@click.option("--port", type=click.IntRange(1, 65535), default=DEFAULT_PORT, show_default=True)
@click.option(
    "--serve/--no-serve", default=True, help="Serve the page (default), or only scan and print."
)
@click.option("--json", "as_json", is_flag=True, help="Print the scanned fleet as JSON.")
@click.option(
    "--store",
    is_flag=True,
    help="A shop: the fleet is its demo table (prints PIN and kiosk URL).",
)
@click.option(
    "--hub",
    "with_hub",
    is_flag=True,
    help="Also serve a community hub of simulated homes and join the household to it.",
)
@click.option(
    "--hub-homes",
    type=click.IntRange(1, 5000),
    default=DEFAULT_HOMES,
    show_default=True,
    help="How many simulated homes report to the hub.",
)
@click.option(
    "--hub-port", type=click.IntRange(1, 65535), default=DEFAULT_HUB_PORT, show_default=True
)
@click.pass_obj
@expected_errors
def demo(
    ctx: Context,
    fleet_name: str,
    base: str,
    host: str,
    port: int,
    serve: bool,
    as_json: bool,
    store: bool,
    with_hub: bool,
    hub_homes: int,
    hub_port: int,
) -> None:
    """Start the simulated household, scan it, seed three people and serve the page."""
    if with_hub and (store or not serve):
        raise ValueError("--hub goes with the served household demo (not --store or --no-serve)")
    if store:
        store_demo(
            ctx,
            fleet_name=fleet_name,
            base=base,
            host=host,
            port=port,
            serve=serve,
            as_json=as_json,
        )
        return
    from edu.simulated.household import find_and_scan, seed_people

    check_demo(base, host, port, serve=serve)
    if with_hub:
        check_hub_port(host, hub_port, port)
    root = ctx.settings.instance
    with demo_fleet(ctx, fleet_name=fleet_name, base=base, folder="demo") as fleet:
        inventory = ctx.inventory()
        if not as_json:
            click.echo(
                f"Simulated {len(fleet.devices)} devices on {fleet.network}; "
                "sweeping and scanning ...",
                err=True,
            )
        rows = find_and_scan(inventory, fleet)
        people = seed_people(inventory)
        if not serve:
            emit(rows, as_json, render_devices)
            return
        if not with_hub:
            _serve_demo(ctx, people, host, port, as_json, rows)
            return
        with demo_hub(ctx, root, host, hub_port, hub_homes, quiet=as_json) as hub:
            _serve_demo(ctx, people, host, port, as_json, rows, hub)


def _serve_demo(
    ctx: Context,
    people: list[Any],
    host: str,
    port: int,
    as_json: bool,
    rows: list[dict[str, Any]],
    hub: DemoHub | None = None,
) -> None:
    from edu import create_app

    app = create_app({"EDU_SETTINGS": ctx.settings, "EDU_ENGINE": ctx.engine})
    url = f"http://{host}:{port}/"
    if as_json:
        data: dict[str, Any] = {
            "url": url,
            "people": [{"name": p.name, "role": p.role, "pin": p.pin} for p in people],
            "devices": rows,
        }
        if hub is not None:
            data["hub"] = hub.to_dict()
        emit(data, True, lambda data: None)
    else:
        click.echo(f"\nFeature Coach demo: {url}")
        if hub is not None:
            announce(hub)
        click.echo(f"{len(rows)} simulated devices; sign in as:")
        for person in people:
            click.echo(f"  {person.name:<5} ({person.role:<6}) PIN {person.pin}")
        click.echo("Press Ctrl-C to stop.")
    sys.stdout.flush()
    run_server(app, host, port)


@click.command()
@fleet_options
@click.option("--seed", type=int, default=None, help="Make tokens reproducible.")
@click.option("--json", "as_json", is_flag=True)
@expected_errors
def simulate(fleet_name: str, base: str, seed: int | None, as_json: bool) -> None:
    """Run a simulated fleet of miIO devices on loopback, in the foreground."""
    from edu.simulated.fleet import check_loopback, load_fleet

    check_loopback(base)
    fleet = load_fleet(fleet_name, seed=seed)
    fleet.start(base=base)
    rows = [
        {
            "ip": d.ip,
            "model": d.model,
            "family": d.family,
            "did": d.did,
            "provisioned": d.provisioned,
            "token": d.token,
        }
        for d in fleet.devices
    ]
    emit(
        rows,
        as_json,
        lines(
            lambda r: (
                f"{r['ip']:<15} {r['model']:<26} {r['family']:<12} did {r['did']:<11} "
                f"token {r['token']}{'  (provisioned)' if r['provisioned'] else ''}"
            )
        ),
    )
    if not as_json:
        click.echo("Simulating; press Ctrl-C to stop.")
    sys.stdout.flush()
    try:
        fleet.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        fleet.stop()


def register(main: click.Group) -> None:
    """Attach `demo` and `simulate` to the main command group."""
    main.add_command(demo)
    main.add_command(simulate)
