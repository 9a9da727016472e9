"""Helpers for the backup tests: read every row of a SQLite file, fingerprint a folder, repack an archive."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edu.services.backup import MANIFEST, SECRETS, file_digest, key_fingerprint


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
