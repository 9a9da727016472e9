"""`edu people` and `edu recommend`: the people in the household and what each learns next."""

from __future__ import annotations

from typing import Any

import click

from edu.cli.common import Context, emit, expected_errors, lines, pass_ctx


@click.group("people")
def people_group() -> None:
    """The people in the household."""


@people_group.command("add")
@click.argument("name")
@click.option(
    "--role", type=click.Choice(["admin", "member", "staff"]), default="member", show_default=True
)
@click.option("--pin", default=None, help="4 to 8 digits, to sign in on the web page.")
@click.option("--language", type=click.Choice(["en", "zh-CN"]), default=None)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@expected_errors
def people_add(
    ctx: Context, name: str, role: str, pin: str | None, language: str | None, as_json: bool
) -> None:
    """Add a person (they use all of the household's devices)."""
    from edu.db import unit_of_work
    from edu.services.people import add_person

    inventory = ctx.inventory()
    with unit_of_work(ctx.engine) as session:
        person = add_person(
            session, inventory.household(session), name, role=role, pin=pin, language=language
        )
        data = {"name": person.name, "role": person.role, "language": person.language}
    emit(data, as_json, lambda d: click.echo(f"Added {d['name']} ({d['role']})"))


@people_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@expected_errors
def people_list(ctx: Context, as_json: bool) -> None:
    """List the people in the household."""
    from sqlmodel import col, select

    from edu.db import unit_of_work
    from edu.models import Person

    inventory = ctx.inventory()
    with unit_of_work(ctx.engine) as session:
        household = inventory.household(session)
        rows = [
            {
                "name": p.name,
                "role": p.role,
                "language": p.language,
                "all_devices": p.uses_all_devices,
            }
            for p in session.exec(
                select(Person).where(Person.household_id == household.id).order_by(col(Person.name))
            )
        ]
    emit(rows, as_json, lines(lambda r: f"  {r['name']:<20} {r['role']}"))


@click.command("recommend")
@click.option("--person", "person_name", required=True, help="Whose recommendations.")
@click.option("--limit", type=click.IntRange(min=1), default=None)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@expected_errors
def recommend_command(ctx: Context, person_name: str, limit: int | None, as_json: bool) -> None:
    """What a person should learn next, best first, with the reason."""
    from edu.db import unit_of_work
    from edu.services.people import find_person
    from edu.services.recommend import recommend

    inventory = ctx.inventory()
    with unit_of_work(ctx.engine) as session:
        person = find_person(session, inventory.household(session), person_name)
        items = [item.to_dict() for item in recommend(session, person, limit=limit)]

    def render(data: list[dict[str, Any]]) -> None:
        if not data:
            click.echo("Nothing new to learn right now.")
        for n, item in enumerate(data, 1):
            click.echo(f"{n:>3}. {item['title']}  [{item['level']}, {item['minutes']} min]")
            click.echo(f"     {item['device_name']}: {item['reason']}")

    emit(items, as_json, render)


def register(main: click.Group) -> None:
    """Attach `people` and `recommend` to the main command group."""
    main.add_command(people_group)
    main.add_command(recommend_command)
