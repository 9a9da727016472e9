"""`edu lessons check` and `edu lessons try`: is every try-it true, offline, at home, on one device."""

from __future__ import annotations

import logging
import sys
import time
from datetime import timedelta
from typing import Any

import click

from edu.cli.common import Context, emit, expected_errors, fail, pass_ctx

logger = logging.getLogger(__name__)


def _quiet_python_miio() -> None:
    """python-miio logs warnings about the placeholder answers of an offline run."""
    logging.getLogger("miio").setLevel(logging.CRITICAL)


def _static(ctx: Context, model: str | None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    from devices.specs import SpecStore
    from devices.vocabulary import Vocabulary
    from edu.catalogue import catalogue
    from edu.services.lessoncheck import check_pairs, examine_all, models_to_check, summary

    _quiet_python_miio()
    instance_specs = ctx.settings.instance / "specs"
    specs = SpecStore.offline(instance_specs if instance_specs.is_dir() else None)
    vocabulary = Vocabulary.load()
    views = examine_all(models_to_check(specs, model), vocabulary)
    rows = check_pairs(catalogue(), views, vocabulary)
    return [row.to_dict() for row in rows], summary(rows, views)


def _print_static(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        mark = ("ok  " if row["ok"] else "FAIL") if row["offered"] else "--  "
        what = f"sends {row['value']!r}" if row["offered"] else f"not offered: {row['reason']}"
        if row["offered"] and not row["ok"]:
            what = row["reason"]
        click.echo(f"{mark} {row['lesson']:<34} {row['model']:<28} {what}")


def _print_live(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        mark = "ok  " if row["ok"] else "FAIL"
        change = f"{row['before']!r} -> {row['after']!r}, restored {row['restored']}"
        click.echo(
            f"{mark} {row['lesson']:<34} {row['device']:<12} {row['model']} {change}"
            + (f" ({row['reason']})" if row["reason"] else "")
        )


@click.command("check")
@click.option("--json", "as_json", is_flag=True)
@click.option("--model", "model", default=None, help="Only models matching this glob.")
@click.option("--live", is_flag=True, help="Run every offered try-it on the stored devices.")
@pass_ctx
@expected_errors
def lessons_check(ctx: Context, as_json: bool, model: str | None, live: bool) -> None:
    """Prove every lesson's try-it: offline on every python-miio model, or --live at home."""
    if live:
        from edu.catalogue import catalogue
        from edu.services.trylive import live_check

        _quiet_python_miio()
        rows = live_check(ctx.inventory(), catalogue().lessons("en"), model=model)
        emit(rows, as_json, _print_live)
        failing = sum(1 for r in rows if not r["ok"])
        click.echo(f"{len(rows)} try-it(s) run, {failing} failing", err=True)
        if failing:
            sys.exit(1)
        return
    started = time.monotonic()
    rows, counts = _static(ctx, model)
    emit(rows, as_json, _print_static)
    click.echo(
        f"{counts['models']} models ({counts['models_reached']} reached), {counts['pairs']} pairs,"
        f" {counts['offered']} offered, {counts['failing']} failing,"
        f" {time.monotonic() - started:.1f} s",
        err=True,
    )
    for name, error in counts["not_built"].items():
        click.echo(f"not examined: {name}: {error}", err=True)
    if counts["failing"]:
        sys.exit(1)


def _admin_id(ctx: Context, name: str | None) -> int:
    from sqlmodel import col, select

    from edu.db import unit_of_work
    from edu.models import Person

    inventory = ctx.inventory()
    with unit_of_work(ctx.engine) as session:
        household = inventory.household(session)
        query = select(Person).where(Person.household_id == household.id)
        if name is not None:
            query = query.where(Person.name == name)
        else:
            query = query.where(Person.role == "admin")
        person = session.exec(query.order_by(col(Person.id))).first()
        if person is None or person.id is None:
            raise ValueError(f"no person named {name!r}" if name else "the household has no admin")
        return person.id


@click.command("try")
@click.argument("lesson_id")
@click.option("--device", "did", type=click.IntRange(0, 2**32 - 1), required=True)
@click.option("--person", "person_name", default=None, help="Who tries it (default: the admin).")
@click.option("--no-wait", is_flag=True, help="Leave the revert to the running worker.")
@click.option(
    "--revert-after",
    type=click.IntRange(0, 3600),
    default=None,
    help="Seconds before the previous value returns (default: the lesson's).",
)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@expected_errors
def lessons_try(
    ctx: Context,
    lesson_id: str,
    did: int,
    person_name: str | None,
    no_wait: bool,
    revert_after: int | None,
    as_json: bool,
) -> None:
    """Do what "Try it now" does: change the device, read it back, wait for the revert."""
    from edu.services.tryit import TryItError, run_due_reverts, same_value, try_lesson

    _quiet_python_miio()
    inventory = ctx.inventory()
    person_id = _admin_id(ctx, person_name)
    try:
        outcome = try_lesson(
            inventory,
            person_id=person_id,
            lesson_id=lesson_id,
            did=did,
            revert_after=revert_after,
        )
    except TryItError as exc:
        fail(str(exc))
        return
    data = outcome.to_dict()
    data["restored"] = None
    if outcome.ok and outcome.revert_at is not None and not no_wait:
        from edu.db import utcnow

        time.sleep(max(0.0, (outcome.revert_at - utcnow()).total_seconds()))
        run_due_reverts(inventory, now=outcome.revert_at + timedelta(seconds=1))
        shown = inventory.read(did).get(data.get("key") or "")
        data["restored"] = same_value(shown, outcome.before)
        data["now"] = shown
    emit(data, as_json, _print_try)
    if not outcome.ok:
        fail(f"the device did not do it: {outcome.reason or outcome.status}")
    if data["restored"] is False:
        fail("the previous value did not come back")


def _print_try(data: dict[str, Any]) -> None:
    click.echo(
        f"{data['device_name']}: {data['status']}: {data['before']!r} -> {data['after']!r}"
        f" (sent {data['value']!r})"
    )
    if data["restored"] is not None:
        click.echo(
            f"put back: {data['now']!r} ({'restored' if data['restored'] else 'NOT restored'})"
        )
    elif data["revert_at"]:
        click.echo(f"the previous value returns at {data['revert_at']}")


def register(main: click.Group) -> None:
    """Attach `check` and `try` to `edu lessons` (registered before this area)."""
    lessons = main.commands["lessons"]
    assert isinstance(lessons, click.Group)
    lessons.add_command(lessons_check)
    lessons.add_command(lessons_try)
