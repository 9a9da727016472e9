"""The `edu serve` and `edu demo` commands: the household page, for real or on the simulated fleet."""

from __future__ import annotations

import ipaddress
import logging
import socket
import sys
from typing import TYPE_CHECKING, Any

import click

from edu.cli_common import Context, emit, expected_errors, fail, fleet_options, render_devices

if TYPE_CHECKING:
    from flask import Flask

logger = logging.getLogger(__name__)

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 5000


def is_loopback(host: str) -> bool:
    """Tell whether *host* is a loopback address (or localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def split_bind(bind: str) -> tuple[str, int]:
    """Split EDU_BIND ("host:port") into its parts."""
    host, _, port = bind.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"EDU_BIND must look like 127.0.0.1:5000, not {bind!r}")
    return host, int(port)


def check_port_free(host: str, port: int) -> None:
    """Fail early, in one line, when the port is taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            raise ValueError(
                f"port {port} on {host} is in use (choose another with --port)"
            ) from None


def check_demo(base: str, host: str, port: int, *, serve: bool) -> None:
    """Check a demo's fleet address, then where it will serve, before anything starts."""
    from edu.simulation import check_loopback

    check_loopback(base)
    if serve:
        if not is_loopback(host):
            fail("the demo serves on a loopback address only (127.0.0.1)")
        check_port_free(host, port)


def run_server(app: Flask, host: str, port: int, *, threads: int = 8) -> None:
    """Serve *app* with waitress, running due reverts in the background, until Ctrl-C."""
    from waitress import serve

    from edu.demo.worker import DemoWorker
    from edu.tips.scheduler import start_background, stop_background
    from edu.tryit import RevertWorker

    inventory = app.extensions["edu.inventory"]
    reverts = RevertWorker(inventory)
    demos = DemoWorker(app.extensions["edu.demo.desk"])
    reverts.start()
    demos.start()
    # device polls and tip runs; with several processes on one database, the lease holder only
    start_background(app.extensions["edu.engine"], inventory.settings, inventory=inventory)
    try:
        serve(app, host=host, port=port, threads=threads, ident="Feature Coach", _quiet=True)
    except KeyboardInterrupt:
        pass
    finally:
        stop_background()
        for worker in (demos, reverts):
            worker.stop()
        for worker in (demos, reverts):
            worker.join(timeout=10)  # let a revert or demo reset under way reach the device


def register(main: click.Group) -> None:
    """Attach `serve` and `demo` to the main command group."""

    @main.command()
    @click.option(
        "--host", default=None, help="Address to bind (default from EDU_BIND: 127.0.0.1)."
    )
    @click.option(
        "--port", type=click.IntRange(1, 65535), default=None, help="Port (default 5000)."
    )
    @click.pass_obj
    @expected_errors
    def serve(ctx: Context, host: str | None, port: int | None) -> None:
        """Serve the household page (127.0.0.1:5000 unless told otherwise)."""
        from edu import create_app

        settings = ctx.settings
        bind_host, bind_port = split_bind(settings.bind)
        host, port = host or bind_host, port or bind_port
        if not is_loopback(host) and not settings.secret_key:
            fail(f"refusing to serve on {host} without a secret: set EDU_SECRET_KEY first")
        check_port_free(host, port)
        app = create_app({"EDU_SETTINGS": settings, "EDU_ENGINE": ctx.engine})
        click.echo(
            f"Feature Coach is at http://{host if is_loopback(host) else '<this computer>'}:{port}/ "
            "(Ctrl-C to stop)",
            err=True,
        )
        run_server(app, host, port)

    @main.command()
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
    ) -> None:
        """Start the simulated household, scan it, seed three people and serve the page."""
        if store:
            from edu.cli_demo import store_demo

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
        from edu.demo_household import find_and_scan, seed_people
        from edu.simulation import demo_fleet

        check_demo(base, host, port, serve=serve)
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
            _serve_demo(ctx, people, host, port, as_json, rows)


def _serve_demo(
    ctx: Context,
    people: list[Any],
    host: str,
    port: int,
    as_json: bool,
    rows: list[dict[str, Any]],
) -> None:
    from edu import create_app

    app = create_app({"EDU_SETTINGS": ctx.settings, "EDU_ENGINE": ctx.engine})
    url = f"http://{host}:{port}/"
    if as_json:
        emit(
            {
                "url": url,
                "people": [{"name": p.name, "role": p.role, "pin": p.pin} for p in people],
                "devices": rows,
            },
            True,
            lambda data: None,
        )
    else:
        click.echo(f"\nFeature Coach demo: {url}")
        click.echo(f"{len(rows)} simulated devices; sign in as:")
        for person in people:
            click.echo(f"  {person.name:<5} ({person.role:<6}) PIN {person.pin}")
        click.echo("Press Ctrl-C to stop.")
    sys.stdout.flush()
    run_server(app, host, port)
