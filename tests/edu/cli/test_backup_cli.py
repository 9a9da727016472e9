"""`edu backup` and `edu restore`: a private archive, restored whole, every token still working."""

from __future__ import annotations

import json
import logging
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

import pytest
from backup_fixtures import (
    DB,
    Edu,
    assert_no_secret_in,
    back_up,
    instance_secrets,
    table_rows,
)
from cli_fixtures import one_line_error
from click.testing import CliRunner
from database_mode import postgres_mode
from process_helpers import free_port, get_when_up
from web_fixtures import settings_for

from devices.fleet import Fleet
from devices.vault import TokenVault
from edu.backups import backup as backup_service
from edu.cli import main
from edu.schema import create_schema, make_engine
from edu.services.inventory import Inventory

pytestmark = pytest.mark.skipif(postgres_mode(), reason="archives hold a SQLite database")


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


def test_nothing_to_back_up_is_said_in_one_line(tmp_path: Path, edu: Edu) -> None:
    line = one_line_error(edu(tmp_path / "empty", "backup"))
    assert "nothing to back up" in line
    assert not (tmp_path / "empty").exists()


@pytest.mark.slow
def test_backup_from_another_process_while_edu_serve_runs(
    fleet: Fleet, home: Path, tmp_path: Path, edu: Edu
) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDU_")}
    env.update(EDU_INSTANCE=str(home), EDU_NETWORKS=fleet.network, EDU_DEVICE_TIMEOUT="1")
    command = [str(Path(sys.executable).parent / "edu"), "serve", "--port", str(port)]
    server = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    try:
        assert get_when_up(port, "/signin", time.monotonic() + 30)[0] == 200
        backup = subprocess.run(
            [command[0], "backup", "--json", "--to", str(tmp_path / "live.tar.gz")],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert backup.returncode == 0, backup.stderr
        refused = edu(home, "restore", "--force", str(tmp_path / "live.tar.gz"))
        assert "stop it first" in one_line_error(refused)
    finally:
        server.send_signal(signal.SIGINT)  # what the systemd unit in the README sends
        _, said = server.communicate(timeout=30)
    assert server.returncode == 0, said
    fresh = tmp_path / "fresh"
    restored = edu(fresh, "restore", str(tmp_path / "live.tar.gz"))
    assert restored.exit_code == 0, restored.output
    assert (
        table_rows(fresh / DB)["device"]
        and (fresh / "token.key").read_bytes() == (home / "token.key").read_bytes()
    )
    everything = backup.stdout + backup.stderr + said + "\n".join(edu.printed)
    assert_no_secret_in(everything, instance_secrets(home), [d.token for d in fleet.devices])
