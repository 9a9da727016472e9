"""`edu hub serve|refresh|moderator`: the community hub on its own instance and database."""

from __future__ import annotations

import click

from edu.cli.common import Context, check_port_free, emit, expected_errors, is_loopback

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
    serving.build_hub(settings, hub_settings, 1).extensions["hub.engine"].dispose()
    shown = host if is_loopback(host) else "<this computer>"
    simulated = "; its homes are SIMULATED" if hub_settings.simulated else ""
    click.echo(
        f"Feature Coach hub is at http://{shown}:{port}/hub/ "
        f"(publishing pairs of {hub_settings.min_homes}+ homes{simulated}, recounted every "
        f"{hub_settings.refresh_seconds} s; {workers} worker(s); Ctrl-C to stop)",
        err=True,
    )
    serving.serve(
        lambda: serving.build_hub(settings, hub_settings, threads), host, port, threads, workers
    )


@hub.command("refresh")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
@expected_errors
def refresh(ctx: Context, as_json: bool) -> None:
    """Recount the published adoption table from the homes' latest reports, now."""
    from edu.db import utcnow
    from edu.hub import HubSettings, aggregates
    from edu.hub.serving import build_hub

    app = build_hub(ctx.settings, HubSettings.from_env(), 1)
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
@click.option(
    "--pin",
    "ask_pin",
    is_flag=True,
    help="Ask for a PIN (6 to 8 digits) for the moderation pages; for an existing "
    "moderator, replace their PIN.",
)
@click.pass_obj
@expected_errors
def moderator(ctx: Context, name: str, ask_pin: bool) -> None:
    """Make a moderator for the tips queue; print their personal token, once."""
    from edu.db import build_engine
    from edu.hub import moderators
    from edu.hub.store import create_tables

    ctx.settings.ensure_instance()
    engine = build_engine(ctx.settings.database_url)
    try:
        create_tables(engine)  # the moderators' tables included: imported above
        existing = moderators.exists(engine, name)
        if existing and not ask_pin:
            raise ValueError(f"there is already a moderator called {name.strip()!r}")
        pin_code = (
            click.prompt("PIN (6 to 8 digits)", hide_input=True, confirmation_prompt=True, err=True)
            if ask_pin
            else None
        )
        if existing:
            assert pin_code is not None
            moderators.set_pin(engine, name, pin_code)
            click.echo(f"moderator {name.strip()}: new PIN set; their token is unchanged")
            return
        token = moderators.add_moderator(engine, name, pin_code)
    finally:
        engine.dispose()
    click.echo(f"moderator {name.strip()}: keep this token, it is shown once:")
    click.echo(token)


def register(main: click.Group) -> None:
    """Attach `hub` to the main command group."""
    main.add_command(hub)
