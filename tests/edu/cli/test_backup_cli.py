"""`edu backup` and `edu restore`: one private archive, checked whole before anything is replaced."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import stat
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from backup_fixtures import (
    assert_no_secret_in,
    folder_state,
    instance_secrets,
    repack,
    table_rows,
)
from click.testing import CliRunner, Result
from database_mode import clone_instance, postgres_mode
from web_fixtures import settings_for

from devices.fleet import Fleet
from devices.tokens import TokenVault
from edu.cli import main
from edu.schema import create_schema, make_engine
from edu.services import backup as backup_service
from edu.services.inventory import Inventory
from edu.tips.links import instance_secret

pytestmark = pytest.mark.skipif(postgres_mode(), reason="archives hold a SQLite database")

DB = "feature-coach.sqlite3"
SPEC = {"type": "urn:miot-spec-v2:device:fan:0000A005:fetched-model:1", "services": []}
CHANNEL = "json://coach:hunter2secret@127.0.0.1:9/hook"


class Edu:
    """Run `edu` as a person would, keeping everything it printed."""

    def __init__(self) -> None:
        self.runner = CliRunner()
        self.printed: list[str] = []

    def __call__(self, instance: Path, *args: str) -> Result:
        result = self.runner.invoke(main, ["--instance", str(instance), *args])
        self.printed.append(result.output)
        return result


@pytest.fixture
def edu() -> Edu:
    return Edu()


@pytest.fixture
def home(scanned_instance: Path, tmp_path: Path, edu: Edu) -> Path:
    """The scanned household, with a fetched spec, a tip channel and the link secret."""
    instance = tmp_path / "home"
    clone_instance(scanned_instance, instance)
    (instance / "specs").mkdir(mode=0o700)
    (instance / "specs" / "fetched.model.v1.json").write_text(json.dumps(SPEC))
    result = edu(instance, "tips", "channel", "add", "--person", "Mia", CHANNEL)
    assert result.exit_code == 0, result.output
    instance_secret(settings_for(instance))
    assert {"token.key", "channels.key", "secret.key", "tips.secret"} <= {
        p.name for p in instance.iterdir()
    }
    return instance


def one_line_error(result: Result) -> str:
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: ")
    return lines[0]


def back_up(edu: Edu, instance: Path, *args: str) -> dict[str, Any]:
    result = edu(instance, "backup", "--json", *args)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


def test_restore_into_a_fresh_instance_keeps_every_row_and_every_token_works(
    fleet: Fleet, home: Path, tmp_path: Path, edu: Edu, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    made = back_up(edu, home)
    archive = Path(made["path"])
    assert archive.parent == home / "backups" and archive.name.startswith("feature-coach-")
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    assert stat.S_IMODE(archive.parent.stat().st_mode) == 0o700
    assert made["devices"] == len(fleet.devices) and made["schema_revision"]
    assert made["files"] == 6  # the database, four secrets, one fetched spec

    fresh = tmp_path / "fresh"
    result = edu(fresh, "restore", str(archive), "--json")
    assert result.exit_code == 0, result.output
    restored = json.loads(result.output)
    assert restored["replaced"] is False and restored["key_fingerprint"] == made["key_fingerprint"]
    assert table_rows(fresh / DB) == table_rows(home / DB)
    for name in (
        "token.key",
        "channels.key",
        "secret.key",
        "tips.secret",
        "specs/fetched.model.v1.json",
    ):
        assert (fresh / name).read_bytes() == (home / name).read_bytes(), name
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o700
    for name in ("token.key", "channels.key", "secret.key", "tips.secret", DB):
        assert stat.S_IMODE((fresh / name).stat().st_mode) == 0o600, name
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".restore-")]

    # every token still works: the restored instance reads every device of the fleet
    settings = settings_for(fresh, (fleet.network,))
    engine = make_engine(settings.database_url)
    create_schema(engine)
    try:
        polled = Inventory.open(engine, settings).poll()
    finally:
        engine.dispose()
    with sqlite3.connect(fresh / DB) as connection:
        stored = connection.execute(
            "SELECT did, status, token_ciphertext FROM device WHERE token_ciphertext IS NOT NULL"
        ).fetchall()
    vault = TokenVault(fresh)
    assert len(stored) == len(fleet.devices)
    assert all(
        vault.decrypt(ciphertext) == fleet.by_did(did).token for did, _, ciphertext in stored
    )
    readable = {did for did, status, _ in stored if status != "unsupported"}
    assert len(readable) >= len(fleet.devices) - 1  # the household has one unsupported model
    assert {row["did"] for row in polled} == readable
    assert {row["status"] for row in polled} == {"online"}
    listed = edu(fresh, "tips", "channel", "list", "--person", "Mia", "--json")
    assert listed.exit_code == 0 and "127.0.0.1:9" in listed.output  # the channel key came too

    with tarfile.open(archive) as tar:
        manifest = tar.extractfile("manifest.json")
        assert manifest is not None
        written = manifest.read().decode()
    everything = "\n".join(edu.printed) + caplog.text + written
    assert_no_secret_in(everything, instance_secrets(home), [d.token for d in fleet.devices])
    assert "hunter2secret" not in everything


def test_the_archive_is_private_from_its_first_byte(
    home: Path, tmp_path: Path, edu: Edu, monkeypatch: pytest.MonkeyPatch
) -> None:
    created: list[tuple[str, int, int]] = []
    real_open = os.open

    def watching_open(path: Any, flags: int, mode: int = 0o777, **kwargs: Any) -> int:
        descriptor = real_open(path, flags, mode, **kwargs)
        if flags & os.O_CREAT:
            info = os.fstat(descriptor)
            created.append((str(path), stat.S_IMODE(info.st_mode), info.st_size))
        return descriptor

    monkeypatch.setattr(backup_service.os, "open", watching_open)
    old_umask = os.umask(0)  # the most permissive: nothing is taken away from a file's mode
    try:
        target = tmp_path / "nightly copy.tar.gz"
        back_up(edu, home, "--to", str(target))
    finally:
        os.umask(old_umask)
    archives = [c for c in created if c[0].endswith(".partial")]
    assert archives and all(mode == 0o600 and size == 0 for _, mode, size in archives)
    assert all(mode == 0o600 for _, mode, _ in created)  # the staged copies too
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "home") == [target.name]
    again = edu(home, "backup", "--to", str(target))
    assert "already exists" in one_line_error(again)


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

    from edu.jobs import acquire_lease

    engine = make_engine(settings_for(home).database_url)
    try:
        assert acquire_lease(engine, "serve-on-this-box", 600)
        engine.dispose()
        before = folder_state(home)
        line = one_line_error(edu(home, "restore", "--force", str(archive)))
        assert "stop it first" in line
        assert folder_state(home) == before
        from edu.jobs import release_lease

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


def test_an_older_schema_restores_and_migrates_on_the_next_start(tmp_path: Path, edu: Edu) -> None:
    from alembic import command

    from edu.migrations import config, head

    old = tmp_path / "old"
    assert edu(old, "people", "add", "Mia", "--role", "admin", "--pin", "2468").exit_code == 0
    engine = make_engine(settings_for(old).database_url)
    with engine.begin() as connection:
        command.downgrade(config(connection), "0001")
    engine.dispose()
    made = back_up(edu, old)
    assert made["schema_revision"] == "0001"
    fresh = tmp_path / "fresh"
    assert edu(fresh, "restore", made["path"]).exit_code == 0
    listed = edu(fresh, "people", "list", "--json")
    assert listed.exit_code == 0 and "Mia" in listed.output
    with sqlite3.connect(fresh / DB) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchone() == (head(),)


@pytest.mark.default_database
def test_postgresql_points_to_pg_dump_and_pg_restore(tmp_path: Path) -> None:
    runner = CliRunner()
    url = "postgresql://coach@127.0.0.1:9/coach"  # never opened: nothing listens on port 9
    backup = runner.invoke(
        main, ["--instance", str(tmp_path / "i"), "--database-url", url, "backup"]
    )
    assert "pg_dump" in one_line_error(backup)
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(b"")
    restore = runner.invoke(
        main, ["--instance", str(tmp_path / "i"), "--database-url", url, "restore", str(archive)]
    )
    assert "pg_restore" in one_line_error(restore)
    assert not (tmp_path / "i").exists()


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


def test_nothing_to_back_up_is_said_in_one_line(tmp_path: Path, edu: Edu) -> None:
    line = one_line_error(edu(tmp_path / "empty", "backup"))
    assert "nothing to back up" in line
    assert not (tmp_path / "empty").exists()
