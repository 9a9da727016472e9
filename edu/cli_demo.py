"""`edu demo --store`: a shop whose demo table is the simulated fleet, served on loopback.

The same services as a real shop, given other inputs: the fleet is the shop's network, the
staff and the manager get fresh PINs, printed once with the kiosk's full address.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any

import click

from edu.cli_common import Context, emit, render_devices

if TYPE_CHECKING:
    from edu.config import Settings
    from edu.demo.seed import Shop

logger = logging.getLogger(__name__)

SHOP_NAME = "Feature Coach demo store"
# A shop wants its board fresh: poll the table every half minute (a home: every 5 minutes).
STORE_POLL_SECONDS = 30.0


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
    from edu.cli_web import check_demo
    from edu.demo.seed import seed_people
    from edu.demo_household import find_and_scan
    from edu.simulation import demo_fleet

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
    from edu.cli_web import run_server

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
