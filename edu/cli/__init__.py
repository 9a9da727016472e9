"""The `edu` command line: the main group, logging, and one module of commands per area."""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

import click

from edu.cli.common import Context

AREAS = (
    "devices",
    "people",
    "lessons",
    "check",
    "models",
    "tips",
    "serve",
    "demos",
    "backups",
    "hub",
    "community",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--instance",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Instance folder for the database, keys and caches (EDU_INSTANCE).",
)
@click.option(
    "--database-url", default=None, help="SQLAlchemy URL (EDU_DATABASE_URL); SQLite by default."
)
@click.option("-v", "--verbose", count=True, help="More log output (repeat for debug).")
@click.pass_context
def main(
    click_ctx: click.Context, instance: Path | None, database_url: str | None, verbose: int
) -> None:
    """Feature Coach: find your Xiaomi devices and learn what they can do."""
    from edu.logs import configure

    configure(logging.WARNING - 10 * min(verbose, 2))  # every record masked, before any is made
    # python-miio's warnings stay quiet unless asked (-vv shows all of its lines, masked).
    logging.getLogger("miio").setLevel(logging.NOTSET if verbose >= 2 else logging.CRITICAL)
    click_ctx.obj = Context(instance=instance, database_url=database_url)
    click_ctx.call_on_close(click_ctx.obj.close)


def _register_areas() -> None:
    """Attach the commands of each area (devices, lessons, tips, serve ...) to the main group."""
    for area in AREAS:
        importlib.import_module(f"edu.cli.{area}").register(main)


_register_areas()
