"""`edu community`: join a community hub, preview exactly what is sent, send now, leave."""

from __future__ import annotations

import json

import click

from edu.cli.common import Context, emit, expected_errors, pass_ctx


@click.group("community")
def community() -> None:
    """Share, per device model, which features are in use with a community hub (off until you join).

    A shop in store mode shares instead what its demos showed and which ended in a sale intent.
    """


@community.command("join")
@click.option(
    "--hub", "hub_url", required=True, help="The hub's address, like https://hub.example.org"
)
@pass_ctx
@expected_errors
def join(ctx: Context, hub_url: str) -> None:
    """Make this home's key (kept in the instance folder) and register it with the hub."""
    from edu.community.link import join as join_hub

    state = join_hub(ctx.engine, ctx.settings, hub_url)
    click.echo(
        f"joined {state['hub']}; nothing is sent until the weekly report "
        "(see it with `edu community preview`)"
    )


@community.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
@expected_errors
def status(ctx: Context, as_json: bool) -> None:
    """Say whether this home has joined, where, and when it last sent."""
    from edu.community.link import status as hub_status

    def render(state: dict[str, object]) -> None:
        if not state["joined"]:
            click.echo("not joined (edu community join --hub URL)")
            return
        click.echo(f"joined {state['hub']}; last sent {state['last_sent_at'] or 'never'}")
        if state["simulated"]:
            click.echo("  a simulated hub: its homes are made up (edu demo --hub)")
        if state["last_result"]:
            click.echo(f"  last result: {state['last_result']}")
        click.echo(f"  {state['published']} published feature(s) known")

    emit(hub_status(ctx.engine), as_json, render)


@community.command("preview")
@click.option("--json", "as_json", is_flag=True, help="Print only the report's bytes (JSON).")
@pass_ctx
@expected_errors
def preview(ctx: Context, as_json: bool) -> None:
    """Print exactly the bytes the next report would send (signed by this home's key)."""
    from edu.community.link import preview as build
    from edu.community.link import status as hub_status

    body = build(ctx.engine, ctx.settings)
    if not as_json:
        state = hub_status(ctx.engine)
        click.echo(f"The next report to {state['hub']}, {len(body)} bytes, exactly:", err=True)
    click.echo(body.decode(), nl=False)


@community.command("send")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
@expected_errors
def send(ctx: Context, as_json: bool) -> None:
    """Send the report now (the scheduler sends it weekly while joined)."""
    from edu.community.link import send as send_report

    result = send_report(ctx.engine, ctx.settings)
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        what = "shop report" if result["type"] == "shop-report" else "report"
        click.echo(f"sent {what} {result['seq']} ({result['models']} model(s)) to {result['hub']}")


@community.command("leave")
@pass_ctx
@expected_errors
def leave(ctx: Context) -> None:
    """Ask the hub to delete this home's data, then forget the key and the hub's table."""
    from edu.community.link import leave as leave_hub

    result = leave_hub(ctx.engine, ctx.settings)
    click.echo(f"left {result['hub']}; its data about this home is deleted")


def register(main: click.Group) -> None:
    """Attach `community` to the main command group."""
    main.add_command(community)
