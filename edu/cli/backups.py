"""`edu backup` and `edu restore`: one archive of the database, its keys and specs, and back."""

from __future__ import annotations

from pathlib import Path

import click

from edu.cli.common import Context, emit, expected_errors, pass_ctx


@click.command("backup")
@click.option(
    "--to",
    "to",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Archive to write (default <instance>/backups/feature-coach-<time>.tar.gz).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
@expected_errors
def backup(ctx: Context, to: Path | None, as_json: bool) -> None:
    """Back up the database, the token key and fetched specs into one archive (mode 0600)."""
    from edu.backups.backup import create_backup

    result = create_backup(ctx.settings, to)
    emit(
        result.to_dict(),
        as_json,
        lambda r: click.echo(
            f"backup written to {r['path']} ({r['bytes']:,} bytes, {r['devices']} device(s), "
            f"schema {r['schema_revision'] or 'none'}, key {r['key_fingerprint'] or 'none'})"
        ),
    )


@click.command("restore")
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace an instance that already has a database.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
@expected_errors
def restore(ctx: Context, archive: Path, force: bool, as_json: bool) -> None:
    """Check a backup archive whole, then put it in place of the instance's database and keys."""
    from edu.backups.restore import restore_backup

    result = restore_backup(ctx.settings, archive, force=force)
    emit(
        result.to_dict(),
        as_json,
        lambda r: click.echo(
            f"restored {archive.name} (made {r['created']}, {r['devices']} device(s), "
            f"schema {r['schema_revision'] or 'none'}) into {r['instance']}; "
            "the next start brings an older schema up to date"
        ),
    )


def register(main: click.Group) -> None:
    """Attach `backup` and `restore` to the main command group."""
    main.add_command(backup)
    main.add_command(restore)
