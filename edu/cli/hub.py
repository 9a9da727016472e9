"""`edu hub serve|refresh|moderator`: the community hub on its own instance and database."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from edu.cli.common import Context, check_port_free, emit, expected_errors, is_loopback

if TYPE_CHECKING:
    from flask import Flask

DEFAULT_HUB_PORT = 5100


@click.group("hub")
def hub() -> None:
    """The community hub that homes report to (its own instance: EDU_INSTANCE, EDU_DATABASE_URL)."""


@hub.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=click.IntRange(1, 65535), default=DEFAULT_HUB_PORT, show_default=True)
@click.option("--threads", type=click.IntRange(1, 64), default=8, show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(1, 32),
    default=1,
    show_default=True,
    help="Processes sharing the port (each with --threads threads).",
)
@click.pass_obj
@expected_errors
def serve(ctx: Context, host: str, port: int, threads: int, workers: int) -> None:
    """Serve the hub's API and public pages until Ctrl-C."""
    from edu.hub import HubSettings, serving

    settings = ctx.settings
    hub_settings = HubSettings.from_env()
    check_port_free(host, port)
    # open the database once here, so that a wrong URL fails in one line and not in a worker
    _open(settings, hub_settings, 1).extensions["hub.engine"].dispose()
    shown = host if is_loopback(host) else "<this computer>"
    click.echo(
        f"Feature Coach hub is at http://{shown}:{port}/hub/ "
        f"(publishing pairs of {hub_settings.min_homes}+ homes, recounted every "
        f"{hub_settings.refresh_seconds} s; {workers} worker(s); Ctrl-C to stop)",
        err=True,
    )
    serving.serve(lambda: _open(settings, hub_settings, threads), host, port, threads, workers)


def _open(settings: Any, hub_settings: Any, threads: int) -> Flask:
    """Build the hub app on its database; a database that cannot be opened is one line."""
    from sqlalchemy.exc import SQLAlchemyError

    from edu.db import build_engine
    from edu.hub import create_hub_app

    engine = build_engine(settings.database_url, connections=threads + 1)  # + the refresh
    try:
        return create_hub_app(
            {"EDU_SETTINGS": settings, "HUB_SETTINGS": hub_settings, "EDU_ENGINE": engine}
        )
    except SQLAlchemyError as exc:
        engine.dispose()
        raise OSError(f"cannot open the hub's database: {type(exc).__name__}") from None


@hub.command("refresh")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
@expected_errors
def refresh(ctx: Context, as_json: bool) -> None:
    """Recount the published adoption table from the homes' latest reports, now."""
    from edu.db import utcnow
    from edu.hub import HubSettings, aggregates

    app = _open(ctx.settings, HubSettings.from_env(), 1)
    engine = app.extensions["hub.engine"]
    try:
        done = aggregates.refresh(engine, utcnow(), wait=True)
    finally:
        engine.dispose()
    assert done is not None  # waiting for the lock, a refresh always runs
    result = {
        "reports": done.reports,
        "entries": done.entries,
        "pairs": done.pairs,
        "seconds": round(done.seconds, 3),
    }
    emit(
        result,
        as_json,
        lambda r: click.echo(
            f"published table recounted from {r['reports']} report(s): "
            f"{r['pairs']} (model, feature) pair(s) in {r['seconds']} s"
        ),
    )


@hub.command("moderator")
@click.argument("name")
@click.pass_obj
@expected_errors
def moderator(ctx: Context, name: str) -> None:
    """Make a moderator for the tips queue; print their personal token, once."""
    from edu.db import build_engine
    from edu.hub.store import create_tables
    from edu.hub.tips import add_moderator

    ctx.settings.ensure_instance()
    engine = build_engine(ctx.settings.database_url)
    try:
        create_tables(engine)
        token = add_moderator(engine, name)
    finally:
        engine.dispose()
    click.echo(f"moderator {name.strip()}: keep this token, it is shown once:")
    click.echo(token)


def register(main: click.Group) -> None:
    """Attach `hub` to the main command group."""
    main.add_command(hub)
