"""`edu models`: every model Feature Coach knows, what it can teach about it, offline."""

from __future__ import annotations

import logging
from typing import Any

import click

from edu.cli.common import Context, emit, expected_errors, pass_ctx

logger = logging.getLogger(__name__)


@click.command("models")
@click.option("--family", default=None, help="Only models of this family.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "--markdown", is_flag=True, help="Print the Markdown table of docs/models.md (shipped only)."
)
@pass_ctx
@expected_errors
def models(ctx: Context, family: str | None, as_json: bool, markdown: bool) -> None:
    """List every known model: class, family, capabilities and lessons (no network)."""
    from edu.services.model_table import markdown as as_markdown
    from edu.services.model_table import model_rows

    rows = model_rows(None if markdown else ctx.settings.instance)
    if family is not None:
        rows = [row for row in rows if row["family"] == family]
        if not rows:
            raise ValueError(f"no known model of family {family!r}")

    if markdown:
        click.echo(as_markdown(rows), nl=False)
        return

    def render(data: list[dict[str, Any]]) -> None:
        click.echo(f"{len(data)} model(s)")
        for row in data:
            click.echo(
                f"  {row['model']:<30} {row['class'] or '-':<30} {row['family'] or '-':<16}"
                f" {row['capabilities']:>3} features {row['lessons']:>3} lessons  {row['source']}"
            )

    emit(rows, as_json, render)


def register(main: click.Group) -> None:
    """Attach `edu models` to the main command group."""
    main.add_command(models)
