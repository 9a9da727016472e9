"""Fixtures and helpers for the backup tests: `edu` as a person runs it, a household with every secret,
every row of a SQLite file, a folder's fingerprint, an archive repacked."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from database_mode import clone_instance
from web_fixtures import settings_for

from edu.backups.backup import MANIFEST, SECRETS, file_digest, key_fingerprint
from edu.cli import main
from edu.tips.links import instance_secret


def table_rows(database: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of a SQLite file, sorted, by table."""
    connection = sqlite3.connect(database)
    try:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        rows = {}
        for table in tables:
            query = f'SELECT * FROM "{table}"'  # noqa: S608  (names read from sqlite_master)
            rows[table] = sorted(connection.execute(query).fetchall(), key=repr)
        return rows
    finally:
        connection.close()


def folder_state(folder: Path) -> dict[str, tuple[int, str]]:
    """Every file and folder under *folder* with its mode and content digest ({} when absent)."""
    if not folder.exists():
        return {}
    state: dict[str, tuple[int, str]] = {".": (stat.S_IMODE(folder.stat().st_mode), "")}
    for path in sorted(folder.rglob("*")):
        mode = stat.S_IMODE(path.lstat().st_mode)
        state[str(path.relative_to(folder))] = (mode, file_digest(path) if path.is_file() else "")
    return state


def instance_secrets(instance: Path) -> list[bytes]:
    """The key and secret files' contents of an instance (what must never be printed)."""
    return [
        (instance / name).read_bytes().strip() for name in SECRETS if (instance / name).is_file()
    ]


def assert_no_secret_in(text: str, secrets: list[bytes], tokens: list[str]) -> None:
    """Fail when any key, secret or device token shows in *text*."""
    for secret in secrets:
        assert secret.decode("ascii") not in text
    for token in tokens:
        assert token.lower() not in text.lower()


def repack(
    archive: Path, target: Path, change: Callable[[Path, dict[str, Any]], None], tmp: Path
) -> Path:
    """Unpack *archive*, let *change* edit the files and manifest, and pack it again consistently.

    The manifest's sizes, digests and key fingerprint are recomputed, so only what *change*
    did (another key, another schema revision) can make a restore refuse it.
    """
    folder = tmp / f"repack-{target.stem}"
    with tarfile.open(archive, "r:gz") as tar:
        tar.extractall(folder, filter="data")
    manifest: dict[str, Any] = json.loads((folder / MANIFEST).read_text())
    change(folder, manifest)
    manifest["files"] = {
        name: {"bytes": (folder / name).stat().st_size, "sha256": file_digest(folder / name)}
        for name in manifest["files"]
        if (folder / name).is_file()
    }
    if (folder / "token.key").is_file():
        manifest["key_fingerprint"] = key_fingerprint((folder / "token.key").read_bytes())
    (folder / MANIFEST).write_text(json.dumps(manifest))
    with tarfile.open(target, "w:gz") as tar:
        tar.add(folder / MANIFEST, MANIFEST)
        for name in manifest["files"]:
            tar.add(folder / name, name)
    os.chmod(target, 0o600)
    return target


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


def back_up(edu: Edu, instance: Path, *args: str) -> dict[str, Any]:
    result = edu(instance, "backup", "--json", *args)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data
