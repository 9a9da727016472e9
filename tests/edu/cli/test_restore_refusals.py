"""`edu restore` refuses a truncated, foreign or damaged archive, a wrong key, a newer schema, a live
instance without --force and one in use, in one line and with nothing changed."""

from __future__ import annotations

import json
import sqlite3
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from backup_fixtures import (
    DB,
    Edu,
    assert_no_secret_in,
    back_up,
    folder_state,
    instance_secrets,
    repack,
    table_rows,
)
from cli_fixtures import one_line_error
from database_mode import postgres_mode
from web_fixtures import settings_for

from devices.fleet import Fleet
from edu.schema import make_engine

pytestmark = pytest.mark.skipif(postgres_mode(), reason="archives hold a SQLite database")


def _truncated(archive: Path, out: Path) -> Path:
    data = archive.read_bytes()
    out.write_bytes(data[: len(data) // 2])
    return out


def _foreign(archive: Path, out: Path) -> Path:
    with tarfile.open(out, "w:gz") as tar:
        tar.add(__file__, "notes.txt")
    return out


def _foreign_manifest(archive: Path, out: Path) -> Path:
    manifest = out.parent / "manifest.json"
    manifest.write_text(json.dumps({"format": "someone-elses-backup", "files": {}}))
    with tarfile.open(out, "w:gz") as tar:
        tar.add(manifest, "manifest.json")
    return out


def _not_an_archive(archive: Path, out: Path) -> Path:
    out.write_text("id,name\n1,lamp\n")
    return out


def _wrong_key(archive: Path, out: Path) -> Path:
    from cryptography.fernet import Fernet

    def change(folder: Path, manifest: dict[str, Any]) -> None:
        (folder / "token.key").write_bytes(Fernet.generate_key())

    return repack(archive, out, change, out.parent)


def _newer_schema(archive: Path, out: Path) -> Path:
    def change(folder: Path, manifest: dict[str, Any]) -> None:
        connection = sqlite3.connect(folder / DB)
        connection.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
        connection.commit()
        connection.close()
        manifest["schema_revision"] = "9999_from_the_future"

    return repack(archive, out, change, out.parent)


def _damaged_database(archive: Path, out: Path) -> Path:
    def change(folder: Path, manifest: dict[str, Any]) -> None:
        data = bytearray((folder / DB).read_bytes())
        for offset in range(4096 * 3, len(data) - 4096, 4096):
            data[offset + 100 : offset + 400] = b"\xa5" * 300
        (folder / DB).write_bytes(bytes(data))

    return repack(archive, out, change, out.parent)


BAD_ARCHIVES: dict[str, tuple[Callable[[Path, Path], Path], str]] = {
    "truncated": (_truncated, "truncated"),
    "foreign": (_foreign, "no manifest"),
    "foreign-manifest": (_foreign_manifest, "foreign manifest"),
    "not-an-archive": (_not_an_archive, "not a gzip tar"),
    "wrong-key": (_wrong_key, "does not decrypt its device tokens"),
    "newer-schema": (_newer_schema, "newer than this Feature Coach"),
    "damaged-database": (_damaged_database, "the database in the archive"),
}


@pytest.mark.parametrize("kind", sorted(BAD_ARCHIVES))
def test_a_bad_archive_is_refused_in_one_line_with_nothing_changed(
    kind: str, fleet: Fleet, home: Path, tmp_path: Path, edu: Edu
) -> None:
    make, reason = BAD_ARCHIVES[kind]
    good = Path(back_up(edu, home, "--to", str(tmp_path / "good.tar.gz"))["path"])
    (tmp_path / "bad").mkdir()
    bad = make(good, tmp_path / "bad" / f"{kind}.tar.gz")
    before = folder_state(home)
    line = one_line_error(edu(home, "restore", "--force", str(bad)))
    assert reason in line and bad.name in line
    assert folder_state(home) == before
    fresh = tmp_path / "fresh"
    assert reason in one_line_error(edu(fresh, "restore", str(bad)))
    assert not fresh.exists()
    leftovers = [
        p for p in (*tmp_path.iterdir(), *home.iterdir()) if p.name.startswith(".restore-")
    ]
    assert leftovers == []
    assert_no_secret_in(
        "\n".join(edu.printed), instance_secrets(home), [d.token for d in fleet.devices]
    )


def test_a_live_instance_is_replaced_only_with_force_and_never_while_a_worker_runs(
    home: Path, tmp_path: Path, edu: Edu
) -> None:
    archive = Path(back_up(edu, home)["path"])
    kept = table_rows(home / DB)
    assert edu(home, "people", "add", "Zoe").exit_code == 0
    before = folder_state(home)
    assert "--force" in one_line_error(edu(home, "restore", str(archive)))
    assert folder_state(home) == before

    from edu.lease import acquire_lease

    engine = make_engine(settings_for(home).database_url)
    try:
        assert acquire_lease(engine, "serve-on-this-box", 600)
        engine.dispose()
        before = folder_state(home)
        line = one_line_error(edu(home, "restore", "--force", str(archive)))
        assert "stop it first" in line
        assert folder_state(home) == before
        from edu.lease import release_lease

        release_lease(engine, "serve-on-this-box")
    finally:
        engine.dispose()

    result = edu(home, "restore", "--force", str(archive), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["replaced"] is True
    assert not Path(f"{home / DB}-wal").exists()
    restored = table_rows(home / DB)
    restored.pop("schedulerlease"), kept.pop("schedulerlease")  # the lease taken above
    assert restored == kept  # Zoe, added after the backup, is gone again
    assert (home / "backups" / archive.name).is_file()  # backups are never touched


def test_a_database_another_process_has_open_is_not_replaced(
    home: Path, tmp_path: Path, edu: Edu
) -> None:
    archive = Path(back_up(edu, home, "--to", str(tmp_path / "b.tar.gz"))["path"])
    engine = make_engine(settings_for(home).database_url)  # a server that holds no lease yet
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT count(*) FROM device").fetchone()
            before = folder_state(home)
            line = one_line_error(edu(home, "restore", "--force", str(archive)))
            assert "in use" in line
            after = folder_state(home)
    finally:
        engine.dispose()
    # SQLite's own index of the log (-shm) records the checkpoint tried; the files are as they were
    working = {f"{DB}-shm", f"{DB}-wal"}
    assert {k: v for k, v in after.items() if k not in working} == {
        k: v for k, v in before.items() if k not in working
    }
