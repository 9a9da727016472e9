"""`edu tips ...`: run, preview and configure periodic tips."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import click

from edu.cli.common import Context, emit, expected_errors, pass_ctx


def quiet_apprise() -> None:
    """Keep Apprise's own warnings off the terminal (unless -vv): our commands report failures."""
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        # Not a level: the tip code reads Apprise's warnings to say why a send failed.
        logging.getLogger("apprise").propagate = False


def parse_now(text: str | None) -> datetime | None:
    """Parse --now: an ISO date-time; without an offset it is each household's local time."""
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"--now takes an ISO date and time like 2025-03-30T10:30, not {text!r}"
        ) from None


@contextmanager
def person_session(ctx: Context, name: str) -> Iterator[tuple[Any, Any, Any]]:
    """Yield (session, household, person) in one unit of work, or fail with a one-line error."""
    from sqlmodel import col, select

    from edu.db import unit_of_work
    from edu.models import Household
    from edu.services.people import find_person

    quiet_apprise()
    with unit_of_work(ctx.engine) as session:
        household = session.exec(select(Household).order_by(col(Household.id))).first()
        if household is None:
            raise ValueError("no household yet: run `edu init` first")
        yield session, household, find_person(session, household, name)


def _print_tips(data: dict[str, Any]) -> None:
    click.echo(f"{data['tips_sent']} tip(s) sent to {data['people']} people")
    for tip in data["tips"]:
        channels = ", ".join(f"{name}: {status}" for name, status in tip["channels"].items())
        click.echo(f"  {tip['person']}: {tip['title']}  [{channels}]")
    for row in data["retried"]:
        click.echo(f"  retried {row['lesson']} on {row['channel']}: {row['status']}")


@click.group("tips")
def tips_group() -> None:
    """Periodic tips: run, preview, channels and policy."""


@tips_group.command("run")
@click.option(
    "--now",
    "now_text",
    default=None,
    help="Run as if at this ISO date-time (no offset: local time).",
)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@expected_errors
def tips_run(ctx: Context, now_text: str | None, as_json: bool) -> None:
    """Run the tip run once and print what it sent."""
    from edu.tips.run import run_tips

    quiet_apprise()
    report = run_tips(ctx.engine, ctx.settings, parse_now(now_text))
    emit(report.to_dict(), as_json, _print_tips)


@tips_group.command("preview")
@click.option("--person", "name", required=True, help="The person's name.")
@click.option(
    "--now", "now_text", default=None, help="As if at this ISO date-time (no offset: local time)."
)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@expected_errors
def tips_preview(ctx: Context, name: str, now_text: str | None, as_json: bool) -> None:
    """Show the next tip for a person, and whether it is due, without sending it."""
    from edu.tips.run import preview

    with person_session(ctx, name) as (_, _, person):
        person_id = person.id
    data = preview(ctx.engine, ctx.settings, person_id, parse_now(now_text))

    def render(d: dict[str, Any]) -> None:
        state = "due now" if d["due"] else f"not due ({d['decision']})"
        click.echo(f"{d['person']} at {d['local_time']}: {state}")
        if d["tip"] is None:
            click.echo("  nothing left to teach on their online, unmuted devices")
        else:
            click.echo(
                f"  next tip: {d['tip']['title']}\n  {d['tip']['summary']}\n  {d['tip']['link']}"
            )
        click.echo(f"  channels: {', '.join(d['channels'])}")

    emit(data, as_json, render)


@tips_group.group("channel")
def channel_group() -> None:
    """A person's tip channels (Apprise URLs)."""


def _print_channels(rows: list[dict[str, Any]]) -> None:
    click.echo(f"{len(rows)} channel(s) besides the inbox")
    for row in rows:
        state = "on" if row["enabled"] else "off"
        tested = {None: "never tested", True: "test ok", False: "test FAILED"}[row["last_test_ok"]]
        click.echo(f"  #{row['id']:<4} {row['kind']:<14} {state:<4} {tested:<13} {row['label']}")


@channel_group.command("add")
@click.option("--person", "name", required=True)
@click.argument("url")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@expected_errors
def channel_add(ctx: Context, name: str, url: str, as_json: bool) -> None:
    """Add an Apprise URL (ntfy://, mailto://, mqtt://, json:// ...) as a tip channel."""
    from edu.tips.service import add_channel

    with person_session(ctx, name) as (session, _, person):
        data = add_channel(session, ctx.settings, person, url).to_dict()
    emit(data, as_json, lambda d: click.echo(f"Added channel #{d['id']}: {d['label']}"))


@channel_group.command("list")
@click.option("--person", "name", required=True)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@expected_errors
def channel_list(ctx: Context, name: str, as_json: bool) -> None:
    """List a person's channels (URLs masked)."""
    from edu.tips.service import list_channels

    with person_session(ctx, name) as (session, _, person):
        rows = [c.to_dict() for c in list_channels(session, person)]
    emit(rows, as_json, _print_channels)


@channel_group.command("remove")
@click.option("--person", "name", required=True)
@click.argument("channel")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@expected_errors
def channel_remove(ctx: Context, name: str, channel: str, as_json: bool) -> None:
    """Remove a channel, given by its number (see `list`) or its URL."""
    from edu.tips.service import remove_channel

    with person_session(ctx, name) as (session, _, person):
        data = remove_channel(session, ctx.settings, person, channel).to_dict()
    emit(data, as_json, lambda d: click.echo(f"Removed channel #{d['id']}: {d['label']}"))


@channel_group.command("test")
@click.option("--person", "name", required=True)
@click.argument("channel")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@expected_errors
def channel_test(ctx: Context, name: str, channel: str, as_json: bool) -> None:
    """Send a test message on a channel."""
    from edu.tips.service import test_channel

    with person_session(ctx, name) as (_, _, person):
        person_id = person.id
    result = test_channel(ctx.engine, ctx.settings, person_id, channel)
    data = {"ok": result.ok, "error": result.error}
    emit(
        data,
        as_json,
        lambda d: click.echo("Test sent." if d["ok"] else f"Test failed: {d['error']}"),
    )
    if not result.ok:
        sys.exit(1)


@tips_group.command("policy")
@click.option("--person", "name", required=True)
@click.option("--cadence", type=click.Choice(["daily", "weekly", "off"]), default=None)
@click.option("--day", default=None, help="Weekday for a weekly cadence (mon ... sun).")
@click.option("--at", "at", default=None, help="Preferred local time, HH:MM.")
@click.option("--quiet", default=None, help="Quiet hours, HH:MM-HH:MM.")
@click.option("--daily-cap", type=int, default=None)
@click.option("--weekly-cap", type=int, default=None)
@click.option(
    "--snooze-until", default=None, help="No tips until this date (local midnight) or date-time."
)
@click.option("--no-snooze", is_flag=True, help="End a snooze.")
@click.option(
    "--mute", multiple=True, help="A device (name or id) to get no tips about; repeatable."
)
@click.option("--unmute", multiple=True, help="A muted device to get tips about again; repeatable.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@expected_errors
def tips_policy(
    ctx: Context,
    name: str,
    cadence: str | None,
    day: str | None,
    at: str | None,
    quiet: str | None,
    daily_cap: int | None,
    weekly_cap: int | None,
    snooze_until: str | None,
    no_snooze: bool,
    mute: tuple[str, ...],
    unmute: tuple[str, ...],
    as_json: bool,
) -> None:
    """Show a person's tip policy, changing what the options say first."""
    from edu.tips import service

    with person_session(ctx, name) as (session, household, person):
        until = service.snooze_moment(snooze_until, household.timezone) if snooze_until else None
        service.set_policy(
            session,
            person,
            cadence=cadence,
            weekday=day,
            at=at,
            quiet=quiet,
            daily_cap=daily_cap,
            weekly_cap=weekly_cap,
            snooze_until=until,
            clear_snooze=no_snooze,
        )
        for ref in mute:
            service.mute_device(session, person, service.find_device(session, household, ref), True)
        for ref in unmute:
            service.mute_device(
                session, person, service.find_device(session, household, ref), False
            )
        data = service.policy_view(session, person)

    def render(d: dict[str, Any]) -> None:
        when = f"weekly on {d['weekday']}" if d["cadence"] == "weekly" else d["cadence"]
        click.echo(
            f"{d['person']}: {when} at {d['at']} ({d['timezone']}), quiet {d['quiet_hours']}, "
            f"at most {d['daily_cap']} a day and {d['weekly_cap']} a week"
        )
        if d["unsubscribed"]:
            click.echo("  unsubscribed (set a cadence to opt back in)")
        if d["snooze_until"]:
            click.echo(f"  snoozed until {d['snooze_until']}")
        if d["muted_devices"]:
            click.echo(f"  muted: {', '.join(m['name'] for m in d['muted_devices'])}")

    emit(data, as_json, render)


@tips_group.command("inbox")
@click.option("--person", "name", required=True)
@click.option("--unread", is_flag=True, help="Only unread tips.")
@click.option("--mark-read", is_flag=True, help="Mark every tip read after listing.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@expected_errors
def tips_inbox(ctx: Context, name: str, unread: bool, mark_read: bool, as_json: bool) -> None:
    """List a person's tips, newest first, with how each channel fared."""
    from edu.tips import inbox

    with person_session(ctx, name) as (session, _, person):
        rows = inbox.inbox(session, person, unread_only=unread)
        if mark_read:
            inbox.mark_read(session, person)

    def render(items: list[dict[str, Any]]) -> None:
        click.echo(f"{len(items)} tip(s)")
        for item in items:
            flag = " " if item["read"] else "*"
            states = ", ".join(f"{k}: {v}" for k, v in item["channels"].items())
            click.echo(f" {flag} {item['created_at'][:16]}  {item['title']}  [{states}]")

    emit(rows, as_json, render)


def register(main: click.Group) -> None:
    """Attach `edu tips` to the main command group."""
    main.add_command(tips_group)
