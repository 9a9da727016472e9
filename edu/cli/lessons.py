"""`edu lessons`: the catalogue (lint, list, coverage) and marking lessons learned, dismissed or snoozed."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import click

from edu.cli.common import Context, emit, expected_errors, lines, pass_ctx


def parse_when(text: str | None, tz: str) -> datetime | None:
    """Parse a date or ISO datetime; a value without an offset is in the household's zone."""
    if text is None:
        return None
    from zoneinfo import ZoneInfo

    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a date: {text!r} (use YYYY-MM-DD or an ISO date and time)") from None
    if len(text) <= 10:
        value = datetime.combine(value.date(), time(0, 0))
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(tz))
    return value.astimezone(UTC)


@click.group("lessons")
def lessons_group() -> None:
    """The lesson catalogue, and marking lessons learned, dismissed or snoozed."""


@lessons_group.command("lint")
@click.argument("path", required=False, type=click.Path(file_okay=False, path_type=Path))
def lessons_lint(path: Path | None) -> None:
    """Check every lesson file; print `path:line: message` per problem."""
    from edu.catalogue import lint_vocabulary
    from lessons.catalogue import SHIPPED_ROOT
    from lessons.lint import lint

    root = path or SHIPPED_ROOT
    if not root.is_dir():
        click.echo(f"error: no lesson folder at {root}", err=True)
        sys.exit(2)
    from devices.miio_index import known_models, miio_member_exists

    problems = lint(
        root,
        lint_vocabulary(),
        known_models=known_models(),
        source_exists=miio_member_exists,
        require_sources=True,
    )
    for problem in problems:
        click.echo(str(problem))
    if problems:
        click.echo(f"{len(problems)} problem(s)", err=True)
        sys.exit(1)


@lessons_group.command("list")
@click.option("--lang", default=None, help="Only lessons in this language (en, zh-CN).")
@click.option("--json", "as_json", is_flag=True)
def lessons_list(lang: str | None, as_json: bool) -> None:
    """List the lessons of the catalogue."""
    from edu.catalogue import catalogue

    book = catalogue()
    rows = [
        {
            "id": lesson.id,
            "lang": lesson.lang,
            "capability": lesson.capability,
            "families": list(lesson.families),
            "level": lesson.level,
            "minutes": lesson.minutes,
            "title": lesson.title,
            "summary": lesson.summary,
            "try_it": lesson.try_it is not None,
            "requires": list(lesson.requires),
            "models": list(lesson.models),
            "sources": [{kind: ref} for kind, ref in lesson.sources],
        }
        for lesson in sorted(book.lessons(lang), key=lambda item: (item.id, item.lang))
    ]
    emit(
        rows,
        as_json,
        lines(lambda r: f"  {r['id']:<36} {r['lang']:<6} {r['title']}"),
    )


@lessons_group.command("coverage")
@click.option("--json", "as_json", is_flag=True)
def lessons_coverage(as_json: bool) -> None:
    """Every vocabulary capability with its lessons, and those with none."""
    from edu.catalogue import catalogue, lint_vocabulary

    book = catalogue()
    vocab = lint_vocabulary()
    by_cap: dict[str, list[str]] = {}
    for lesson in book.lessons("en"):
        by_cap.setdefault(lesson.capability, []).append(lesson.id)
    rows = [
        {
            "capability": cap,
            "families": list(entry.get("families") or []),
            "actionable": bool(entry.get("actionable", True)),
            "lessons": sorted(by_cap.get(cap, [])),
        }
        for cap, entry in sorted(vocab.items())
    ]
    summary = {
        "capabilities": len(rows),
        "with_lessons": sum(1 for r in rows if r["lessons"]),
        "without": [r["capability"] for r in rows if not r["lessons"]],
        "items": rows,
    }

    def render(data: dict[str, Any]) -> None:
        click.echo(f"{data['with_lessons']} of {data['capabilities']} capabilities have lessons")
        for row in data["items"]:
            click.echo(f"  {row['capability']:<24} {', '.join(row['lessons']) or '(none)'}")

    emit(summary, as_json, render)


def _mark(
    ctx: Context, person_name: str, lesson_id: str, state: str, until: str | None, as_json: bool
) -> None:
    from edu.db import unit_of_work
    from edu.services.people import find_person, mark_lesson

    inventory = ctx.inventory()
    with unit_of_work(ctx.engine) as session:
        household = inventory.household(session)
        person = find_person(session, household, person_name)
        mark = mark_lesson(
            session, person, lesson_id, state, until=parse_when(until, household.timezone)
        )
        data = {
            "person": person.name,
            "lesson": mark.lesson,
            "state": mark.state,
            "until": mark.until.isoformat() if mark.until else None,
        }
    emit(
        data,
        as_json,
        lambda d: click.echo(
            f"{d['lesson']}: {d['state']} for {d['person']}"
            + (f" until {d['until']}" if d["until"] else "")
        ),
    )


def _progress_command(state: str, doc: str) -> Callable[..., None]:
    @click.option("--person", "person_name", required=True)
    @click.option("--lesson", "lesson_id", required=True)
    @click.option("--json", "as_json", is_flag=True)
    @pass_ctx
    @expected_errors
    def command(
        ctx: Context, person_name: str, lesson_id: str, as_json: bool, until: str | None = None
    ) -> None:
        _mark(ctx, person_name, lesson_id, state, until, as_json)

    command.__doc__ = doc
    return command


lessons_group.command("done")(
    _progress_command("done", 'Mark a lesson learned ("I already know this").')
)
lessons_group.command("dismiss")(
    _progress_command("dismissed", "Never suggest this lesson to the person again.")
)
lessons_group.command("snooze")(
    click.option("--until", default=None, help="Date or ISO time (default: a week).")(
        _progress_command("snoozed", "Remind the person later (until a date).")
    )
)


def register(main: click.Group) -> None:
    """Attach these commands to the `edu` group."""
    main.add_command(lessons_group)
